package server

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/partnergraph/partnergraph/internal/auth"
	"golang.org/x/time/rate"
)

// RateLimit configures token buckets on /graphql: one per token, and one
// per client address for requests without a token. A Rate of 0 turns the
// limit off (the zero value of Config); StaffRate and StaffBurst of 0 take
// Rate and Burst.
type RateLimit struct {
	// Rate is the sustained requests per second of one token or address.
	Rate float64
	// Burst is how many requests may come at once.
	Burst int
	// StaffRate and StaffBurst apply to tokens with the EDITOR or ADMIN role.
	StaffRate  float64
	StaffBurst int
}

// DefaultRateLimit is the rate limit serve applies unless configured.
var DefaultRateLimit = RateLimit{Rate: 20, Burst: 60, StaffRate: 100, StaffBurst: 200}

// limiters holds the buckets. Idle buckets, which have refilled, are
// dropped now and then, so that the map does not grow with every address
// ever seen.
type limiters struct {
	cfg RateLimit

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiters(cfg RateLimit) *limiters {
	if cfg.Burst <= 0 {
		cfg.Burst = max(1, int(math.Ceil(cfg.Rate)))
	}
	if cfg.StaffRate == 0 {
		cfg.StaffRate = cfg.Rate
	}
	if cfg.StaffBurst <= 0 {
		cfg.StaffBurst = max(cfg.Burst, int(math.Ceil(cfg.StaffRate)))
	}
	return &limiters{cfg: cfg, buckets: map[string]*bucket{}}
}

// reserve takes one request from the bucket of key and returns how long
// the caller must wait before it would be allowed; 0 means go ahead.
func (l *limiters) reserve(key string, staff bool, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[key]
	if b == nil {
		r, burst := l.cfg.Rate, l.cfg.Burst
		if staff {
			r, burst = l.cfg.StaffRate, l.cfg.StaffBurst
		}
		b = &bucket{lim: rate.NewLimiter(rate.Limit(r), burst)}
		l.buckets[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if !res.OK() {
		return time.Minute
	}
	if d := res.DelayFrom(now); d > 0 {
		// Refused: give the token back, so that a client that keeps
		// knocking does not push its own turn further away.
		res.CancelAt(now)
		return d
	}
	return 0
}

// rateLimit answers 429 with Retry-After when the caller's bucket is
// empty. It runs after authentication: a token is limited as itself
// (whichever address it comes from), an anonymous caller by its address.
// Behind a reverse proxy the address is the one a trusted proxy
// forwarded (clientaddr.go).
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.limits == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := auth.FromRequest(r)
		if v.TokenID != 0 {
			if !s.allow(w, r, "token:"+strconv.FormatInt(v.TokenID, 10), "token", v.Staff()) {
				return
			}
		} else if !s.allow(w, r, "addr:"+clientAddr(r), "address", false) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowFailedAuth charges a request whose token was refused to its
// client address, so that guessing tokens is held to the anonymous rate.
// It reports whether the request may still be answered (with its 401); if
// not, it has answered 429.
func (s *Server) allowFailedAuth(w http.ResponseWriter, r *http.Request) bool {
	if s.limits == nil {
		return true
	}
	return s.allow(w, r, "addr:"+clientAddr(r), "address", false)
}

// allow takes a token from the bucket of key; when there is none it
// answers 429 with Retry-After and reports false.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, key, by string, staff bool) bool {
	d := s.limits.reserve(key, staff, time.Now())
	if d <= 0 {
		return true
	}
	secs := int(math.Ceil(d.Seconds()))
	s.metrics.rateLimited.WithLabelValues(by).Inc()
	writeRefusal(w, refusal{Code: CodeLimitExceeded, RetryAfter: secs, Message: s.rateMessage(staff, secs)})
	return false
}

// rateMessage says which rate limit a caller is over and when to retry.
func (s *Server) rateMessage(staff bool, secs int) string {
	limit, setting := s.limits.cfg.Rate, "PARTNERGRAPH_RATE_LIMIT"
	if staff {
		limit, setting = s.limits.cfg.StaffRate, "PARTNERGRAPH_STAFF_RATE_LIMIT"
	}
	return "too many requests: the rate limit is " + strconv.FormatFloat(limit, 'g', -1, 64) +
		" per second (" + setting + "); try again in " + strconv.Itoa(secs) + " s"
}
