package server

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/serial"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Heavy configures the admission gate of heavy queries. A query is heavy
// when its estimated cost, the one the cost limit measures before any
// resolver runs (Limits.MaxCost, docs/api.md "Query cost"), is at least
// Cost. Heavy queries run through a gate of Concurrency slots, so that
// together they never take more than their share of the cores from the
// light ones (the front page, lists, walks), which never wait at it; a
// heavy query that finds every slot taken waits in a queue of at most
// Queue, for at most Wait, and is then refused with LIMIT_EXCEEDED and
// Retry-After. A heavy query's reads go to the store's pool of heavy
// reads when it has one (store.SetHeavyPool), so that its statements
// neither run more than that pool's size at once nor take the light
// queries' connections. The zero value of a field means its default.
type Heavy struct {
	// Cost is the estimated cost from which a query is heavy
	// (PARTNERGRAPH_HEAVY_COST); default DefaultHeavy.Cost, -1 turns the
	// gate off.
	Cost int
	// Concurrency is how many heavy queries run at once
	// (PARTNERGRAPH_HEAVY_CONCURRENCY); default DefaultHeavy.Concurrency.
	Concurrency int
	// Queue is how many heavy queries may wait for a slot
	// (PARTNERGRAPH_HEAVY_QUEUE); more are refused at once; default
	// DefaultHeavy.Queue, -1 no bound.
	Queue int
	// Wait is how long a heavy query waits for a slot before it is refused
	// (PARTNERGRAPH_HEAVY_WAIT); default DefaultHeavy.Wait.
	Wait time.Duration
	// Parallelism is how many resolvers of one admitted heavy query run at
	// once (PARTNERGRAPH_HEAVY_PARALLELISM, package serial): gqlgen runs
	// the fields and list elements of a query in goroutines of their own,
	// so a heavy query alone took both cores; default
	// DefaultHeavy.Parallelism, -1 no bound.
	Parallelism int
	// DemoteRows is how many rows a light query may read before it is
	// demoted: found heavy by the work it does rather than by its
	// estimate, it runs from then on as an admitted heavy query does (its
	// further resolvers Parallelism at a time, its further statements on
	// the pool of heavy reads), once it holds one of the Concurrency
	// slots, which it waits for as long as its request lasts, never
	// refused (PARTNERGRAPH_HEAVY_DEMOTE_ROWS); default
	// DefaultHeavy.DemoteRows, -1 never.
	DemoteRows int64
	// DemoteFields is how many resolvers a light query may run before it
	// is demoted, as with DemoteRows: the work of the server's own CPU
	// (PARTNERGRAPH_HEAVY_DEMOTE_FIELDS); default
	// DefaultHeavy.DemoteFields, -1 never.
	DemoteFields int64
}

// DefaultHeavy is the gate unless configured. Cost: above every operation
// of the benchmark (the costliest, mostConnected(first: 20), is 12,101; a
// list of 20 partners with 100 cooperatives each 10,141) and every query of
// the fan-out set that the cost limit lets through (at most 12,041), so
// that by default only the band between 15,000 and the cost limit
// (25,000) is gated: a lower threshold gated pages that 16 clients ask for
// at once and cut their throughput by half or more (docs/benchmarks.md,
// "Heavy queries beside light ones"). docs/api.md ("Heavy queries") says
// when to lower it. DemoteRows and DemoteFields are about twice the
// most any benchmark page does at 1M (20 partners with their
// cooperatives: up to 2,182 rows and 4,470 resolvers), so that the pages
// many clients ask for at once are never demoted.
var DefaultHeavy = Heavy{Cost: 15000, Concurrency: 1, Queue: 32, Wait: 2 * time.Second, Parallelism: 1,
	DemoteRows: 5000, DemoteFields: 10000}

func (h *Heavy) defaults() {
	if h.Cost == 0 {
		h.Cost = DefaultHeavy.Cost
	}
	if h.Concurrency <= 0 {
		h.Concurrency = DefaultHeavy.Concurrency
	}
	if h.Queue == 0 {
		h.Queue = DefaultHeavy.Queue
	}
	if h.Wait <= 0 {
		h.Wait = DefaultHeavy.Wait
	}
	if h.Parallelism == 0 {
		h.Parallelism = DefaultHeavy.Parallelism
	}
	if h.DemoteRows == 0 {
		h.DemoteRows = DefaultHeavy.DemoteRows
	}
	if h.DemoteFields == 0 {
		h.DemoteFields = DefaultHeavy.DemoteFields
	}
}

// demotes says whether light queries are watched for demotion.
func (h *Heavy) demotes() bool { return h.DemoteRows > 0 || h.DemoteFields > 0 }

