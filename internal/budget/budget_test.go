package budget_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/kb"
)

func TestRowsPastTheLimitCancelTheRequest(t *testing.T) {
	ctx, stop := budget.Start(context.Background(), budget.Limits{MaxRows: 10})
	defer stop()
	if err := budget.Rows(ctx, 10); err != nil || ctx.Err() != nil {
		t.Fatalf("10 rows of 10: %v, ctx %v", err, ctx.Err())
	}
	err := budget.Rows(ctx, 1)
	var e *budget.Exceeded
	if !errors.As(err, &e) || e.Setting != "PARTNERGRAPH_MAX_ROWS" || !errors.Is(err, kb.ErrLimitExceeded) {
		t.Fatalf("11th row: %v, want an *Exceeded naming PARTNERGRAPH_MAX_ROWS", err)
	}
	if ctx.Err() == nil || budget.Stopped(ctx) != e {
		t.Errorf("after the limit: ctx.Err %v, Stopped %v; want cancelled by the same error", ctx.Err(), budget.Stopped(ctx))
	}
	// A later bytes limit does not replace the first cause.
	_ = budget.Bytes(ctx, 1<<40)
	if budget.Stopped(ctx) != e {
		t.Errorf("the cause changed to %v", budget.Stopped(ctx))
	}
}

func TestBytesAndTimeout(t *testing.T) {
	ctx, stop := budget.Start(context.Background(), budget.Limits{MaxResponseBytes: 100})
	if err := budget.Bytes(ctx, 101); budget.Stopped(ctx) == nil || budget.Stopped(ctx).Setting != "PARTNERGRAPH_MAX_RESPONSE_BYTES" {
		t.Errorf("101 bytes of 100: %v", err)
	}
	stop()

	ctx, stop = budget.Start(context.Background(), budget.Limits{Timeout: 20 * time.Millisecond})
	defer stop()
	<-ctx.Done()
	if e := budget.Stopped(ctx); e == nil || !e.Timeout || e.Setting != "PARTNERGRAPH_REQUEST_TIMEOUT" {
		t.Errorf("after the timeout: %v", e)
	}

	// No budget, no limits; a stopped request that ended normally is not
	// stopped by a limit.
	if err := budget.Rows(context.Background(), 1<<30); err != nil {
		t.Errorf("no budget: %v", err)
	}
	ctx, stop = budget.Start(context.Background(), budget.Limits{MaxRows: 5})
	stop()
	if budget.Stopped(ctx) != nil {
		t.Errorf("ended normally, Stopped = %v", budget.Stopped(ctx))
	}
}
