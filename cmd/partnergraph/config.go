package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/partnergraph/partnergraph/internal/cli"
	"github.com/partnergraph/partnergraph/internal/export"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// Config is the configuration of every subcommand, read from the option
// table (options) through environment variables and flags; flags win.
// docs/configuration.md is generated from the same table.
type Config struct {
	// Command is the command the settings are for ("serve", "token
	// create"): it names the program in the data directory (pgserver.Open).
	Command         string
	Addr            string
	DatabaseURL     string // empty: the embedded PostgreSQL
	DataDir         string // the embedded PostgreSQL's home; empty: pgserver.DefaultDataDir
	PGBinDir        string
	PGUser          string
	CORSOrigins     []string
	CORSCredentials bool
	Seed            bool
	MaxConns        int32 // 0 is pgx's default
	PlanCacheMode   string
	LogLevel        slog.Level
	AccessLogSample int           // one in N successful fast requests logged; 0: none
	SlowRequest     time.Duration // a request at least this long is logged; 0: none for that alone
	LogFormat       string
	ShutdownWait    time.Duration
	BaseIRI         string
	OTLPEndpoint    string            // OTEL_EXPORTER_OTLP_ENDPOINT: a base URL
	OTLPTraces      string            // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the traces' URL, over OTLPEndpoint
	OTLPHeaders     map[string]string // OTEL_EXPORTER_OTLP_HEADERS: sent with every export (an API key)
	Tracing         bool              // an OTLP endpoint is set: send traces
	AggregateTTL    time.Duration

	// serve only.
	RequestTimeout   time.Duration
	StatementTimeout time.Duration // default the request timeout; 0 for every other command
	Limits           server.Limits
	Introspection    bool
	RateLimit        server.RateLimit
	TrustedDocuments string
	WaitForDatabase  bool // serve: start even if DATABASE_URL's server is down, and retry
	LoaderWait       time.Duration
	ResponseCache    server.ResponseCache
	PprofAddr        string
	GCPercent        int   // GOGC; -1 is off
	MemoryLimit      int64 // GOMEMLIMIT in bytes; 0: derived (memoryLimit)
	TraversalIndex   bool  // walk on the in-memory traversal index (docs/traversal.md)
	// WebSocketInitTimeout: how long a WebSocket may take to send
	// connection_init (issue 15).
	WebSocketInitTimeout time.Duration

	// issue 16: beyond one machine (docs/scaling.md).
	ReplicaURLs    []string       // streaming replicas that serve anonymous and reader reads
	ReplicaMaxLag  time.Duration  // a replica further behind leaves the rotation
	ListenURL      string         // a direct connection to the primary for LISTEN and migrations
	ExecMode       string         // pgx's query exec mode: cache_statement, or cache_describe behind a PgBouncer older than 1.21
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For / Forwarded name the client
	MetricsAddr    string         // /metrics on a listener of its own

	MaxExports           int           // exports running at once, and the connections of their own pool
	MaxExportsPerAddress int           // exports one client address runs at once
	ExportWriteTimeout   time.Duration // how long one write to an export client may block

	Heavy        server.Heavy // the admission gate of heavy queries
	Fair         server.Fair  // the turns between clients; Share 0: off
	HeavyDBConns int          // connections of the pool of heavy queries' reads; 0: they share the API's pool
	HeavyDBNice  int          // the nice value of those connections' backends; 0: left as they are

	CountBound       int   // matches a totalCount counts past the counters; -1 no bound
	MaxRows          int64 // rows one GraphQL request may read; -1 no limit
	MaxResponseBytes int64 // size of one GraphQL answer; -1 no limit

	// import, export, generate and reindex: "auto", "always" or "never".
	Progress string

	// generate only.
	GenEntities int
	GenLinks    int
	GraphSeed   uint64
}

// defaultHeavyDBConns is the size of the pool of heavy queries' reads: one
// connection, one statement at a time, one backend's worth of
// PostgreSQL's cores (docs/api.md, "Heavy queries").
const defaultHeavyDBConns = 1

// cmds is a set of subcommands: the ones an option concerns.
type cmds uint16

const (
	cmdServe cmds = 1 << iota
	cmdMigrate
	cmdSeed
	cmdExport
	cmdGenerate
	cmdDB
	cmdToken
	cmdImport
	cmdReindex

	// cmdAll are the commands that open the database: every one.
	cmdAll = cmdServe | cmdMigrate | cmdSeed | cmdExport | cmdGenerate | cmdDB | cmdToken | cmdImport | cmdReindex
)

// commandBit returns the bit of the named subcommand, 0 if it reads no
// option (bench, help, an unknown name).
func commandBit(name string) cmds {
	name, _, _ = strings.Cut(name, " ") // "token create" reads token's
	switch name {
	case "serve":
		return cmdServe
	case "migrate":
		return cmdMigrate
	case "seed":
		return cmdSeed
	case "export":
		return cmdExport
	case "generate":
		return cmdGenerate
	case "db":
		return cmdDB
	case "token":
		return cmdToken
	case "import":
		return cmdImport
	case "reindex":
		return cmdReindex
	}
	return 0
}

// option is one setting: a row of the configuration table.
type option struct {
	Flag    string // the flag, without dashes
	Env     string // the environment variable; empty for a flag of its own
	Secret  bool   // Env_FILE may name a file holding the value; the value is never quoted in errors
	Default string // the value when neither is given, read by set like any other; empty leaves the zero value
	// DocDefault is what docs/configuration.md says the default is when
	// Default is empty or needs words (e.g. "pgx's default").
	DocDefault string
	Help       string
	Cmds       cmds // the subcommands that list and read it
	set        func(c *Config, v string) error
}

