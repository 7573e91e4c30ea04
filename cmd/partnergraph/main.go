// Command partnergraph serves the partnership knowledge base of the social
// economy over GraphQL.
//
// Usage:
//
//	partnergraph [serve]   serve the API (the default); with no DATABASE_URL
//	                       it runs its own PostgreSQL and loads the reference data
//	partnergraph migrate   apply pending database migrations
//	partnergraph seed      load the reference data (idempotent)
//	partnergraph token     create, list and revoke API tokens
//	partnergraph import    import a data-set file, all or nothing
//	partnergraph export    write the published graph, or a filtered part of
//	                       it, as CSV, JSON-LD, GraphML or JSON
//	partnergraph generate  load a synthetic graph of a chosen size
//	partnergraph bench     drive a running server, the same SQL through pgx and
//	                       optionally PostGraphile, and compare them
//	partnergraph db        run the embedded PostgreSQL alone and print its
//	                       DATABASE_URL, for the other commands and for tools
//
// Configuration comes from environment variables and flags; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/partnergraph/partnergraph/internal/export"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "partnergraph:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: partnergraph [serve|migrate|seed|export|token|import|generate|bench|db] [flags]

  serve     serve the GraphQL API (the default)
  migrate   apply pending database migrations
  seed      load the reference data; a second run changes nothing
  export    write the published graph, or a filtered part of it:
            --format csv|jsonld|graphml|json [--out FILE] [--kind ...] [--sector ...]
            [--country ...] (see "partnergraph export -h")
  token     create --name NAME --role reader|editor|admin, list, revoke ID
  import    FILE [--dry-run]: import a data set, validated first, all or nothing
  generate  load a synthetic graph (default 1,000,000 entities, 5,000,000 links)
  bench     drive a server, its SQL through pgx and PostGraphile with concurrent
            clients; report throughput, latencies and the ratios between them
  db        run the embedded PostgreSQL (migrated) until interrupted and print
            its DATABASE_URL

Run "partnergraph serve -h" for the flags; README.md lists the environment variables.
`

// run runs one subcommand until it ends or ctx is cancelled.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "migrate", "seed", "export", "generate", "db":
	case "token":
		return runToken(ctx, args, getenv, stdout)
	case "import":
		return runImport(ctx, args, getenv, stdout)
	case "bench":
		return runBench(ctx, args, getenv, stdout)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	var ex exportFlags
	var extra []func(*flag.FlagSet)
	if cmd == "export" {
		extra = append(extra, ex.register)
	}
	cfg, rest, err := parseConfig(cmd, args, getenv, extra...)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", cmd, rest)
	}
	var exportOpts export.Options
	if cmd == "export" {
		// Check the request before starting a database for it.
		if exportOpts, err = ex.options(cfg); err != nil {
			return err
		}
	}
	app := &App{Config: cfg}
	if err := app.Open(ctx); err != nil {
		return err
	}
	// Close with a fresh context: ctx is already cancelled at shutdown.
	defer app.Close(context.Background())
	switch cmd {
	case "migrate":
		fmt.Fprintln(stdout, "migrations are current")
		return nil
	case "generate":
		return app.Generate(ctx, stdout)
	case "db":
		if app.pg == nil {
			return errors.New("db: DATABASE_URL is set; db runs the embedded PostgreSQL only")
		}
		fmt.Fprintf(stdout, "DATABASE_URL=%s\n", app.pg.ConnString("partnergraph"))
		<-ctx.Done()
		return nil
	case "seed":
		rep, err := app.Seed(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "entities: %d created, %d updated, %d unchanged\n", rep.EntitiesCreated, rep.EntitiesUpdated, rep.EntitiesUnchanged)
		fmt.Fprintf(stdout, "links: %d created, %d updated, %d unchanged\n", rep.LinksCreated, rep.LinksUpdated, rep.LinksUnchanged)
		fmt.Fprintf(stdout, "indicators: %d created, %d updated, %d unchanged\n", rep.IndicatorsCreated, rep.IndicatorsUpdated, rep.IndicatorsUnchanged)
		return nil
	case "export":
		return runExport(ctx, app, exportOpts, ex.out, stdout)
	}
	tuneGC(getenv, app.Logger)
	return app.Serve(ctx, nil)
}

// GOGC is the garbage collector's target that serve sets unless the GOGC
// variable sets one: the profile of the server under the mix showed 12 to
// 17 % of its CPU in garbage collection at Go's default of 100 (the live
// heap is small: answers are built and dropped), for 16 MB more memory.
const defaultGOGC = 400

// defaultMemoryLimit is the soft limit of the Go heap that serve sets
// unless GOMEMLIMIT sets one: with GOGC 400 the heap may grow to five
// times what is live, and a page of the million-entity graph holds
// thousands of entities while it is built; near the limit the collector
// runs more often instead.
const defaultMemoryLimit = 150 << 20

// tuneGC sets serve's garbage collector target and memory limit, unless
// GOGC and GOMEMLIMIT set them.
func tuneGC(getenv func(string) string, logger *slog.Logger) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	logger.Debug("garbage collector", "GOMEMLIMIT", debug.SetMemoryLimit(-1)) // a negative limit only reads it
}
