package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// Reads may go to streaming replicas (docs/scaling.md). Which reads may is
// decided above the store, from the viewer of the request, and arrives
// through the context (WithRoute): the store only knows which replica has
// replayed how much of the primary's write-ahead log, and sends a read
// only to a replica that holds every write that read must see.

// LSN is a position in PostgreSQL's write-ahead log.
type LSN uint64

// ParseLSN reads an LSN as PostgreSQL prints it ("16/B374D848").
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("lsn %q: no slash", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("lsn %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("lsn %q: %w", s, err)
	}
	return LSN(h<<32 | l), nil
}

// String prints l as PostgreSQL does.
func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xffffffff) }

// Route says where the reads of a request may go. The zero value reads
// from the primary.
type Route struct {
	// Replica lets reads go to a replica that has replayed every write
	// the request must see; staff reads and writes leave it false.
	Replica bool
	// Session names the caller whose own writes its later reads must see
	// (an API token), on this instance: after a write, the session's reads
	// go only to replicas that have replayed it. Empty: anonymous.
	Session string
}

type routeKey struct{}

// WithRoute returns ctx whose reads follow r.
func WithRoute(ctx context.Context, r Route) context.Context {
	return context.WithValue(ctx, routeKey{}, r)
}

func routeOf(ctx context.Context) Route {
	r, _ := ctx.Value(routeKey{}).(Route)
	return r
}

// HeardSuffices reports whether a read of ctx needs to see only the
// commits its instance has heard of through the change feed, rather than
// every commit: so for anonymous and reader reads (Route.Replica), whose
// consistency is "a read that starts after the change's notification
// reached its instance never misses the change" (docs/scaling.md), unless
// the reader's own session wrote through this instance within pinTTL
// (read-your-writes, as the replica pins). Staff reads, and reads without
// a route (the CLI's, the tests'), must see every commit. A cache kept
// current by the feed (the traversal index) may answer the first without
// asking the database whether anything changed.
func (s *Store) HeardSuffices(ctx context.Context) bool {
	r := routeOf(ctx)
	return r.Replica && (r.Session == "" || !s.writers.wrote(r.Session, time.Now()))
}

// writers remembers which sessions committed a write through this
// instance within pinTTL, with or without replicas.
type writers struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (w *writers) record(session string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.at == nil {
		w.at = map[string]time.Time{}
	}
	for k, t := range w.at { // staff sessions: a handful
		if now.Sub(t) > pinTTL {
			delete(w.at, k)
		}
	}
	w.at[session] = now
}

func (w *writers) wrote(session string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.at[session]
	return ok && now.Sub(t) <= pinTTL
}

// ReplicaOptions tunes the replica set.
type ReplicaOptions struct {
	// MaxLag takes a replica out of rotation while it has not replayed
	// what the primary had written this long ago; 0 means 5 seconds.
	MaxLag time.Duration
	// CheckEvery is how often each database's position is read; 0 means
	// 200 ms, so that a replica that stops or falls behind leaves the
	// rotation well within a second.
	CheckEvery time.Duration
	// Logger receives a line whenever a replica leaves or rejoins.
	Logger *slog.Logger
}

// DatabaseState is what the store knows of one database, for /metrics and
// /readyz.
type DatabaseState struct {
	Name string `json:"name"` // "primary", "replica1", ...
	Role string `json:"role"` // "primary" or "replica"
	// State is "up", "down" (unreachable) or "lagging" (out of rotation
	// for lag); the primary is "up" or "down".
	State string `json:"state"`
	// LagSeconds bounds how old the replica's data is: it has replayed
	// everything the primary had written this long ago. 0 for the primary.
	LagSeconds float64 `json:"lagSeconds"`
	// LagBytes is how much of the primary's WAL it has yet to replay.
	LagBytes int64 `json:"lagBytes"`
	// Reads counts the statements it answered; Fallbacks (replicas only)
	// those that failed on it and were answered by the primary instead.
	Reads     int64 `json:"reads"`
	Fallbacks int64 `json:"fallbacks"`
}