// options is the configuration table: every setting of every subcommand.
//
// To add a setting, add a row here (in the group it belongs to), a field to
// Config, and run `go generate ./cmd/partnergraph` to regenerate
// docs/configuration.md; TestConfigDocIsCurrent fails until the doc
// agrees. CONTRIBUTING.md says more.
func options() []option {
	def := server.DefaultLimits
	rl := server.DefaultRateLimit
	rc := server.DefaultResponseCache
	return []option{
		// The database, for every command.
		{Flag: "database-url", Env: "DATABASE_URL", Secret: true, DocDefault: "empty: the embedded PostgreSQL", Cmds: cmdAll,
			Help: "PostgreSQL connection string; empty starts the embedded PostgreSQL in the data directory. Never logged.",
			set:  text(func(c *Config) *string { return &c.DatabaseURL })},
		{Flag: "data-dir", Env: "PARTNERGRAPH_DATA_DIR", Cmds: cmdAll,
			DocDefault: "`$XDG_DATA_HOME/partnergraph` or `~/.local/share/partnergraph`; `/var/lib/partnergraph` when run as root",
			Help:       "the embedded PostgreSQL's cluster and log; every command uses the PostgreSQL running there, if any (docs/operations.md); `none`: a throwaway cluster in a temporary directory, removed when the command ends",
			set:        text(func(c *Config) *string { return &c.DataDir })},
		{Flag: "pg-bin", Env: "PARTNERGRAPH_PG_BIN", Cmds: cmdAll,
			DocDefault: "found on `PATH`, by `pg_config`, or the newest `/usr/lib/postgresql/*/bin`",
			Help:       "PostgreSQL's bin directory, for the embedded PostgreSQL",
			set:        text(func(c *Config) *string { return &c.PGBinDir })},
		{Flag: "pg-user", Env: "PARTNERGRAPH_PG_USER", Cmds: cmdAll, DocDefault: "`postgres`, else `nobody`",
			Help: "OS user that runs the embedded PostgreSQL when partnergraph runs as root (PostgreSQL refuses to run as root)",
			set:  text(func(c *Config) *string { return &c.PGUser })},
		{Flag: "db-max-conns", Env: "PARTNERGRAPH_DB_MAX_CONNS", Cmds: cmdAll, DocDefault: "pgx's default (max(4, CPUs))",
			Help: "database pool size",
			set: func(c *Config, v string) error {
				n, err := strconv.ParseInt(v, 10, 32)
				if err != nil || n < 1 {
					return errors.New("is not a positive number")
				}
				c.MaxConns = int32(n)
				return nil
			}},
		{Flag: "db-plan-cache-mode", Env: "PARTNERGRAPH_DB_PLAN_CACHE_MODE", Default: store.DefaultPlanCacheMode, Cmds: cmdAll,
			Help: "PostgreSQL's `plan_cache_mode` on the pool: `auto` (PostgreSQL's default), `force_generic_plan` or `force_custom_plan` (docs/benchmarks.md says why not `auto`)",
			set:  oneOf(func(c *Config) *string { return &c.PlanCacheMode }, "auto", "force_generic_plan", "force_custom_plan")},
		// issue 16: replicas, PgBouncer and the direct connection (docs/scaling.md).
		{Flag: "database-replica-urls", Env: "DATABASE_REPLICA_URLS", Secret: true, DocDefault: "none: every read on `DATABASE_URL`", Cmds: cmdServe,
			Help: "comma-separated `postgres://` URLs of streaming replicas of `DATABASE_URL`: anonymous and reader queries read from one that has replayed every write they must see, staff and writes use the primary (docs/scaling.md). Never logged.",
			set: func(c *Config, v string) error {
				c.ReplicaURLs = nil
				for _, u := range splitList(v) {
					if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
						return errors.New("is not a comma-separated list of postgres:// URLs")
					}
					if _, err := pgxpool.ParseConfig(u); err != nil {
						return errors.New("holds a URL that is not a valid PostgreSQL connection string")
					}
					c.ReplicaURLs = append(c.ReplicaURLs, u)
				}
				return nil
			}},
		{Flag: "replica-max-lag", Env: "PARTNERGRAPH_REPLICA_MAX_LAG", Default: "5s", Cmds: cmdServe,
			Help: "a replica that has not replayed what the primary wrote this long ago leaves the rotation until it catches up",
			set:  duration(func(c *Config) *time.Duration { return &c.ReplicaMaxLag }, false)},
		{Flag: "database-listen-url", Env: "DATABASE_LISTEN_URL", Secret: true, DocDefault: "empty: a connection of `DATABASE_URL`'s pool", Cmds: cmdAll,
			Help: "a direct connection to the primary, past PgBouncer, for the change feed's `LISTEN` and for migrations (their session lock); needed when `DATABASE_URL` goes through PgBouncer in transaction mode (docs/scaling.md). Never logged.",
			set: func(c *Config, v string) error {
				if _, err := pgxpool.ParseConfig(v); err != nil {
					return errors.New("is not a valid PostgreSQL connection string")
				}
				c.ListenURL = v
				return nil
			}},
		{Flag: "db-exec-mode", Env: "PARTNERGRAPH_DB_EXEC_MODE", Default: "cache_statement", Cmds: cmdAll,
			Help: "how pgx sends statements: `cache_statement` (named prepared statements, kept per connection; also behind PgBouncer 1.21 or later in transaction mode with `max_prepared_statements`) or, behind an older PgBouncer in transaction mode (Debian 12's 1.18), `cache_describe` (unnamed statements; docs/scaling.md)",
			set:  oneOf(func(c *Config) *string { return &c.ExecMode }, "cache_statement", "cache_describe")},
		{Flag: "trusted-proxies", Env: "PARTNERGRAPH_TRUSTED_PROXIES", DocDefault: "none: the client is the peer", Cmds: cmdServe,
			Help: "comma-separated CIDRs (or addresses) of reverse proxies: a request from one of them is counted against the client address its `Forwarded` or `X-Forwarded-For` header names; from anyone else those headers are ignored",
			set: func(c *Config, v string) error {
				c.TrustedProxies = nil
				for _, p := range splitList(v) {
					pfx, err := netip.ParsePrefix(p)
					if err != nil {
						a, aerr := netip.ParseAddr(p)
						if aerr != nil {
							return errors.New("is not a comma-separated list of CIDRs such as 10.0.0.0/8 or addresses")
						}
						pfx = netip.PrefixFrom(a, a.BitLen())
					}
					c.TrustedProxies = append(c.TrustedProxies, pfx.Masked())
				}
				return nil
			}},
		{Flag: "metrics-addr", Env: "PARTNERGRAPH_METRICS_ADDR", DocDefault: "empty: `/metrics` on `PARTNERGRAPH_ADDR`", Cmds: cmdServe,
			Help: "serve `/metrics` on this address, a listener of its own, and no longer on the API's address; with `PARTNERGRAPH_PPROF_ADDR` set to the same address, the profiles share it",
			set:  text(func(c *Config) *string { return &c.MetricsAddr })},

		{Flag: "log-level", Env: "PARTNERGRAPH_LOG_LEVEL", Default: "info", Cmds: cmdAll,
			Help: "`debug`, `info`, `warn` or `error`",
			set: func(c *Config, v string) error {
				if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
					return errors.New("is not debug, info, warn or error")
				}
				return nil
			}},
		{Flag: "access-log-sample", Env: "PARTNERGRAPH_ACCESS_LOG_SAMPLE", Default: strconv.Itoa(server.DefaultAccessLog.Sample), Cmds: cmdServe,
			Help: "write the access line (`msg=request`) of one in this many requests that neither failed nor were slow; `1` writes every request, `0` none of them; a failed request (HTTP status 400 or more, or an answer with errors) is always written, one line",
			set:  nonNegative(func(c *Config) *int { return &c.AccessLogSample }, "is not a number, 0 or more")},
		{Flag: "slow-request", Env: "PARTNERGRAPH_SLOW_REQUEST", Default: server.DefaultAccessLog.Slow.String(), Cmds: cmdServe,
			Help: "write the access line of every request that took at least this long, whatever `PARTNERGRAPH_ACCESS_LOG_SAMPLE` says (0 turns it off)",
			set:  duration(func(c *Config) *time.Duration { return &c.SlowRequest }, true)},
		{Flag: "log-format", Env: "PARTNERGRAPH_LOG_FORMAT", Default: "text", Cmds: cmdAll,
			Help: "`text` or `json`",
			set:  oneOf(func(c *Config) *string { return &c.LogFormat }, "text", "json")},

		// Serving.
		{Flag: "addr", Env: "PARTNERGRAPH_ADDR", Default: server.DefaultAddr, Cmds: cmdServe,
			Help: "address to listen on",
			set:  text(func(c *Config) *string { return &c.Addr })},
		{Flag: "seed", Env: "PARTNERGRAPH_SEED", Default: "true", Cmds: cmdServe,
			Help: "load the reference data when the database has no entities",
			set:  boolean(func(c *Config) *bool { return &c.Seed })},
		{Flag: "cors-origins", Env: "PARTNERGRAPH_CORS_ORIGINS", DocDefault: "none: any origin may read anonymously", Cmds: cmdServe,
			Help: "comma-separated browser origins allowed to call the API with credentials, each `scheme://host[:port]`, exact or with a wildcard subdomain (`https://*.example.org`); unset, any http(s) origin may read anonymously but none may send `Authorization` or open a WebSocket (docs/security.md)",
			set: func(c *Config, v string) error {
				c.CORSOrigins = splitList(v)
				for _, o := range c.CORSOrigins {
					// An origin without a scheme would match nothing.
					if scheme, host, ok := strings.Cut(o, "://"); !ok || scheme == "" || host == "" {
						return fmt.Errorf("%q is not an origin such as https://app.example.org", o)
					}
				}
				return nil
			}},
		{Flag: "cors-credentials", Env: "PARTNERGRAPH_CORS_CREDENTIALS", Default: "false", Cmds: cmdServe,
			Help: "let the allowed origins send credentials (`Access-Control-Allow-Credentials: true`); other origins never get it",
			set:  boolean(func(c *Config) *bool { return &c.CORSCredentials })},
		{Flag: "base-iri", Env: "PARTNERGRAPH_BASE_IRI", DocDefault: "`" + export.DefaultBaseIRI + "`", Cmds: cmdServe | cmdExport,
			Help: "base of node IRIs in JSON-LD exports (an absolute http(s) IRI ending in `/`); the default's reserved `.invalid` domain says a deployment should set its own",
			set: func(c *Config, v string) error {
				if !strings.HasSuffix(v, "/") || !strings.Contains(v, "://") || strings.Contains(v, "#") {
					return errors.New("must be an absolute http(s) IRI ending in / (a key follows it)")
				}
				c.BaseIRI = v
				return nil
			}},
		{Flag: "shutdown-timeout", Env: "PARTNERGRAPH_SHUTDOWN_TIMEOUT", Default: server.DefaultShutdownTimeout.String(), Cmds: cmdServe,
			Help: "grace period for in-flight requests after SIGTERM or SIGINT",
			set:  duration(func(c *Config) *time.Duration { return &c.ShutdownWait }, true)},
		{Flag: "request-timeout", Env: "PARTNERGRAPH_REQUEST_TIMEOUT", Default: server.DefaultRequestTimeout.String(), Cmds: cmdServe,
			Help: "execution time of one request; over it the answer is 503 with `LIMIT_EXCEEDED` (WebSocket subscriptions are not bound by it)",
			set:  duration(func(c *Config) *time.Duration { return &c.RequestTimeout }, false)},
		{Flag: "db-statement-timeout", Env: "PARTNERGRAPH_DB_STATEMENT_TIMEOUT", DocDefault: "the request timeout", Cmds: cmdServe,
			Help: "PostgreSQL's `statement_timeout` on `serve`'s connections (0 turns it off); migrations run without it, and other commands never set it",
			set:  duration(func(c *Config) *time.Duration { return &c.StatementTimeout }, true)},
		{Flag: "aggregate-cache", Env: "PARTNERGRAPH_AGGREGATE_CACHE", Default: "10s", Cmds: cmdServe,
			Help: "how long an instance keeps an `aggregate` result (0 turns it off)",
			set:  duration(func(c *Config) *time.Duration { return &c.AggregateTTL }, true)},
		{Flag: "loader-wait", Env: "PARTNERGRAPH_LOADER_WAIT", Default: loader.DefaultWait.String(), Cmds: cmdServe,
			Help: "how long a dataloader collects keys before it sends one query for them",
			set:  duration(func(c *Config) *time.Duration { return &c.LoaderWait }, false)},
		{Flag: "response-cache", Env: "PARTNERGRAPH_RESPONSE_CACHE", Default: rc.TTL.String(), Cmds: cmdServe,
			Help: "how long an anonymous reader's answer is served again without executing it (0 turns the cache off); every write through this server empties it at once, writes elsewhere are seen within this time; staff, mutations, answers with errors and requests with `Cache-Control: no-cache` are never served from it; the counters that plan anonymous and reader lists and the vocabulary their searches read are shared as long at most, and forgotten with it",
			set:  duration(func(c *Config) *time.Duration { return &c.ResponseCache.TTL }, true)},
		{Flag: "response-cache-mb", Env: "PARTNERGRAPH_RESPONSE_CACHE_MB", Default: strconv.Itoa(rc.Bytes >> 20), Cmds: cmdServe,
			Help: fmt.Sprintf("the response cache's memory budget in MB (one answer at most %d MB, or the budget)", rc.MaxBytes>>20),
			set: func(c *Config, v string) error {
				mb, err := strconv.Atoi(v)
				if err != nil || mb < 1 {
					return errors.New("is not a positive number of megabytes")
				}
				c.ResponseCache.Bytes = mb << 20
				c.ResponseCache.MaxBytes = min(server.DefaultResponseCache.MaxBytes, c.ResponseCache.Bytes)
				return nil
			}},
		{Flag: "response-cache-entries", Env: "PARTNERGRAPH_RESPONSE_CACHE_ENTRIES", Default: strconv.Itoa(rc.Entries), Cmds: cmdServe,
			Help: "how many answers the response cache keeps",
			set:  count(func(c *Config) *int { return &c.ResponseCache.Entries })},

		// Limits of one operation (docs/api.md, Limits); -1 is no limit.
		{Flag: "max-depth", Env: "PARTNERGRAPH_MAX_DEPTH", Default: strconv.Itoa(def.MaxDepth), Cmds: cmdServe,
			Help: "query depth: levels of fields, fragments are not a level (-1: no limit, as for the next four)",
			set:  limit(func(c *Config) *int { return &c.Limits.MaxDepth })},
		{Flag: "max-cost", Env: "PARTNERGRAPH_MAX_COST", Default: strconv.Itoa(def.MaxCost), Cmds: cmdServe,
			Help: "query cost: each field costs 1, a list field's selection as many times as its page size",
			set:  limit(func(c *Config) *int { return &c.Limits.MaxCost })},
		{Flag: "max-aliases", Env: "PARTNERGRAPH_MAX_ALIASES", Default: strconv.Itoa(def.MaxAliases), Cmds: cmdServe,
			Help: "aliased fields per operation, counted through fragments",
			set:  limit(func(c *Config) *int { return &c.Limits.MaxAliases })},
		{Flag: "max-root-fields", Env: "PARTNERGRAPH_MAX_ROOT_FIELDS", Default: strconv.Itoa(def.MaxRootFields), Cmds: cmdServe,
			Help: "root fields per operation",
			set:  limit(func(c *Config) *int { return &c.Limits.MaxRootFields })},
		{Flag: "max-tokens", Env: "PARTNERGRAPH_MAX_TOKENS", Default: strconv.Itoa(def.MaxTokens), Cmds: cmdServe,
			Help: "tokens per document, counted before parsing",
			set:  limit(func(c *Config) *int { return &c.Limits.MaxTokens })},
		{Flag: "rate-limit", Env: "PARTNERGRAPH_RATE_LIMIT", Default: strconv.FormatFloat(rl.Rate, 'g', -1, 64), Cmds: cmdServe,
			Help: "requests per second to `/graphql` per token, and per client address for requests without a token (0 turns rate limiting off, e.g. for benchmarks); over it: 429 `LIMIT_EXCEEDED` with `Retry-After`",
			set:  rate(func(c *Config) *float64 { return &c.RateLimit.Rate })},
		{Flag: "rate-burst", Env: "PARTNERGRAPH_RATE_BURST", Default: strconv.Itoa(rl.Burst), Cmds: cmdServe,
			Help: "how many requests a token or address may send at once",
			set:  count(func(c *Config) *int { return &c.RateLimit.Burst })},
		{Flag: "staff-rate-limit", Env: "PARTNERGRAPH_STAFF_RATE_LIMIT", Default: strconv.FormatFloat(rl.StaffRate, 'g', -1, 64), Cmds: cmdServe,
			Help: "requests per second of a staff token (EDITOR, ADMIN)",
			set:  rate(func(c *Config) *float64 { return &c.RateLimit.StaffRate })},
		{Flag: "staff-rate-burst", Env: "PARTNERGRAPH_STAFF_RATE_BURST", Default: strconv.Itoa(rl.StaffBurst), Cmds: cmdServe,
			Help: "burst of a staff token",
			set:  count(func(c *Config) *int { return &c.RateLimit.StaffBurst })},
		{Flag: "cost-rate", Env: "PARTNERGRAPH_COST_RATE", Default: strconv.FormatFloat(rl.CostRate, 'g', -1, 64), Cmds: cmdServe,
			Help: "estimated query cost a token, or a client address without one, may spend per second (docs/api.md, Cost rate); an operation over what its bucket holds is refused before it runs with 429 `LIMIT_EXCEEDED` and `Retry-After`; 0 turns it off (so does `PARTNERGRAPH_RATE_LIMIT=0`)",
			set:  costPerSecond(func(c *Config) *float64 { return &c.RateLimit.CostRate })},
		{Flag: "cost-burst", Env: "PARTNERGRAPH_COST_BURST", Default: strconv.Itoa(rl.CostBurst), Cmds: cmdServe,
			Help: "how much estimated cost a token or address may spend at once; keep it at least `PARTNERGRAPH_MAX_COST`, or the costliest operations never pass",
			set:  count(func(c *Config) *int { return &c.RateLimit.CostBurst })},
		{Flag: "staff-cost-rate", Env: "PARTNERGRAPH_STAFF_COST_RATE", Default: strconv.FormatFloat(rl.StaffCostRate, 'g', -1, 64), Cmds: cmdServe,
			Help: "estimated query cost a staff token (EDITOR, ADMIN) may spend per second",
			set:  costPerSecond(func(c *Config) *float64 { return &c.RateLimit.StaffCostRate })},
		{Flag: "staff-cost-burst", Env: "PARTNERGRAPH_STAFF_COST_BURST", Default: strconv.Itoa(rl.StaffCostBurst), Cmds: cmdServe,
			Help: "how much estimated cost a staff token may spend at once",
			set:  count(func(c *Config) *int { return &c.RateLimit.StaffCostBurst })},
		{Flag: "introspection", Env: "PARTNERGRAPH_INTROSPECTION", Default: "true", Cmds: cmdServe,
			Help: "answer `__schema` and `__type`; `false` refuses them with `FORBIDDEN` (`__typename` still works); the explorer at `/` needs introspection for its schema",
			set:  boolean(func(c *Config) *bool { return &c.Introspection })},
		{Flag: "count-bound", Env: "PARTNERGRAPH_COUNT_BOUND", Default: strconv.Itoa(store.DefaultCountBound), Cmds: cmdServe,
			Help: "how many matches a root list's `totalCount` counts when the counters do not cover its filter (a name filter): past it, `totalCountIsExact` is false; `-1` no bound (docs/api.md, Counts)",
			set:  limit(func(c *Config) *int { return &c.CountBound })},
		{Flag: "max-rows", Env: "PARTNERGRAPH_MAX_ROWS", Default: strconv.FormatInt(server.DefaultMaxRows, 10), Cmds: cmdServe,
			Help: "rows one GraphQL request may read from the database; past it the request is stopped with `LIMIT_EXCEEDED` and its statements cancelled; `-1` no limit (docs/api.md, Limits)",
			set:  limit64(func(c *Config) *int64 { return &c.MaxRows })},
		{Flag: "max-response-bytes", Env: "PARTNERGRAPH_MAX_RESPONSE_BYTES", Default: strconv.FormatInt(server.DefaultMaxResponseBytes, 10), Cmds: cmdServe,
			Help: "bytes one GraphQL answer may hold; past it the request is stopped with `LIMIT_EXCEEDED`; `-1` no limit (docs/api.md, Limits)",
			set:  limit64(func(c *Config) *int64 { return &c.MaxResponseBytes })},
		{Flag: "heavy-cost", Env: "PARTNERGRAPH_HEAVY_COST", Default: strconv.Itoa(server.DefaultHeavy.Cost), Cmds: cmdServe,
			Help: "the estimated cost (the one `PARTNERGRAPH_MAX_COST` bounds) from which a query is heavy: heavy queries run through an admission gate of their own, light ones never wait at it; `-1` turns the gate off (docs/api.md, Heavy queries)",
			set:  limit(func(c *Config) *int { return &c.Heavy.Cost })},
		{Flag: "heavy-concurrency", Env: "PARTNERGRAPH_HEAVY_CONCURRENCY", Default: strconv.Itoa(server.DefaultHeavy.Concurrency), Cmds: cmdServe,
			Help: "heavy queries that run at once; the others wait for a slot",
			set:  count(func(c *Config) *int { return &c.Heavy.Concurrency })},
		{Flag: "heavy-queue", Env: "PARTNERGRAPH_HEAVY_QUEUE", Default: strconv.Itoa(server.DefaultHeavy.Queue), Cmds: cmdServe,
			Help: "heavy queries that may wait for a slot; more are refused at once with 429 `LIMIT_EXCEEDED` and `Retry-After` (`-1`: no bound)",
			set:  limit(func(c *Config) *int { return &c.Heavy.Queue })},
		{Flag: "heavy-wait", Env: "PARTNERGRAPH_HEAVY_WAIT", Default: server.DefaultHeavy.Wait.String(), Cmds: cmdServe,
			Help: "how long a heavy query waits for a slot before it is refused with 429 `LIMIT_EXCEEDED` and `Retry-After`, without having run",
			set:  duration(func(c *Config) *time.Duration { return &c.Heavy.Wait }, false)},
		{Flag: "heavy-parallelism", Env: "PARTNERGRAPH_HEAVY_PARALLELISM", Default: strconv.Itoa(server.DefaultHeavy.Parallelism), Cmds: cmdServe,
			Help: "resolvers of one admitted heavy query that run at once (a field waiting on a batched read gives its turn), so that a heavy query takes about one core however wide it fans out; `-1`: no bound (docs/api.md, Heavy queries)",
			set:  limit(func(c *Config) *int { return &c.Heavy.Parallelism })},
		{Flag: "heavy-demote-rows", Env: "PARTNERGRAPH_HEAVY_DEMOTE_ROWS", Default: strconv.FormatInt(server.DefaultHeavy.DemoteRows, 10), Cmds: cmdServe,
			Help: "rows a light query may read before it is demoted to heavy while it runs: its further resolvers then run `PARTNERGRAPH_HEAVY_PARALLELISM` at a time and its further statements on the pool of heavy reads, once it holds a slot of the gate, which it waits for without being refused; `-1`: never (docs/api.md, Heavy queries)",
			set:  limit64(func(c *Config) *int64 { return &c.Heavy.DemoteRows })},
		{Flag: "heavy-demote-fields", Env: "PARTNERGRAPH_HEAVY_DEMOTE_FIELDS", Default: strconv.FormatInt(server.DefaultHeavy.DemoteFields, 10), Cmds: cmdServe,
			Help: "resolvers a light query may run before it is demoted to heavy while it runs, as with `PARTNERGRAPH_HEAVY_DEMOTE_ROWS`; `-1`: never",
			set:  limit64(func(c *Config) *int64 { return &c.Heavy.DemoteFields })},
		{Flag: "heavy-db-connections", Env: "PARTNERGRAPH_HEAVY_DB_CONNECTIONS", Default: strconv.Itoa(defaultHeavyDBConns), Cmds: cmdServe,
			Help: "connections of the pool of heavy queries' reads, so that a heavy query's statements never run more than this many at once nor take the API pool's connections (`0`: they share the API's pool)",
			set:  nonNegative(func(c *Config) *int { return &c.HeavyDBConns }, "is not a number of connections (0: share the API's pool)")},
		{Flag: "heavy-db-nice", Env: "PARTNERGRAPH_HEAVY_DB_NICE", Default: "0", Cmds: cmdServe,
			Help: "the nice value (1 to 19) given to the PostgreSQL backends of the pool of heavy queries, so that the operating system serves light queries' backends first; `0` leaves them alone. Only when PostgreSQL runs on the same host as this user (or the server has CAP_SYS_NICE); otherwise it logs a warning once and does nothing",
			set: func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || n > 19 {
					return errors.New("is not a nice value from 0 to 19")
				}
				c.HeavyDBNice = n
				return nil
			}},
		{Flag: "fair-share", Env: "PARTNERGRAPH_FAIR_SHARE", Default: server.DefaultFair.Share.String(), Cmds: cmdServe,
			Help: "the busy time a client (its token, or its address without one) may have over about the last second before its requests yield to other clients': they pause while those run, at most `PARTNERGRAPH_FAIR_WAIT` in all, and are never refused; a request that runs longer than this yields too; `0` turns the turns off (docs/api.md, Fair turns)",
			set:  duration(func(c *Config) *time.Duration { return &c.Fair.Share }, true)},
		{Flag: "fair-wait", Env: "PARTNERGRAPH_FAIR_WAIT", Default: server.DefaultFair.Wait.String(), Cmds: cmdServe,
			Help: "the longest a request that yields to other clients' pauses in all; after it, it runs as any other",
			set:  duration(func(c *Config) *time.Duration { return &c.Fair.Wait }, false)},
		{Flag: "max-exports", Env: "PARTNERGRAPH_MAX_EXPORTS", Default: "2", Cmds: cmdServe,
			Help: "exports running at once, each on a connection of the export pool of its own, so that exports never hold the API's connections",
			set:  count(func(c *Config) *int { return &c.MaxExports })},
		{Flag: "max-exports-per-address", Env: "PARTNERGRAPH_MAX_EXPORTS_PER_ADDRESS", Default: "1", Cmds: cmdServe,
			Help: "exports one client address runs at once; more get 429 with `LIMIT_EXCEEDED`",
			set:  count(func(c *Config) *int { return &c.MaxExportsPerAddress })},
		{Flag: "export-write-timeout", Env: "PARTNERGRAPH_EXPORT_WRITE_TIMEOUT", Default: "30s", Cmds: cmdServe,
			Help: "how long one write to an export client may block: a client that reads slower is cut off and its slot and connection freed",
			set:  duration(func(c *Config) *time.Duration { return &c.ExportWriteTimeout }, false)},
		{Flag: "traversal-index", Env: "PARTNERGRAPH_TRAVERSAL_INDEX", Default: "true", Cmds: cmdServe,
			Help: "walk neighbourhoods, paths and `mostConnected` on the in-memory traversal index, built in the background at start and kept current from the database's change log (docs/traversal.md); `false` walks in SQL",
			set:  boolean(func(c *Config) *bool { return &c.TraversalIndex })},
		{Flag: "trusted-documents", Env: "PARTNERGRAPH_TRUSTED_DOCUMENTS", DocDefault: "empty: any document", Cmds: cmdServe,
			Help: "a folder of `.graphql` files: only those documents run (docs/operations.md, Trusted documents)",
			set:  text(func(c *Config) *string { return &c.TrustedDocuments })},
		// issue 15: the transports.
		{Flag: "ws-init-timeout", Env: "PARTNERGRAPH_WS_INIT_TIMEOUT", Default: server.DefaultWebSocketInitTimeout.String(), Cmds: cmdServe,
			Help: "how long a new WebSocket may take to send `connection_init` before it is closed with 4408 (docs/api.md, Over the WebSocket)",
			set:  duration(func(c *Config) *time.Duration { return &c.WebSocketInitTimeout }, false)},

		// Operations.
		{Flag: "pprof-addr", Env: "PARTNERGRAPH_PPROF_ADDR", DocDefault: "empty: off", Cmds: cmdServe,
			Help: "serve Go's profiles (`/debug/pprof/`) on this address, a listener of its own; keep it on localhost",
			set:  text(func(c *Config) *string { return &c.PprofAddr })},
		{Flag: "otlp-endpoint", Env: "OTEL_EXPORTER_OTLP_ENDPOINT", DocDefault: "empty: no tracing", Cmds: cmdServe,
			Help: "send OpenTelemetry traces over OTLP/HTTP to this base URL (spans go to its `/v1/traces`); the other `OTEL_EXPORTER_OTLP_*` variables set headers and timeouts",
			set:  text(func(c *Config) *string { return &c.OTLPEndpoint })},
		{Flag: "otlp-headers", Env: "OTEL_EXPORTER_OTLP_HEADERS", Secret: true, DocDefault: "none", Cmds: cmdServe,
			Help: "headers sent with every export of traces, as `key=value` pairs separated by commas, values URL-encoded (OpenTelemetry's format); an API key belongs in a file named by `OTEL_EXPORTER_OTLP_HEADERS_FILE`",
			set: func(c *Config, v string) error {
				h, err := parseHeaders(v)
				if err != nil {
					return err
				}
				c.OTLPHeaders = h
				return nil
			}},
		{Flag: "otlp-traces-endpoint", Env: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", DocDefault: "empty: the base URL's", Cmds: cmdServe,
			Help: "the full URL spans are sent to, over the base URL's; also turns tracing on",
			set:  text(func(c *Config) *string { return &c.OTLPTraces })},
		{Flag: "gogc", Env: "GOGC", Default: strconv.Itoa(defaultGOGC), Cmds: cmdServe,
			Help: "Go's garbage collector target in percent (`off` turns the collector off); `serve` sets 400, not Go's 100, because its answers are built and dropped (docs/benchmarks.md)",
			set: func(c *Config, v string) error {
				if v == "off" {
					c.GCPercent = -1
					return nil
				}
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return errors.New("is not a percentage such as 400, or off")
				}
				c.GCPercent = n
				return nil
			}},
		{Flag: "memory-limit", Env: "GOMEMLIMIT", Cmds: cmdServe,
			DocDefault: "150MiB, or 90% of the container's memory limit (cgroup) when that is less",
			Help:       "Go's soft memory limit, in Go's syntax (`512MiB`, `2GiB`, bytes, or `off`); near it the collector runs more often",
			set: func(c *Config, v string) error {
				n, err := parseByteSize(v)
				if err != nil {
					return err
				}
				c.MemoryLimit = n
				return nil
			}},

		// generate: the synthetic graph.
		{Flag: "entities", Default: "1000000", Cmds: cmdGenerate,
			Help: "how many entities to generate",
			set:  count(func(c *Config) *int { return &c.GenEntities })},
		{Flag: "links", Default: "5000000", Cmds: cmdGenerate,
			Help: "how many links to generate",
			set:  count(func(c *Config) *int { return &c.GenLinks })},
		{Flag: "graph-seed", Default: "1", Cmds: cmdGenerate,
			Help: "seed of the synthetic graph: the same seed gives the same graph; keys are `gen-<seed>-<n>`",
			set: func(c *Config, v string) error {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return errors.New("is not a non-negative number")
				}
				c.GraphSeed = n
				return nil
			}},

		// issue 15: progress of the long commands on a terminal.
		{Flag: "progress", Env: "PARTNERGRAPH_PROGRESS", Default: "auto", Cmds: cmdImport | cmdExport | cmdGenerate | cmdReindex,
			Help: "a progress line on standard error, rewritten a few times a second: `auto` when standard error is a terminal (never in scripts, pipes and logs), `always` or `never`",
			set:  oneOf(func(c *Config) *string { return &c.Progress }, "auto", "always", "never")},
	}
}

