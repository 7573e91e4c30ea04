package bench_test

import (
	"strings"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/bench"
)

func TestPeerURLs(t *testing.T) {
	var p bench.PeerURLs
	if err := p.Set("v4=http://127.0.0.1:1/graphql, v5=http://127.0.0.1:2/graphql"); err != nil {
		t.Fatal(err)
	}
	if got, want := p.String(), "v4=http://127.0.0.1:1/graphql,v5=http://127.0.0.1:2/graphql"; got != want {
		t.Errorf("String() = %q; want %q", got, want)
	}
	targets := p.Targets(nil)
	if len(targets) != 2 || targets[0].Name() != "PostGraphile v4" || targets[1].Name() != "PostGraphile v5" {
		t.Fatalf("targets %v; want PostGraphile v4 then v5", targets)
	}
	page, err := bench.OpNamed("page")
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range targets {
		if !target.Supports(page) {
			t.Errorf("%s does not support page", target.Name())
		}
	}
	for _, bad := range []string{"v6=http://x/graphql", "v4", "v4=", "=http://x", "v5=ftp://x/graphql", "v5=not a url", "v4=http://y/graphql"} {
		if err := p.Set(bad); err == nil {
			t.Errorf("Set(%q) = nil; want an error", bad)
		}
	}
	if len(p.Names) != 2 {
		t.Errorf("a refused value changed the peers: %v", p.Names)
	}
}

func TestWriteTablePeers(t *testing.T) {
	r := func(op, target string, rps float64, p99 time.Duration) bench.Result {
		return bench.Result{Op: op, Target: target, Throughput: rps, P50: p99 / 2, P95: p99, P99: p99, Requests: 10}
	}
	var b strings.Builder
	bench.WriteTable(&b, []bench.Result{
		r("page", "partnergraph", 300, 10*time.Millisecond),
		r("page", "ceiling", 600, 5*time.Millisecond),
		r("page", "PostGraphile v4", 100, 40*time.Millisecond),
		r("page", "PostGraphile v5", 200, 20*time.Millisecond),
		r("path", "partnergraph", 50, 30*time.Millisecond),
	})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines; want a header, a rule and 2 rows:\n%s", len(lines), b.String())
	}
	for _, want := range []string{"PostGraphile v4 req/s", "req/s ÷ PostGraphile v4", "PostGraphile v5 req/s", "p99 ÷ PostGraphile v5"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("header lacks %q: %s", want, lines[0])
		}
	}
	cols := func(l string) int { return strings.Count(l, "|") }
	if cols(lines[1]) != cols(lines[0]) || cols(lines[2]) != cols(lines[0]) || cols(lines[3]) != cols(lines[0]) {
		t.Errorf("rows and header differ in columns:\n%s", b.String())
	}
	// 300 req/s against v4's 100 and v5's 200; p99 10 ms against 40 and 20.
	if !strings.Contains(lines[2], "| 100.0 | 40.0 ms | 3.00 | 0.25 | 200.0 | 20.0 ms | 1.50 | 0.50 |") {
		t.Errorf("page row: %s", lines[2])
	}
	if !strings.HasSuffix(lines[3], "| – | – | – | – | – | – | – | – |") {
		t.Errorf("path row, with no peer: %s", lines[3])
	}
}