// replica is one streaming replica.
type replica struct {
	name      string
	pool      *pgxpool.Pool
	up        atomic.Bool   // in rotation
	state     atomic.Value  // string: "up", "down", "lagging"
	replay    atomic.Uint64 // pg_last_wal_replay_lsn at the last check
	lagNanos  atomic.Int64
	lagBytes  atomic.Int64
	reads     atomic.Int64
	fallbacks atomic.Int64
}

// replicaSet routes reads among the replicas.
type replicaSet struct {
	opts     ReplicaOptions
	replicas []*replica
	next     atomic.Uint64 // round robin

	// floor is the WAL position every replica read must have: the latest
	// commit this instance made or heard of through the change feed.
	// heardPending counts notified commits whose position is still being
	// read from the primary, writesPending this instance's commits whose
	// position is; meanwhile replica reads go to the primary.
	floor         atomic.Uint64
	heardPending  atomic.Int64
	writesPending atomic.Int64

	mu   sync.Mutex
	pins map[string]pin // session → its last write
	// samples are the primary's recent flush positions, oldest first:
	// a replica that has replayed samples[i].lsn has every write the
	// primary had flushed at samples[i].at.
	samples []sample

	heard chan struct{} // ChangeHeard → followFloor

	primaryUp     atomic.Bool
	primaryReads  atomic.Int64
	primaryPolled atomic.Bool
}

type pin struct {
	lsn LSN
	at  time.Time
}

type sample struct {
	at  time.Time
	lsn LSN
}

// pinTTL bounds how long a session's write pins its reads: well past
// MaxLag, so a replica in rotation has replayed it by then anyway.
const pinTTL = time.Minute

