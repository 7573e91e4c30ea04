package server

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// testTurns returns turns of f with metrics of their own.
func testTurns(f Fair) *turns {
	f.defaults()
	m := &metrics{
		turns:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "turns"}, []string{"turn"}),
		paused: prometheus.NewCounter(prometheus.CounterOpts{Name: "paused"}),
	}
	return newTurns(f, m)
}

// value reads a counter.
func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// over makes key's client over its share: busy for busy as of now.
func (ts *turns) over(key string, busy time.Duration) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.busy[key] = &busyTime{secs: busy.Seconds(), at: time.Now()}
}

// returns runs f in a goroutine and reports on a channel when it returned.
func returns(f func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	return done
}

// TestATurnOverItsSharePausesWhileOthersRun: a request of a client over
// its share pauses at each of its points while a request of a client
// within its share runs, and goes on as soon as that one ends; with no
// such request running, it never pauses.
func TestATurnOverItsSharePausesWhileOthersRun(t *testing.T) {
	ts := testTurns(Fair{Share: 10 * time.Millisecond, Wait: time.Minute})
	ts.over("busy", time.Second)
	ctx := context.Background()

	alone := ts.begin("busy")
	if !alone.yielding.Load() {
		t.Fatal("a client busy for 1 s with a share of 10 ms began within its share")
	}
	select {
	case <-returns(func() { alone.yield(ctx) }):
	case <-time.After(10 * time.Second):
		t.Fatal("a yielding request paused with no request within its share running")
	}
	if alone.yields() {
		t.Error("its statements go to the pool of heavy reads with nobody to yield to")
	}
	alone.end()

	light := ts.begin("light")
	if light.yielding.Load() {
		t.Fatal("a client never seen began over its share")
	}
	heavy := ts.begin("busy")
	if !heavy.yields() {
		t.Error("the statements of a yielding request do not go to the pool of heavy reads while another runs")
	}
	paused := returns(func() { heavy.yield(ctx) })
	select {
	case <-paused:
		t.Fatal("the yielding request did not pause while a request within its share ran")
	case <-time.After(ts.pause / 2):
	}
	// A pause is ts.pause long at most: a request runs a step between
	// pauses, however many requests within their share follow each other.
	select {
	case <-paused:
	case <-time.After(10 * time.Second):
		t.Fatal("a pause did not end at its longest")
	}
	second := returns(func() { heavy.yield(ctx) })
	light.end()
	select {
	case <-second:
	case <-time.After(10 * time.Second):
		t.Fatal("the yielding request went on pausing after the request within its share ended")
	}
	if heavy.yields() {
		t.Error("its statements still go to the pool of heavy reads with nobody to yield to")
	}
	heavy.end()
	if got := value(ts.m.turns.WithLabelValues("over")); got != 2 {
		t.Errorf("turns over their share: %v, want 2", got)
	}
	if got := value(ts.m.turns.WithLabelValues("within")); got != 1 {
		t.Errorf("turns within their share: %v, want 1", got)
	}
	if got := value(ts.m.paused); got < ts.pause.Seconds() {
		t.Errorf("paused %v s in all, less than the one whole pause", got)
	}
}

