package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgserver"
	"github.com/partnergraph/partnergraph/internal/progress"
	"github.com/partnergraph/partnergraph/internal/seed"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// App wires the pieces of partnergraph together: the database (external or
// embedded), the pool, the store and the HTTP server. Open it, use it,
// Close it.
type App struct {
	Config Config
	Logger *slog.Logger
	// indexSized is told the traversal index's bytes (tuneGC).
	indexSized func(bytes int64)

	pg *pgserver.Server // nil with DATABASE_URL
	// tmpDir is the throwaway data directory of --data-dir none, removed
	// by Close.
	tmpDir string
	pool   *pgxpool.Pool
	Store  *store.Store
	// replicas are the pools of DATABASE_REPLICA_URLS (issue 16).
	replicas []*pgxpool.Pool
	// exportPool serves exports only (serve), so that a slow download
	// never holds a connection the API needs (issue 14).
	exportPool *pgxpool.Pool
	// heavyPool serves the reads of heavy queries (serve), so that their
	// statements run one at a time and never hold the API's connections.
	heavyPool *pgxpool.Pool

	migrateCfg *pgxpool.Config // the pool config prepare migrates through; nil: the App's pool
	// unprepared is set while serve waits for an external database that
	// was down at start: migrations and seeding are still to come.
	unprepared atomic.Bool
}

// Open connects to the database: DATABASE_URL if set, else an embedded
// PostgreSQL in the data directory, started here. It then applies pending
// migrations. On error nothing is left running.
func (a *App) Open(ctx context.Context) (err error) {
	if a.Logger == nil {
		a.Logger = a.Config.logger()
	}
	url := a.Config.DatabaseURL
	if url == "" {
		if err := a.openEmbedded(ctx); err != nil {
			return err
		}
		url = a.pg.ConnString("partnergraph")
	}
	defer func() {
		if err != nil {
			a.Close(context.Background())
		}
	}()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL with its password: don't repeat it.
		return errors.New("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "partnergraph"
	}
	if a.Config.MaxConns > 0 {
		cfg.MaxConns = a.Config.MaxConns
	}
	if a.Config.PlanCacheMode != "" {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = a.Config.PlanCacheMode
	}
	// No parallel workers for the API's statements: they read a page, and
	// a generic plan that does not know the page's LIMIT may gather one
	// from a worker, whose start costs more than the page (a sector's first
	// 20 partners at 1M: 25 ms with a worker, 1 ms without;
	// docs/benchmarks.md). Exports and migrations keep their own pools.
	if _, set := cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"]; !set {
		cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	}
	if a.Config.ExecMode == "cache_describe" {
		// Behind a PgBouncer older than 1.21 in transaction mode (Debian
		// 12's 1.18) a connection's named prepared statements are not
		// there on the next transaction's server connection; unnamed ones
		// are sent with every execution. PgBouncer 1.21 or later with
		// max_prepared_statements carries them over: the default
		// cache_statement then works through it (docs/scaling.md).
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	}
	store.CancelStatementsWithContext(cfg)
	migrateCfg := cfg.Copy()
	exportCfg := cfg.Copy()
	if a.Config.StatementTimeout > 0 {
		// A backstop to the request's context, which cancels its queries:
		// no statement outlives the request that started it, even if the
		// cancel request is lost.
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(a.Config.StatementTimeout.Milliseconds(), 10)
	}
	// No JIT for the API's statements either: PostgreSQL decides to
	// compile from the plan's estimated cost for the whole table, and a
	// statement cut short by its LIMIT or by a bounded probe then pays the
	// compilation (126 ms for a wide map page, 283-472 ms for a search count
	// whose plan runs in 25 ms at 1M; docs/search.md). Exports and
	// migrations, which read whole tables, keep it.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	if a.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("database pool: %w", err)
	}
	a.Store = store.New(a.pool)
	if a.Config.HeavyDBConns > 0 {
		heavyCfg := cfg.Copy()
		heavyCfg.MaxConns = int32(a.Config.HeavyDBConns)
		heavyCfg.MinConns = 0
		if a.Config.HeavyDBNice > 0 {
			heavyCfg.AfterConnect = reniceSessions(a.Config.HeavyDBNice, a.Logger)
		}
		if a.heavyPool, err = pgxpool.NewWithConfig(ctx, heavyCfg); err != nil {
			return fmt.Errorf("pool of heavy queries: %w", err)
		}
		a.Store.SetHeavyPool(a.heavyPool)
	}
	if err := a.openReplicas(ctx, cfg); err != nil {
		return err
	}
	if a.Config.ListenURL != "" {
		a.Store.ListenOn(a.Config.ListenURL)
		// goose holds a session advisory lock while it migrates, which
		// PgBouncer in transaction mode would take on one server
		// connection and release on another: migrations go direct.
		if migrateCfg, err = pgxpool.ParseConfig(a.Config.ListenURL); err != nil {
			return errors.New("DATABASE_LISTEN_URL is not a valid PostgreSQL connection string")
		}
		migrateCfg.ConnConfig.RuntimeParams["application_name"] = cfg.ConnConfig.RuntimeParams["application_name"]
	}
	if a.Config.MaxExports > 0 {
		exportCfg.MaxConns = int32(a.Config.MaxExports)
		exportCfg.MinConns = 0
		if a.exportPool, err = pgxpool.NewWithConfig(ctx, exportCfg); err != nil {
			return fmt.Errorf("export pool: %w", err)
		}
	}
	a.Store.CacheAggregates(a.Config.AggregateTTL)
	// The counters that plan anonymous lists are soft state of the same
	// kind as the response cache, forgotten with it at every change heard.
	a.Store.CacheCounts(a.Config.ResponseCache.TTL)
	// So is the vocabulary that searches of published entries read
	// before their page.
	a.Store.CacheVocabulary(a.Config.ResponseCache.TTL)
	// Migrations may run longer than a request: with a statement timeout
	// they get a pool of their own without it.
	if a.Config.StatementTimeout == 0 && a.Config.ListenURL == "" {
		migrateCfg = nil
	}
	err = a.migrate(ctx, migrateCfg)
	if err != nil && a.Config.WaitForDatabase && a.pg == nil {
		// serve with DATABASE_URL: the database may come later. Serve
		// starts, readyz answers 503, and prepare keeps trying.
		a.Logger.Warn("database not prepared; serving and retrying in the background", "err", err)
		a.unprepared.Store(true)
		a.migrateCfg = migrateCfg
		return nil
	}
	return err
}

