package bench_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/bench"
)

// slowTarget answers every request after took, and notes which clients
// asked at once.
type slowTarget struct {
	took time.Duration

	mu       sync.Mutex
	busy     map[int]bool
	overlaps int // requests made by a client already busy
}

func (t *slowTarget) Name() string           { return "slow" }
func (t *slowTarget) Supports(bench.Op) bool { return true }
func (t *slowTarget) Do(ctx context.Context, _ bench.Op, c *bench.Client, _ bench.Args) error {
	t.mu.Lock()
	if t.busy[c.Index] {
		t.overlaps++
	}
	t.busy[c.Index] = true
	t.mu.Unlock()
	time.Sleep(t.took)
	t.mu.Lock()
	t.busy[c.Index] = false
	t.mu.Unlock()
	return nil
}

var idle = bench.Op{Name: "idle", Draw: func(*rand.Rand, *bench.Sample, *bench.Client) bench.Args { return bench.Args{} }}

// An open loop sends at its rate whatever the answers take, and times a
// request from when it was due: one that waited for a free client counts
// its wait. The closed loop beside it shows what the open loop must not
// do: send only when an answer came back.
func TestOpenLoopKeepsItsRateAndCountsTheWait(t *testing.T) {
	ctx := context.Background()
	// Enough clients: about rate × duration requests, each taking what
	// the target takes.
	target := &slowTarget{took: 20 * time.Millisecond, busy: map[int]bool{}}
	res, err := bench.Run(ctx, bench.Config{Targets: []bench.Target{target}, Ops: []bench.Op{idle},
		Clients: 16, Duration: time.Second, Rate: 200, Seed: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Requests < 140 || r.Requests > 260 || r.Errors != 0 {
		t.Errorf("open loop at 200/s for 1 s: %d requests, %d errors; want about 200, none", r.Requests, r.Errors)
	}
	if r.P50 < 20*time.Millisecond || r.P50 > 200*time.Millisecond {
		t.Errorf("open loop with clients to spare: p50 %s; want the target's 20 ms and little more", r.P50)
	}
	if target.overlaps != 0 {
		t.Errorf("%d requests were made by a client already waiting for an answer", target.overlaps)
	}

	// One client for 100 requests a second of 20 ms each: the requests
	// queue for it, and their latency says so.
	res, err = bench.Run(ctx, bench.Config{Targets: []bench.Target{target}, Ops: []bench.Op{idle},
		Clients: 1, Duration: 500 * time.Millisecond, Rate: 100, Seed: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r = res[0]
	if r.Requests < 30 || r.Max < 250*time.Millisecond {
		t.Errorf("open loop past what one client serves: %d requests, slowest %s; want about 50, the last ones waiting 250 ms or more", r.Requests, r.Max)
	}

	// The closed loop with that one client: one request at a time, each
	// timed from when it was sent.
	res, err = bench.Run(ctx, bench.Config{Targets: []bench.Target{target}, Ops: []bench.Op{idle},
		Clients: 1, Duration: 500 * time.Millisecond, Seed: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r = res[0]
	if r.Requests > 26 || r.Max > 200*time.Millisecond {
		t.Errorf("closed loop of one client: %d requests, slowest %s; want at most 25, none waiting", r.Requests, r.Max)
	}
}
