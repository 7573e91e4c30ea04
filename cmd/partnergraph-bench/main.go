// Command partnergraph-bench drives a running partnergraph with
// concurrent clients, runs the same SQL through pgx without HTTP or
// GraphQL (the ceiling) and optionally PostGraphile over the same database
// (scripts/postgraphile), and prints a table per operation:
// throughput, latencies and the ratios between the targets. With --soak
// it runs the operations mixed for a long time and reports the server's
// memory. With --rate the requests arrive as an open loop, at a fixed
// rate whatever the answers take. scripts/benchmark runs it the way docs/benchmarks.md describes.
//
// It is a tool of its own, not a subcommand of partnergraph, so that the
// binary operators deploy carries no load generator.
//
// Usage:
//
//	DATABASE_URL=... partnergraph-bench --url http://127.0.0.1:8080/graphql [flags]
//
// DATABASE_URL is the server's database (the sample and the ceiling read
// it); PARTNERGRAPH_BENCH_TOKEN, an editor's token, lets the staff
// operation run on the server; PARTNERGRAPH_DB_PLAN_CACHE_MODE sets the
// ceiling's sessions up as the server's are.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/bench"
	"github.com/partnergraph/partnergraph/internal/cli"
	"github.com/partnergraph/partnergraph/internal/store"
)

func main() { cli.Main("partnergraph-bench", run) }

