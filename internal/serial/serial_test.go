package serial_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/serial"
)

// TestFieldsGatherAtALoaderOneAtATime: n fields with one slot, each of
// which waits for a batch that starts only once all n wait (a loader that
// gathers a level's keys), all finish; at most one held the slot at once,
// and all n were begun at once. Were the slot kept while a field waits,
// the batch would never start.
func TestFieldsGatherAtALoaderOneAtATime(t *testing.T) {
	const n = 16
	ctx, tok := serial.With(context.Background(), 1)
	var (
		mu      sync.Mutex
		waiting int
		batch   = make(chan struct{})
		wg      sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			_, err := serial.Run(ctx, func(ctx context.Context) (any, error) {
				resume := serial.Pause(ctx)
				mu.Lock()
				if waiting++; waiting == n {
					close(batch)
				}
				mu.Unlock()
				<-batch
				resume()
				// A field nested in this one's own resolver runs within
				// its slot rather than waiting for it.
				return serial.Run(ctx, func(context.Context) (any, error) { return nil, nil })
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a deadlock guard, not a measurement
		t.Fatal("the fields never finished: a field kept its slot while it waited")
	}
	st := tok.Stats()
	if st.MostAtOnce != 1 || st.MostInside != n || st.Fields != n || st.Pauses != n || st.Reentered != n {
		t.Errorf("stats %+v; want 1 at once, %d begun at once, %d fields, pauses and re-entries", st, n, n)
	}
}

// TestRunWithoutATokenRunsAtOnce: a request without a token (a light one)
// runs its fields as they come, and Pause is a no-op.
func TestRunWithoutATokenRunsAtOnce(t *testing.T) {
	ctx := context.Background()
	v, err := serial.Run(ctx, func(ctx context.Context) (any, error) {
		serial.Pause(ctx)()
		return 7, nil
	})
	if v != 7 || err != nil {
		t.Fatalf("%v %v", v, err)
	}
}

// TestAWaitForASlotEndsWithItsRequest: a field waiting for the slot
// returns the request's error when the request ends.
func TestAWaitForASlotEndsWithItsRequest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ctx, _ = serial.With(ctx, 1)
	held, release := make(chan struct{}), make(chan struct{})
	go func() {
		_, _ = serial.Run(ctx, func(context.Context) (any, error) {
			close(held)
			<-release
			return nil, nil
		})
	}()
	<-held
	cancel()
	if _, err := serial.Run(ctx, func(context.Context) (any, error) { return nil, nil }); err == nil {
		t.Error("a field ran while another held the only slot, after its request ended")
	}
	close(release)
}

// TestDeferredTokenBindsWhenBound: a Deferred token runs every resolver
// at once and only counts it, calling its watch once at the n-th; once
// Bound, a resolver waits for ready before it takes a slot, and a
// resolver begun before finishes without one.
func TestDeferredTokenBindsWhenBound(t *testing.T) {
	fired := 0
	ctx, tok := serial.Deferred(context.Background(), 1, 3, func() { fired++ })
	hold := make(chan struct{})
	early := make(chan struct{})
	go func() {
		_, _ = serial.Run(ctx, func(context.Context) (any, error) {
			close(early)
			<-hold // still running, without a slot, when the token binds
			return nil, nil
		})
	}()
	<-early
	for range 4 {
		if _, err := serial.Run(ctx, func(context.Context) (any, error) { return nil, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if fired != 1 {
		t.Fatalf("watch called %d times, want once", fired)
	}
	ready := make(chan struct{})
	if !tok.Bound(ready) || tok.Bound(nil) {
		t.Fatal("Bound: want true the first time, false after")
	}
	ran := make(chan struct{})
	go func() {
		_, _ = serial.Run(ctx, func(context.Context) (any, error) { close(ran); return nil, nil })
	}()
	select {
	case <-ran:
		t.Fatal("a resolver ran before the token was ready")
	default:
	}
	close(ready)
	<-ran // the early resolver holds no slot: this one takes the only one
	close(hold)
	if st := tok.Stats(); st.Unbounded != 5 || st.Fields != 1 || st.MostAtOnce != 1 {
		t.Errorf("stats %+v, want 5 unbounded, 1 under the token", st)
	}
	// A context that ends while its resolver waits for ready fails it.
	ctx2, tok2 := serial.Deferred(context.Background(), 1, 0, nil)
	tok2.Bound(make(chan struct{}))
	ctx2, cancel := context.WithCancel(ctx2)
	cancel()
	if _, err := serial.Run(ctx2, func(context.Context) (any, error) { return nil, nil }); err == nil {
		t.Error("a resolver whose request ended while it waited ran")
	}
}