// UseReplicas makes the store send the reads that WithRoute allows to the
// replicas of pools, named replica1, replica2, ... in that order. Run
// MonitorReplicas for as long as the store serves; until its first round,
// every replica is out of rotation.
func (s *Store) UseReplicas(pools []*pgxpool.Pool, opts ReplicaOptions) {
	if opts.MaxLag <= 0 {
		opts.MaxLag = 5 * time.Second
	}
	if opts.CheckEvery <= 0 {
		opts.CheckEvery = 200 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	rs := &replicaSet{opts: opts, pins: map[string]pin{}, heard: make(chan struct{}, 1)}
	for i, p := range pools {
		r := &replica{name: "replica" + strconv.Itoa(i+1), pool: p}
		r.state.Store("down")
		rs.replicas = append(rs.replicas, r)
	}
	rs.primaryUp.Store(true)
	s.replicas = rs
}

// MonitorReplicas reads the primary's and every replica's WAL position
// every CheckEvery until ctx ends, and takes a replica out of rotation
// when it does not answer or lags past MaxLag, and back when it is
// current again. Without replicas it returns at once.
func (s *Store) MonitorReplicas(ctx context.Context) {
	rs := s.replicas
	if rs == nil {
		return
	}
	go s.followFloor(ctx)
	t := time.NewTicker(rs.opts.CheckEvery)
	defer t.Stop()
	for {
		s.checkReplicas(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkReplicas is one round of MonitorReplicas.
func (s *Store) checkReplicas(ctx context.Context) {
	rs := s.replicas
	timeout := min(rs.opts.CheckEvery*2, time.Second)
	now := time.Now()
	var primary LSN
	pctx, cancel := context.WithTimeout(ctx, timeout)
	var text string
	err := s.pool.QueryRow(pctx, `SELECT pg_current_wal_flush_lsn()::text`).Scan(&text)
	cancel()
	if err == nil {
		primary, err = ParseLSN(text)
	}
	if ctx.Err() != nil {
		return
	}
	rs.primaryUp.Store(err == nil)
	rs.mu.Lock()
	if err == nil {
		rs.samples = append(rs.samples, sample{at: now, lsn: primary})
		// Keep what MaxLag needs, and a little more.
		cut := 0
		for cut < len(rs.samples)-1 && now.Sub(rs.samples[cut+1].at) > rs.opts.MaxLag*2 {
			cut++
		}
		rs.samples = rs.samples[cut:]
	}
	samples := append([]sample(nil), rs.samples...)
	rs.mu.Unlock()
	rs.dropOldPins(now)
	rs.primaryPolled.Store(true)

	var wg sync.WaitGroup
	for _, r := range rs.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			var text string
			err := r.pool.QueryRow(rctx, `SELECT CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_replay_lsn()::text, '') ELSE '' END`).Scan(&text)
			if ctx.Err() != nil {
				return
			}
			if err != nil || text == "" {
				// Unreachable, or no longer a standby (promoted): either
				// way not a replica to read from.
				rs.setState(r, "down", err)
				return
			}
			replay, err := ParseLSN(text)
			if err != nil {
				rs.setState(r, "down", err)
				return
			}
			r.replay.Store(uint64(replay))
			if len(samples) == 0 {
				// The primary is unreachable: judge by what we knew.
				if r.up.Load() {
					return
				}
				rs.setState(r, "up", nil)
				return
			}
			// The newest sample the replica has replayed says how old
			// its data is at most.
			lag := time.Duration(-1)
			for i := len(samples) - 1; i >= 0; i-- {
				if samples[i].lsn <= replay {
					lag = now.Sub(samples[i].at)
					if i == len(samples)-1 {
						lag = 0
					}
					break
				}
			}
			if lag < 0 { // behind every sample kept
				lag = now.Sub(samples[0].at)
			}
			r.lagNanos.Store(int64(lag))
			behind := int64(samples[len(samples)-1].lsn) - int64(replay)
			r.lagBytes.Store(max(behind, 0))
			if lag > rs.opts.MaxLag {
				rs.setState(r, "lagging", nil)
				return
			}
			rs.setState(r, "up", nil)
		}()
	}
	wg.Wait()
}

// setState records r's state and logs a change of it.
func (rs *replicaSet) setState(r *replica, state string, cause error) {
	old, _ := r.state.Swap(state).(string)
	r.up.Store(state == "up")
	if old == state {
		return
	}
	attrs := []any{"replica", r.name, "state", state, "was", old}
	if cause != nil {
		attrs = append(attrs, "err", cause)
	}
	if state == "up" {
		rs.opts.Logger.Info("replica in rotation", attrs...)
	} else {
		rs.opts.Logger.Warn("replica out of rotation", attrs...)
	}
}

// Databases returns the state of the primary and of each replica.
func (s *Store) Databases() []DatabaseState {
	primary := DatabaseState{Name: "primary", Role: "primary", State: "up"}
	rs := s.replicas
	if rs == nil {
		return []DatabaseState{primary}
	}
	if !rs.primaryUp.Load() {
		primary.State = "down"
	}
	primary.Reads = rs.primaryReads.Load()
	out := []DatabaseState{primary}
	for _, r := range rs.replicas {
		st, _ := r.state.Load().(string)
		out = append(out, DatabaseState{Name: r.name, Role: "replica", State: st,
			LagSeconds: time.Duration(r.lagNanos.Load()).Seconds(), LagBytes: r.lagBytes.Load(),
			Reads: r.reads.Load(), Fallbacks: r.fallbacks.Load()})
	}
	return out
}

// HasReplicas reports whether reads may go to replicas.
func (s *Store) HasReplicas() bool { return s != nil && s.replicas != nil }

// querier is what a read needs of a pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// read returns where a read of ctx goes: a replica in rotation that has
// replayed every write the read must see, else the primary.
func (s *Store) read(ctx context.Context) querier {
	if st := s.seatOf(ctx); st != nil {
		return st // in a pipeline of Together
	}
	// Before it takes a connection: a request that yields to other
	// clients' pauses here while they run (budget.Yield).
	budget.Yield(ctx)
	rs := s.replicas
	if rs == nil {
		return s.primaryFor(ctx)
	}
	route := routeOf(ctx)
	if !route.Replica {
		rs.primaryReads.Add(1)
		return s.primaryFor(ctx)
	}
	if rs.heardPending.Load() > 0 || rs.writesPending.Load() > 0 {
		rs.primaryReads.Add(1)
		return onPrimary{s: s}
	}
	need := LSN(rs.floor.Load())
	if route.Session != "" {
		rs.mu.Lock()
		p, ok := rs.pins[route.Session]
		rs.mu.Unlock()
		if ok && p.lsn > need {
			need = p.lsn
		}
	}
	n := len(rs.replicas)
	start := int(rs.next.Add(1) % uint64(n))
	for i := range n {
		r := rs.replicas[(start+i)%n]
		if r.up.Load() && LSN(r.replay.Load()) >= need {
			return onReplica{s: s, r: r}
		}
	}
	rs.primaryReads.Add(1)
	return onPrimary{s: s}
}

// committed records, after a write's commit, the primary's WAL position,
// which every later read of this instance and of the writing session
// must find replayed on a replica, and that the session wrote
// (HeardSuffices). It costs one query, and only with replicas.
func (s *Store) committed(ctx context.Context) {
	if session := routeOf(ctx).Session; session != "" {
		s.writers.record(session, time.Now())
	}
	rs := s.replicas
	if rs == nil {
		return
	}
	rs.writesPending.Add(1)
	defer rs.writesPending.Add(-1)
	lsn, err := s.insertLSN(context.WithoutCancel(ctx))
	rs.recordCommit(routeOf(ctx).Session, lsn, err)
}

// unknownLSN stands for the position of a commit that could not be read:
// no replica reaches it, so a read held to it goes to the primary.
const unknownLSN = LSN(1<<63 - 1)

// recordCommit raises the floor to lsn, the position of a commit of
// session (empty: a write without a token), and pins session's reads to
// it. When the position could not be read (err), only session is held
// on the primary, for pinTTL: raising the instance's floor to an unknown
// position would send every replica read to the primary until a restart.
// Other sessions lose nothing: the change feed's announcement of the
// commit raises the floor to a position read after it (followFloor).
func (rs *replicaSet) recordCommit(session string, lsn LSN, err error) {
	if err != nil {
		rs.opts.Logger.Warn("reading the commit's WAL position failed; the writing session reads from the primary for a while", "err", err)
		lsn = unknownLSN
	} else {
		rs.raiseFloor(lsn)
	}
	if session == "" {
		return
	}
	rs.mu.Lock()
	if p := rs.pins[session]; p.lsn < lsn || err != nil {
		rs.pins[session] = pin{lsn: lsn, at: time.Now()}
	}
	rs.mu.Unlock()
}

// insertLSN returns the end of what the primary's WAL holds now. Right
// after a page header it returns the position before the header, which is
// where a replica's replay position stops when the last record ends on
// the page boundary.
func (s *Store) insertLSN(ctx context.Context) (LSN, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var text string
	if err := s.pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&text); err != nil {
		return 0, err
	}
	lsn, err := ParseLSN(text)
	if err != nil {
		return 0, err
	}
	const page, segment, short, long = 8192, 16 << 20, 24, 40
	switch {
	case lsn%segment == long:
		lsn -= long
	case lsn%page == short:
		lsn -= short
	}
	return lsn, nil
}

// dropOldPins forgets the sessions' writes older than pinTTL at now.
func (rs *replicaSet) dropOldPins(now time.Time) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for k, p := range rs.pins {
		if now.Sub(p.at) > pinTTL {
			delete(rs.pins, k)
		}
	}
}

