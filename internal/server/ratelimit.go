package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"
)

// RateLimit configures token buckets on /graphql: one per token, and one
// per client address for requests without a token. A Rate of 0 turns the
// limit off (the zero value of Config), the cost rate with it; StaffRate
// and StaffBurst of 0 take Rate and Burst.
//
// Besides requests, each token or address spends the estimated cost of
// its operations (docs/api.md, "Query cost") from a bucket of its own
// that refills at CostRate a second, up to CostBurst: one client sending
// costly queries back to back is held to its share of the server's work,
// however few requests it sends, while clients asking for pages never
// meet the bound (docs/api.md, "Cost rate"). A CostRate of 0 turns this
// bound off; StaffCostRate and StaffCostBurst of 0 take CostRate and
// CostBurst.
type RateLimit struct {
	// Rate is the sustained requests per second of one token or address.
	Rate float64
	// Burst is how many requests may come at once.
	Burst int
	// StaffRate and StaffBurst apply to tokens with the EDITOR or ADMIN role.
	StaffRate  float64
	StaffBurst int
	// CostRate is the estimated cost a token or address may spend per
	// second, CostBurst how much at once; an operation whose cost is over
	// CostBurst never passes (keep it at least Limits.MaxCost).
	CostRate  float64
	CostBurst int
	// StaffCostRate and StaffCostBurst apply to staff tokens.
	StaffCostRate  float64
	StaffCostBurst int
}

// DefaultRateLimit is the rate limit serve applies unless configured. The
// cost rate lets an anonymous client ask for 20 front pages a second (701
// each) or a query at the cost limit (25,000) a second, and spend four
// such queries at once; a client that asks for neighbourhoods of 500
// (5,001) back to back is held to five a second once its burst is spent.
var DefaultRateLimit = RateLimit{Rate: 20, Burst: 60, StaffRate: 100, StaffBurst: 200,
	CostRate: 25000, CostBurst: 100000, StaffCostRate: 100000, StaffCostBurst: 200000}

// limiters holds the buckets. Idle buckets, which have refilled, are
// dropped now and then, so that the map does not grow with every address
// ever seen.
type limiters struct {
	cfg RateLimit

	mu        sync.Mutex
	buckets   map[string]*bucket // requests
	costs     map[string]*bucket // estimated cost
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
	if cfg.CostRate > 0 && cfg.CostBurst <= 0 {
		cfg.CostBurst = max(1, int(math.Ceil(cfg.CostRate)))
	}
	if cfg.StaffCostRate == 0 {
		cfg.StaffCostRate = cfg.CostRate
	}
	if cfg.StaffCostRate > 0 && cfg.StaffCostBurst <= 0 {
		cfg.StaffCostBurst = max(cfg.CostBurst, int(math.Ceil(cfg.StaffCostRate)))
	}
	return &limiters{cfg: cfg, buckets: map[string]*bucket{}, costs: map[string]*bucket{}}
}

// reserve takes one request from the bucket of key and returns how long
// the caller must wait before it would be allowed; 0 means go ahead.
func (l *limiters) reserve(key string, staff bool, now time.Time) time.Duration {
	r, burst := l.cfg.Rate, l.cfg.Burst
	if staff {
		r, burst = l.cfg.StaffRate, l.cfg.StaffBurst
	}
	d, _ := l.take(l.buckets, key, r, burst, 1, now)
	return d
}

// spend takes cost from the cost bucket of key, as reserve does a
// request; it is 0 when the cost rate is off. An operation whose cost is
// over the bucket's size is refused for a minute: waiting never helps it.
// left is the share of the bucket's size left once cost is taken (1 when
// the rate is off or the cost nothing), what the heavy gate reads to tell
// a client that has spent more than its share (overShare).
func (l *limiters) spend(key string, staff bool, cost int, now time.Time) (wait time.Duration, left float64) {
	r, burst := l.cfg.CostRate, l.cfg.CostBurst
	if staff {
		r, burst = l.cfg.StaffCostRate, l.cfg.StaffCostBurst
	}
	if r <= 0 || cost <= 0 {
		return 0, 1
	}
	wait, tokens := l.take(l.costs, key, r, burst, cost, now)
	return wait, tokens / float64(burst)
}

