// Package server is the HTTP stack of partnergraph: the gqlgen handler with
// its transports and error presenter, per-request loaders, CORS, body
// limits, request IDs and access logs, health and readiness probes, and the
// explorer page.
package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/partnergraph/partnergraph/graph"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/explorer"
	"github.com/partnergraph/partnergraph/internal/feed"
	"github.com/partnergraph/partnergraph/internal/graphindex"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"
)

// The defaults of the settings that serve shares with its configuration
// table (cmd/partnergraph/config.go), kept here only: the table shows and
// applies these values, and New applies them to a zero field.
const (
	DefaultAddr            = ":8080"
	DefaultRequestTimeout  = 30 * time.Second
	DefaultShutdownTimeout = 15 * time.Second
)

// AccessLog is which requests the access log writes beside the failed
// ones (an HTTP status of 400 or more, or an answer with errors), which it
// always writes, one line each.
type AccessLog struct {
	// Slow: a request that took at least this long is written; 0: none
	// for its duration alone.
	Slow time.Duration
	// Sample: one in Sample of the other requests is written; 0 or 1:
	// every one, -1: none.
	Sample int
}

// DefaultAccessLog is serve's: the failed requests, those of a second or
// more, and one in a hundred of the others. Writing every request was
// 5.6 MB of log in an 8-minute benchmark, and its line a share of each
// request's CPU; the metrics count every request.
var DefaultAccessLog = AccessLog{Slow: time.Second, Sample: 100}

// Config configures the HTTP stack. The zero value of a field means its
// default.
type Config struct {
	// Addr is the address to listen on; default DefaultAddr.
	Addr string
	// TrustedProxies are the peers whose Forwarded or X-Forwarded-For
	// header names the client, for the rate limit and the exports per
	// address (clientaddr.go); none: the client is the peer.
	TrustedProxies []netip.Prefix
	// MetricsElsewhere leaves /metrics off the API's address: the caller
	// serves MetricsHandler on a listener of its own.
	MetricsElsewhere bool
	// TracerProvider, when set, traces every request and GraphQL operation
	// through OpenTelemetry; nil turns tracing off.
	TracerProvider trace.TracerProvider
	// CORSOrigins are the browser origins allowed to call the API with a
	// token and to open WebSockets: exact ("https://example.org") or with
	// one wildcard ("https://*.example.org"), matched on scheme and host.
	// Empty makes a public read API: any http(s) origin may read
	// anonymously, none may send a token (see origins).
	CORSOrigins []string
	// CORSCredentials lets the allowed origins send credentials (cookies,
	// HTTP authentication) with Access-Control-Allow-Credentials; off by
	// default, since tokens travel in the Authorization header.
	CORSCredentials bool
	// MaxBodyBytes caps the size of a request body; default 1 MiB.
	MaxBodyBytes int64
	// RequestTimeout bounds the execution of one request; default
	// DefaultRequestTimeout.
	RequestTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests may finish after a
	// shutdown begins; default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// AccessLog says which requests the access log writes besides the
	// failed ones, which it always writes; the zero value writes every
	// request (serve's default is DefaultAccessLog).
	AccessLog AccessLog
	// LoaderWait is how long dataloaders collect keys; default loader.DefaultWait.
	LoaderWait time.Duration
	// ResponseCache keeps anonymous readers' answers for a short time; the
	// zero value keeps none (serve uses DefaultResponseCache).
	ResponseCache ResponseCache
	// Ready reports whether the server can serve (database reachable,
	// migrations current); nil means always ready.
	Ready func(context.Context) error
	// Logger receives access and error logs; default slog.Default().
	Logger *slog.Logger
	// WebSocketInitTimeout is how long a new WebSocket may take to send
	// connection_init before it is closed with 4408
	// (PARTNERGRAPH_WS_INIT_TIMEOUT); default DefaultWebSocketInitTimeout,
	// negative waits for ever.
	WebSocketInitTimeout time.Duration
	// TokenRecheck is how often a subscription checks that its token still
	// works; default graph.DefaultTokenRecheck.
	TokenRecheck time.Duration
	// BaseIRI is the base of node IRIs in JSON-LD exports; default
	// export.DefaultBaseIRI.
	BaseIRI string
	// ExportTimeout bounds one export download; default 15 minutes.
	ExportTimeout time.Duration
	// MaxExports caps the exports running at once, each of which holds a
	// database connection for its whole download; default 2. More get 429.
	MaxExports int
	// MaxExportsPerAddress caps the exports one client address runs at
	// once, so that one client cannot take every slot; default 1.
	MaxExportsPerAddress int
	// ExportWriteTimeout is how long one write of an export to its client
	// may block: a client that reads slower is cut off, and its slot and
	// database connection are freed; default 30s.
	ExportWriteTimeout time.Duration
	// ExportStore, if not nil, is where exports read: a store on a small
	// pool of its own (MaxExports connections), so that exports never hold
	// connections the API needs. nil reads through the API's store.
	ExportStore *store.Store
	// Limits bounds what one GraphQL operation may ask for.
	Limits Limits
	// DisableIntrospection turns off __schema and __type queries
	// (PARTNERGRAPH_INTROSPECTION=false); introspection is on by default.
	DisableIntrospection bool
	// TrustedDocuments, if not nil, are the only documents that run
	// (PARTNERGRAPH_TRUSTED_DOCUMENTS); others get FORBIDDEN.
	TrustedDocuments TrustedDocuments
	// RateLimit limits requests to /graphql per token and per client
	// address; the zero value is off.
	RateLimit RateLimit
	// TraversalIndex builds the in-memory traversal index in the
	// background and runs walks on it once loaded (graphindex,
	// docs/traversal.md); off, every walk runs in SQL.
	TraversalIndex bool
	// TraversalIndexSized, if set, is told the bytes the traversal index
	// holds while it is built and once it is (graphindex.Index.Sized).
	TraversalIndexSized func(bytes int64)
	// MaxRows caps the rows one GraphQL request reads
	// (PARTNERGRAPH_MAX_ROWS); default DefaultMaxRows, -1 no limit.
	MaxRows int64
	// MaxResponseBytes caps the size of one GraphQL answer
	// (PARTNERGRAPH_MAX_RESPONSE_BYTES); default DefaultMaxResponseBytes,
	// -1 no limit.
	MaxResponseBytes int64
	// Heavy is the admission gate of heavy queries (heavy.go).
	Heavy Heavy
	// Fair is the turns between clients (fair.go).
	Fair Fair
	// CountBound is how many matches a root list's totalCount counts when
	// the counters do not cover its filter (PARTNERGRAPH_COUNT_BOUND);
	// default store.DefaultCountBound, -1 no bound.
	CountBound int
}