// parseConfig reads the settings of the subcommand name: the defaults of
// the option table, then the environment (through getenv), then the
// flags in args; extra registers flags of the subcommand's own (export's
// format and filters, token's name and role). It returns the arguments
// left after the flags, and an error naming the bad setting (flag.ErrHelp
// after -h, whatever else the arguments say; a cli.UsageError for a flag
// that is unknown or has a bad value).
func parseConfig(name string, args []string, getenv func(string) string, extra ...func(*flag.FlagSet)) (Config, []string, error) {
	c := Config{Command: name}
	for _, a := range args {
		if a == "--" {
			break
		}
		if isHelp(a) {
			return c, nil, flag.ErrHelp
		}
	}
	bit := commandBit(name)
	set := map[string]bool{} // flags given by the environment or the command line
	for _, o := range options() {
		if o.Default != "" {
			if err := o.set(&c, o.Default); err != nil {
				// A bad default is a bug of the table, caught by its tests.
				return c, nil, fmt.Errorf("default of --%s: %q %w", o.Flag, o.Default, err)
			}
		}
		if o.Cmds&bit == 0 || o.Env == "" {
			continue
		}
		v, err := lookupEnv(getenv, o)
		if err != nil {
			return c, nil, err
		}
		if v == "" {
			continue
		}
		if err := o.set(&c, v); err != nil {
			if o.Secret {
				return c, nil, fmt.Errorf("%s: %w", o.Env, err)
			}
			return c, nil, fmt.Errorf("%s: %q %w", o.Env, v, err)
		}
		set[o.Flag] = true
	}

	fs := flagSet(name, &c, extra...)
	if err := fs.Parse(args); err != nil {
		return c, nil, cli.Usagef("%s: %w; \"partnergraph %s -h\" lists its flags", name, err, name)
	}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if !set["db-statement-timeout"] {
		c.StatementTimeout = c.RequestTimeout
	}
	if name != "serve" {
		// Migrations, imports and generate run long statements of their
		// own; the timeout protects the API.
		c.StatementTimeout = 0
	}
	c.WaitForDatabase = name == "serve"
	c.Tracing = c.OTLPEndpoint != "" || c.OTLPTraces != ""
	return c, fs.Args(), nil
}