// take takes n from the bucket of key in buckets, made at rate r and size
// burst when missing, and returns how long the caller must wait before n
// would be there (0 means go ahead) and the tokens left in the bucket.
func (l *limiters) take(buckets map[string]*bucket, key string, r float64, burst, n int, now time.Time) (time.Duration, float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for _, m := range []map[string]*bucket{l.buckets, l.costs} {
			for k, b := range m {
				if now.Sub(b.seen) > 10*time.Minute {
					delete(m, k)
				}
			}
		}
		l.lastSweep = now
	}
	b := buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(r), burst)}
		buckets[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, n)
	if !res.OK() {
		return time.Minute, b.lim.TokensAt(now)
	}
	if d := res.DelayFrom(now); d > 0 {
		// Refused: give the token back, so that a client that keeps
		// knocking does not push its own turn further away.
		res.CancelAt(now)
		return d, b.lim.TokensAt(now)
	}
	return 0, b.lim.TokensAt(now)
}

// rateLimit answers 429 with Retry-After when the caller's bucket is
// empty. It runs after authentication: a token is limited as itself
// (whichever address it comes from), an anonymous caller by its address.
// Behind a reverse proxy the address is the one a trusted proxy
// forwarded (clientaddr.go).
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.limits == nil && s.turns == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := auth.FromRequest(r)
		c := client{key: "addr:" + clientAddr(r), by: "address"}
		if v.TokenID != 0 {
			c = client{key: "token:" + strconv.FormatInt(v.TokenID, 10), by: "token", staff: v.Staff()}
		}
		if s.limits != nil && !s.allow(w, r, c.key, c.by, c.staff) {
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), rateClientKey{}, c)))
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

// client is whom a request's buckets belong to: its token, or its address
// when it has none.
type client struct {
	key   string
	by    string // "token" or "address", as the rate limit's metric says
	staff bool
}

type rateClientKey struct{}

// what names the clients c is one of, for a refusal's message.
func (c client) what() string {
	switch {
	case c.staff:
		return "staff token"
	case c.by == "token":
		return "token"
	}
	return "client address without a token"
}

// costRate is the gqlgen extension that spends each operation's estimated
// cost from its client's cost bucket (RateLimit.CostRate) before any
// resolver runs, and refuses it with LIMIT_EXCEEDED and Retry-After when
// the bucket holds too little. An answer from the response cache runs no
// operation and spends nothing. A query that leaves its client's bucket
// less than overShare full is marked (overShareStat): the heavy gate runs
// it as a heavy one, so that a client that spends faster than its rate
// takes its turn after everyone else's light queries (docs/api.md, "Cost
// rate").
type costRate struct {
	limits *limiters
	m      *metrics
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = costRate{}

func (costRate) ExtensionName() string                   { return "CostRate" }
func (costRate) Validate(graphql.ExecutableSchema) error { return nil }

// overShare is the share of its cost bucket under which a client's
// queries run as heavy ones: it has spent more than half of its burst, so
// it asks faster than its rate, which light queries of clients within
// their share do not.
const overShare = 0.5

// overShareStat marks a query of a client over its share (overShare).
const overShareStat = "partnergraph.overShare"

// costRateStat marks an operation whose cost was spent: a transport that
// reads a query's answers until the end (Server-Sent Events) calls the
// interceptor again for its end.
const costRateStat = "partnergraph.costRate"

func (c costRate) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	who, ok := ctx.Value(rateClientKey{}).(client)
	if oc.Operation == nil || !ok || oc.Stats.GetExtension(costRateStat) != nil {
		return next(ctx)
	}
	oc.Stats.SetExtension(costRateStat, true)
	cost := operationCost(oc)
	d, left := c.limits.spend(who.key, who.staff, cost, time.Now())
	if d <= 0 {
		if left < overShare {
			oc.Stats.SetExtension(overShareStat, true)
		}
		return next(ctx)
	}
	secs := int(math.Ceil(d.Seconds()))
	c.m.rateLimited.WithLabelValues("cost").Inc()
	r, burst, setting := c.limits.cfg.CostRate, c.limits.cfg.CostBurst, "PARTNERGRAPH_COST_RATE"
	if who.staff {
		r, burst, setting = c.limits.cfg.StaffCostRate, c.limits.cfg.StaffCostBurst, "PARTNERGRAPH_STAFF_COST_RATE"
	}
	msg := fmt.Sprintf("over the cost rate: the operation's estimated cost is %d, and each %s may spend %s a second, %d at once (%s); "+
		"try again in %d s, or ask for smaller pages", cost, who.what(), strconv.FormatFloat(r, 'g', -1, 64), burst, setting, secs)
	if cost > burst {
		msg = fmt.Sprintf("the operation's estimated cost is %d, more than each %s may spend at once (%d, %s): ask for smaller pages",
			cost, who.what(), burst, strings.Replace(setting, "_RATE", "_BURST", 1))
	}
	return &graphql.Response{Errors: gqlerror.List{stoppedError(budget.Refuse(ctx, setting, msg, secs))}}
}