// TestALongTurnYieldsAndPausesAtMostWait: a request of a client within its
// share that runs longer than the share yields from then on, and stops
// counting as one that others yield to; a yielding request pauses at most
// Wait in all; a mutation never pauses; a request whose context ended
// stops pausing.
func TestALongTurnYieldsAndPausesAtMostWait(t *testing.T) {
	ts := testTurns(Fair{Share: 5 * time.Millisecond, Wait: 3 * fairPause / 2})
	ctx := context.Background()
	// One pause is its longest: only an end, not a timer, lets the checks
	// below pass.
	ts.pause = time.Hour
	light := ts.begin("light")
	long := ts.begin("long")
	time.Sleep(20 * time.Millisecond)
	// Both have run longer than the share: the first to reach a point
	// yields to the other, which is within its share still.
	done := returns(func() { long.yield(ctx) })
	<-done
	if !long.yielding.Load() {
		t.Fatal("a request that ran 20 ms with a share of 5 ms does not yield")
	}
	if got := value(ts.m.turns.WithLabelValues("outgrew")); got != 1 {
		t.Errorf("turns that outgrew their share: %v, want 1", got)
	}
	// The other pauses nowhere: it has nobody within its share to wait
	// for once it yields itself.
	select {
	case <-returns(func() { light.yield(ctx) }):
	case <-time.After(10 * time.Second):
		t.Fatal("two requests that outgrew their share wait for each other")
	}
	if ts.running.Load() != 0 {
		t.Errorf("%d requests counted within their share after both outgrew it", ts.running.Load())
	}
	light.end()
	long.end()

	// Wait bounds a request's pauses in all.
	ts.over("busy", time.Second)
	within := ts.begin("someone")
	heavy := ts.begin("busy")
	start := time.Now()
	for range 10 {
		heavy.yield(ctx)
	}
	if took := time.Since(start); took < ts.Wait {
		t.Errorf("ten yields took %v, under Wait (%v), while a request within its share ran", took, ts.Wait)
	}
	select {
	case <-returns(func() { heavy.yield(ctx) }):
	case <-time.After(10 * time.Second):
		t.Fatal("a request that paused Wait in all pauses again")
	}
	heavy.end()

	// A mutation, which may hold locks, never pauses.
	mutation := ts.begin("busy")
	mutation.exempt.Store(true)
	if mutation.yields() {
		t.Error("a mutation's statements go to the pool of heavy reads")
	}
	select {
	case <-returns(func() { mutation.yield(ctx) }):
	case <-time.After(10 * time.Second):
		t.Fatal("a mutation paused")
	}
	mutation.end()

	within.end()

	// A request whose context ended stops pausing at once.
	ts = testTurns(Fair{Share: time.Millisecond, Wait: time.Hour})
	ts.pause = time.Hour
	ts.over("busy", time.Second)
	within = ts.begin("someone")
	ended, cancel := context.WithCancel(ctx)
	last := ts.begin("busy")
	paused := returns(func() { last.yield(ended) })
	cancel()
	select {
	case <-paused:
	case <-time.After(10 * time.Second):
		t.Error("a request whose context ended went on pausing")
	}
	last.end()
	within.end()
}

// TestBusyTimeDecaysAndIsSwept: a client's busy time decays by e each
// fairDecay; a client idle long enough is forgotten.
func TestBusyTimeDecaysAndIsSwept(t *testing.T) {
	now := time.Now()
	b := busyTime{secs: 1, at: now}
	if got := b.decayed(now.Add(fairDecay)); math.Abs(got-1/math.E) > 1e-9 {
		t.Errorf("after one time constant: %v, want 1/e", got)
	}
	if got := b.decayed(now); got != 1 {
		t.Errorf("at once: %v, want 1", got)
	}
	ts := testTurns(Fair{})
	ts.busy["gone"] = &busyTime{secs: 1, at: now.Add(-time.Hour)}
	ts.busy["here"] = &busyTime{secs: 1, at: now}
	ts.lastSweep = now.Add(-2 * time.Minute)
	ts.begin("another").end()
	if _, ok := ts.busy["gone"]; ok {
		t.Error("a client idle for an hour is still kept")
	}
	if _, ok := ts.busy["here"]; !ok {
		t.Error("a client busy a moment ago was forgotten")
	}
	// Requests that ran add their time, pauses left out.
	t1 := ts.begin("counted")
	time.Sleep(5 * time.Millisecond)
	t1.end()
	if got := ts.busy["counted"].secs; got < 0.005 {
		t.Errorf("a request of 5 ms added %v s", got)
	}
}

// TestYieldPointsReachTheTurn: budget.Yield, which the store and the
// traversal index call, reaches the turn set with budget.OnYield.
func TestYieldPointsReachTheTurn(t *testing.T) {
	ts := testTurns(Fair{Share: time.Millisecond, Wait: time.Minute})
	ts.over("busy", time.Second)
	ctx, stop := budget.Start(context.Background(), budget.Limits{})
	defer stop()
	heavy := ts.begin("busy")
	budget.OnYield(ctx, heavy.yield)
	within := ts.begin("light")
	paused := returns(func() { budget.Yield(ctx) })
	select {
	case <-paused:
		t.Fatal("budget.Yield did not pause a yielding request while another ran")
	case <-time.After(ts.pause / 2):
	}
	within.end()
	<-paused
	heavy.end()
}