func (rs *replicaSet) raiseFloor(lsn LSN) {
	for {
		old := rs.floor.Load()
		if uint64(lsn) <= old || rs.floor.CompareAndSwap(old, uint64(lsn)) {
			return
		}
	}
}

// ChangeHeard tells the store that the change feed announced a commit
// (made by any instance, or by the CLI): until the replicas have replayed
// it, replica reads go to the primary, so that no read that starts after
// the announcement misses the change. It does not block: the primary's
// position is read by MonitorReplicas's goroutine, once for all the
// announcements that arrived meanwhile.
func (s *Store) ChangeHeard() {
	rs := s.replicas
	if rs == nil {
		return
	}
	rs.heardPending.Add(1)
	select {
	case rs.heard <- struct{}{}:
	default: // a read of the position is already due
	}
}

// followFloor raises the floor for the announcements ChangeHeard counted,
// until ctx ends.
func (s *Store) followFloor(ctx context.Context) {
	rs := s.replicas
	for {
		select {
		case <-ctx.Done():
			return
		case <-rs.heard:
		}
		for {
			// Every announcement counted now arrived before this read of
			// the position, so the position covers its commit.
			n := rs.heardPending.Load()
			lsn, err := s.insertLSN(ctx)
			if err == nil {
				rs.raiseFloor(lsn)
				rs.heardPending.Add(-n)
				break
			}
			select { // the primary is away: replica reads wait on it
			case <-ctx.Done():
				return
			case <-time.After(rs.opts.CheckEvery):
			}
		}
	}
}

