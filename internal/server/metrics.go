package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// maxOperationNames bounds the operation-name label: names come from
// clients, so past this many distinct ones the rest count as "other".
const maxOperationNames = 200

// metrics are the Prometheus metrics of one Server, in a registry of its
// own (no globals, so tests can run servers side by side).
type metrics struct {
	reg         *prometheus.Registry
	operations  *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	errors      *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	// responseCache counts anonymous queries answered from the response
	// cache (hit) and executed (miss).
	responseCache *prometheus.CounterVec
	http          *prometheus.CounterVec
	// heavy counts heavy queries by what the gate did (heavy.go):
	// admitted at once, queued then admitted, refused, demoted, over its
	// client's share (over_share); heavyWait is how long those that
	// waited waited.
	heavy     *prometheus.CounterVec
	heavyWait prometheus.Histogram
	// turns counts requests by their turn (fair.go): within their
	// client's share, over it from the start, or over it while they ran;
	// paused is how long yielding requests paused for others.
	turns  *prometheus.CounterVec
	paused prometheus.Counter

	mu    sync.Mutex
	names map[string]bool
}

func newMetrics(st *store.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partnergraph_graphql_operations_total", Help: "GraphQL operations by operation name and outcome (ok or error).",
		}, []string{"operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "partnergraph_graphql_operation_duration_seconds", Help: "Duration of GraphQL operations by operation name.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partnergraph_graphql_errors_total", Help: "GraphQL errors by extensions.code.",
		}, []string{"code"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partnergraph_rate_limited_total", Help: "Requests refused by the rate limit, by what was limited (token or address), and operations refused by the cost rate (cost).",
		}, []string{"by"}),
		responseCache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partnergraph_response_cache_total", Help: "Anonymous queries answered from the response cache (hit) or executed (miss).",
		}, []string{"result"}),
		http: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partnergraph_http_requests_total", Help: "HTTP requests by path and status code.",
		}, []string{"path", "status"}),
		heavy: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partnergraph_heavy_queries_total", Help: "Heavy queries (estimated cost at least PARTNERGRAPH_HEAVY_COST) by what the admission gate did: admitted at once, queued (admitted after waiting) or refused; and light queries demoted to heavy while they ran (PARTNERGRAPH_HEAVY_DEMOTE_ROWS, PARTNERGRAPH_HEAVY_DEMOTE_FIELDS) or run as heavy from the start because their client had spent more than half of its cost burst (over_share; those are counted as admitted, queued or refused too).",
		}, []string{"outcome"}),
		heavyWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "partnergraph_heavy_wait_seconds", Help: "How long heavy queries that found every slot taken waited, admitted or refused.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partnergraph_fair_turns_total", Help: "Requests by their turn (PARTNERGRAPH_FAIR_SHARE): run within their client's share (within), yielding to other clients from the start because their client was over its share (over), or from when they had run longer than the share (outgrew).",
		}, []string{"turn"}),
		paused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "partnergraph_fair_paused_seconds_total", Help: "Time yielding requests paused while requests of clients within their share ran.",
		}),
		names: map[string]bool{},
	}
	for _, o := range []string{"admitted", "queued", "refused", "demoted", "over_share"} {
		m.heavy.WithLabelValues(o)
	}
	for _, t := range []string{"within", "over", "outgrew"} {
		m.turns.WithLabelValues(t)
	}
	m.reg.MustRegister(m.heavy, m.heavyWait, m.turns, m.paused)
	m.reg.MustRegister(m.operations, m.duration, m.errors, m.rateLimited, m.responseCache, m.http,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pool := func(name, help string, f func(store.PoolStats) float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "partnergraph_db_pool_" + name, Help: help},
			func() float64 { return f(st.PoolStats()) }))
	}
	pool("max_connections", "Maximum size of the database pool.", func(s store.PoolStats) float64 { return float64(s.Max) })
	pool("connections", "Open connections of the database pool.", func(s store.PoolStats) float64 { return float64(s.Total) })
	pool("idle_connections", "Idle connections of the database pool.", func(s store.PoolStats) float64 { return float64(s.Idle) })
	pool("acquired_connections", "Connections in use.", func(s store.PoolStats) float64 { return float64(s.Acquired) })
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnergraph_db_pool_acquires_total", Help: "Connections acquired from the pool."},
		func() float64 { return float64(st.PoolStats().Acquires) }))
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnergraph_db_pool_empty_acquires_total", Help: "Acquires that waited for a connection."},
		func() float64 { return float64(st.PoolStats().EmptyAcquires) }))
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnergraph_db_pool_acquire_wait_seconds_total", Help: "Time spent waiting for connections."},
		func() float64 { return st.PoolStats().AcquireWait.Seconds() }))
	if _, ok := st.HeavyPoolStats(); ok {
		heavy := func() store.PoolStats { p, _ := st.HeavyPoolStats(); return p }
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "partnergraph_db_heavy_pool_acquired_connections",
			Help: "Connections of the pool of heavy queries' reads in use."}, func() float64 { return float64(heavy().Acquired) }))
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnergraph_db_heavy_pool_acquire_wait_seconds_total",
			Help: "Time heavy queries' reads spent waiting for a connection of their pool."}, func() float64 { return heavy().AcquireWait.Seconds() }))
	}
	if st.HasReplicas() {
		m.reg.MustRegister(databases{st})
	}
	return m
}

