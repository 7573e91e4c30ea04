//go:build fanout1m

package bench_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/bench"
)

// bystanders is how many clients keep asking for the front page while the
// fan-out set runs, and bystanderQuery what they ask (executed, never from
// the response cache): issue 11 asks that other clients' p99 stay
// unaffected while the set runs.
const (
	bystanders     = 4
	bystanderQuery = `{ goodPractices(first: 20) { totalCount nodes { id name
		cases(first: 3) { totalCount nodes { __typename id name } } partners(first: 5) { totalCount nodes { id name sector } } } } }`
)

// TestFanOutAtScale times each of bench.FanOutShapes against a running
// server (the 1M graph: docs/benchmarks.md) and reads the server's
// resident memory after each: go test -tags fanout1m -run TestFanOutAtScale
// -v ./internal/bench/ with FANOUT_URL (the GraphQL endpoint), FANOUT_PID
// (the server's process ID), FANOUT_FROM and FANOUT_TO (two global IDs for
// the path searches). Meanwhile a few bystander clients ask for the front
// page, and their latency is reported beside the same clients' latency
// over as long a time before the set began. It reports; the suite's
// TestFanOutShapes asserts.
func TestFanOutAtScale(t *testing.T) {
	url, pid := os.Getenv("FANOUT_URL"), os.Getenv("FANOUT_PID")
	if url == "" || pid == "" {
		t.Skip("set FANOUT_URL and FANOUT_PID")
	}
	vars := bench.FanOutVars(os.Getenv("FANOUT_FROM"), os.Getenv("FANOUT_TO"))
	client := &http.Client{Timeout: 60 * time.Second}

	var (
		mu      sync.Mutex
		phase   = "alone"
		samples = map[string][]time.Duration{}
		failed  = map[string]int{}
	)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	bc := bench.NewHTTPClient(bystanders)
	for range bystanders {
		wg.Go(func() {
			for ctx.Err() == nil {
				start := time.Now()
				err := bench.PostExecuted(ctx, bc, url, "", bystanderQuery, nil, nil)
				d := time.Since(start)
				mu.Lock()
				if err != nil && ctx.Err() == nil {
					failed[phase]++
				} else if err == nil {
					samples[phase] = append(samples[phase], d)
				}
				mu.Unlock()
			}
		})
	}

	// The bystanders alone first, then the set, then as long alone again
	// as the set took (so a slow drift of the machine shows as a
	// difference between the two quiet windows).
	time.Sleep(10 * time.Second)
	mu.Lock()
	phase = "during the set"
	mu.Unlock()
	setStart := time.Now()
	t.Logf("| shape | refused | slowest of 3 | RSS after | peak RSS |")
	for _, s := range bench.FanOutShapes {
		var slowest time.Duration
		outcome := "answered"
		for range 3 {
			start := time.Now()
			err := bench.Post(context.Background(), client, url, "", s.Query, vars, nil)
			slowest = max(slowest, time.Since(start))
			if err != nil {
				outcome = err.Error()
				if len(outcome) > 50 {
					outcome = outcome[:50]
				}
			}
		}
		t.Logf("| %s | %s | %v | %s | %s |", s.Name, outcome, slowest.Round(time.Millisecond), status(pid, "VmRSS"), status(pid, "VmHWM"))
	}
	setTook := time.Since(setStart)
	mu.Lock()
	phase = "alone after"
	mu.Unlock()
	time.Sleep(max(setTook, 10*time.Second))
	stop()
	wg.Wait()

	t.Logf("the set took %v; %d bystanders asking for the front page, executed:", setTook.Round(time.Millisecond), bystanders)
	t.Logf("| bystanders | requests | failed | p50 | p95 | p99 | max |")
	for _, ph := range []string{"alone", "during the set", "alone after"} {
		lat := samples[ph]
		slices.Sort(lat)
		t.Logf("| %s | %d | %d | %v | %v | %v | %v |", ph, len(lat), failed[ph], q(lat, 0.50), q(lat, 0.95), q(lat, 0.99), q(lat, 1))
	}
}

// q is the quantile p of sorted latencies, rounded for the table.
func q(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := min(int(p*float64(len(sorted))), len(sorted)-1)
	return sorted[i].Round(100 * time.Microsecond)
}

// status reads a memory line of /proc/pid/status, in MB.
func status(pid, key string) string {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return strconv.Itoa(kb/1024) + " MB"
		}
	}
	return "?"
}