// flagSet returns the flags of the subcommand name, writing into c: the
// options of the table that concern it and those extra registers. Its
// usage lists only those, each with its variable and default.
func flagSet(name string, c *Config, extra ...func(*flag.FlagSet)) *flag.FlagSet {
	fs := flag.NewFlagSet("partnergraph "+name, flag.ContinueOnError)
	bit := commandBit(name)
	for _, o := range options() {
		if o.Cmds&bit == 0 {
			continue
		}
		fs.Var(&optionValue{opt: o, c: c}, o.Flag, strings.ReplaceAll(o.Help, "`", ""))
	}
	for _, f := range extra {
		f(fs)
	}
	// parseConfig reports errors, and help prints the usage (writeHelp).
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// writeUsage prints the flags of fs: the command's own first (export's
// format and filters, token's name and role), then its options in the
// order of the table, each with its variable and default.
func writeUsage(fs *flag.FlagSet, bit cmds) {
	w := fs.Output()
	fmt.Fprint(w, "flags (flags win over variables; docs/configuration.md lists every setting):\n")
	table := map[string]bool{}
	for _, o := range options() {
		table[o.Flag] = true
	}
	fs.VisitAll(func(f *flag.Flag) {
		if table[f.Name] {
			return
		}
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(w, "  --%s (default %s)\n    \t%s\n", f.Name, f.DefValue, f.Usage)
			return
		}
		fmt.Fprintf(w, "  --%s\n    \t%s\n", f.Name, f.Usage)
	})
	for _, o := range options() {
		if o.Cmds&bit == 0 {
			continue
		}
		var about []string
		if o.Env != "" {
			about = append(about, o.Env)
		}
		if d := strings.ReplaceAll(o.DocDefault, "`", ""); d != "" {
			about = append(about, "default "+d)
		} else if o.Default != "" {
			about = append(about, "default "+o.Default)
		}
		fmt.Fprintf(w, "  --%s (%s)\n    \t%s\n", o.Flag, strings.Join(about, "; "), strings.ReplaceAll(o.Help, "`", ""))
	}
}

