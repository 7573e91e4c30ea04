package server

import (
	"context"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/vektah/gqlparser/v2/ast"
)

// Fair configures the turns between clients (docs/api.md, "Fair
// turns"). A request yields to the requests of other clients when its
// client (its token, or its address without one) has kept the server busy
// for more than Share over about the last second, or when it has itself
// run longer than Share: before it is parsed, before each of its
// resolvers, each level of its walks and each of its statements, it
// pauses while a request of a client within its share runs, at most Wait
// in all, and its statements meanwhile go to the pool of heavy reads.
// Nothing is refused, and no request pauses while no client within its
// share has a request running: a server whose requests all come from one
// client (a benchmark, a frontend's backend) runs them as before.
type Fair struct {
	// Share is the busy time, decayed over about a second, a client may
	// have before its requests yield (PARTNERGRAPH_FAIR_SHARE); default
	// DefaultFair.Share, -1 turns the turns off.
	Share time.Duration
	// Wait is the longest a request pauses in all, after which it runs as
	// any other (PARTNERGRAPH_FAIR_WAIT); default DefaultFair.Wait.
	Wait time.Duration
}

// DefaultFair: a client that asks for a page now and then (a few
// milliseconds each) never yields; one that sends requests back to back
// yields after about three pages; a yielding request is at most a quarter
// of a second late.
var DefaultFair = Fair{Share: 20 * time.Millisecond, Wait: 250 * time.Millisecond}

func (f *Fair) defaults() {
	if f.Share == 0 {
		f.Share = DefaultFair.Share
	}
	if f.Wait <= 0 {
		f.Wait = DefaultFair.Wait
	}
}

// fairPause is the longest one pause: a request that yields runs a step
// between pauses even while requests within their share keep coming one
// after another.
const fairPause = 20 * time.Millisecond

// fairDecay is the time constant of a client's busy time: it halves in
// about 0.7 s.
const fairDecay = time.Second

// turns keeps each client's decayed busy time and the requests within
// their share that run.
type turns struct {
	Fair
	m     *metrics
	pause time.Duration // the longest one pause: fairPause

	// running counts the requests within their share that run; read
	// without mu by the yielding ones' fast path.
	running atomic.Int64

	mu        sync.Mutex
	idle      chan struct{} // closed when running drops to 0; nil while it is 0
	busy      map[string]*busyTime
	lastSweep time.Time
}

type busyTime struct {
	secs float64 // decayed to at
	at   time.Time
}

func newTurns(f Fair, m *metrics) *turns {
	return &turns{Fair: f, m: m, pause: fairPause, busy: map[string]*busyTime{}}
}

// decayed is b's busy time at now.
func (b *busyTime) decayed(now time.Time) float64 {
	return b.secs * math.Exp(-now.Sub(b.at).Seconds()/fairDecay.Seconds())
}

// begin starts a turn of the client key.
func (ts *turns) begin(key string) *turn {
	now := time.Now()
	ts.mu.Lock()
	var prior float64
	if b := ts.busy[key]; b != nil {
		prior = b.decayed(now)
	}
	t := &turn{ts: ts, key: key, start: now, prior: time.Duration(prior * float64(time.Second))}
	over := t.prior > ts.Share
	if over {
		t.yielding.Store(true)
	} else {
		ts.running.Add(1)
	}
	ts.mu.Unlock()
	if over {
		ts.m.turns.WithLabelValues("over").Inc()
	} else {
		ts.m.turns.WithLabelValues("within").Inc()
	}
	return t
}

// leave takes a request within its share off the running ones.
func (ts *turns) leave() {
	ts.mu.Lock()
	if ts.running.Add(-1) == 0 && ts.idle != nil {
		close(ts.idle)
		ts.idle = nil
	}
	ts.mu.Unlock()
}

// idleCh is closed once no request within its share runs; nil if none
// does now.
func (ts *turns) idleCh() <-chan struct{} {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.running.Load() == 0 {
		return nil
	}
	if ts.idle == nil {
		ts.idle = make(chan struct{})
	}
	return ts.idle
}

