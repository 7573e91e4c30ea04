package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// Config is the configuration of every subcommand, from flags and
// environment variables (flags win). Secrets may come from a file named by
// the variable with a _FILE suffix, for container secrets.
type Config struct {
	Addr            string        // PARTNERGRAPH_ADDR, --addr
	DatabaseURL     string        // DATABASE_URL or DATABASE_URL_FILE; empty: the embedded PostgreSQL
	DataDir         string        // PARTNERGRAPH_DATA_DIR, --data-dir: the embedded PostgreSQL's home
	PGBinDir        string        // PARTNERGRAPH_PG_BIN: PostgreSQL's bin directory, if not found by itself
	PGUser          string        // PARTNERGRAPH_PG_USER: OS user of the embedded PostgreSQL when run as root
	CORSOrigins     []string      // PARTNERGRAPH_CORS_ORIGINS, comma-separated
	CORSCredentials bool          // PARTNERGRAPH_CORS_CREDENTIALS: allow credentials from those origins
	Seed            bool          // PARTNERGRAPH_SEED: load the reference data into an empty database
	MaxConns        int32         // PARTNERGRAPH_DB_MAX_CONNS: pool size; 0 is pgx's default
	PlanCacheMode   string        // PARTNERGRAPH_DB_PLAN_CACHE_MODE: PostgreSQL's plan_cache_mode for the pool
	LogLevel        slog.Level    // PARTNERGRAPH_LOG_LEVEL: debug, info, warn, error
	LogFormat       string        // PARTNERGRAPH_LOG_FORMAT: json or text
	ShutdownWait    time.Duration // PARTNERGRAPH_SHUTDOWN_TIMEOUT: grace period for in-flight requests
	BaseIRI         string        // PARTNERGRAPH_BASE_IRI, --base-iri: base of node IRIs in JSON-LD exports
	Tracing         bool          // OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set: send traces
	AggregateTTL    time.Duration // PARTNERGRAPH_AGGREGATE_CACHE: how long aggregate results are kept; 0 off

	// serve only.
	RequestTimeout   time.Duration        // PARTNERGRAPH_REQUEST_TIMEOUT: execution time of one request
	StatementTimeout time.Duration        // PARTNERGRAPH_DB_STATEMENT_TIMEOUT: PostgreSQL's statement_timeout for the API's connections; default the request timeout
	Limits           server.Limits        // PARTNERGRAPH_MAX_DEPTH, _MAX_COST, _MAX_ALIASES, _MAX_ROOT_FIELDS, _MAX_TOKENS
	Introspection    bool                 // PARTNERGRAPH_INTROSPECTION: answer __schema and __type queries
	RateLimit        server.RateLimit     // PARTNERGRAPH_RATE_LIMIT, _RATE_BURST, _STAFF_RATE_LIMIT, _STAFF_RATE_BURST
	TrustedDocuments string               // PARTNERGRAPH_TRUSTED_DOCUMENTS: a folder of .graphql files, the only documents that run; empty: any
	WaitForDatabase  bool                 // serve: start even if DATABASE_URL's server is down, and retry
	LoaderWait       time.Duration        // PARTNERGRAPH_LOADER_WAIT: how long a dataloader collects keys; 0 the default
	ResponseCache    server.ResponseCache // PARTNERGRAPH_RESPONSE_CACHE (TTL, 0 off), _ENTRIES, _MB
	PprofAddr        string               // PARTNERGRAPH_PPROF_ADDR: serve net/http/pprof on this address; empty: off

	// issue 11: the second wall and fast counts (serve only).
	CountBound       int   // PARTNERGRAPH_COUNT_BOUND, --count-bound: matches a totalCount counts past the counters; -1 no bound
	MaxRows          int64 // PARTNERGRAPH_MAX_ROWS, --max-rows: rows one GraphQL request may read; -1 no limit
	MaxResponseBytes int64 // PARTNERGRAPH_MAX_RESPONSE_BYTES, --max-response-bytes: size of one GraphQL answer; -1 no limit

	// generate only.
	GenEntities int    // --entities: how many entities to generate
	GenLinks    int    // --links: how many links to generate
	GraphSeed   uint64 // --graph-seed: the seed of the synthetic graph
}