func (c *Config) defaults() {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ExportTimeout == 0 {
		c.ExportTimeout = 15 * time.Minute
	}
	if c.MaxExports == 0 {
		c.MaxExports = 2
	}
	if c.MaxExportsPerAddress == 0 {
		c.MaxExportsPerAddress = 1
	}
	if c.ExportWriteTimeout == 0 {
		c.ExportWriteTimeout = 30 * time.Second
	}
	if c.WebSocketInitTimeout == 0 {
		c.WebSocketInitTimeout = DefaultWebSocketInitTimeout
	}
	if c.MaxRows == 0 {
		c.MaxRows = DefaultMaxRows
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	c.Limits.defaults()
	c.Heavy.defaults()
	c.Fair.defaults()
}

// Server serves the API over HTTP.
type Server struct {
	cfg     Config
	handler http.Handler
	// ahead remembers what the fields under an entity read at the root
	// of an operation asked, for its next runs (loader.Ahead).
	ahead   *loader.Ahead
	exports chan struct{} // a slot per running export
	// exportsBy counts the running exports of each client address.
	exportsMu sync.Mutex
	exportsBy map[string]int
	metrics   *metrics
	limits    *limiters // nil when rate limiting is off
	turns     *turns    // nil when the fair turns are off
	// accessCount counts the requests the access log may sample.
	accessCount atomic.Uint64
	origins     origins

	// closing ends when a shutdown begins; WebSocket connections, which
	// http.Server.Shutdown neither waits for nor closes, end with it.
	closing   context.Context
	closeSubs context.CancelFunc

	index     *graphindex.Index // nil when off
	indexDone chan struct{}     // closed when the index stops
	st        *store.Store

	// following is set when the server follows the change feed;
	// lastApplied is the revision of the last change whose notification
	// it has applied (caches emptied, replica reads held to its
	// position), and appliedAt when, in Unix nanoseconds: /readyz shows
	// them, so that an operator, a proxy or a test can tell that a write
	// made anywhere is visible through this instance (docs/scaling.md).
	following   bool
	lastApplied atomic.Int64
	appliedAt   atomic.Int64
}

// Close stops what the server runs in the background (subscriptions, the
// traversal index) and waits for the index to stop. ListenAndServe does
// it at shutdown; a server used only through Handler must call it.
func (s *Server) Close() {
	s.closeSubs()
	if s.indexDone != nil {
		<-s.indexDone
	}
}

// New builds the HTTP stack on st.
func New(cfg Config, st *store.Store) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, exports: make(chan struct{}, cfg.MaxExports), metrics: newMetrics(st),
		origins: newOrigins(cfg.CORSOrigins), exportsBy: map[string]int{}, ahead: loader.NewAhead(0)}
	s.metrics.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnergraph_loader_asked_ahead_total",
		Help: "Questions asked of the loaders ahead, with the row of an entity read at the root of an operation, because the fields under it asked them in the operation's last runs (docs/scaling.md, \"Round trips\")."},
		func() float64 { asked, _ := s.ahead.Asked(); return float64(asked) }))
	s.metrics.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnergraph_loader_asked_ahead_used_total",
		Help: "Questions asked ahead that a field then asked: the others were read and dropped."},
		func() float64 { _, used := s.ahead.Asked(); return float64(used) }))
	s.metrics.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnergraph_search_hits_read_ahead_total",
		Help: "Search pages whose last run's hits were read with the page, in its pipeline (docs/search.md, \"Round trips\")."},
		func() float64 { asked, _ := st.SearchAhead(); return float64(asked) }))
	s.metrics.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "partnergraph_search_hits_read_ahead_used_total",
		Help: "Search pages that held exactly the hits read ahead: the others read their hits again after the page."},
		func() float64 { _, used := st.SearchAhead(); return float64(used) }))
	if cfg.RateLimit.Rate > 0 {
		s.limits = newLimiters(cfg.RateLimit)
	}
	if s.cfg.Fair.Share > 0 {
		s.turns = newTurns(s.cfg.Fair, s.metrics)
	}
	s.closing, s.closeSubs = context.WithCancel(context.Background())
	s.st = st
	s.handler = s.routes(st)
	return s
}

