package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/partnergraph/partnergraph/internal/store"
)

// foldInterval is how often serve folds the changes of the root lists'
// counters into them (docs/api.md, "Counts"): counts are exact without
// it, and a few seconds keep the changes a count sums to a few hundred
// rows under heavy writing.
const foldInterval = 5 * time.Second

// foldCounts folds the counters' changes every interval until ctx ends,
// logging failures (a database away, the next round tries again).
func foldCounts(ctx context.Context, st *store.Store, log *slog.Logger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := st.FoldCounts(ctx); err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "folding the counters' changes", "err", err)
			}
		}
	}
}