// clientWait is how long a command that started the embedded PostgreSQL
// waits, when it is done, for the other programs that use it (a serve
// started meanwhile waits for it instead; pgserver.Open) before stopping
// it. serve waits its shutdown timeout.
const clientWait = time.Minute

// noDataDir is the --data-dir that asks for a throwaway cluster.
const noDataDir = "none"

// openEmbedded starts the embedded PostgreSQL in the data directory, or
// uses the one running there (another partnergraph's, say serve's):
// every command works beside a running server (docs/operations.md). serve
// insists on owning it. --data-dir none is a throwaway cluster in a
// temporary directory, removed by Close.
func (a *App) openEmbedded(ctx context.Context) error {
	dir := a.Config.DataDir
	switch dir {
	case "":
		var err error
		if dir, err = pgserver.DefaultDataDir(); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
	case noDataDir:
		// In /tmp, not TMPDIR: the server's user must reach it when root
		// runs this (pgserver.Start), and its socket path stays short.
		tmp, err := os.MkdirTemp("/tmp", "partnergraph-none-")
		if err != nil {
			return fmt.Errorf("throwaway data directory: %w", err)
		}
		a.tmpDir, dir = tmp, tmp
	}
	command := a.Config.Command
	if command == "" {
		command = "serve"
	}
	wait := clientWait
	if command == "serve" {
		wait = a.Config.ShutdownWait
	}
	start := time.Now()
	pg, err := pgserver.Open(ctx, pgserver.Config{
		DataDir: dir, BinDir: a.Config.PGBinDir, User: a.Config.PGUser, Logger: a.Logger,
		Owner: "partnergraph " + command, Exclusive: command == "serve", ClientWait: wait,
	})
	if err != nil {
		a.removeTmpDir()
		return fmt.Errorf("embedded PostgreSQL (set DATABASE_URL to use a server of your own): %w", err)
	}
	a.pg = pg
	if _, attached := pg.Attached(); !attached { // pgserver logs whose it uses
		a.Logger.Info("embedded PostgreSQL started", "data_dir", dir, "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// openReplicas opens a pool per DATABASE_REPLICA_URLS, configured as the
// primary's (cfg) is, and hands them to the store.
func (a *App) openReplicas(ctx context.Context, primary *pgxpool.Config) error {
	for i, u := range a.Config.ReplicaURLs {
		cfg, err := pgxpool.ParseConfig(u)
		if err != nil {
			return fmt.Errorf("DATABASE_REPLICA_URLS: replica %d is not a valid PostgreSQL connection string", i+1)
		}
		for k, v := range primary.ConnConfig.RuntimeParams {
			if _, ok := cfg.ConnConfig.RuntimeParams[k]; !ok {
				cfg.ConnConfig.RuntimeParams[k] = v
			}
		}
		cfg.ConnConfig.DefaultQueryExecMode = primary.ConnConfig.DefaultQueryExecMode
		cfg.ConnConfig.BuildContextWatcherHandler = primary.ConnConfig.BuildContextWatcherHandler
		cfg.MaxConns = primary.MaxConns
		if cfg.ConnConfig.ConnectTimeout == 0 {
			// A replica whose host is gone must not hold a read for
			// longer than it takes to fall back to the primary.
			cfg.ConnConfig.ConnectTimeout = time.Second
		}
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return fmt.Errorf("DATABASE_REPLICA_URLS: replica %d: %w", i+1, err)
		}
		a.replicas = append(a.replicas, p)
	}
	if len(a.replicas) > 0 {
		a.Store.UseReplicas(a.replicas, store.ReplicaOptions{MaxLag: a.Config.ReplicaMaxLag, Logger: a.Logger})
		a.Logger.Info("reading from replicas", "replicas", len(a.replicas))
	}
	return nil
}

// removeTmpDir removes the throwaway data directory of --data-dir none.
func (a *App) removeTmpDir() {
	if a.tmpDir == "" {
		return
	}
	if err := os.RemoveAll(a.tmpDir); err != nil {
		a.Logger.Warn("remove the throwaway data directory", "dir", a.tmpDir, "err", err)
	}
	a.tmpDir = ""
}

// prepare applies migrations and seeds the database in the background
// until it succeeds or ctx ends, waiting longer after each failure (1 s,
// doubling to 30 s).
func (a *App) prepare(ctx context.Context) {
	wait := time.Second
	for a.unprepared.Load() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		err := a.migrate(ctx, a.migrateCfg)
		if err == nil && a.Config.Seed {
			err = a.SeedIfEmpty(ctx)
		}
		if err != nil {
			a.Logger.Warn("database not prepared; retrying", "in", min(2*wait, 30*time.Second), "err", err)
			wait = min(2*wait, 30*time.Second)
			continue
		}
		a.Logger.Info("database prepared")
		a.unprepared.Store(false)
	}
}

// migrate applies pending migrations, through a pool of cfg if not nil
// (closed afterwards), else through the App's pool.
func (a *App) migrate(ctx context.Context, cfg *pgxpool.Config) error {
	pool := a.pool
	if cfg != nil {
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return fmt.Errorf("database pool: %w", err)
		}
		defer p.Close()
		pool = p
	}
	n, err := store.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	if n > 0 {
		a.Logger.Info("migrations applied", "count", n)
	}
	return nil
}