// parseConfig reads the environment (through getenv) and then the flags of
// a subcommand from args; extra registers flags of the subcommand's own
// (export's format and filters). It returns an error naming the bad
// setting.
func parseConfig(name string, args []string, getenv func(string) string, extra ...func(*flag.FlagSet)) (Config, []string, error) {
	c := Config{
		Addr:      envOr(getenv, "PARTNERGRAPH_ADDR", ":8080"),
		DataDir:   getenv("PARTNERGRAPH_DATA_DIR"),
		PGBinDir:  getenv("PARTNERGRAPH_PG_BIN"),
		PGUser:    getenv("PARTNERGRAPH_PG_USER"),
		LogFormat: envOr(getenv, "PARTNERGRAPH_LOG_FORMAT", "text"),
		BaseIRI:   getenv("PARTNERGRAPH_BASE_IRI"),

		TrustedDocuments: getenv("PARTNERGRAPH_TRUSTED_DOCUMENTS"),
		PprofAddr:        getenv("PARTNERGRAPH_PPROF_ADDR"),
		PlanCacheMode:    store.DefaultPlanCacheMode,
		ResponseCache:    server.DefaultResponseCache,
		Seed:             true,
		ShutdownWait:     15 * time.Second,
		AggregateTTL:     10 * time.Second,

		RequestTimeout: 30 * time.Second,
		Introspection:  true,
		RateLimit:      server.RateLimit{Rate: 20, Burst: 60, StaffRate: 100, StaffBurst: 200},
	}
	c.Tracing = getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
	var err error
	if c.DatabaseURL, err = secret(getenv, "DATABASE_URL"); err != nil {
		return c, nil, err
	}
	if v := getenv("PARTNERGRAPH_CORS_ORIGINS"); v != "" {
		c.CORSOrigins = splitList(v)
	}
	if v := getenv("PARTNERGRAPH_CORS_CREDENTIALS"); v != "" {
		if c.CORSCredentials, err = strconv.ParseBool(v); err != nil {
			return c, nil, fmt.Errorf("PARTNERGRAPH_CORS_CREDENTIALS: %q is not true or false", v)
		}
	}
	if v := getenv("PARTNERGRAPH_SEED"); v != "" {
		if c.Seed, err = strconv.ParseBool(v); err != nil {
			return c, nil, fmt.Errorf("PARTNERGRAPH_SEED: %q is not true or false", v)
		}
	}
	if v := getenv("PARTNERGRAPH_DB_MAX_CONNS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			return c, nil, fmt.Errorf("PARTNERGRAPH_DB_MAX_CONNS: %q is not a positive number", v)
		}
		c.MaxConns = int32(n)
	}
	if v := getenv("PARTNERGRAPH_DB_PLAN_CACHE_MODE"); v != "" {
		switch v {
		case "auto", "force_generic_plan", "force_custom_plan":
			c.PlanCacheMode = v
		default:
			return c, nil, fmt.Errorf("PARTNERGRAPH_DB_PLAN_CACHE_MODE: %q is not auto, force_generic_plan or force_custom_plan", v)
		}
	}
	if v := getenv("PARTNERGRAPH_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return c, nil, fmt.Errorf("PARTNERGRAPH_LOG_LEVEL: %q is not debug, info, warn or error", v)
		}
	}
	if v := getenv("PARTNERGRAPH_SHUTDOWN_TIMEOUT"); v != "" {
		if c.ShutdownWait, err = time.ParseDuration(v); err != nil || c.ShutdownWait < 0 {
			return c, nil, fmt.Errorf("PARTNERGRAPH_SHUTDOWN_TIMEOUT: %q is not a duration such as 15s", v)
		}
	}

	if v := getenv("PARTNERGRAPH_AGGREGATE_CACHE"); v != "" {
		if c.AggregateTTL, err = time.ParseDuration(v); err != nil || c.AggregateTTL < 0 {
			return c, nil, fmt.Errorf("PARTNERGRAPH_AGGREGATE_CACHE: %q is not a duration such as 10s (0 turns it off)", v)
		}
	}

	if v := getenv("PARTNERGRAPH_LOADER_WAIT"); v != "" {
		if c.LoaderWait, err = time.ParseDuration(v); err != nil || c.LoaderWait <= 0 {
			return c, nil, fmt.Errorf("PARTNERGRAPH_LOADER_WAIT: %q is not a positive duration such as 1ms", v)
		}
	}

	if v := getenv("PARTNERGRAPH_RESPONSE_CACHE"); v != "" {
		if c.ResponseCache.TTL, err = time.ParseDuration(v); err != nil || c.ResponseCache.TTL < 0 {
			return c, nil, fmt.Errorf("PARTNERGRAPH_RESPONSE_CACHE: %q is not a duration such as 2s (0 turns it off)", v)
		}
	}
	if v := getenv("PARTNERGRAPH_RESPONSE_CACHE_MB"); v != "" {
		mb, err := strconv.Atoi(v)
		if err != nil || mb < 1 {
			return c, nil, fmt.Errorf("PARTNERGRAPH_RESPONSE_CACHE_MB: %q is not a positive number of megabytes", v)
		}
		c.ResponseCache.Bytes = mb << 20
		c.ResponseCache.MaxBytes = min(c.ResponseCache.MaxBytes, c.ResponseCache.Bytes)
	}
	if v := getenv("PARTNERGRAPH_RESPONSE_CACHE_ENTRIES"); v != "" {
		if c.ResponseCache.Entries, err = strconv.Atoi(v); err != nil || c.ResponseCache.Entries < 1 {
			return c, nil, fmt.Errorf("PARTNERGRAPH_RESPONSE_CACHE_ENTRIES: %q is not a positive number", v)
		}
	}

	if v := getenv("PARTNERGRAPH_REQUEST_TIMEOUT"); v != "" {
		if c.RequestTimeout, err = time.ParseDuration(v); err != nil || c.RequestTimeout <= 0 {
			return c, nil, fmt.Errorf("PARTNERGRAPH_REQUEST_TIMEOUT: %q is not a positive duration such as 30s", v)
		}
	}
	c.StatementTimeout = c.RequestTimeout
	if v := getenv("PARTNERGRAPH_DB_STATEMENT_TIMEOUT"); v != "" {
		if c.StatementTimeout, err = time.ParseDuration(v); err != nil || c.StatementTimeout < 0 {
			return c, nil, fmt.Errorf("PARTNERGRAPH_DB_STATEMENT_TIMEOUT: %q is not a duration such as 30s (0 turns it off)", v)
		}
	}
	for _, l := range []struct {
		key string
		v   *int
	}{
		{"PARTNERGRAPH_MAX_DEPTH", &c.Limits.MaxDepth},
		{"PARTNERGRAPH_MAX_COST", &c.Limits.MaxCost},
		{"PARTNERGRAPH_MAX_ALIASES", &c.Limits.MaxAliases},
		{"PARTNERGRAPH_MAX_ROOT_FIELDS", &c.Limits.MaxRootFields},
		{"PARTNERGRAPH_MAX_TOKENS", &c.Limits.MaxTokens},
	} {
		if v := getenv(l.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < -1 || n == 0 {
				return c, nil, fmt.Errorf("%s: %q is not a positive number (or -1 for no limit)", l.key, v)
			}
			*l.v = n
		}
	}
	for _, r := range []struct {
		key string
		v   *float64
	}{
		{"PARTNERGRAPH_RATE_LIMIT", &c.RateLimit.Rate},
		{"PARTNERGRAPH_STAFF_RATE_LIMIT", &c.RateLimit.StaffRate},
	} {
		if v := getenv(r.key); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f != f {
				return c, nil, fmt.Errorf("%s: %q is not a number of requests per second (0 turns it off)", r.key, v)
			}
			*r.v = f
		}
	}
	for _, r := range []struct {
		key string
		v   *int
	}{
		{"PARTNERGRAPH_RATE_BURST", &c.RateLimit.Burst},
		{"PARTNERGRAPH_STAFF_RATE_BURST", &c.RateLimit.StaffBurst},
	} {
		if v := getenv(r.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return c, nil, fmt.Errorf("%s: %q is not a positive number", r.key, v)
			}
			*r.v = n
		}
	}
	if v := getenv("PARTNERGRAPH_INTROSPECTION"); v != "" {
		if c.Introspection, err = strconv.ParseBool(v); err != nil {
			return c, nil, fmt.Errorf("PARTNERGRAPH_INTROSPECTION: %q is not true or false", v)
		}
	}
	// issue 11: the second wall and fast counts.
	c.CountBound = store.DefaultCountBound
	if v := getenv("PARTNERGRAPH_COUNT_BOUND"); v != "" {
		if c.CountBound, err = strconv.Atoi(v); err != nil || c.CountBound < -1 || c.CountBound == 0 {
			return c, nil, fmt.Errorf("PARTNERGRAPH_COUNT_BOUND: %q is not a positive number (or -1 for no bound)", v)
		}
	}
	c.MaxRows, c.MaxResponseBytes = server.DefaultMaxRows, server.DefaultMaxResponseBytes
	for _, l := range []struct {
		key string
		v   *int64
	}{
		{"PARTNERGRAPH_MAX_ROWS", &c.MaxRows},
		{"PARTNERGRAPH_MAX_RESPONSE_BYTES", &c.MaxResponseBytes},
	} {
		if v := getenv(l.key); v != "" {
			if *l.v, err = strconv.ParseInt(v, 10, 64); err != nil || *l.v < -1 || *l.v == 0 {
				return c, nil, fmt.Errorf("%s: %q is not a positive number (or -1 for no limit)", l.key, v)
			}
		}
	}

	c.WaitForDatabase = name == "serve"
	if name != "serve" {
		// Migrations, imports and generate run long statements of their
		// own; the timeout protects the API.
		c.StatementTimeout = 0
	}

	fs := flag.NewFlagSet("partnergraph "+name, flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on (PARTNERGRAPH_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory of the embedded PostgreSQL (PARTNERGRAPH_DATA_DIR)")
	cors := fs.String("cors-origins", strings.Join(c.CORSOrigins, ","), "comma-separated browser origins allowed to call the API (PARTNERGRAPH_CORS_ORIGINS)")
	fs.BoolVar(&c.Seed, "seed", c.Seed, "load the reference data into an empty database (PARTNERGRAPH_SEED)")
	fs.StringVar(&c.BaseIRI, "base-iri", c.BaseIRI, "base of node IRIs in JSON-LD exports, ending in / (PARTNERGRAPH_BASE_IRI)")
	// issue 11: the second wall and fast counts.
	fs.IntVar(&c.CountBound, "count-bound", c.CountBound, "matches a totalCount counts when the counters do not cover its filter; -1 no bound (PARTNERGRAPH_COUNT_BOUND)")
	fs.Int64Var(&c.MaxRows, "max-rows", c.MaxRows, "rows one GraphQL request may read before it is stopped; -1 no limit (PARTNERGRAPH_MAX_ROWS)")
	fs.Int64Var(&c.MaxResponseBytes, "max-response-bytes", c.MaxResponseBytes, "bytes one GraphQL answer may hold before the request is stopped; -1 no limit (PARTNERGRAPH_MAX_RESPONSE_BYTES)")
	for _, f := range extra {
		f(fs)
	}
	if name == "generate" {
		fs.IntVar(&c.GenEntities, "entities", 1_000_000, "how many entities to generate")
		fs.IntVar(&c.GenLinks, "links", 5_000_000, "how many links to generate")
		fs.Uint64Var(&c.GraphSeed, "graph-seed", 1, "seed of the synthetic graph: the same seed gives the same graph; keys are gen-<seed>-<n>")
	}
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	c.CORSOrigins = splitList(*cors)
	if c.BaseIRI != "" && (!strings.HasSuffix(c.BaseIRI, "/") || !strings.Contains(c.BaseIRI, "://") || strings.Contains(c.BaseIRI, "#")) {
		return c, nil, fmt.Errorf("PARTNERGRAPH_BASE_IRI: %q must be an absolute http(s) IRI ending in / (a key follows it)", c.BaseIRI)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return c, nil, fmt.Errorf("PARTNERGRAPH_LOG_FORMAT: %q is not json or text", c.LogFormat)
	}
	return c, fs.Args(), nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// secret reads key, or the file named by key_FILE; setting both is an error.
func secret(getenv func(string) string, key string) (string, error) {
	v, file := getenv(key), getenv(key+"_FILE")
	switch {
	case v != "" && file != "":
		return "", errors.New(key + " and " + key + "_FILE are both set; set one")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", key, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return v, nil
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
