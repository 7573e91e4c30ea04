package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/partnergraph/partnergraph/internal/bench"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// runBench is the bench subcommand: it drives a running server (it needs
// no database of its own) and prints a table of latencies per operation.
func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("partnergraph bench", flag.ContinueOnError)
	url := fs.String("url", "http://localhost:8080/graphql", "the GraphQL endpoint of a running server")
	clients := fs.Int("clients", 16, "concurrent clients")
	duration := fs.Duration("duration", 30*time.Second, "how long to run each operation")
	warmup := fs.Duration("warmup", 5*time.Second, "how long to warm up each operation, unmeasured")
	ops := fs.String("ops", "neighborhood,path,aggregate", "comma-separated operations: neighborhood, path, aggregate, search, suggest")
	entities := fs.Int("entities", 1_000_000, "size of the generated graph the server holds")
	graphSeed := fs.Uint64("graph-seed", 1, "seed the graph was generated with")
	sample := fs.Int("sample", 2000, "how many random entities to draw IDs from")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	if *clients < 1 || *duration <= 0 || *sample < 2 {
		return errors.New("bench: --clients, --duration and --sample must be positive (sample at least 2)")
	}
	cfg := bench.Config{URL: *url, Clients: *clients, Duration: *duration, Warmup: *warmup, Seed: *graphSeed}
	for _, name := range strings.Split(*ops, ",") {
		found := false
		for _, op := range bench.Ops {
			if op.Name == strings.TrimSpace(name) {
				cfg.Ops, found = append(cfg.Ops, op), true
			}
		}
		if !found {
			return fmt.Errorf("bench: unknown operation %q", name)
		}
	}
	r := rand.New(rand.NewPCG(*graphSeed, 0))
	keys := make([]string, *sample)
	for i := range keys {
		keys[i] = synth.Key(*graphSeed, r.IntN(*entities))
	}
	ids, err := bench.ResolveKeys(ctx, *url, keys)
	if err != nil {
		return err
	}
	if len(ids) < 2 {
		return fmt.Errorf("bench: only %d of %d sampled keys (gen-%d-N, N < %d) exist; run partnergraph generate first", len(ids), len(keys), *graphSeed, *entities)
	}
	cfg.IDs = ids
	fmt.Fprintf(stdout, "%d clients, %s per operation after %s warm-up, %d entity IDs, %s\n", *clients, *duration, *warmup, len(ids), *url)
	fmt.Fprintln(stdout, bench.Header)
	results, err := bench.Run(ctx, cfg)
	for _, res := range results {
		fmt.Fprintln(stdout, res)
		if res.FirstError != "" {
			fmt.Fprintf(stdout, "  first error: %s\n", res.FirstError)
		}
	}
	return err
}