// Close closes the pool and stops the embedded PostgreSQL if it started
// it (one it found running it leaves to its owner).
func (a *App) Close(ctx context.Context) error {
	if a.exportPool != nil {
		a.exportPool.Close()
		a.exportPool = nil
	}
	if a.heavyPool != nil {
		a.heavyPool.Close()
		a.heavyPool = nil
	}
	for _, p := range a.replicas {
		p.Close()
	}
	a.replicas = nil
	if a.pool != nil {
		a.pool.Close()
		a.pool = nil
	}
	if a.pg != nil {
		_, attached := a.pg.Attached()
		err := a.pg.Stop(ctx)
		a.pg = nil
		if err != nil {
			return fmt.Errorf("stop embedded PostgreSQL: %w", err)
		}
		if !attached {
			a.Logger.Info("embedded PostgreSQL stopped")
		}
	}
	a.removeTmpDir()
	return nil
}

// Seed loads the reference data set; a second run changes nothing.
func (a *App) Seed(ctx context.Context) (store.ApplyReport, error) {
	ds, err := seed.Reference()
	if err != nil {
		return store.ApplyReport{}, err
	}
	return a.Store.ApplyDataset(ctx, "seed", *ds)
}

// Generate loads the synthetic graph of the configured size and seed (see
// package synth) and reports its steps to w, and its progress to meter.
func (a *App) Generate(ctx context.Context, w io.Writer, meter *progress.Meter) error {
	start := time.Now()
	defer meter.End()
	g, err := synth.New(a.Config.GraphSeed, a.Config.GenEntities, a.Config.GenLinks)
	if err != nil {
		return err
	}
	defer g.Forget()
	meter.Start(fmt.Sprintf("loading %d entities, %d links", a.Config.GenEntities, a.Config.GenLinks), 0, "")
	rep, err := a.Store.BulkLoad(ctx, "generate", g, func(st store.BulkStep) {
		meter.Above(func() { fmt.Fprintf(w, "%-24s %s\n", st.Name, st.Took.Round(time.Millisecond)) })
		meter.Start("loading, after "+st.Name, 0, "")
	})
	if err != nil {
		return err
	}
	// COPY bypasses the write path that keeps search documents, so the
	// search index is built for the new entities here.
	meter.Start("building the search index", 0, "")
	n, took, err := a.Store.BuildSearchIndex(ctx)
	if err != nil {
		return err
	}
	meter.End()
	fmt.Fprintf(w, "%-24s %s (%d entities)\n", "search index", took.Round(time.Millisecond), n)
	fmt.Fprintf(w, "generated %d entities, %d links, %d citations, %d indicators in %s (keys gen-%d-0 to gen-%d-%d)\n",
		rep.Entities, rep.Links, rep.Citations, rep.Indicators, time.Since(start).Round(time.Millisecond),
		a.Config.GraphSeed, a.Config.GraphSeed, rep.Entities-1)
	return nil
}