// optionValue is an option as a flag.Value writing into a Config.
type optionValue struct {
	opt option
	c   *Config
	v   string // the value given, for String
}

// Set reads v through the option's parser; the flag package names the
// flag and v in the error it returns.
func (o *optionValue) Set(v string) error {
	if err := o.opt.set(o.c, v); err != nil {
		return err
	}
	o.v = v
	return nil
}

// String returns the value given, or the default: flag's usage shows it.
func (o *optionValue) String() string {
	if o == nil || o.c == nil {
		return ""
	}
	if o.v != "" {
		return o.v
	}
	return o.opt.Default
}

// IsBoolFlag lets a boolean option be given as --seed alone: the table
// gives every boolean a default of true or false.
func (o *optionValue) IsBoolFlag() bool {
	return o != nil && (o.opt.Default == "true" || o.opt.Default == "false")
}

// lookupEnv returns the value of o's variable, or, for a secret, the
// content of the file its _FILE variable names; setting both is an error.
func lookupEnv(getenv func(string) string, o option) (string, error) {
	v := getenv(o.Env)
	if !o.Secret {
		return v, nil
	}
	file := getenv(o.Env + "_FILE")
	switch {
	case v != "" && file != "":
		return "", errors.New(o.Env + " and " + o.Env + "_FILE are both set; set one")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", o.Env, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return v, nil
}

// The parsers of the table: each returns a setter that reads a string
// into the field its argument points to, or an error that completes the
// sentence "NAME: "value" ...".

func text(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		*field(c) = v
		return nil
	}
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("is not true or false")
		}
		*field(c) = b
		return nil
	}
}

