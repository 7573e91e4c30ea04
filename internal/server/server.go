// Package server is the HTTP stack of partnergraph: the gqlgen handler with
// its transports and error presenter, per-request loaders, CORS, body
// limits, request IDs and access logs, health and readiness probes, and the
// explorer page.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/partnergraph/partnergraph/graph"
	"github.com/partnergraph/partnergraph/internal/explorer"
	"github.com/partnergraph/partnergraph/internal/feed"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/trace"
)

// Config configures the HTTP stack. The zero value of a field means its
// default.
type Config struct {
	// Addr is the address to listen on; default ":8080".
	Addr string
	// TracerProvider, when set, traces every request and GraphQL operation
	// through OpenTelemetry; nil turns tracing off.
	TracerProvider trace.TracerProvider
	// CORSOrigins are the browser origins allowed to call the API: exact
	// ("https://example.org") or with one wildcard ("https://*.example.org").
	// Empty allows none: other origins get no CORS headers.
	CORSOrigins []string
	// CORSCredentials lets the allowed origins send credentials (cookies,
	// HTTP authentication) with Access-Control-Allow-Credentials; off by
	// default, since tokens travel in the Authorization header.
	CORSCredentials bool
	// MaxBodyBytes caps the size of a request body; default 1 MiB.
	MaxBodyBytes int64
	// RequestTimeout bounds the execution of one request; default 30s.
	RequestTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests may finish after a
	// shutdown begins; default 15s.
	ShutdownTimeout time.Duration
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
	// TokenRecheck is how often a subscription checks that its token still
	// works; default graph.DefaultTokenRecheck.
	TokenRecheck time.Duration
	// BaseIRI is the base of node IRIs in JSON-LD exports; default
	// export.DefaultBaseIRI.
	BaseIRI string
	// ExportTimeout bounds one export download; default 15 minutes.
	ExportTimeout time.Duration
	// MaxExports caps the exports running at once, each of which holds a
	// database connection for its whole download, so that they cannot
	// starve the API of connections; default 2. More get 429.
	MaxExports int
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
}

func (c *Config) defaults() {
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 15 * time.Second
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
	c.Limits.defaults()
}

// Server serves the API over HTTP.
type Server struct {
	cfg     Config
	handler http.Handler
	exports chan struct{} // a slot per running export
	metrics *metrics
	limits  *limiters // nil when rate limiting is off

	// closing ends when a shutdown begins; WebSocket connections, which
	// http.Server.Shutdown neither waits for nor closes, end with it.
	closing   context.Context
	closeSubs context.CancelFunc
}

// New builds the HTTP stack on st.
func New(cfg Config, st *store.Store) *Server {
	cfg.defaults()
	s := &Server{cfg: cfg, exports: make(chan struct{}, cfg.MaxExports), metrics: newMetrics(st)}
	if cfg.RateLimit.Rate > 0 {
		s.limits = newLimiters(cfg.RateLimit)
	}
	s.closing, s.closeSubs = context.WithCancel(context.Background())
	s.handler = s.routes(st)
	return s
}

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
	gql := handler.New(graph.NewExecutableSchema(graph.Config{
		Resolvers:  &graph.Resolver{Store: st, Feed: hub, TokenRecheck: s.cfg.TokenRecheck},
		Directives: graph.DirectiveRoot{Requires: graph.Requires},
	}))
	gql.AddTransport(transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: websocket.AcceptOptions{OriginPatterns: originHosts(s.cfg.CORSOrigins)},
		},
		InitFunc:              wsInit(st),
		KeepAlivePingInterval: 15 * time.Second,
	})
	gql.AddTransport(transport.Options{})
	gql.AddTransport(transport.GET{})
	gql.AddTransport(transport.POST{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
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
	gql.Use(observe{s.metrics})
	var cache *responseCache
	if s.cfg.ResponseCache.TTL > 0 {
		cache = newResponseCache(s.cfg.ResponseCache, s.metrics)
		gql.Use(cache)
	}
	if s.cfg.TracerProvider != nil {
		gql.Use(tracing{s.cfg.TracerProvider.Tracer("github.com/partnergraph/partnergraph/internal/server")})
	}
	gql.SetErrorPresenter(presentError(s.cfg.Logger))
	gql.SetRecoverFunc(recoverPanic(s.cfg.Logger))

	var inner http.Handler = loader.Middleware(st, visibility, s.cfg.LoaderWait)(gql)
	if cache != nil {
		// After authentication (staff are not served from it) and the rate
		// limit (answers from it count).
		inner = cache.middleware(inner)
	}
	api := s.authenticate(st, s.rateLimit(inner))
	mux := http.NewServeMux()
	mux.Handle("/graphql", gateGraphQL(api))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.Handle("/", explorer.Handler(explorer.Options{Endpoint: "/graphql", Title: "partnergraph", DefaultQuery: DefaultQuery}))

	c := cors.New(cors.Options{
		AllowedOrigins:   s.cfg.CORSOrigins,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Content-Type", "Authorization", "Apollo-Require-Preflight", "X-Request-Id"},
		ExposedHeaders:   []string{"X-Request-Id"},
		MaxAge:           600,
		AllowCredentials: s.cfg.CORSCredentials,
	})
	timed := http.TimeoutHandler(mux, s.cfg.RequestTimeout, `{"errors":[{"message":"the request took longer than the limit of `+
		s.cfg.RequestTimeout.String()+` (PARTNERGRAPH_REQUEST_TIMEOUT)","extensions":{"code":"LIMIT_EXCEEDED"}}]}`)
	// A WebSocket lives for as long as its subscriptions, and
	// http.TimeoutHandler's writer cannot be hijacked: upgrades to /graphql
	// go around it.
	graphqlOrTimed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/graphql" && isWebSocket(r) {
			// Lift the server's read and write timeouts, which would
			// otherwise cut the connection after RequestTimeout.
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
			// gqlgen closes the connection with a normal closure
			// ("terminated") when its context ends: at shutdown too.
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			defer context.AfterFunc(s.closing, cancel)()
			api.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		timed.ServeHTTP(w, r)
	})
	// Exports stream past the request timeout, whose handler would buffer
	// the whole response in memory; they have a deadline of their own.
	top := http.NewServeMux()
	top.Handle("/export", s.exportHandler(st))
	top.Handle("/", graphqlOrTimed)
	var h http.Handler = top
	h = limitBody(h, s.cfg.MaxBodyBytes)
	h = c.Handler(h)
	return s.accessLog(requestID(s.traceHTTP(h)))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.cfg.Logger.WarnContext(ctx, "not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// limitBody refuses bodies over max bytes with 413 before they are read.
func limitBody(next http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"errors": []map[string]any{{
				"message":    "the request body is larger than the limit of " + strconv.FormatInt(max, 10) + " bytes",
				"extensions": map[string]string{"code": CodeLimitExceeded},
			}}})
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

// accessLog logs one line per request: method, path, status, duration and
// request ID. It logs no query strings or headers, which may carry tokens
// or personal data.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		info := &reqInfo{}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info)))
		s.metrics.http.WithLabelValues(pathLabel(r.URL.Path), statusLabel(rec.status)).Inc()
		attrs := []slog.Attr{slog.String("request_id", w.Header().Get("X-Request-Id")),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start))}
		if op := info.op(); op != "" {
			attrs = append(attrs, slog.String("operation", op))
		}
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
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
		WriteTimeout:      s.cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
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
	// requests finish.
	s.closeSubs()
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
