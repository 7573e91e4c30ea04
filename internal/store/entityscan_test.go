package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/partnergraph/partnergraph/internal/seed"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestEntitiesByIDScanEachRowIntoItsOwnEntity reads the reference data's
// entities by id, a search page's worth at a time, and bounds the
// allocations a row costs: its scan's destinations are one allocation for
// all the rows of a read (a search page's 20 entities cost about 1,000
// allocations more when each destination was a variable of its own). An
// entity read with others is the entity read alone: nothing of one row
// is left in the next.
func TestEntitiesByIDScanEachRowIntoItsOwnEntity(t *testing.T) {
	st, pool := open(t)
	ds, err := seed.Reference()
	if err != nil {
		t.Fatal(err)
	}
	load(t, st, *ds)
	ctx := context.Background()
	var ids []int64
	if err := pool.QueryRow(ctx, `SELECT array_agg(id ORDER BY id) FROM (SELECT id FROM entity
		WHERE status = 'PUBLISHED' ORDER BY id DESC LIMIT 20) x`).Scan(&ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) < 20 {
		t.Fatalf("%d published entities, want 20", len(ids))
	}
	es, err := st.EntitiesByID(ctx, store.Public, ids)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for i, e := range es {
		alone, err := st.EntitiesByID(ctx, store.Public, ids[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e, alone[0]) {
			t.Errorf("entity %d read with others = %+v, alone %+v", ids[i], e, alone[0])
		}
		kinds[string(e.Kind)] = true
	}
	if len(kinds) < 3 {
		t.Fatalf("entities of %d kinds, want 3 or more", len(kinds))
	}
	n := testing.AllocsPerRun(20, func() {
		if _, err := st.EntitiesByID(ctx, store.Public, ids); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%.0f allocations for %d entities: %.1f a row", n, len(ids), n/float64(len(ids)))
	if perRow := n / float64(len(ids)); perRow > 30 {
		t.Errorf("%.1f allocations a row, want at most 30", perRow)
	}
}