// heavyGauges exports how many heavy queries run and wait (heavy.go).
func (m *metrics) heavyGauges(running, waiting func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "partnergraph_heavy_queries_running",
		Help: "Heavy queries holding a slot of the admission gate."}, running))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "partnergraph_heavy_queries_waiting",
		Help: "Heavy queries waiting for a slot of the admission gate."}, waiting))
}

// databases exports the state of the primary and of each replica
// (docs/scaling.md).
type databases struct{ st *store.Store }

var (
	dbUpDesc = prometheus.NewDesc("partnergraph_db_up",
		"1 if the database is up (a replica: in rotation), else 0.", []string{"database", "role", "state"}, nil)
	dbLagDesc = prometheus.NewDesc("partnergraph_db_replica_lag_seconds",
		"How old a replica's data is at most: it has replayed everything the primary had written this long ago.", []string{"database"}, nil)
	dbLagBytesDesc = prometheus.NewDesc("partnergraph_db_replica_lag_bytes",
		"WAL the replica has yet to replay.", []string{"database"}, nil)
	dbReadsDesc = prometheus.NewDesc("partnergraph_db_reads_total",
		"Read statements sent to the database.", []string{"database"}, nil)
	dbFallbacksDesc = prometheus.NewDesc("partnergraph_db_replica_fallbacks_total",
		"Reads that failed on the replica (gone, shutting down, a recovery conflict) and were answered by the primary.", []string{"database"}, nil)
)

func (databases) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{dbUpDesc, dbLagDesc, dbLagBytesDesc, dbReadsDesc, dbFallbacksDesc} {
		ch <- d
	}
}

func (d databases) Collect(ch chan<- prometheus.Metric) {
	for _, db := range d.st.Databases() {
		up := 0.0
		if db.State == "up" {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(dbUpDesc, prometheus.GaugeValue, up, db.Name, db.Role, db.State)
		ch <- prometheus.MustNewConstMetric(dbReadsDesc, prometheus.CounterValue, float64(db.Reads), db.Name)
		if db.Role == "replica" {
			ch <- prometheus.MustNewConstMetric(dbLagDesc, prometheus.GaugeValue, db.LagSeconds, db.Name)
			ch <- prometheus.MustNewConstMetric(dbLagBytesDesc, prometheus.GaugeValue, float64(db.LagBytes), db.Name)
			ch <- prometheus.MustNewConstMetric(dbFallbacksDesc, prometheus.CounterValue, float64(db.Fallbacks), db.Name)
		}
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// operationLabel bounds the label's values: a sane name seen among the
// first maxOperationNames, else "other"; "anonymous" without a name.
func (m *metrics) operationLabel(name string) string {
	if name == "" {
		return "anonymous"
	}
	if len(name) > 64 {
		return "other"
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return "other"
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.names[name] {
		if len(m.names) >= maxOperationNames {
			return "other"
		}
		m.names[name] = true
	}
	return name
}

// observe is a gqlgen extension that counts operations, their outcome,
// their duration and their errors by code, and tells the access log the
// operation's name.
type observe struct{ m *metrics }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = observe{}

func (observe) ExtensionName() string                   { return "Observe" }
func (observe) Validate(graphql.ExecutableSchema) error { return nil }

func (o observe) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	name := ""
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		name = oc.OperationName
		if oc.Operation != nil && oc.Operation.Name != "" {
			name = oc.Operation.Name
		}
	}
	if info, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok && name != "" {
		info.setOperation(name)
	}
	label := o.m.operationLabel(name)
	outcome := "ok"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = "error"
		if info, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
			info.failed.Store(true)
		}
		for _, e := range resp.Errors {
			code, _ := e.Extensions["code"].(string)
			if code == "" {
				code = "NONE"
			}
			o.m.errors.WithLabelValues(code).Inc()
		}
	}
	o.m.operations.WithLabelValues(label, outcome).Inc()
	o.m.duration.WithLabelValues(label).Observe(time.Since(start).Seconds())
	return resp
}

// reqInfo carries what the access log learns during a request.
type reqInfo struct {
	mu        sync.Mutex
	operation string
	errs      *requestErrors // nil: errors are logged one by one (errlog.go)
	failed    atomic.Bool    // the answer carried errors
}

// hasFailed says whether the answer carried errors or the request
// collected some.
func (r *reqInfo) hasFailed() bool {
	if r.failed.Load() {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errs != nil && len(r.errs.codes) > 0
}

type reqInfoKey struct{}

func (r *reqInfo) setOperation(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(name) > 64 {
		name = name[:64]
	}
	r.operation = name
}

func (r *reqInfo) op() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.operation
}

// pathLabel keeps the path label to the routes the server has.
func pathLabel(p string) string {
	switch p {
	case "/graphql", "/export", "/healthz", "/readyz", "/metrics", "/":
		return p
	}
	return "other"
}

func statusLabel(code int) string { return strconv.Itoa(code) }