// onReplica reads from a replica, and from the primary when the replica
// fails in a way the primary would not: gone, shutting down, or a query
// cancelled by a recovery conflict.
type onReplica struct {
	s *Store
	r *replica
}

func (o onReplica) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	o.r.reads.Add(1)
	rows, err := o.r.pool.Query(ctx, sql, args...)
	if err != nil {
		if o.fallBack(ctx, err) {
			return o.s.pool.Query(ctx, sql, args...)
		}
		return nil, err
	}
	b, err := buffer(rows)
	if err != nil {
		if o.fallBack(ctx, err) {
			return o.s.pool.Query(ctx, sql, args...)
		}
		return nil, err
	}
	return b, nil
}

// SendBatch sends b to the replica and reads every statement's rows
// whole, as Query does one statement's, so that a replica that fails
// sends the whole batch to the primary; the callbacks of b's statements
// (QueuedQuery.Fn) run on the rows read, when the results are closed.
// A pipeline of Together and a search's batches so take one round trip on
// a replica as on the primary.
func (o onReplica) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	o.r.reads.Add(1)
	got, err := sendWhole(ctx, o.r.pool, b)
	if err != nil && o.fallBack(ctx, err) {
		return o.s.pool.SendBatch(ctx, b)
	}
	return got
}

// sendWhole sends b's statements to p and reads their results whole
// (bufferBatch), keeping b's callbacks for the results' Close; the error
// is the first met.
func sendWhole(ctx context.Context, p *pgxpool.Pool, b *pgx.Batch) (*bufferedBatch, error) {
	plain := &pgx.Batch{}
	fns := make([]func(pgx.BatchResults) error, len(b.QueuedQueries))
	for i, qq := range b.QueuedQueries {
		plain.Queue(qq.SQL, qq.Arguments...)
		fns[i] = qq.Fn
	}
	got, err := bufferBatch(p.SendBatch(ctx, plain), len(fns))
	got.fns = fns
	return got, err
}

func (o onReplica) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	o.r.reads.Add(1)
	return fallbackRow{row: o.r.pool.QueryRow(ctx, sql, args...), o: o, ctx: ctx, sql: sql, args: args}
}

// fallBack reports whether a read that failed on the replica with err
// should be retried on the primary, and takes a replica that went away
// out of rotation until the monitor finds it back.
func (o onReplica) fallBack(ctx context.Context, err error) bool {
	if ctx.Err() != nil || err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.Is(err, kb.ErrUnavailable) {
		// Already translated (a pipeline's reads): gone, shutting down,
		// cannot connect.
		o.s.replicas.setState(o.r, "down", err)
	} else if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03",
			pgErr.Code == "53300": // connection lost, shut down, starting, too many connections
			o.s.replicas.setState(o.r, "down", err)
		case pgErr.Code == "40001": // canceled by a conflict with recovery: the primary has none
		default:
			return false // the query's own error: the primary would give it too
		}
	} else if !isConnError(err) {
		return false
	} else {
		o.s.replicas.setState(o.r, "down", err)
	}
	o.r.fallbacks.Add(1)
	o.s.replicas.primaryReads.Add(1)
	return true
}

// onPrimary reads a replica-routed read (an anonymous or reader one)
// from the primary, because no replica has replayed what it must see;
// when the primary is lost (gone, shutting down, its connections cut) it
// reads a replica in rotation instead, whatever it has replayed. While the
// primary is away nothing newer can be read anywhere, and its writes that
// no replica received are lost with it: the replica is as current as the
// surviving data, where the primary would answer UNAVAILABLE
// (docs/scaling.md, "Failures"). Staff reads stay on the primary.
type onPrimary struct {
	s *Store
}

func (o onPrimary) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := o.s.pool.Query(ctx, sql, args...)
	if err == nil {
		var b *bufferedRows
		if b, err = buffer(rows); err == nil {
			return b, nil
		}
	}
	if r := o.standIn(ctx, err); r != nil {
		return r.pool.Query(ctx, sql, args...)
	}
	return nil, err
}

