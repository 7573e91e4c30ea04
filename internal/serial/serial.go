// Package serial bounds how many resolvers of one request run at once.
//
// gqlgen runs the fields of an object, the elements of a list and the
// loaders' batches in goroutines of their own, so one request may take
// every core. A heavy query admitted by the server's gate (its estimated
// cost above PARTNERGRAPH_HEAVY_COST) runs with a Token of n slots in its
// context: every field takes a slot while its resolver runs (Run) and
// gives it back while it waits on a dataloader (Pause), so that the other
// fields of its level can add their keys to the same batch. What a holder
// may wait for (a loader's batch, a statement, a goroutine a resolver
// started) never needs a slot, so a request cannot deadlock on its own
// token; a field whose context already holds a slot (a resolver that runs
// gqlgen's marshalling of a selection itself) runs within that slot.
//
// A light query runs with a Deferred token: its resolvers run at once,
// only counted, until the gate finds that it turned out heavy while it
// ran (Bound); from then on its fields take slots as a heavy query's do,
// once the gate has admitted it.
package serial

import (
	"context"
	"sync"
	"sync/atomic"
)

// Token is the slots of one request.
type Token struct {
	slots chan struct{}

	// free is set while the token is not in force (Deferred, until
	// Bound): Run runs every resolver at once and only counts it.
	free     atomic.Bool
	begun    atomic.Int64 // resolvers run while free
	onFields *fieldWatch  // set before the request runs; nil: none
	// ready, once the token is bound, is closed when its slots may be
	// taken (nil: at once); set before free is cleared.
	ready <-chan struct{}

	mu     sync.Mutex
	stats  Stats
	active int // resolvers holding a slot
	inside int // resolvers begun and not done
}

// Stats is what a Token saw: for the log, and for the tests that check
// the bound.
type Stats struct {
	Fields     int // resolvers run under the token
	Pauses     int // waits on a loader with the slot given back
	Reentered  int // fields run within a slot their context held already
	MostAtOnce int // the most resolvers that held a slot at once
	// MostInside is the most resolvers begun and not done at once,
	// those waiting on a loader included: above MostAtOnce when the
	// fields of a level gathered at a loader while one held the slot.
	MostInside int
	// Unbounded is the resolvers begun while the token was not in force
	// (Deferred, before Bound), without a slot.
	Unbounded int
}

// fieldWatch calls fn once, when the resolvers begun while free reach at.
type fieldWatch struct {
	at int64
	fn func()
}

// hold is one field's claim on a slot.
type hold struct {
	t    *Token
	held bool // under t.mu
}

type tokenKey struct{}
type holdKey struct{}

// With returns ctx with a token of n slots (n ≥ 1).
func With(ctx context.Context, n int) (context.Context, *Token) {
	t := &Token{slots: make(chan struct{}, max(1, n))}
	return context.WithValue(ctx, tokenKey{}, t), t
}

// Deferred returns ctx with a token of n slots (n ≥ 1) that is not in
// force: Run runs every resolver at once, and only counts it, until
// Bound. fields > 0 has onFields called once, by the Run that begins the
// fields-th resolver while the token is not in force; it must not block.
func Deferred(ctx context.Context, n int, fields int64, onFields func()) (context.Context, *Token) {
	t := &Token{slots: make(chan struct{}, max(1, n))}
	t.free.Store(true)
	if fields > 0 && onFields != nil {
		t.onFields = &fieldWatch{at: fields, fn: onFields}
	}
	return context.WithValue(ctx, tokenKey{}, t), t
}

// Bound puts t in force: every resolver that Run begins from now on takes
// one of its slots, once ready is closed (nil: at once), or fails when
// its context ends first. Resolvers begun before finish without a slot.
// It returns false if t was in force already.
func (t *Token) Bound(ready <-chan struct{}) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.free.Load() {
		return false
	}
	t.ready = ready
	t.free.Store(false)
	return true
}

// Stats returns what t saw so far.
func (t *Token) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stats
	st.Unbounded = int(t.begun.Load())
	return st
}

// Run runs the resolver fn with a slot of the token of ctx, waiting for
// one, and returns its result; without a token it runs fn at once. It
// fails only when ctx ends while it waits.
func Run(ctx context.Context, fn func(context.Context) (any, error)) (any, error) {
	t, _ := ctx.Value(tokenKey{}).(*Token)
	if t == nil {
		return fn(ctx)
	}
	if t.free.Load() {
		if n := t.begun.Add(1); t.onFields != nil && n == t.onFields.at {
			t.onFields.fn()
		}
		return fn(ctx)
	}
	if h, _ := ctx.Value(holdKey{}).(*hold); h != nil && h.t == t && t.holding(h) {
		t.mu.Lock()
		t.stats.Reentered++
		t.mu.Unlock()
		return fn(ctx)
	}
	h := &hold{t: t}
	if err := t.acquire(ctx, h); err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.stats.Fields++
	t.inside++
	t.stats.MostInside = max(t.stats.MostInside, t.inside)
	t.mu.Unlock()
	defer func() {
		t.release(h)
		t.mu.Lock()
		t.inside--
		t.mu.Unlock()
	}()
	return fn(context.WithValue(ctx, holdKey{}, h))
}

// Pause gives back the slot the field of ctx holds, if it holds one, and
// returns the function that takes a slot again (waiting for one): around
// a wait on a dataloader.
func Pause(ctx context.Context) (resume func()) {
	h, _ := ctx.Value(holdKey{}).(*hold)
	if h == nil || !h.t.release(h) {
		return func() {}
	}
	h.t.mu.Lock()
	h.t.stats.Pauses++
	h.t.mu.Unlock()
	return func() {
		// Fails only when the request ended: the field then finishes
		// without a slot, and its release is a no-op.
		_ = h.t.acquire(ctx, h)
	}
}

func (t *Token) holding(h *hold) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return h.held
}

func (t *Token) acquire(ctx context.Context, h *hold) error {
	t.mu.Lock()
	ready := t.ready
	t.mu.Unlock()
	if ready != nil {
		select {
		case <-ready:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	t.mu.Lock()
	h.held = true
	t.active++
	t.stats.MostAtOnce = max(t.stats.MostAtOnce, t.active)
	t.mu.Unlock()
	return nil
}

// release gives back h's slot and reports whether it held one.
func (t *Token) release(h *hold) bool {
	t.mu.Lock()
	if !h.held {
		t.mu.Unlock()
		return false
	}
	h.held = false
	t.active--
	t.mu.Unlock()
	<-t.slots
	return true
}
