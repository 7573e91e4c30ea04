// Package budget bounds what one request may cost while it runs: how many
// rows it reads from the database, how many bytes its answer holds, and
// how long it takes. The server starts a budget per request (Start); the
// store charges the rows it scans (Rows) and the GraphQL layer the answer's
// size (Bytes). The first charge past a limit, or the deadline, cancels the
// request's context with an *Exceeded as its cause, so that pgx cancels the
// running statements and the remaining resolvers stop (docs/api.md,
// "Limits").
package budget

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// Limits are the bounds of one request. A value of 0 or less turns a
// bound off.
type Limits struct {
	// MaxRows caps the rows the request reads (PARTNERGRAPH_MAX_ROWS).
	MaxRows int64
	// MaxResponseBytes caps the size of the answer, as its fields resolve
	// (PARTNERGRAPH_MAX_RESPONSE_BYTES).
	MaxResponseBytes int64
	// Timeout caps the time the request runs (PARTNERGRAPH_REQUEST_TIMEOUT).
	Timeout time.Duration
}

// Exceeded is the error, and the cancellation cause, of a request stopped
// by one of its limits. It matches kb.ErrLimitExceeded.
type Exceeded struct {
	// Setting names the limit's setting, e.g. PARTNERGRAPH_MAX_ROWS.
	Setting string
	// Timeout is true when the request ran out of time.
	Timeout bool
	// RetryAfter, in seconds, is set when the request was refused for the
	// server's load rather than for what it asks (Refuse): the same request
	// may pass later.
	RetryAfter int
	msg        string
}

func (e *Exceeded) Error() string { return e.msg }

// Unwrap makes errors.Is(err, kb.ErrLimitExceeded) hold.
func (e *Exceeded) Unwrap() error { return kb.ErrLimitExceeded }

// Budget is the running account of one request.
type Budget struct {
	limits Limits
	rows   atomic.Int64
	bytes  atomic.Int64
	cancel context.CancelCauseFunc
	// past is the watch of rows set by OnRows; nil: none.
	past atomic.Pointer[watch]
	// pause is the request's pause point set by OnYield; nil: none.
	pause atomic.Pointer[func(context.Context)]
}

// watch calls fn once, when the rows read reach at.
type watch struct {
	at    int64
	fn    func()
	fired atomic.Bool
}

type key struct{}

// Start returns a context that carries a budget with limits l and ends when
// the request must stop: at l.Timeout, at the first charge past a limit,
// or when stop is called (the caller must call it when the request ends).
func Start(ctx context.Context, l Limits) (_ context.Context, stop func()) {
	b := &Budget{limits: l}
	ctx, b.cancel = context.WithCancelCause(ctx)
	stop = func() { b.cancel(nil) }
	if l.Timeout > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeoutCause(ctx, l.Timeout, &Exceeded{Setting: "PARTNERGRAPH_REQUEST_TIMEOUT", Timeout: true,
			msg: fmt.Sprintf("the request ran longer than the limit of %s (PARTNERGRAPH_REQUEST_TIMEOUT) and was stopped", l.Timeout)})
		stop = func() { cancelTimeout(); b.cancel(nil) }
	}
	return context.WithValue(ctx, key{}, b), stop
}

// Stopped returns the limit that stopped the request in ctx, or nil while
// it runs within its budget (or has none).
func Stopped(ctx context.Context) *Exceeded {
	var e *Exceeded
	if errors.As(context.Cause(ctx), &e) {
		return e
	}
	return nil
}

// Rows charges n rows read to the budget in ctx. Past the limit it cancels
// the request and returns the *Exceeded; it returns nil when ctx has no
// budget.
func Rows(ctx context.Context, n int) error {
	b, _ := ctx.Value(key{}).(*Budget)
	if b == nil {
		return nil
	}
	read := b.rows.Add(int64(n))
	if w := b.past.Load(); w != nil && read >= w.at && w.fired.CompareAndSwap(false, true) {
		w.fn()
	}
	if b.limits.MaxRows > 0 && read > b.limits.MaxRows {
		return b.exceed(&Exceeded{Setting: "PARTNERGRAPH_MAX_ROWS",
			msg: fmt.Sprintf("the request read more than the limit of %d rows (PARTNERGRAPH_MAX_ROWS) and was stopped; ask for smaller pages or fewer nested lists", b.limits.MaxRows)})
	}
	return nil
}

// RowsRead returns the rows charged so far to the budget in ctx (0
// without one).
func RowsRead(ctx context.Context) int64 {
	if b, _ := ctx.Value(key{}).(*Budget); b != nil {
		return b.rows.Load()
	}
	return 0
}

// OnRows has fn called once, by the charge (Rows) that brings the rows
// read by the request in ctx to at least n: the server's heavy-query gate
// demotes a request that turns out heavy while it runs. fn runs inside
// the store's scan of a row, so it must not block. It replaces an earlier
// OnRows of the same request, and does nothing without a budget in ctx
// or for n ≤ 0.
func OnRows(ctx context.Context, n int64, fn func()) {
	if b, _ := ctx.Value(key{}).(*Budget); b != nil && n > 0 {
		b.past.Store(&watch{at: n, fn: fn})
	}
}

// Bytes charges n bytes of answer to the budget in ctx, as Rows does rows.
func Bytes(ctx context.Context, n int) error {
	b, _ := ctx.Value(key{}).(*Budget)
	if b == nil || b.limits.MaxResponseBytes <= 0 {
		return nil
	}
	if b.bytes.Add(int64(n)) > b.limits.MaxResponseBytes {
		return b.exceed(&Exceeded{Setting: "PARTNERGRAPH_MAX_RESPONSE_BYTES",
			msg: fmt.Sprintf("the answer grew past the limit of %d bytes (PARTNERGRAPH_MAX_RESPONSE_BYTES) and the request was stopped; ask for smaller pages or fewer fields", b.limits.MaxResponseBytes)})
	}
	return nil
}

// Refuse stops the request in ctx before it runs, for the server's load
// (the admission gate of heavy requests): its context ends with an
// *Exceeded naming setting, with msg and retryAfter (seconds), so that
// nothing of it starts. Without a budget in ctx it only returns the error.
func Refuse(ctx context.Context, setting, msg string, retryAfter int) *Exceeded {
	e := &Exceeded{Setting: setting, RetryAfter: retryAfter, msg: msg}
	if b, _ := ctx.Value(key{}).(*Budget); b != nil {
		b.cancel(e)
		if got := Stopped(ctx); got != nil {
			return got
		}
	}
	return e
}

// exceed cancels the request with e, unless another limit came first, and
// returns the cause that stopped it.
func (b *Budget) exceed(e *Exceeded) error {
	b.cancel(e)
	return e
}

// OnYield sets fn as the pause point of the request in ctx: Yield calls
// it. The server's fair turns pause there a request that yields to other
// clients' requests (docs/api.md, "Fair turns"). It does nothing without a
// budget in ctx.
func OnYield(ctx context.Context, fn func(context.Context)) {
	if b, _ := ctx.Value(key{}).(*Budget); b != nil {
		b.pause.Store(&fn)
	}
}

// Yield lets the request in ctx pause for others at a point where it holds
// nothing they need: before a resolver, or a level of a walk through the
// traversal index. It returns at once when the request has no pause point
// (OnYield) or need not pause.
func Yield(ctx context.Context) {
	if b, _ := ctx.Value(key{}).(*Budget); b != nil {
		if fn := b.pause.Load(); fn != nil {
			(*fn)(ctx)
		}
	}
}