// MetricsHandler serves the Prometheus metrics, for a listener of their
// own (Config.MetricsElsewhere).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Handler returns the whole HTTP stack, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// DefaultQuery is the query the explorer shows first: it works against the
// reference data.
const DefaultQuery = `# partnergraph: the partnership knowledge base of the social economy.
# Press the run button (or Ctrl-Enter) to ask which project partners of
# which sectors stand behind the cooperatives and practices.
{
  projects(first: 5) {
    totalCount
    nodes {
      name
      leaders { nodes { name sector } }
      partners { nodes { name sector } }
      partnerships {
        nodes {
          name
          sectorMix { sectors isFull }
          members { nodes { role member { name } } }
        }
      }
    }
  }
}
`

func (s *Server) routes(st *store.Store) http.Handler {
	hub := feed.New(st, s.cfg.Logger)
	resolver := &graph.Resolver{Store: st, Feed: hub, TokenRecheck: s.cfg.TokenRecheck, CountBound: s.cfg.CountBound}
	if s.cfg.TraversalIndex {
		s.index, s.indexDone = graphindex.New(st, s.cfg.Logger), make(chan struct{})
		s.index.Sized = s.cfg.TraversalIndexSized
		go func() {
			defer close(s.indexDone)
			s.index.Run(s.closing)
		}()
		resolver.Walker = s.index
	}
	gql := handler.New(graph.NewExecutableSchema(graph.Config{
		Resolvers:  resolver,
		Directives: graph.Directives(),
	}))
	gql.AddTransport(transport.Websocket{
		Implementation: socketImplementation{transport.CoderWebsocketImplementation{
			// graphqlOrTimed has checked the origin, by the CORS rule.
			AcceptOptions: websocket.AcceptOptions{InsecureSkipVerify: true},
		}, s.cfg.WebSocketInitTimeout},
		InitFunc:              s.wsInit(st, hub),
		KeepAlivePingInterval: 15 * time.Second,
	})
	gql.AddTransport(transport.Options{})
	// Before httpTransport, which takes every JSON POST.
	gql.AddTransport(sseTransport{SSE: transport.SSE{KeepAlivePingInterval: 15 * time.Second}, hub: hub, st: st})
	gql.AddTransport(httpTransport{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	// First, so that it wraps every other extension's view of an operation.
	gql.Use(socketGuard{st: st, server: s})
	if !s.cfg.DisableIntrospection {
		gql.Use(extension.Introspection{})
	}
	if s.cfg.TrustedDocuments != nil {
		// Before APQ, which would otherwise register any document.
		gql.Use(trustedOnly{s.cfg.TrustedDocuments})
	}
	gql.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	// After APQ, which fills in the document of a persisted query.
	gql.Use(operationLimits{Limits: s.cfg.Limits, noIntrospection: s.cfg.DisableIntrospection})
	if s.cfg.Limits.MaxTokens > 0 {
		// A backstop: operationLimits refuses such documents first, with
		// LIMIT_EXCEEDED.
		gql.SetParserTokenLimit(s.cfg.Limits.MaxTokens + 1)
	}
	// An extension used earlier wraps those used after it.
	if s.limits != nil && s.limits.cfg.CostRate > 0 {
		// Outside the gate, so that an operation over its client's cost
		// rate takes no heavy slot, and the gate knows a client over its
		// share (overShareStat). An answer from the response cache
		// (served before any operation runs) spends nothing.
		gql.Use(costRate{limits: s.limits, m: s.metrics})
	}
	if s.cfg.Heavy.Cost >= 0 {
		// Its refusals are whole answers (stoppedError), which the wall
		// gives 429.
		gql.Use(newHeavyGate(s.cfg.Heavy, s.metrics, s.cfg.Logger))
	}
	if s.turns != nil {
		gql.Use(fairFields{})
	}
	gql.Use(observe{s.metrics})
	gql.Use(wall{})
	gql.Use(languageDirective{})
	var cache *responseCache
	if s.cfg.ResponseCache.TTL > 0 {
		cache = newResponseCache(s.cfg.ResponseCache, s.metrics)
		gql.Use(cache)
	}
	// Every write made anywhere (this server, another one, the CLI) is
	// announced by the database after its commit: the caches forget what
	// it made stale as soon as the notification arrives, and replica reads
	// wait for it to be replayed; the caches' TTLs are a backstop for
	// notifications lost while the listener reconnects (docs/scaling.md).
	forget := func() {
		if cache != nil {
			cache.invalidate()
		}
		st.ForgetCaches()
	}
	if cache != nil || st.KeepsResults() || st.HasReplicas() || s.index != nil {
		// One LISTEN connection for as long as the server runs. The
		// traversal index hears each change first: an anonymous walk
		// that starts once /readyz shows the change reads the graph's
		// version, until the index has applied it.
		var index feed.Follower
		if s.index != nil {
			index = s.index.Follower()
		}
		s.following = true
		hub.Follow(s.closing, feed.Follower{
			Listening: index.Listening,
			Lost:      index.Lost,
			Change: func(c store.Change) {
				if index.Change != nil {
					index.Change(c)
				}
				st.ChangeHeard()
				forget()
				// Only now: a read that starts after /readyz shows c
				// finds the caches emptied and the replicas held to c.
				s.appliedAt.Store(time.Now().UnixNano())
				for {
					old := s.lastApplied.Load()
					if c.RevisionID <= old || s.lastApplied.CompareAndSwap(old, c.RevisionID) {
						break
					}
				}
			},
			Resync: forget,
		})
	}
	if st.HasReplicas() {
		go st.MonitorReplicas(s.closing)
	}
	if s.cfg.TracerProvider != nil {
		gql.Use(tracing{s.cfg.TracerProvider.Tracer("github.com/partnergraph/partnergraph/internal/server")})
	}
	gql.SetErrorPresenter(presentError(s.cfg.Logger))
	gql.SetRecoverFunc(recoverPanic(s.cfg.Logger))

	// The language inside the response cache, which keeps the
	// Content-Language it writes with each answer; the fair turns too
	// (fair.go): an answer from the cache runs nothing to take turns for.
	var inner http.Handler = s.fairTurns(negotiateLanguage(loader.Middleware(st, visibility, s.cfg.LoaderWait, s.ahead)(gql)))
	if cache != nil {
		// After authentication (staff are not served from it) and the rate
		// limit (answers from it count).
		inner = cache.middleware(inner)
	}
	api := s.authenticate(st, s.rateLimit(inner))
	mux := http.NewServeMux()
	gated := gateGraphQL(api)
	mux.Handle("/graphql", gated)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if !s.cfg.MetricsElsewhere {
		mux.Handle("GET /metrics", s.metrics.handler())
	}
	mux.Handle("/", explorer.Handler(explorer.Options{Endpoint: "/graphql", Title: "partnergraph", DefaultQuery: DefaultQuery}))

	c := s.origins.cors(s.cfg.CORSCredentials)
	timed := http.TimeoutHandler(mux, s.cfg.RequestTimeout, `{"errors":[{"message":"the request took longer than the limit of `+
		s.cfg.RequestTimeout.String()+` (PARTNERGRAPH_REQUEST_TIMEOUT)","extensions":{"code":"LIMIT_EXCEEDED"}}]}`)
	// A WebSocket lives for as long as its subscriptions, and
	// http.TimeoutHandler's writer cannot be hijacked: upgrades to /graphql
	// go around it.
	graphqlOrTimed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/graphql" && isWebSocket(r) {
			if !validHandshake(r) {
				// coder/websocket would refuse it in plain text.
				w.Header().Set("Sec-WebSocket-Version", "13")
				writeRefusal(w, refusal{Code: CodeBadUserInput, Message: "not a WebSocket handshake: it needs GET, Connection: Upgrade, " +
					"Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key"})
				return
			}
			if !s.origins.allowWebSocket(r) {
				writeRefusal(w, refusal{Code: CodeForbidden, Message: "WebSocket connections from the origin " +
					strconv.Quote(r.Header.Get("Origin")) + " are not allowed (PARTNERGRAPH_CORS_ORIGINS)"})
				return
			}
			// gqlgen closes the connection with a normal closure
			// ("terminated") when its context ends: at shutdown too.
			ctx, cancel := s.longLived(w, r)
			defer cancel()
			// The socket's state: its token, and a close of our own when
			// the token is revoked.
			ctx = context.WithValue(ctx, socketKey{}, &socket{end: cancel})
			api.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if r.URL.Path == "/graphql" && isEventStream(r) {
			body, err := io.ReadAll(r.Body)
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
			if err == nil && isSubscription(body, s.cfg.Limits.MaxTokens) {
				// A subscription over Server-Sent Events lives as long as
				// a WebSocket's, under the same origin rule; queries and
				// mutations over SSE keep the request's limits below.
				if !s.origins.allowWebSocket(r) {
					writeRefusal(w, refusal{Code: CodeForbidden, Message: "subscriptions from the origin " +
						strconv.Quote(r.Header.Get("Origin")) + " are not allowed (PARTNERGRAPH_CORS_ORIGINS)"})
					return
				}
				// A shutdown ends the stream with its complete event.
				ctx, cancel := s.longLived(w, r)
				defer cancel()
				ctx = context.WithValue(ctx, sseStreamKey{}, true)
				gated.ServeHTTP(w, r.WithContext(ctx))
				return
			}
		}
		if r.URL.Path == "/graphql" {
			// The request timeout is the deadline of the request's context,
			// not http.TimeoutHandler's: when it passes, or a limit of the
			// second wall is hit, the context ends, pgx cancels the running
			// statements, no further resolver starts, and the client gets a
			// JSON error (wall) once the resolvers have returned, so nothing
			// of the request runs or logs after its answer.
			ctx, stop := budget.Start(r.Context(), budget.Limits{MaxRows: s.cfg.MaxRows,
				MaxResponseBytes: s.cfg.MaxResponseBytes, Timeout: s.cfg.RequestTimeout})
			defer stop()
			if info, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
				info.collectErrors()
			}
			gated.ServeHTTP(&wallWriter{ResponseWriter: w, ctx: ctx}, r.WithContext(ctx))
			return
		}
		timed.ServeHTTP(w, r)
	})
	// Exports stream past the request timeout, whose handler would buffer
	// the whole response in memory; they have a deadline of their own.
	top := http.NewServeMux()
	// Exports take from the same rate limit as the API.
	top.Handle("/export", s.authenticate(st, s.rateLimit(s.exportHandler(st))))
	top.Handle("/", graphqlOrTimed)
	var h http.Handler = top
	h = limitBody(h, s.cfg.MaxBodyBytes)
	h = c.Handler(h)
	return s.resolveClient(s.accessLog(requestID(s.traceHTTP(h))))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			// The cause may name hosts or sockets: it goes to the log only.
			s.cfg.Logger.WarnContext(ctx, "not ready", "err", err)
			writeRefusal(w, refusal{Code: CodeUnavailable, Message: "not ready: the database is unreachable or its migrations are not current"})
			return
		}
	}
	body := map[string]any{"status": "ready"}
	if s.st.HasReplicas() {
		// A replica out of rotation costs capacity, not readiness: its
		// reads go to the primary.
		body["databases"] = s.st.Databases()
	}
	if s.index != nil {
		// Walks run in SQL until the index is ready: the server serves.
		body["traversal"] = s.index.Status()
	}
	if s.following {
		feed := map[string]any{"lastAppliedRevision": s.lastApplied.Load()}
		if at := s.appliedAt.Load(); at != 0 {
			feed["appliedAt"] = time.Unix(0, at).UTC().Format(time.RFC3339Nano)
		}
		body["changeFeed"] = feed
	}
	writeJSON(w, http.StatusOK, body)
}