// heavyGate is the gqlgen extension that admits heavy queries through
// Heavy's slots. Light queries, mutations and subscriptions pass without
// touching it.
type heavyGate struct {
	Heavy
	slots   chan struct{}
	waiting atomic.Int64
	m       *metrics
	log     *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.FieldInterceptor
} = (*heavyGate)(nil)

func newHeavyGate(h Heavy, m *metrics, log *slog.Logger) *heavyGate {
	g := &heavyGate{Heavy: h, slots: make(chan struct{}, h.Concurrency), m: m, log: log}
	m.heavyGauges(func() float64 { return float64(len(g.slots)) }, func() float64 { return float64(g.waiting.Load()) })
	return g
}

func (*heavyGate) ExtensionName() string                   { return "HeavyGate" }
func (*heavyGate) Validate(graphql.ExecutableSchema) error { return nil }

// heavyStat marks an operation that passed the gate once: a transport
// that reads a query's answers until the end (Server-Sent Events) calls
// the interceptor again for its end.
const heavyStat = "partnergraph.heavy"

// InterceptResponse runs a light operation at once, and a heavy query
// once it holds a slot, with its reads sent to the pool of heavy reads.
func (g *heavyGate) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Query || oc.Stats.GetExtension(heavyStat) != nil {
		return next(ctx)
	}
	cost := operationCost(oc)
	overShare := oc.Stats.GetExtension(overShareStat) != nil
	if cost < g.Cost && !overShare {
		if !g.demotes() {
			return next(ctx)
		}
		oc.Stats.SetExtension(heavyStat, true)
		return g.watch(ctx, cost, next)
	}
	oc.Stats.SetExtension(heavyStat, true)
	if cost < g.Cost {
		// A light query of a client that has spent more than its share
		// of the cost rate (costRate) waits behind the light queries of
		// everyone else, as a heavy one does.
		g.m.heavy.WithLabelValues("over_share").Inc()
	}
	if e := g.admit(ctx, cost); e != nil {
		return &graphql.Response{Errors: gqlerror.List{e}}
	}
	defer func() { <-g.slots }()
	ctx = store.WithHeavy(ctx)
	if g.Parallelism < 0 {
		return next(ctx)
	}
	ctx, tok := serial.With(ctx, g.Parallelism)
	resp := next(ctx)
	st := tok.Stats()
	g.log.LogAttrs(ctx, slog.LevelDebug, "heavy query", slog.String("request_id", RequestID(ctx)), slog.Int("cost", cost),
		slog.Int("fields", st.Fields), slog.Int("loader_waits", st.Pauses), slog.Int("reentered", st.Reentered),
		slog.Int("most_at_once", st.MostAtOnce), slog.Int("most_inside", st.MostInside), slog.Int("parallelism", g.Parallelism))
	return resp
}

// watch runs a light query, ready to demote it (demotion.demote) when its
// work crosses DemoteRows or DemoteFields.
func (g *heavyGate) watch(ctx context.Context, cost int, next graphql.ResponseHandler) *graphql.Response {
	d := &demotion{g: g, done: make(chan struct{}), admitted: make(chan struct{})}
	ctx, d.heavy = store.Demotable(ctx)
	par := g.Parallelism
	if par < 0 {
		par = math.MaxInt32 // no bound: demotion only moves its statements and takes a slot
	}
	ctx, d.tok = serial.Deferred(ctx, par, g.DemoteFields, d.demote)
	budget.OnRows(ctx, g.DemoteRows, d.demote)
	resp := next(ctx)
	d.finish()
	// A demoted query's line is at INFO: demotions are rare by design,
	// and the figures are what the thresholds are set from.
	demoted, level := d.state.Load() == 1, slog.LevelDebug
	if demoted {
		level = slog.LevelInfo
	}
	if g.log.Enabled(ctx, level) {
		st := d.tok.Stats()
		g.log.LogAttrs(ctx, level, "query work", slog.String("request_id", RequestID(ctx)), slog.Int("cost", cost),
			slog.Int64("rows", budget.RowsRead(ctx)), slog.Int("fields", st.Unbounded+st.Fields), slog.Bool("demoted", demoted),
			slog.Int("fields_after_demotion", st.Fields), slog.Int("most_at_once", st.MostAtOnce), slog.Duration("slot_wait", d.waited))
	}
	return resp
}

// demotion is the watch over one light query.
type demotion struct {
	g     *heavyGate
	tok   *serial.Token
	heavy func() // sends the query's further statements to the pool of heavy reads
	// state is watching (0), demoted (1) or ended undemoted (2).
	state atomic.Int32
	// done is closed when the query ended; admitted when the goroutine
	// that waits for its slot has returned (held says whether it took
	// one, waited how long it waited: both written before admitted is
	// closed).
	done, admitted chan struct{}
	held           bool
	waited         time.Duration
}

