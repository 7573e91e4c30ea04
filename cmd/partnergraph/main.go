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
//	partnergraph generate  load a synthetic graph of a chosen size (a data tool)
//	partnergraph db        run the embedded PostgreSQL alone and print its
//	                       DATABASE_URL, for the other commands and for tools
//	partnergraph config-doc  print docs/configuration.md, the table of settings
//
// The load generator is a command of its own, cmd/partnergraph-bench, so
// that the binary operators deploy carries no benchmark harness.
// Configuration comes from environment variables and flags: the option
// table of config.go, documented in docs/configuration.md.
package main

//go:generate sh -c "go run . config-doc > ../../docs/configuration.md"

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/partnergraph/partnergraph/internal/cli"
	"github.com/partnergraph/partnergraph/internal/export"
)

func main() { cli.Main("partnergraph", run) }

const usage = `usage: partnergraph [serve|migrate|seed|export|token|import|generate|db|config-doc] [flags]

  serve     serve the GraphQL API (the default)
  migrate   apply pending database migrations
  seed      load the reference data; a second run changes nothing
  export    write the published graph, or a filtered part of it:
            --format csv|jsonld|graphml|json [--out FILE] [--kind ...] [--sector ...]
            [--country ...] (see "partnergraph export -h")
  token     create --name NAME --role reader|editor|admin, list, revoke ID
  import    FILE [--dry-run]: import a data set, validated first, all or nothing
  generate  data tool: load a synthetic graph (default 1,000,000 entities,
            5,000,000 links)
  db        dev tool: run the embedded PostgreSQL (migrated) until interrupted
            and print its DATABASE_URL
  config-doc  print the table of settings (docs/configuration.md)

Run "partnergraph COMMAND -h" for the flags of a command; docs/configuration.md
lists every setting with its environment variable. The load generator is
partnergraph-bench (cmd/partnergraph-bench).
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
	case "config-doc":
		return writeConfigDoc(stdout)
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
	tuneGC(cfg, app.Logger)
	return app.Serve(ctx, nil)
}

// defaultGOGC is the garbage collector's target that serve sets unless
// GOGC or --gogc sets one: at Go's default of 100 the profile of the
// server under the mix showed a large share of its CPU in garbage
// collection, because the live heap is small and answers are built and
// dropped (docs/benchmarks.md, "Measurements behind the code").
const defaultGOGC = 400

// defaultMemoryBudget is the soft limit of serve's Go heap unless the
// container allows less: with GOGC 400 the heap may grow to five times
// what is live, and this budget is what holds the server under the
// resident-memory target of docs/benchmarks.md (Targets) on a machine
// whose memory is mostly PostgreSQL's. A server given more memory on
// purpose sets GOMEMLIMIT.
const defaultMemoryBudget = 150 << 20

// tuneGC sets serve's garbage collector target and soft memory limit:
// GOGC and GOMEMLIMIT (or their flags) if set, else GOGC 400 and the
// limit memoryLimit derives.
func tuneGC(cfg Config, logger *slog.Logger) {
	debug.SetGCPercent(cfg.GCPercent)
	limit, from := cfg.MemoryLimit, "GOMEMLIMIT"
	if limit == 0 {
		limit, from = memoryLimit(memlimit.FromCgroup)
	}
	debug.SetMemoryLimit(limit)
	logger.Debug("garbage collector", "GOGC", cfg.GCPercent, "GOMEMLIMIT", limit, "from", from)
}

// memoryLimit derives serve's soft memory limit: defaultMemoryBudget, or
// 90 % of the container's memory limit (cgroup) when that is smaller, so
// that the collector works harder before the container is killed (the
// rest is for what Go does not count: stacks, the binary). It returns the
// limit and where it came from, for the log.
func memoryLimit(cgroup func() (uint64, error)) (int64, string) {
	if n, err := cgroup(); err == nil && n > 0 && n < math.MaxInt64 {
		if c := int64(float64(n) * 0.9); c < defaultMemoryBudget {
			return c, "90% of the cgroup's memory limit"
		}
	}
	return defaultMemoryBudget, "serve's memory budget"
}