// bodyTooLarge is the refusal of a body over max bytes, whether its length
// was declared or found while reading a chunked body.
func bodyTooLarge(max int64) refusal {
	return refusal{Code: CodeLimitExceeded, Status: http.StatusRequestEntityTooLarge,
		Message: "the request body is larger than the limit of " + strconv.FormatInt(max, 10) + " bytes"}
}

// limitBody refuses bodies over max bytes with 413 before they are read.
func limitBody(next http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeRefusal(w, bodyTooLarge(max))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

type ridKey struct{}

// RequestID returns the ID of the request in ctx, or "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ridKey{}).(string)
	return id
}

// requestID gives each request an ID (a sane X-Request-Id from the client,
// or a new random one) and returns it in the X-Request-Id header.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ridKey{}, id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Flush sends what was written so far: Server-Sent Events need it, and
// gqlgen's transport asks the writer itself, not what it wraps.
func (s *statusRecorder) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }

// errReader returns err, or io.EOF when err is nil: the rest of a body
// whose read failed, so that the transport meets the same error.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

// accessLog logs one line per request (every failed one, and those
// Config.AccessLog chooses of the others): method, path, status, duration
// and request ID. It logs no query strings or headers, which may carry
// tokens or personal data.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		info := &reqInfo{}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info)))
		s.metrics.http.WithLabelValues(pathLabel(r.URL.Path), statusLabel(rec.status)).Inc()
		took := time.Since(start)
		if !s.logsRequest(rec.status >= 400 || info.hasFailed(), took) {
			info.logErrors(r.Context(), s.cfg.Logger, w.Header().Get("X-Request-Id"))
			return
		}
		attrs := []slog.Attr{slog.String("request_id", w.Header().Get("X-Request-Id")),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", took)}
		if op := info.op(); op != "" {
			attrs = append(attrs, slog.String("operation", op))
		}
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		info.logErrors(r.Context(), s.cfg.Logger, w.Header().Get("X-Request-Id"))
	})
}

