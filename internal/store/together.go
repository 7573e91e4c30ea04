package store

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Together runs fns side by side, each with a context under which the
// first statement it reads through the store goes to PostgreSQL in one
// pipeline with the first statements of the others: one round trip for
// all of them, where each went on its own. Behind PgBouncer every round
// trip costs it, the API and PostgreSQL a message each way
// (docs/scaling.md, "Round trips"); the pages and counts of one level of
// a request (the loaders' batches) and a root page with its count are
// such reads. A fn's later statements go on their own, as do those of a
// read that the pipeline does not take (one with its own protocol, such
// as a name filter's, Filter.execMode). Where reads of ctx are routed to
// replicas, the pipeline goes to the replica or the primary the route
// names, its results read whole before they are handed out
// (onReplica.SendBatch, onPrimary.SendBatch), so that when that database
// fails the pipeline goes to the other; inside a transaction the fns run
// one after the other, as they would without it.
//
// It returns the error of each fn, in the order of fns. A statement that
// fails fails those queued after it in the pipeline (PostgreSQL skips
// them), so their fns return errors too.
func (s *Store) Together(ctx context.Context, fns ...func(context.Context) error) []error {
	errs := make([]error, len(fns))
	pool, ok := s.read(ctx).(batchQuerier)
	if !ok || len(fns) < 2 {
		for i, f := range fns {
			errs[i] = f(ctx)
		}
		return errs
	}
	p := &pipe{s: s, pool: pool, left: len(fns), all: make(chan struct{})}
	var wg sync.WaitGroup
	for i, f := range fns {
		st := &seat{p: p, got: make(chan seatResult, 1), done: make(chan struct{})}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer st.leave()
			errs[i] = f(context.WithValue(ctx, seatKey{}, st))
		}()
	}
	p.run(ctx)
	wg.Wait()
	return errs
}

type seatKey struct{}

// seatOf returns the seat in a pipeline that ctx's next read of s takes,
// if any: none once it has taken it.
func (s *Store) seatOf(ctx context.Context) *seat {
	st, ok := ctx.Value(seatKey{}).(*seat)
	if !ok || st.p.s != s {
		return nil
	}
	st.p.mu.Lock()
	defer st.p.mu.Unlock()
	if st.state != seatWaiting {
		return nil
	}
	return st
}

// batchQuerier is where a read of Together's pipeline goes: a pool of
// the primary's, or a replica-routed read's database (onReplica,
// onPrimary, which read their results whole).
type batchQuerier interface {
	querier
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// pipe is one pipeline of Together.
type pipe struct {
	s    *Store
	pool batchQuerier

	mu    sync.Mutex
	left  int           // fns that have neither queued a statement nor returned
	queue []*seat       // in the order they queued
	all   chan struct{} // closed when left reaches 0
}

// seat is one fn's place in a pipe.
type seat struct {
	p     *pipe
	state int // seatWaiting, seatQueued or seatLeft, under p.mu
	sql   string
	args  []any
	got   chan seatResult
	done  chan struct{} // closed when its rows are read, or its fn returned
	once  sync.Once
	rows  pgx.Rows
}

const (
	seatWaiting = iota
	seatQueued
	seatLeft
)

type seatResult struct {
	rows pgx.Rows
	err  error
}

// run waits until every fn has queued its statement or returned, sends
// the statements, and hands each fn its rows in the order queued, the
// next once the last are read.
func (p *pipe) run(ctx context.Context) {
	<-p.all
	switch len(p.queue) {
	case 0:
		return
	case 1:
		st := p.queue[0]
		rows, err := p.pool.Query(ctx, st.sql, st.args...)
		st.got <- seatResult{rows, err}
		<-st.done
		return
	}
	b := &pgx.Batch{}
	for _, st := range p.queue {
		b.Queue(st.sql, st.args...)
	}
	br := p.pool.SendBatch(ctx, b)
	for _, st := range p.queue {
		rows, err := br.Query()
		st.got <- seatResult{rows, err}
		<-st.done
	}
	_ = br.Close() // each fn has had its statement's error
}

// leave marks the fn of st returned: it queued nothing, or has read its
// rows (closed here if it left them open).
func (st *seat) leave() {
	p := st.p
	p.mu.Lock()
	if st.state == seatWaiting {
		st.state = seatLeft
		p.left--
		if p.left == 0 {
			close(p.all)
		}
	}
	p.mu.Unlock()
	st.finish()
}

// finish closes the rows handed to st, if any, and lets the pipe go on.
func (st *seat) finish() {
	st.once.Do(func() {
		if st.rows != nil {
			st.rows.Close()
		}
		close(st.done)
	})
}

// Query queues sql in the pipeline and returns its rows once the pipeline
// is sent and the rows of the statements queued before it are read. A
// statement whose arguments start with a protocol option goes on its own.
func (st *seat) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if len(args) > 0 {
		switch args[0].(type) {
		case pgx.QueryExecMode, pgx.QueryResultFormats, pgx.QueryResultFormatsByOID, pgx.QueryRewriter:
			st.leave()
			return st.p.pool.Query(ctx, sql, args...)
		}
	}
	p := st.p
	p.mu.Lock()
	if st.state != seatWaiting {
		p.mu.Unlock()
		return p.pool.Query(ctx, sql, args...)
	}
	st.state, st.sql, st.args = seatQueued, sql, args
	p.queue = append(p.queue, st)
	p.left--
	if p.left == 0 {
		close(p.all)
	}
	p.mu.Unlock()
	r := <-st.got
	if r.err != nil {
		if r.rows != nil {
			st.rows = r.rows
		}
		st.finish()
		return nil, r.err
	}
	st.rows = r.rows
	return &seatRows{Rows: r.rows, st: st}, nil
}

// QueryRow is Query for one row, as pgx's.
func (st *seat) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := st.Query(ctx, sql, args...)
	return seatRow{rows: rows, err: err}
}

// seatRows are a statement's rows of a pipeline: reading them to their
// end, or closing them, lets the pipeline hand out the next statement's.
type seatRows struct {
	pgx.Rows
	st *seat
}

func (r *seatRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.st.finish()
	return false
}

func (r *seatRows) Close() {
	r.Rows.Close()
	r.st.finish()
}

// seatRow is QueryRow's row.
type seatRow struct {
	rows pgx.Rows
	err  error
}

func (r seatRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
