package pgtest

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// TripCounter is a pgx tracer (ConnConfig.Tracer) that counts the
// statements a pool sends, those of a batch or pipeline one by one, and
// its round trips: a statement on its own, or a batch.
type TripCounter struct{ Statements, Trips atomic.Int64 }

func (c *TripCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.Trips.Add(1)
	return ctx
}

func (c *TripCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	c.Statements.Add(1)
}

func (c *TripCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (c *TripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.Statements.Add(1)
	c.Trips.Add(1)
	return ctx
}

func (c *TripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// SQLTracer is a pgx tracer (ConnConfig.Tracer) that hands See the text
// of every statement a pool sends, those of a batch or pipeline one by
// one: a test counts the statements it cares about.
type SQLTracer struct{ See func(sql string) }

func (c SQLTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c SQLTracer) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.See(d.SQL)
}

func (c SQLTracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (c SQLTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.See(d.SQL)
	return ctx
}

func (c SQLTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