// duration reads a duration; zero turns the setting off when zeroOff.
func duration(field func(*Config) *time.Duration, zeroOff bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		switch {
		case zeroOff && (err != nil || d < 0):
			return errors.New("is not a duration such as 30s (0 turns it off)")
		case !zeroOff && (err != nil || d <= 0):
			return errors.New("is not a positive duration such as 30s")
		}
		*field(c) = d
		return nil
	}
}

// count reads a positive number.
func count(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errors.New("is not a positive number")
		}
		*field(c) = n
		return nil
	}
}

// nonNegative reads a number, 0 or more; msg completes the error.
func nonNegative(field func(*Config) *int, msg string) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errors.New(msg)
		}
		*field(c) = n
		return nil
	}
}

// limit reads a positive number or -1, no limit.
func limit(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 || n == 0 {
			return errors.New("is not a positive number (or -1 for no limit)")
		}
		*field(c) = n
		return nil
	}
}

// limit64 reads a positive number or -1, no limit, as an int64.
func limit64(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < -1 || n == 0 {
			return errors.New("is not a positive number (or -1 for no limit)")
		}
		*field(c) = n
		return nil
	}
}

// rate reads requests per second, 0 or more.
func rate(field func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New("is not a number of requests per second (0 turns it off)")
		}
		*field(c) = f
		return nil
	}
}

