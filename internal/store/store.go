// Package store is everything that speaks SQL. It reads and writes the
// graph through pgx, owns transactions, and translates database errors into
// the domain errors of package kb; no pgx type leaves it.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// Store reads and writes the knowledge graph in PostgreSQL.
type Store struct {
	pool       *pgxpool.Pool
	aggregates *resultCache     // nil: no caching
	counts     *resultCache     // counterPlan's reads (CacheCounts); nil: none
	vocabulary *resultCache     // the vocabulary's ranges (CacheVocabulary); nil: none
	facets     *resultCache     // how many practices have each facet value, see facetPlan
	wide       *wideVerdicts    // the filters that match too many to list by ids, see idsUpTo
	replicas   *replicaSet      // nil: every read on the primary (replica.go)
	writers    writers          // the sessions that wrote lately (replica.go)
	listenURL  string           // empty: Listen through the pool (listen.go)
	probe      searchStatsCache // search_doc's statistics, for search probes (searchprobe.go)
	pagePlans  pagePlans        // the search pages' prepared statements (searchplan.go)
	// searchAhead is the hits of the search pages' last runs
	// (searchahead.go).
	searchAhead *searchAhead
	// serverPlans is set when the pool does not keep prepared statements
	// (any exec mode but cache_statement, as behind a PgBouncer older than
	// 1.21 in transaction mode): the hottest reads then go through PL/pgSQL
	// functions, whose plans the server sessions keep (entityRowsSQL).
	serverPlans bool
	// heavy is the pool of heavy requests' reads on the primary
	// (SetHeavyPool); nil: they share pool.
	heavy *pgxpool.Pool
}

// New returns a Store on pool. The caller keeps ownership of the pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, facets: &resultCache{ttl: facetStatsTTL, m: map[string]*cacheEntry{}}, wide: &wideVerdicts{},
		searchAhead: &searchAhead{},
		serverPlans: pool.Config().ConnConfig.DefaultQueryExecMode != pgx.QueryExecModeCacheStatement}
}

// SetHeavyPool sends the reads of heavy requests (WithHeavy) that go to
// the primary through pool, a small pool of their own: however many
// statements a heavy request's loaders have ready at once, no more than
// pool's connections run, and the other requests keep every connection of
// the API's pool (docs/api.md, "Heavy queries"). The caller keeps
// ownership of pool. Writes, and reads on replicas, are not affected.
func (s *Store) SetHeavyPool(pool *pgxpool.Pool) { s.heavy = pool }

// HeavyPoolStats returns a snapshot of the pool of heavy reads; false when
// there is none (or no store: the metrics of a server without one).
func (s *Store) HeavyPoolStats() (PoolStats, bool) {
	if s == nil || s.heavy == nil {
		return PoolStats{}, false
	}
	return poolStats(s.heavy), true
}

type heavyKey struct{}

// WithHeavy returns ctx whose reads are a heavy request's: they go through
// the pool of heavy reads (SetHeavyPool) when there is one.
func WithHeavy(ctx context.Context) context.Context {
	return context.WithValue(ctx, heavyKey{}, true)
}

// Demotable returns ctx whose reads become a heavy request's from the
// moment demote is called: the statements it starts after that go
// through the pool of heavy reads (SetHeavyPool), those running finish
// where they are. The server's gate demotes a light query that turned out
// heavy while it ran.
func Demotable(ctx context.Context) (_ context.Context, demote func()) {
	var heavy atomic.Bool
	return context.WithValue(ctx, heavyKey{}, &heavy), func() { heavy.Store(true) }
}

type yieldKey struct{}

// Yielding returns ctx whose reads go through the pool of heavy reads
// (SetHeavyPool) whenever yields reports true as they start: the server's
// fair turns send there the statements of a request that yields to other
// clients' while those run, so that it never takes their connections.
func Yielding(ctx context.Context, yields func() bool) context.Context {
	return context.WithValue(ctx, yieldKey{}, yields)
}

// primaryFor is the pool a read of ctx takes on the primary.
func (s *Store) primaryFor(ctx context.Context) querier {
	if s.heavy == nil {
		return s.pool
	}
	switch h := ctx.Value(heavyKey{}).(type) {
	case bool:
		return s.heavy
	case *atomic.Bool:
		if h.Load() {
			return s.heavy
		}
	}
	if y, ok := ctx.Value(yieldKey{}).(func() bool); ok && y() {
		return s.heavy
	}
	return s.pool
}

// Ping checks that the database answers. It returns kb.ErrUnavailable,
// wrapped, when it does not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %v", kb.ErrUnavailable, err) //nolint:errorlint // callers match kb.ErrUnavailable, never pgx's errors
	}
	return nil
}