// turn is one request's.
type turn struct {
	ts       *turns
	key      string
	start    time.Time
	prior    time.Duration // its client's busy time when it began
	yielding atomic.Bool   // it yields (and is not counted in running)
	paused   atomic.Int64  // nanoseconds
	// exempt is set for a mutation, which may hold locks: it never pauses.
	exempt atomic.Bool
}

type turnKey struct{}

// yield pauses t's request while requests within their share run, if t
// yields: its client is over its share, or it has run longer than the
// share itself.
func (t *turn) yield(ctx context.Context) {
	if t.exempt.Load() {
		return
	}
	if !t.yielding.Load() {
		if t.prior+time.Since(t.start)-time.Duration(t.paused.Load()) <= t.ts.Share {
			return
		}
		// Of the resolvers that find it outgrown at once, one takes it
		// off the running ones.
		if t.yielding.CompareAndSwap(false, true) {
			t.ts.leave()
			t.ts.m.turns.WithLabelValues("outgrew").Inc()
		}
	}
	if t.ts.running.Load() == 0 {
		return
	}
	left := t.ts.Wait - time.Duration(t.paused.Load())
	if left <= 0 {
		return
	}
	ch := t.ts.idleCh()
	if ch == nil {
		return
	}
	start := time.Now()
	timer := time.NewTimer(min(left, t.ts.pause))
	select {
	case <-ch:
	case <-timer.C:
	case <-ctx.Done():
	}
	timer.Stop()
	d := time.Since(start)
	t.paused.Add(int64(d))
	t.ts.m.paused.Add(d.Seconds())
}

// yields reports whether t's statements go to the pool of heavy reads
// now: it yields while requests within their share run.
func (t *turn) yields() bool {
	return t.yielding.Load() && !t.exempt.Load() && t.ts.running.Load() > 0
}

// end adds the request's time, its pauses left out, to its client's busy
// time.
func (t *turn) end() {
	if t.yielding.CompareAndSwap(false, true) {
		t.ts.leave()
	}
	now := time.Now()
	took := now.Sub(t.start) - time.Duration(t.paused.Load())
	ts := t.ts
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if now.Sub(ts.lastSweep) > time.Minute {
		for k, b := range ts.busy {
			if b.decayed(now) < float64(time.Millisecond)/float64(time.Second) {
				delete(ts.busy, k)
			}
		}
		ts.lastSweep = now
	}
	b := ts.busy[t.key]
	if b == nil {
		b = &busyTime{}
		ts.busy[t.key] = b
	}
	b.secs = b.decayed(now) + took.Seconds()
	b.at = now
}

// fairTurns runs each plain request (not a WebSocket, not a stream of
// Server-Sent Events) as a turn of its client.
func (s *Server) fairTurns(next http.Handler) http.Handler {
	if s.turns == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := r.Context().Value(rateClientKey{}).(client)
		if !ok || isWebSocket(r) || r.Context().Value(sseStreamKey{}) != nil {
			next.ServeHTTP(w, r)
			return
		}
		t := s.turns.begin(c.key)
		defer t.end()
		ctx := store.Yielding(context.WithValue(r.Context(), turnKey{}, t), t.yields)
		budget.OnYield(ctx, t.yield)
		t.yield(ctx)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// fairFields is the gqlgen extension that lets a yielding query pause
// before each of its resolvers, and exempts mutations from pausing.
type fairFields struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.FieldInterceptor
} = fairFields{}

func (fairFields) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if t, ok := ctx.Value(turnKey{}).(*turn); ok && graphql.HasOperationContext(ctx) {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation != ast.Query {
			t.exempt.Store(true)
		}
	}
	return next(ctx)
}

func (fairFields) ExtensionName() string                   { return "FairTurns" }
func (fairFields) Validate(graphql.ExecutableSchema) error { return nil }

func (fairFields) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	// A field read from its parent's value is done before a pause would
	// be: only resolvers and methods pause.
	if fc := graphql.GetFieldContext(ctx); fc == nil || fc.IsResolver || fc.IsMethod {
		budget.Yield(ctx)
	}
	return next(ctx)
}