// costPerSecond reads a cost rate, 0 or more.
func costPerSecond(field func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New("is not an estimated query cost per second (0 turns it off)")
		}
		*field(c) = f
		return nil
	}
}

// oneOf reads one of values.
func oneOf(field func(*Config) *string, values ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		for _, ok := range values {
			if v == ok {
				*field(c) = v
				return nil
			}
		}
		return fmt.Errorf("is not %s or %s", strings.Join(values[:len(values)-1], ", "), values[len(values)-1])
	}
}

// parseHeaders reads OTEL_EXPORTER_OTLP_HEADERS: key=value pairs
// separated by commas, values URL-encoded. Its error never quotes the
// value, which may hold an API key.
func parseHeaders(v string) (map[string]string, error) {
	h := map[string]string{}
	for _, pair := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		val, err := url.QueryUnescape(strings.TrimSpace(val))
		if !ok || k == "" || err != nil {
			return nil, errors.New("is not key=value pairs separated by commas")
		}
		h[k] = val
	}
	return h, nil
}

// parseByteSize reads a size in GOMEMLIMIT's syntax: a number of bytes
// with an optional unit B, KiB, MiB, GiB or TiB, or "off" (no limit).
func parseByteSize(v string) (int64, error) {
	if v == "off" {
		return math.MaxInt64, nil
	}
	bad := errors.New("is not a size such as 512MiB or 2GiB, or off")
	num, mult := v, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 1 || n > math.MaxInt64/mult {
		return 0, bad
	}
	return n * mult, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c Config) logger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// writeConfigDoc writes docs/configuration.md: the option table as
