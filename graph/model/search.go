package model

import (
	"context"
	"sync"
)

// BoundedCountFunc counts the whole result of a search, up to a bound, and
// says whether the count is exact; a connection calls it only when
// totalCount or totalCountIsExact is asked for.
type BoundedCountFunc func(ctx context.Context) (n int, exact bool, err error)

// Once returns a BoundedCountFunc that calls f the first time only and
// returns its answer ever after: totalCount and totalCountIsExact, resolved
// concurrently, share one count.
func (f BoundedCountFunc) Once() BoundedCountFunc {
	var (
		once  sync.Once
		n     int
		exact bool
		err   error
	)
	return func(ctx context.Context) (int, bool, error) {
		once.Do(func() { n, exact, err = f(ctx) })
		return n, exact, err
	}
}
