//go:build fanout1m

package bench_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/bench"
)

// TestFanOutAtScale times each of bench.FanOutShapes against a running
// server (the 1M graph: docs/benchmarks.md) and reads the server's
// resident memory after each: go test -tags fanout1m -run TestFanOutAtScale
// -v ./internal/bench/ with FANOUT_URL (the GraphQL endpoint), FANOUT_PID
// (the server's process ID), FANOUT_FROM and FANOUT_TO (two global IDs for
// the path searches). It reports; the suite's TestFanOutShapes asserts.
func TestFanOutAtScale(t *testing.T) {
	url, pid := os.Getenv("FANOUT_URL"), os.Getenv("FANOUT_PID")
	if url == "" || pid == "" {
		t.Skip("set FANOUT_URL and FANOUT_PID")
	}
	vars := bench.FanOutVars(os.Getenv("FANOUT_FROM"), os.Getenv("FANOUT_TO"))
	client := &http.Client{Timeout: 60 * time.Second}
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