// Visibility says which entries a reader may see. The zero value sees
// published entries only, as an anonymous reader does.
type Visibility struct {
	// Drafts lets staff see DRAFT and ARCHIVED entries too.
	Drafts bool
}

// DefaultPlanCacheMode is the plan_cache_mode partnergraph's pools set.
// Every statement is a prepared statement (pgx caches them per
// connection), and PostgreSQL plans a prepared statement afresh for its
// first five executions, then keeps a generic plan only if it does not
// look costlier than the custom ones. Nearly all of the store's
// statements pass that test; the per-entity lateral reads of links never
// do, so each of their executions was planned again, a 10-way join
// through entity_full included, and planning cost several times the
// execution. Generic plans cut PostgreSQL's CPU per request
// (docs/benchmarks.md, "Measurements behind the code").
const DefaultPlanCacheMode = "force_generic_plan"

// Public is the visibility of anonymous readers.
var Public = Visibility{}

// scrub removes from e what v may not see: people's contact details are
// for staff (the viewers who see drafts) only. Reads scrub in the store,
// so that no caller (a resolver, an export) can hand them out by mistake.
func (v Visibility) scrub(e *kb.Entity) *kb.Entity {
	if e != nil && e.Person != nil && !v.Drafts {
		p := *e.Person
		p.Email, p.Phone = "", ""
		e.Person = &p
	}
	return e
}

// statuses returns the publication statuses visible under v.
func (v Visibility) statuses() []string {
	if v.Drafts {
		return []string{string(kb.StatusDraft), string(kb.StatusPublished), string(kb.StatusArchived)}
	}
	return []string{string(kb.StatusPublished)}
}

// inTx runs fn in a transaction and commits it if fn returns nil. The
// transaction is rolled back on any error or panic.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return translate(err)
	}
	s.committed(ctx)
	return nil
}

// translate maps database errors to domain errors: no rows to
// kb.ErrNotFound, unique and exclusion violations to kb.ErrConflict, check
// and foreign-key violations to a *kb.ValidationError, a statement cut by
// statement_timeout to kb.ErrLimitExceeded, lost connections to
// kb.ErrUnavailable. Other errors pass through wrapped by the caller.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return kb.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505", "23P01": // unique_violation, exclusion_violation
			return fmt.Errorf("%w: %s", kb.ErrConflict, constraintMessage(pgErr))
		case "23503": // foreign_key_violation
			return &kb.ValidationError{Field: pgErr.ColumnName, Message: "refers to an entry that does not exist or is still referenced (" + pgErr.ConstraintName + ")"}
		case "23514", "23502", "22P02", "22001": // check, not null, invalid text, too long
			return &kb.ValidationError{Field: pgErr.ColumnName, Message: "breaks the rule " + pgErr.ConstraintName + ": " + pgErr.Message}
		case "22021": // character_not_in_repertoire: a NUL byte in text
			return &kb.ValidationError{Message: "contains a character that cannot be stored or searched (a NUL byte or invalid UTF-8)"}
		case "57014": // query_canceled: statement_timeout, the API's backstop to the request timeout
			return fmt.Errorf("%w: the database statement ran longer than its time limit (PARTNERGRAPH_DB_STATEMENT_TIMEOUT)", kb.ErrLimitExceeded)
		case "57P01", "57P02", "57P03", "08000", "08003", "08006": // shutdown, cannot connect, connection lost
			return fmt.Errorf("%w: %s", kb.ErrUnavailable, pgErr.Message)
		}
		return err
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) || pgconn.SafeToRetry(err) {
		return fmt.Errorf("%w: %v", kb.ErrUnavailable, err) //nolint:errorlint // callers match kb.ErrUnavailable, never pgx's errors
	}
	return err
}

func constraintMessage(e *pgconn.PgError) string {
	switch e.ConstraintName {
	case "entity_key_key":
		return "an entry with this key already exists"
	case "link_unique":
		return "a link of this type between these entries already exists"
	}
	return "duplicate of an existing entry (" + e.ConstraintName + ")"
}

// PoolStats is a snapshot of the connection pool, for metrics.
type PoolStats struct {
	Max, Total, Idle, Acquired int32
	// Acquires counts connections handed out; EmptyAcquires those that had
	// to wait for one; AcquireWait is the total time spent waiting.
	Acquires, EmptyAcquires int64
	AcquireWait             time.Duration
}

// PoolStats returns a snapshot of the connection pool.
func (s *Store) PoolStats() PoolStats { return poolStats(s.pool) }

func poolStats(p *pgxpool.Pool) PoolStats {
	st := p.Stat()
	return PoolStats{
		Max: st.MaxConns(), Total: st.TotalConns(), Idle: st.IdleConns(), Acquired: st.AcquiredConns(),
		Acquires: st.AcquireCount(), EmptyAcquires: st.EmptyAcquireCount(), AcquireWait: st.AcquireDuration(),
	}
}