// SendBatch is onReplica.SendBatch the other way round: b goes to the
// primary, read whole, and to a replica in rotation when the primary is
// lost.
func (o onPrimary) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	got, err := sendWhole(ctx, o.s.pool, b)
	if r := o.standIn(ctx, err); r != nil {
		return r.pool.SendBatch(ctx, b)
	}
	return got
}

func (o onPrimary) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return primaryRow{row: o.s.pool.QueryRow(ctx, sql, args...), o: o, ctx: ctx, sql: sql, args: args}
}

// standIn returns the replica to read instead of the primary that failed
// with err, or nil when err is the query's own or no replica is in
// rotation.
func (o onPrimary) standIn(ctx context.Context, err error) *replica {
	if ctx.Err() != nil || err == nil || !serverLost(err) {
		return nil
	}
	rs := o.s.replicas
	n := len(rs.replicas)
	start := int(rs.next.Add(1) % uint64(n))
	for i := range n {
		if r := rs.replicas[(start+i)%n]; r.up.Load() {
			r.reads.Add(1)
			return r
		}
	}
	return nil
}

type primaryRow struct {
	row  pgx.Row
	o    onPrimary
	ctx  context.Context
	sql  string
	args []any
}

func (p primaryRow) Scan(dest ...any) error {
	err := p.row.Scan(dest...)
	if r := p.o.standIn(p.ctx, err); r != nil {
		return r.pool.QueryRow(p.ctx, p.sql, p.args...).Scan(dest...)
	}
	return err
}

// serverLost reports whether err says the server went away or cannot be
// reached (connection lost, shut down, starting, too many connections),
// rather than that the query failed.
func serverLost(err error) bool {
	if errors.Is(err, kb.ErrUnavailable) { // already translated
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	return isConnError(err)
}

// isConnError reports whether err says the connection, not the query,
// failed.
func isConnError(err error) bool {
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) || pgconn.SafeToRetry(err) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "unexpected EOF") ||
		strings.Contains(err.Error(), "closed pool")
}

// bufferedRows holds a replica's whole answer, read before the first row
// is handed out: a replica that goes away halfway through a result (a
// fast shutdown cuts its sessions at once) then costs a retry on the
// primary, not an error, since nothing of it reached the caller. The
// store's reads are pages and batches of bounded size; exports stream
// from the primary's pool of their own.
type bufferedRows struct {
	fields  []pgconn.FieldDescription
	rows    [][][]byte
	i       int
	tag     pgconn.CommandTag
	typeMap *pgtype.Map
	closed  bool
	err     error // the statement's, for a batch's statement that failed
}

