package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// wideTTL is how long a Store remembers that a filter's own condition
// matched too many entities to list them by their ids (idsUpTo): it
// decides a plan, not an answer, so it may lag writes.
const wideTTL = 10 * time.Second

// wideVerdicts are the statements of idsUpTo that found at least their
// limit of ids, by key, with the time until which that is taken for true.
type wideVerdicts struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (w *wideVerdicts) known(key string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	until, ok := w.m[key]
	return ok && now.Before(until)
}

func (w *wideVerdicts) remember(key string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil || len(w.m) > 1000 { // a bound, not an eviction policy
		w.m = map[string]time.Time{}
	}
	w.m[key] = now.Add(wideTTL)
}

// idsUpTo is the first step of the plans that read the entities matching a
// filter's own condition through an index before the list and the count
// (the country of counterPlan, the facets of facetPlan, the area of
// placePlan, the region, city and activities of attrPlan): it runs sql,
// which reads those ids (what names the plan in errors), and returns them,
// not nil when none match, or wide when there are limit of them or more
// (0: no limit). A wide filter is listed by walking its kind in order and
// counted by reading its index up to the count's bound; either plan gives
// the same answer, so a wide verdict is remembered for wideTTL and the
// statement not run again meanwhile: reading 2,000 points of a map area to
// learn that it is wide took 2-5 ms at 1M, once for the page and once for
// its count. A narrow verdict is the answer's ids and is read every time.
func (s *Store) idsUpTo(ctx context.Context, what string, limit int, sql string, args ...any) (ids []int64, wide bool, err error) {
	key := ""
	now := time.Now()
	if limit > 0 {
		sql = fmt.Sprintf("%s LIMIT %d", sql, limit)
		key = fmt.Sprint(sql, args)
		if s.wide.known(key, now) {
			return nil, true, nil
		}
	}
	rows, err := s.read(ctx).Query(ctx, sql, args...)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", what, translate(err))
	}
	ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", what, translate(err))
	}
	if limit > 0 && len(ids) >= limit {
		s.wide.remember(key, now)
		return nil, true, nil
	}
	return append([]int64{}, ids...), false, nil // not nil: none match
}