// SeedIfEmpty loads the reference data into a database without entities.
func (a *App) SeedIfEmpty(ctx context.Context) error {
	empty, err := a.Store.Empty(ctx)
	if err != nil || !empty {
		return err
	}
	rep, err := a.Seed(ctx)
	if err != nil {
		return err
	}
	a.Logger.Info("reference data loaded into the empty database",
		"entities", rep.EntitiesCreated, "links", rep.LinksCreated, "indicators", rep.IndicatorsCreated)
	return nil
}

// Serve serves HTTP until ctx is cancelled, then shuts down gracefully.
// ready, if not nil, receives the bound address.
func (a *App) Serve(ctx context.Context, ready chan<- net.Addr) error {
	if a.unprepared.Load() {
		go a.prepare(ctx)
	} else if a.Config.Seed {
		if err := a.SeedIfEmpty(ctx); err != nil {
			return err
		}
	}
	var trusted server.TrustedDocuments
	if a.Config.TrustedDocuments != "" {
		var err error
		if trusted, err = server.LoadTrustedDocuments(a.Config.TrustedDocuments); err != nil {
			return fmt.Errorf("PARTNERGRAPH_TRUSTED_DOCUMENTS: %w", err)
		}
		a.Logger.Info("trusted documents only", "documents", len(trusted))
	}
	tp, stopTracing, err := a.tracerProvider(ctx)
	if err != nil {
		return err
	}
	// Flush the last spans after the server has stopped.
	defer stopTracing(context.Background()) //nolint:errcheck // best effort at exit
	srv := server.New(server.Config{
		TraversalIndexSized: a.indexSized,
		TracerProvider:      tp,
		Addr:                a.Config.Addr,
		TrustedProxies:      a.Config.TrustedProxies,
		MetricsElsewhere:    a.Config.MetricsAddr != "",
		CORSOrigins:         a.Config.CORSOrigins,
		CORSCredentials:     a.Config.CORSCredentials,
		ShutdownTimeout:     a.Config.ShutdownWait,
		Logger:              a.Logger,
		Ready:               a.ready,
		BaseIRI:             a.Config.BaseIRI,
		RequestTimeout:      a.Config.RequestTimeout,
		AccessLog:           accessLog(a.Config),
		Limits:              a.Config.Limits,

		DisableIntrospection: !a.Config.Introspection,
		TrustedDocuments:     trusted,
		RateLimit:            a.Config.RateLimit,
		LoaderWait:           a.Config.LoaderWait,
		ResponseCache:        a.Config.ResponseCache,
		TraversalIndex:       a.Config.TraversalIndex,
		WebSocketInitTimeout: a.Config.WebSocketInitTimeout,

		MaxExports:           a.Config.MaxExports,
		MaxExportsPerAddress: a.Config.MaxExportsPerAddress,
		ExportWriteTimeout:   a.Config.ExportWriteTimeout,
		ExportStore:          exportStore(a.exportPool),
		Heavy:                a.Config.Heavy,
		Fair:                 fairTurns(a.Config.Fair),
		CountBound:           a.Config.CountBound,
		MaxRows:              a.Config.MaxRows,
		MaxResponseBytes:     a.Config.MaxResponseBytes,
	}, a.Store)
	if a.Config.MetricsAddr != "" {
		// issue 16: metrics (and the profiles, on the same address) where
		// only the monitoring network reaches.
		withPprof := a.Config.PprofAddr == a.Config.MetricsAddr
		stop, err := serveSide(ctx, a.Config.MetricsAddr, "PARTNERGRAPH_METRICS_ADDR", srv.MetricsHandler(), withPprof, a.Logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	if a.Config.PprofAddr != "" && a.Config.PprofAddr != a.Config.MetricsAddr {
		stop, err := serveSide(ctx, a.Config.PprofAddr, "PARTNERGRAPH_PPROF_ADDR", nil, true, a.Logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	// issue 11: the changes of the root lists' counters, folded in.
	go foldCounts(ctx, a.Store, a.Logger, foldInterval)
	addrs := make(chan net.Addr, 1)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe(ctx, addrs) }()
	select {
	case addr := <-addrs:
		a.Logger.Info("serving", "addr", addr.String(), "graphql", "/graphql", "explorer", "/")
		if ready != nil {
			ready <- addr
		}
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	return <-errc
}

// ready is the readiness probe: the database answers and carries every
// migration of this binary.
func (a *App) ready(ctx context.Context) error {
	if a.unprepared.Load() {
		return errors.New("the database has not been reached and migrated yet; retrying")
	}
	if err := a.Store.Ping(ctx); err != nil {
		return err
	}
	pending, err := store.MigrationsPending(ctx, a.pool)
	if err != nil {
		return err
	}
	if pending {
		return errors.New("database migrations are not current")
	}
	return nil
}

// exportStore is the store of the export pool, or nil without one.
func exportStore(p *pgxpool.Pool) *store.Store {
	if p == nil {
		return nil
	}
	return store.New(p)
}

// accessLog is serve's access log policy: the sample's 0 (none) is the
// server's -1.
func accessLog(c Config) server.AccessLog {
	a := server.AccessLog{Slow: c.SlowRequest, Sample: c.AccessLogSample}
	if a.Sample == 0 {
		a.Sample = -1
	}
	return a
}

// fairTurns is the server's Fair for the configured one, whose Share of 0
// turns the turns off (the server's zero value means its default).
func fairTurns(f server.Fair) server.Fair {
	if f.Share == 0 {
		f.Share = -1
	}
	return f
}
