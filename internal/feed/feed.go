// Package feed fans the change feed of the database out to the
// subscribers of one server, and token changes (revocations, role changes)
// out to the server's open WebSockets. It LISTENs only while someone
// subscribes or watches, on one connection however many do; because
// PostgreSQL delivers a NOTIFY to every listening session, every server on
// the database sees every change, whichever server made it.
package feed

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/partnergraph/partnergraph/internal/store"
)

// Hub is the change feed of one server. The zero value is not usable: use New.
type Hub struct {
	st  *store.Store
	log *slog.Logger

	mu       sync.Mutex
	subs     map[int]chan store.Change
	watchers map[int]func(TokenEvent)
	follows  map[int]Follower
	next     int
	cancel   context.CancelFunc // stops the listener; nil when none runs
	ready    chan struct{}      // closed once the listener LISTENs
	// listening is true while the listener's LISTEN is in place, from
	// Listening to the failure of its connection (Lost).
	listening bool
}

// New returns a hub on st that logs listener failures to log.
func New(st *store.Store, log *slog.Logger) *Hub {
	return &Hub{st: st, log: log, subs: map[int]chan store.Change{}, watchers: map[int]func(TokenEvent){},
		follows: map[int]Follower{}}
}

// TokenEvent is a change of a token's state. Resync (TokenID 0) says the
// listener reconnected and notifications may have been lost in between: a
// watcher rechecks its token from the database.
type TokenEvent struct {
	store.TokenEvent
	Resync bool
}

// Buffer is how many changes a subscriber may fall behind before it is
// cut off (its channel closes), rather than slowing the others down.
const Buffer = 256

// Subscribe returns a channel of the changes committed from now until ctx
// ends, when the channel closes. It returns once the database listens, or
// an error when it cannot within a few seconds.
func (h *Hub) Subscribe(ctx context.Context) (<-chan store.Change, error) {
	ch := make(chan store.Change, Buffer)
	if err := h.join(ctx, func(id int) { h.subs[id] = ch }); err != nil {
		return nil, err
	}
	return ch, nil
}

// WatchTokens calls fn with every token change (and a resync after the
// listener reconnects) from now until ctx ends. fn runs on the listener's
// goroutine and must not block. It returns once the database listens, or
// an error when it cannot within a few seconds.
func (h *Hub) WatchTokens(ctx context.Context, fn func(TokenEvent)) error {
	return h.join(ctx, func(id int) { h.watchers[id] = fn })
}

// Follower is told of every change the database announces, for caches
// that must forget what a write anywhere (another server, the CLI) has
// made stale. Its functions run on the listener's goroutine and must not
// block.
type Follower struct {
	// Change is called with each change, right after its notification
	// arrives.
	Change func(store.Change)
	// Resync is called when the listener has reconnected: changes made
	// during the outage went unannounced.
	Resync func()
	// Listening is called whenever the listener's LISTEN is in place:
	// from Follow if it already is, else at the first LISTEN, and after
	// every reconnection (before Resync). Every change committed from
	// then on is announced to Change until Lost.
	Listening func()
	// Lost is called when the listener's connection fails: until the next
	// Listening, changes go unannounced.
	Lost func()
}

// Follow tells f of every change from now until ctx ends. Unlike
// Subscribe it does not wait for the listener: with the database down it
// returns at once and f hears from the first LISTEN on (and gets a Resync
// on every reconnection). Listening and Lost tell f when the listener
// starts and stops hearing.
func (h *Hub) Follow(ctx context.Context, f Follower) {
	h.mu.Lock()
	if h.cancel == nil {
		lctx, cancel := context.WithCancel(context.Background())
		h.cancel, h.ready, h.listening = cancel, make(chan struct{}), false
		go h.listen(lctx, h.ready)
	}
	id := h.next
	h.next++
	h.follows[id] = f
	if h.listening && f.Listening != nil {
		f.Listening()
	}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.unsubscribe(id)
	}()
}

// join registers a subscriber or watcher with add (under the lock),
// starts the listener if none runs, and waits until it listens; the
// registration ends with ctx.
func (h *Hub) join(ctx context.Context, add func(id int)) error {
	h.mu.Lock()
	if h.cancel == nil {
		lctx, cancel := context.WithCancel(context.Background())
		h.cancel, h.ready, h.listening = cancel, make(chan struct{}), false
		go h.listen(lctx, h.ready)
	}
	id, ready := h.next, h.ready
	h.next++
	add(id)
	h.mu.Unlock()

	select {
	case <-ready:
	case <-ctx.Done():
		h.unsubscribe(id)
		return ctx.Err()
	case <-time.After(5 * time.Second):
		h.unsubscribe(id)
		return errors.New("the change feed is not available")
	}
	go func() {
		<-ctx.Done()
		h.unsubscribe(id)
	}()
	return nil
}

func (h *Hub) unsubscribe(id int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch, ok := h.subs[id]; ok {
		delete(h.subs, id)
		close(ch)
	}
	delete(h.watchers, id)
	delete(h.follows, id)
	if len(h.subs) == 0 && len(h.watchers) == 0 && len(h.follows) == 0 && h.cancel != nil {
		h.cancel()
		h.cancel = nil
	}
}

// listen keeps a listener running until ctx ends, reconnecting after a
// failure.
func (h *Hub) listen(ctx context.Context, ready chan struct{}) {
	first := true
	for {
		err := h.st.Listen(ctx, store.Listener{
			Listening: func() {
				h.setListening(ready, true)
				if first {
					first = false
					close(ready)
					return
				}
				// Token changes during the outage were lost: recheck.
				h.tokenChanged(TokenEvent{Resync: true})
				h.resync()
			},
			Change: h.broadcast,
			Token:  func(t store.TokenEvent) { h.tokenChanged(TokenEvent{TokenEvent: t}) },
		})
		h.setListening(ready, false)
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("change feed listener failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// setListening records whether the LISTEN of the listener started with
// ready is in place and tells the followers when that changes. A listener
// stopped after its last subscriber left says nothing of the one started
// since.
func (h *Hub) setListening(ready chan struct{}, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ready != ready || h.listening == on {
		return
	}
	h.listening = on
	for _, f := range h.follows {
		if on && f.Listening != nil {
			f.Listening()
		} else if !on && f.Lost != nil {
			f.Lost()
		}
	}
}

func (h *Hub) broadcast(c store.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.follows {
		if f.Change != nil {
			f.Change(c)
		}
	}
	for id, ch := range h.subs {
		select {
		case ch <- c:
		default:
			h.log.Warn("change feed subscriber fell behind; closing it", "subscriber", id)
			delete(h.subs, id)
			close(ch)
		}
	}
}

func (h *Hub) tokenChanged(t TokenEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fn := range h.watchers {
		fn(t)
	}
}

func (h *Hub) resync() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.follows {
		if f.Resync != nil {
			f.Resync()
		}
	}
}