// Markdown, one table per group of commands. TestConfigDocIsCurrent
// checks that the committed file is what this writes.
func writeConfigDoc(w io.Writer) error {
	var b strings.Builder
	b.WriteString(configDocHead)
	shown := 0
	for _, group := range []struct {
		title string
		cmds  cmds
	}{
		{"Every command: the database and the logs", cmdAll},
		{"serve", cmdServe},
		{"serve and export", cmdServe | cmdExport},
		{"generate", cmdGenerate},
		{"import, export, generate and reindex", cmdImport | cmdExport | cmdGenerate | cmdReindex},
	} {
		fmt.Fprintf(&b, "\n## %s\n\n| flag | variable | default | meaning |\n|---|---|---|---|\n", group.title)
		for _, o := range options() {
			if o.Cmds != group.cmds {
				continue
			}
			env := ""
			if o.Env != "" {
				env = "`" + o.Env + "`"
				if o.Secret {
					env += " (or `" + o.Env + "_FILE`)"
				}
			}
			dflt := o.DocDefault
			if dflt == "" {
				dflt = "`" + o.Default + "`"
			}
			fmt.Fprintf(&b, "| `--%s` | %s | %s | %s |\n", o.Flag, env, dflt, strings.ReplaceAll(o.Help, "|", `\|`))
			shown++
		}
	}
	if n := len(options()); shown != n {
		// A row whose set of commands no group above shows would be
		// missing from the doc without a word.
		return fmt.Errorf("config-doc: %d of %d settings have a set of commands that no section of writeConfigDoc shows: add one", n-shown, n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

const configDocHead = `# Configuration

<!-- Generated by "go generate ./cmd/partnergraph" (partnergraph config-doc) from
the option table in cmd/partnergraph/config.go: edit the table, not this file. -->

Every setting has a flag and, except the generator's, an environment
variable. Flags win over variables, variables over the defaults. A secret
may instead come from a file named by its variable with a ` + "`_FILE`" + ` suffix
(` + "`DATABASE_URL_FILE=/run/secrets/db`" + `), for container secrets; setting both is
an error. A bad value stops the command with an error that names the
variable or flag.

Each subcommand reads and lists only the settings that concern it:
` + "`partnergraph export -h`" + ` shows the database's and export's, not ` + "`--addr`" + `.
The benchmark tool, ` + "`partnergraph-bench`" + `, has flags of its own
(` + "`partnergraph-bench -h`" + `; docs/benchmarks.md).
`