// logsRequest says whether the access log writes a request that failed
// or not and took took.
func (s *Server) logsRequest(failed bool, took time.Duration) bool {
	a := s.cfg.AccessLog
	switch {
	case failed, a.Slow > 0 && took >= a.Slow, a.Sample == 0, a.Sample == 1:
		return true
	case a.Sample < 0:
		return false
	}
	return (s.accessCount.Add(1)-1)%uint64(a.Sample) == 0
}

// ListenAndServe serves until ctx is cancelled, then shuts down gracefully:
// it stops accepting, closes WebSocket subscriptions with a normal closure,
// lets in-flight requests finish within the shutdown timeout, and returns. ready, if not nil, receives the bound address once
// the listener is open (useful with Addr ":0").
func (s *Server) ListenAndServe(ctx context.Context, ready chan<- net.Addr) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Past the request timeout a stopped request still unwinds its
		// resolvers before it answers (seconds for a fan-out of thousands
		// at 1M); the margin lets its JSON error reach the client instead
		// of a cut connection; its statements are cancelled at the timeout.
		WriteTimeout: s.cfg.RequestTimeout + 15*time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready <- ln.Addr()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Close subscriptions politely (a close frame each) while in-flight
	// requests finish; stop the traversal index.
	s.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// longLived prepares a request that lives as long as its client wants (a
// WebSocket, a subscription over Server-Sent Events): it lifts the server's
// read and write timeouts, which would otherwise cut the connection after
// RequestTimeout, and returns a context that ends with the request or when
// the server starts shutting down. The caller must call cancel.
func (s *Server) longLived(w http.ResponseWriter, r *http.Request) (context.Context, context.CancelFunc) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(s.closing, cancel)
	return ctx, func() { stop(); cancel() }
}