// buffer reads rows to the end into a bufferedRows.
func buffer(rows pgx.Rows) (*bufferedRows, error) {
	defer rows.Close()
	b := &bufferedRows{i: -1}
	b.fields = append(b.fields, rows.FieldDescriptions()...)
	for rows.Next() {
		raw := rows.RawValues()
		row := make([][]byte, len(raw))
		for k, v := range raw {
			if v != nil {
				row[k] = append(make([]byte, 0, len(v)), v...)
			}
		}
		b.rows = append(b.rows, row)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	b.tag = rows.CommandTag()
	// The connection's own map may be in use by its next borrower; a map
	// of our own decodes what it sent (binary for the types pgx knows,
	// text for the rest, such as enums).
	b.typeMap = pgtype.NewMap()
	return b, nil
}

// bufferedBatch is the results of a batch read whole (onReplica.SendBatch):
// each statement's rows or error, in order, and the statements'
// callbacks, which Close runs on those not yet read, as pgx's does.
type bufferedBatch struct {
	rows []*bufferedRows
	fns  []func(pgx.BatchResults) error
	i    int
	err  error // the first error met, which Close returns
}

// bufferBatch reads the n statements' results of br whole, and returns
// them with the first error met (a statement's, or the batch's).
func bufferBatch(br pgx.BatchResults, n int) (*bufferedBatch, error) {
	bb := &bufferedBatch{rows: make([]*bufferedRows, n)}
	var first error
	for i := range n {
		rows, err := br.Query()
		var b *bufferedRows
		if err == nil {
			b, err = buffer(rows)
		} else if rows != nil {
			rows.Close()
		}
		if err != nil {
			b = &bufferedRows{i: -1, closed: true, err: err}
			if first == nil {
				first = err
			}
		}
		bb.rows[i] = b
	}
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	return bb, first
}

// next returns the next statement's rows, or its error.
func (bb *bufferedBatch) next() (*bufferedRows, error) {
	if bb.i >= len(bb.rows) {
		err := errors.New("store: no more results in the batch")
		return &bufferedRows{i: -1, closed: true, err: err}, err
	}
	r := bb.rows[bb.i]
	bb.i++
	if r.err != nil && bb.err == nil {
		bb.err = r.err // as pgx's, Close returns it
	}
	return r, r.err
}

func (bb *bufferedBatch) Query() (pgx.Rows, error) { return bb.next() }

func (bb *bufferedBatch) Exec() (pgconn.CommandTag, error) {
	r, err := bb.next()
	return r.tag, err
}

func (bb *bufferedBatch) QueryRow() pgx.Row {
	rows, err := bb.next()
	return seatRow{rows: rows, err: err}
}

// Tx is nil: the batches sent to a replica begin no transaction.
func (bb *bufferedBatch) Tx() pgx.Tx { return nil }

// Close runs the callbacks of the statements not yet read, in order, up
// to the first error, and returns it, as pgx's batch results do.
func (bb *bufferedBatch) Close() error {
	for bb.err == nil && bb.i < len(bb.rows) {
		at := bb.i
		var err error
		if fn := bb.fns[at]; fn != nil {
			err = fn(bb)
		} else {
			_, err = bb.Exec()
		}
		if bb.i == at { // a callback that read nothing
			bb.i++
		}
		if err != nil && bb.err == nil {
			bb.err = err
		}
	}
	return bb.err
}

func (b *bufferedRows) Close()                                       { b.closed = true }
func (b *bufferedRows) Err() error                                   { return b.err }
func (b *bufferedRows) CommandTag() pgconn.CommandTag                { return b.tag }
func (b *bufferedRows) FieldDescriptions() []pgconn.FieldDescription { return b.fields }
func (b *bufferedRows) Conn() *pgx.Conn                              { return nil }
func (b *bufferedRows) TypeMap() *pgtype.Map                         { return b.typeMap }

func (b *bufferedRows) Next() bool {
	if b.closed || b.i+1 >= len(b.rows) {
		b.closed = true
		return false
	}
	b.i++
	return true
}

func (b *bufferedRows) RawValues() [][]byte { return b.rows[b.i] }

func (b *bufferedRows) Scan(dest ...any) error {
	row := b.rows[b.i]
	if len(dest) != len(row) {
		return fmt.Errorf("number of field descriptions must equal number of destinations, got %d and %d", len(row), len(dest))
	}
	for k, d := range dest {
		if d == nil {
			continue
		}
		if err := b.typeMap.Scan(b.fields[k].DataTypeOID, b.fields[k].Format, row[k], d); err != nil {
			return pgx.ScanArgError{ColumnIndex: k, FieldName: b.fields[k].Name, Err: err}
		}
	}
	return nil
}

func (b *bufferedRows) Values() ([]any, error) {
	row := b.rows[b.i]
	out := make([]any, len(row))
	for k, v := range row {
		if v == nil {
			continue
		}
		dt, ok := b.typeMap.TypeForOID(b.fields[k].DataTypeOID)
		if !ok {
			out[k] = string(v)
			continue
		}
		val, err := dt.Codec.DecodeValue(b.typeMap, b.fields[k].DataTypeOID, b.fields[k].Format, v)
		if err != nil {
			return nil, err
		}
		out[k] = val
	}
	return out, nil
}

type fallbackRow struct {
	row  pgx.Row
	o    onReplica
	ctx  context.Context
	sql  string
	args []any
}

func (f fallbackRow) Scan(dest ...any) error {
	err := f.row.Scan(dest...)
	if err != nil && f.o.fallBack(f.ctx, err) {
		return f.o.s.pool.QueryRow(f.ctx, f.sql, f.args...).Scan(dest...)
	}
	return err
}
