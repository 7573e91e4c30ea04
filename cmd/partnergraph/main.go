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
//	partnergraph reindex   recompute the search documents ([--all])
//	partnergraph db        run the embedded PostgreSQL alone and print its
//	                       DATABASE_URL, for the other commands and for tools
//	partnergraph version   print the version, commit, schema hash and
//	                       migration level (also --version)
//	partnergraph config-doc  print docs/configuration.md, the table of settings
//	partnergraph help [COMMAND]  the commands, or one's flags and example
//
// The load generator is a command of its own, cmd/partnergraph-bench, so
// that the binary operators deploy carries no benchmark harness.
// Every command works while serve runs on the same data directory: it
// uses the running PostgreSQL (internal/pgserver, Open).
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
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/partnergraph/partnergraph/internal/cli"
	"github.com/partnergraph/partnergraph/internal/export"
	"github.com/partnergraph/partnergraph/internal/progress"
)

func main() { cli.Main("partnergraph", run) }

// run runs one command until it ends or ctx is cancelled.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 {
		switch {
		case isHelp(args[0]):
			writeRootHelp(stdout)
			return nil
		case args[0] == "--version" || args[0] == "-version":
			return runVersion(nil, stdout)
		}
	}
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve", "migrate", "seed", "export", "generate", "db", "reindex":
	case "token":
		return runToken(ctx, args, getenv, stdout)
	case "import":
		return runImport(ctx, args, getenv, stdout)
	case "config-doc":
		if err := noArgs(cmd, args, stdout); err != nil || len(args) > 0 {
			return err
		}
		return writeConfigDoc(stdout)
	case "version":
		return runVersion(args, stdout)
	case "help":
		return runHelp(args, stdout)
	default:
		return cli.Usagef("unknown command %q; \"partnergraph help\" lists the commands", cmd)
	}
	var ex exportFlags
	var all *bool // reindex --all
	var extra []func(*flag.FlagSet)
	switch cmd {
	case "export":
		extra = append(extra, ex.register)
	case "reindex":
		extra = append(extra, func(fs *flag.FlagSet) { all = reindexFlags(fs) })
	}
	cfg, rest, err := parseConfig(cmd, args, getenv, extra...)
	if err != nil {
		return helpOr(err, cmd, stdout)
	}
	if len(rest) > 0 {
		return cli.Usagef("%s: unexpected arguments %q", cmd, rest)
	}
	var exportOpts export.Options
	if cmd == "export" {
		// Check the request before starting a database for it.
		if exportOpts, err = ex.options(cfg); err != nil {
			return cli.UsageError{Err: err}
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
		return app.Generate(ctx, stdout, newMeter(cfg, getenv, "generate"))
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
		return runExport(ctx, app, exportOpts, ex.out, stdout, newMeter(cfg, getenv, "export"))
	case "reindex":
		meter := newMeter(cfg, getenv, "reindex")
		meter.Start("computing the search documents", 0, "")
		n, took, err := app.Store.Reindex(ctx, *all)
		meter.End()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reindexed %d entities in %s\n", n, took.Round(time.Millisecond))
		return nil
	}
	app.indexSized = tuneGC(cfg, app.Logger)
	return app.Serve(ctx, nil)
}

// newMeter returns the progress meter of a long command: on standard
// error, drawn when cfg.Progress says so (auto: on a terminal).
func newMeter(cfg Config, getenv func(string) string, label string) *progress.Meter {
	on := cfg.Progress == "always" || cfg.Progress == "auto" && progress.IsTerminal(os.Stderr, getenv)
	return progress.New(os.Stderr, on, label)
}

// reindexFlags registers the flags of reindex.
func reindexFlags(fs *flag.FlagSet) (all *bool) {
	return fs.Bool("all", false, "recompute every entity's search document, not only missing and outdated ones")
}

// helpOr prints the help of the command name when err is the flag
// package's -h, and returns nil; any other error it returns.
func helpOr(err error, name string, stdout io.Writer) error {
	if !errors.Is(err, flag.ErrHelp) {
		return err
	}
	c, _ := findCommand(name)
	writeHelp(stdout, c)
	return nil
}

// noArgs checks the arguments of a command that takes none: -h prints its
// help (and len(args) > 0 tells the caller it is done), anything else is
// a usage error.
func noArgs(name string, args []string, stdout io.Writer) error {
	switch {
	case len(args) == 0:
		return nil
	case len(args) == 1 && isHelp(args[0]):
		return helpOr(flag.ErrHelp, name, stdout)
	}
	return cli.Usagef("%s: unexpected arguments %q; \"partnergraph %s -h\" shows its usage", name, args, name)
}

// runHelp prints the list of commands, or the help of the command its
// arguments name ("token create").
func runHelp(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		writeRootHelp(stdout)
		return nil
	}
	if isHelp(args[0]) {
		args = []string{"help"}
	}
	c, ok := findCommand(strings.Join(args, " "))
	if !ok {
		return cli.Usagef("help: no command %q; \"partnergraph help\" lists the commands", strings.Join(args, " "))
	}
	writeHelp(stdout, c)
	return nil
}

// runVersion prints the version of the binary (version.go).
func runVersion(args []string, stdout io.Writer) error {
	if err := noArgs("version", args, stdout); err != nil || len(args) > 0 {
		return err
	}
	v, err := readVersion()
	if err != nil {
		return err
	}
	writeVersion(stdout, v)
	return nil
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

// budgetBesideIndex is what defaultMemoryBudget leaves beside the
// traversal index of the 1M graph as it was first built (68 MB): the
// index is live for the server's lifetime, so a limit that does not grow
// with it leaves the collector running without pause (at 143 MB of index
// and 150 MiB of limit, a neighbourhood's CPU doubled).
const budgetBesideIndex = defaultMemoryBudget - 65<<20

// tuneGC sets serve's garbage collector target and soft memory limit:
// GOGC and GOMEMLIMIT (or their flags) if set, else GOGC 400 and the
// limit memoryLimit derives. With the derived budget (not a container's
// limit, nor one set), it returns the function the traversal index tells
// its bytes (while it is built, then once built): the limit becomes the
// larger of the budget and budgetBesideIndex plus those (224 MB at 1M).
func tuneGC(cfg Config, logger *slog.Logger) func(int64) {
	debug.SetGCPercent(cfg.GCPercent)
	limit, from := cfg.MemoryLimit, "GOMEMLIMIT"
	if limit == 0 {
		limit, from = memoryLimit(memlimit.FromCgroup)
	}
	debug.SetMemoryLimit(limit)
	logger.Debug("garbage collector", "GOGC", cfg.GCPercent, "GOMEMLIMIT", limit, "from", from)
	if cfg.MemoryLimit != 0 || limit != defaultMemoryBudget {
		return nil
	}
	return func(index int64) {
		l := max(defaultMemoryBudget, budgetBesideIndex+index)
		debug.SetMemoryLimit(l)
		logger.Debug("garbage collector", "GOMEMLIMIT", l, "from", "serve's memory budget and the traversal index")
	}
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