// demote runs once, from the store's row count (budget.OnRows) or the
// resolvers' (serial.Deferred), so it must not block: it sends the
// query's further statements to the pool of heavy reads, puts its token
// in force (its further resolvers Parallelism at a time), and waits for a
// slot of the gate in a goroutine of its own, the resolvers that begin
// meanwhile waiting for it (serial: ready). A demoted query is never
// refused: it started as a light one, and what it has read so far would
// be wasted.
func (d *demotion) demote() {
	if !d.state.CompareAndSwap(0, 1) {
		return
	}
	d.g.m.heavy.WithLabelValues("demoted").Inc()
	d.heavy()
	ready := make(chan struct{})
	d.tok.Bound(ready)
	go func() {
		defer close(d.admitted)
		select {
		case d.g.slots <- struct{}{}:
			d.held = true
			close(ready)
			return
		default:
		}
		d.g.waiting.Add(1)
		defer d.g.waiting.Add(-1)
		start := time.Now()
		select {
		case d.g.slots <- struct{}{}:
			d.held = true
			close(ready)
		case <-d.done:
		}
		d.waited = time.Since(start)
		d.g.m.heavyWait.Observe(d.waited.Seconds())
	}()
}

// finish gives back the slot of a demoted query once it ended.
func (d *demotion) finish() {
	close(d.done)
	if d.state.CompareAndSwap(0, 2) {
		return
	}
	<-d.admitted
	if d.held {
		<-d.g.slots
	}
}

// InterceptField runs a field of an admitted heavy query with a slot of
// its token (serial.Run), a field of any other at once.
func (g *heavyGate) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	return serial.Run(ctx, next)
}

// admit takes a slot, waiting for one in the queue if need be; it returns
// the refusal when the queue is full, the wait too long or the request
// ended meanwhile.
func (g *heavyGate) admit(ctx context.Context, cost int) *gqlerror.Error {
	select {
	case g.slots <- struct{}{}:
		g.m.heavy.WithLabelValues("admitted").Inc()
		return nil
	default:
	}
	if n := g.waiting.Add(1); g.Queue >= 0 && n > int64(g.Queue) {
		g.waiting.Add(-1)
		g.m.heavy.WithLabelValues("refused").Inc()
		return g.refuse(ctx, "PARTNERGRAPH_HEAVY_QUEUE", fmt.Sprintf("the server is busy with heavy queries: %d are waiting already, "+
			"the most that may (PARTNERGRAPH_HEAVY_QUEUE); this one is heavy: %s; "+
			"retry later or ask for smaller pages", g.Queue, g.why(cost)))
	}
	defer g.waiting.Add(-1)
	start := time.Now()
	timer := time.NewTimer(g.Wait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		g.m.heavy.WithLabelValues("queued").Inc()
		g.m.heavyWait.Observe(time.Since(start).Seconds())
		return nil
	case <-timer.C:
		g.m.heavy.WithLabelValues("refused").Inc()
		g.m.heavyWait.Observe(time.Since(start).Seconds())
		return g.refuse(ctx, "PARTNERGRAPH_HEAVY_WAIT", fmt.Sprintf("the server is busy with heavy queries: this one waited %s for one of "+
			"their %d slots (PARTNERGRAPH_HEAVY_WAIT, PARTNERGRAPH_HEAVY_CONCURRENCY) and was not run; %s; "+
			"retry later or ask for smaller pages", g.Wait, g.Concurrency, g.why(cost)))
	case <-ctx.Done():
		g.m.heavyWait.Observe(time.Since(start).Seconds())
		if e := budget.Stopped(ctx); e != nil {
			return stoppedError(e)
		}
		return &gqlerror.Error{Message: cancelledMessage, Extensions: map[string]any{"code": CodeCancelled}}
	}
}

// why says, for a refusal, why a query of cost ran as a heavy one: its
// cost, or its client over its share of the cost rate (overShareStat).
func (g *heavyGate) why(cost int) string {
	if cost < g.Cost {
		return fmt.Sprintf("its client has spent more than half of its cost burst (PARTNERGRAPH_COST_BURST), "+
			"so its queries run as heavy ones (its estimated cost is %d)", cost)
	}
	return fmt.Sprintf("its estimated cost is %d, heavy from %d (PARTNERGRAPH_HEAVY_COST)", cost, g.Cost)
}

// refuse stops the request with LIMIT_EXCEEDED naming setting: its
// context ends, so nothing of it runs, and its answer gets 429 with
// Retry-After (wallWriter).
func (g *heavyGate) refuse(ctx context.Context, setting, msg string) *gqlerror.Error {
	return stoppedError(budget.Refuse(ctx, setting, msg, max(1, int(math.Ceil(g.Wait.Seconds())))))
}
