// Package bench drives a running partnergraph server over HTTP with
// concurrent clients, one operation at a time, and reports latency
// percentiles and throughput per operation. It knows the API only through
// GraphQL queries, so it measures what a client sees: HTTP, JSON, the
// resolvers, the loaders and the database.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Op is one operation of the benchmark: a GraphQL query and how to draw
// its variables from the pool of entity IDs.
type Op struct {
	Name  string
	Query string
	Vars  func(r *rand.Rand, ids []string) map[string]any
}

// Ops are the operations the issue sets targets for.
var Ops = []Op{
	{
		Name: "neighborhood",
		Query: `query($id: ID!) { neighborhood(id: $id, depth: 2, limit: 500) {
			truncated nodes { id kind name } links { id type direction role sources { locator } } } }`,
		Vars: func(r *rand.Rand, ids []string) map[string]any { return map[string]any{"id": ids[r.IntN(len(ids))]} },
	},
	{
		Name: "path",
		Query: `query($from: ID!, $to: ID!) { path(from: $from, to: $to, maxDepth: 6) {
			length nodes { id name } links { type direction } } }`,
		Vars: func(r *rand.Rand, ids []string) map[string]any {
			return map[string]any{"from": ids[r.IntN(len(ids))], "to": ids[r.IntN(len(ids))]}
		},
	},
	{
		Name: "search",
		Query: `query($q: String!) { search(query: $q, first: 20) {
			totalCount edges { score snippet { field html } node { id name } } } }`,
		Vars: func(r *rand.Rand, _ []string) map[string]any {
			return map[string]any{"q": searchQueries[r.IntN(len(searchQueries))]}
		},
	},
	{
		Name:  "suggest",
		Query: `query($p: String!) { suggest(prefix: $p, limit: 10) { name } }`,
		Vars: func(r *rand.Rand, _ []string) map[string]any {
			return map[string]any{"p": suggestPrefixes[r.IntN(len(suggestPrefixes))]}
		},
	},
	{
		Name:  "aggregate",
		Query: `{ aggregate(kind: PARTNER, groupBy: [SECTOR]) { totalCount groups { key count } } }`,
		Vars:  func(*rand.Rand, []string) map[string]any { return nil },
	},
}

// searchQueries are one- to three-word queries as people type them: no
// diacritics, inflected, a typo, a Swedish name; they match names of the
// generated graph (internal/synth).
var searchQueries = []string{
	"spoldzielnia", "spółdzielni socjalnej", "fundacja", "warsztat terapii", "warsztatow gebice",
	"stowarzyszenie poznan", "gmina gniezno", "kooperativet gloden", "ateljé", "ekonomiska forening",
	"ceramika", "spoldzielnia socjalna razem", "pomocy spolecznej", "stowarzyszenie na rzecz", "fundacja ekonomii",
	"aktywizacja zawodowa", "partnerstwo", "swiebodzinie", "stowarzyszenei", "kooperativet",
}

// suggestPrefixes are what staff type while linking.
var suggestPrefixes = []string{"spo", "koop", "fund", "warsz", "gmi", "stow", "atel", "gniez", "łęż", "ekon"}

// Config is a benchmark run.
type Config struct {
	URL      string        // the GraphQL endpoint, e.g. http://localhost:8080/graphql
	Clients  int           // concurrent clients
	Duration time.Duration // per operation
	Warmup   time.Duration // per operation, not measured
	Seed     uint64        // of the random choices
	Ops      []Op
	IDs      []string // entity IDs to draw from
}

// Result is what one operation measured.
type Result struct {
	Op                 string
	Requests, Errors   int
	P50, P95, P99, Max time.Duration
	Throughput         float64 // requests per second
	FirstError         string
}

// String formats r as a table row.
func (r Result) String() string {
	return fmt.Sprintf("%-13s %8d %6d %9.1f %9s %9s %9s %9s", r.Op, r.Requests, r.Errors, r.Throughput,
		ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max))
}

// Header is the header of the table String writes.
const Header = "operation     requests errors     req/s       p50       p95       p99       max"

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// Run runs each operation of cfg in turn at cfg.Clients concurrent clients
// for cfg.Duration, after a warm-up, and returns what each measured.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Clients * 2}, Timeout: 60 * time.Second}
	var out []Result
	for _, op := range cfg.Ops {
		if cfg.Warmup > 0 {
			run(ctx, client, cfg, op, cfg.Warmup)
		}
		r := run(ctx, client, cfg, op, cfg.Duration)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		out = append(out, r)
	}
	return out, nil
}

func run(ctx context.Context, client *http.Client, cfg Config, op Op, d time.Duration) Result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	res := Result{Op: op.Name}
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < cfg.Clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(cfg.Seed, uint64(c)))
			var mine []time.Duration
			errs, first := 0, ""
			for ctx.Err() == nil {
				t := time.Now()
				err := Post(ctx, client, cfg.URL, op.Query, op.Vars(r, cfg.IDs), nil)
				if ctx.Err() != nil {
					break // cut by the end of the run, not measured
				}
				mine = append(mine, time.Since(t))
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.Errors += errs
			if res.FirstError == "" {
				res.FirstError = first
			}
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	res.Requests = len(lat)
	if n := len(lat); n > 0 {
		q := func(p float64) time.Duration { return lat[min(n-1, int(p*float64(n)))] }
		res.P50, res.P95, res.P99, res.Max = q(0.50), q(0.95), q(0.99), lat[n-1]
		res.Throughput = float64(n) / elapsed.Seconds()
	}
	return res
}

// Post sends one GraphQL query and decodes its data into out (if not
// nil). A response with errors is an error.
func Post(ctx context.Context, client *http.Client, url, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("HTTP %d: %.200s", res.StatusCode, raw)
	}
	if len(r.Errors) > 0 {
		return errors.New(r.Errors[0].Message)
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

// ResolveKeys returns the global IDs of the entities with the given keys,
// 100 keys a request; keys without an entity are skipped.
func ResolveKeys(ctx context.Context, url string, keys []string) ([]string, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	var ids []string
	for len(keys) > 0 {
		batch := keys[:min(100, len(keys))]
		keys = keys[len(batch):]
		var q strings.Builder
		q.WriteString("{")
		for i, k := range batch {
			fmt.Fprintf(&q, " e%d: entityByKey(key: %q) { id }", i, k)
		}
		q.WriteString(" }")
		var got map[string]*struct {
			ID string `json:"id"`
		}
		if err := Post(ctx, client, url, q.String(), nil, &got); err != nil {
			return nil, fmt.Errorf("resolve keys: %w", err)
		}
		for i := range batch {
			if e := got[fmt.Sprintf("e%d", i)]; e != nil {
				ids = append(ids, e.ID)
			}
		}
	}
	return ids, nil
}