// run drives a running server, the same SQL through pgx (the ceiling) and
// optionally PostGraphile v4 and v5 over the same database, and prints a table per
// operation to stdout; args are the command's flags. It returns an error
// naming what is wrong before any load is sent, or the first failure of
// the run.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("partnergraph-bench", flag.ContinueOnError)
	url := fs.String("url", "http://localhost:8080/graphql", "the GraphQL endpoint of a running partnergraph")
	var peers bench.PeerURLs
	fs.Var(&peers, "peer", "peers over the same database, as NAME=URL (NAME: "+strings.Join(bench.PeerNames(), ", ")+
		"; scripts/postgraphile runs v4, scripts/postgraphile5 v5), comma-separated or repeated; the table has a column pair per peer")
	fs.Func("peer-url", "the GraphQL endpoint of PostGraphile v4 (scripts/postgraphile): the same as --peer v4=URL", func(u string) error {
		return peers.Add("v4", u)
	})
	ceiling := fs.Bool("ceiling", true, "also run the same SQL through pgx, without HTTP or GraphQL")
	serverToo := fs.Bool("server", true, "run partnergraph over HTTP (false: only the ceiling and the peer)")
	noCache := fs.Bool("no-cache", false, "send Cache-Control: no-cache, so that the server executes every query instead of answering from its response cache")
	clients := fs.Int("clients", 16, "concurrent clients")
	rate := fs.Float64("rate", 0, "an open loop: requests a second at random times, whatever the answers take, each served by the first free client and timed from when it was due (0: a closed loop, each client sending when its last request is answered)")
	duration := fs.Duration("duration", 20*time.Second, "how long to run each operation on each target")
	warmup := fs.Duration("warmup", 3*time.Second, "how long to warm up each operation on each target, unmeasured")
	var names []string
	for _, op := range bench.Mix {
		names = append(names, op.Name)
	}
	var extra []string
	for _, op := range append(append(bench.Extra[:len(bench.Extra):len(bench.Extra)], bench.Walks...), bench.FilterOps...) {
		extra = append(extra, op.Name)
	}
	ops := fs.String("ops", strings.Join(names, ","), "comma-separated operations: "+strings.Join(names, ", ")+"; also "+strings.Join(extra, ", "))
	sample := fs.Int("sample", 2000, "how many random published entities of each kind to draw from")
	seed := fs.Uint64("seed", 1, "seed of the random choices")
	pid := fs.Int("server-pid", 0, "process ID of the server, to sample its resident memory (Linux)")
	soak := fs.Duration("soak", 0, "instead of the table: run the operations mixed at random on the server for this long, reporting every --interval")
	interval := fs.Duration("interval", time.Minute, "how often a soak reports requests, errors and the server's resident memory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *clients < 1 || *duration <= 0 || *warmup < 0 || *sample < 2 || *rate < 0 || math.IsNaN(*rate) || math.IsInf(*rate, 0) {
		return errors.New("--clients and --duration must be positive, --warmup and --rate not negative, --sample at least 2")
	}
	if *rate > 0 && *soak > 0 {
		return errors.New("--rate is for the table's runs, not a --soak")
	}
	dsn := getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("set DATABASE_URL to the server's database: the sample and the ceiling read it")
	}
	cfg := bench.Config{Clients: *clients, Duration: *duration, Warmup: *warmup, Seed: *seed, ServerPID: *pid, Rate: *rate}
	for _, name := range strings.Split(*ops, ",") {
		op, err := bench.OpNamed(strings.TrimSpace(name))
		if err != nil {
			return fmt.Errorf("%w (known: %s)", err, strings.Join(append(names, extra...), ", "))
		}
		cfg.Ops = append(cfg.Ops, op)
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return errors.New("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	// The ceiling's sessions are set up as the server's are.
	mode := getenv("PARTNERGRAPH_DB_PLAN_CACHE_MODE")
	if mode == "" {
		mode = store.DefaultPlanCacheMode
	}
	pc.ConnConfig.RuntimeParams["plan_cache_mode"] = mode
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return fmt.Errorf("database pool: %w", err)
	}
	defer pool.Close()
	if cfg.Sample, err = bench.LoadSample(ctx, pool, *sample); err != nil {
		return err
	}
	httpClient := bench.NewHTTPClient(*clients)
	token := getenv("PARTNERGRAPH_BENCH_TOKEN")
	if *serverToo {
		cfg.Targets = append(cfg.Targets, &bench.Server{URL: *url, Token: token, HTTP: httpClient, NoCache: *noCache})
	}
	if *ceiling {
		cfg.Targets = append(cfg.Targets, &bench.Ceiling{Store: store.New(pool)})
	}
	cfg.Targets = append(cfg.Targets, peers.Targets(httpClient)...)
	if token == "" {
		fmt.Fprintln(stdout, "PARTNERGRAPH_BENCH_TOKEN is not set: the staff operation (link) runs on the ceiling only")
	}
	if len(cfg.Targets) == 0 {
		return errors.New("no target: --server=false needs the ceiling or --peer")
	}
	if *soak > 0 {
		fmt.Fprintf(stdout, "soak: %d clients, the operations mixed at random for %s\n", *clients, *soak)
		results, err := bench.Soak(ctx, cfg, cfg.Targets[0], *soak, *interval, func(t bench.Tick) {
			line := fmt.Sprintf("%8s  %9d requests  %6d errors", t.Elapsed.Round(time.Second), t.Requests, t.Errors)
			if t.RSS > 0 {
				line += fmt.Sprintf("  server RSS %.1f MB", float64(t.RSS)/(1<<20))
			}
			fmt.Fprintln(stdout, line)
		})
		fmt.Fprintln(stdout)
		bench.WriteTable(stdout, results)
		return err
	}
	loop := fmt.Sprintf("%d clients", *clients)
	if *rate > 0 {
		loop = fmt.Sprintf("an open loop of %g requests a second served by %d clients, each timed from when it was due", *rate, *clients)
	}
	fmt.Fprintf(stdout, "%s, %s per operation and target after %s warm-up; sample of %d entities, %d cooperatives, %d partners\n",
		loop, *duration, *warmup, len(cfg.Sample.All), len(cfg.Sample.Cooperatives), len(cfg.Sample.Partners))
	results, err := bench.Run(ctx, cfg, func(r bench.Result) { fmt.Fprintln(stdout, r) })
	fmt.Fprintln(stdout)
	bench.WriteTable(stdout, results)
	return err
}
