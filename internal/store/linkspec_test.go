package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestLinkSpecKeyTellsSpecsApart: loaders are kept per key, so two specs
// that ask different questions must not share one, and equal specs must.
func TestLinkSpecKeyTellsSpecsApart(t *testing.T) {
	specs := []store.LinkSpec{
		{},
		{Direction: store.Incoming},
		{Direction: store.Outgoing},
		{Types: []kb.RelationType{kb.RelFounded}},
		{Types: []kb.RelationType{kb.RelFounded, kb.RelRuns}},
		{Types: []kb.RelationType{kb.RelFounded}, OtherKinds: []kb.Kind{kb.KindCooperative}},
		{OtherKinds: []kb.Kind{kb.KindCooperative}},
		{OtherKinds: []kb.Kind{kb.KindCooperative, kb.KindPartner}},
		{AfterID: 12},
		{Limit: 12},
		{AfterID: 1, Limit: 2},
		{AfterID: 11, Limit: 2},
		{AfterID: 1, Limit: 12},
	}
	seen := map[string]int{}
	for i, sp := range specs {
		k := sp.Key()
		if j, ok := seen[k]; ok {
			t.Errorf("specs %d and %d (%+v, %+v) share the key %q", j, i, specs[j], sp, k)
		}
		seen[k] = i
		again := sp
		again.Types = append([]kb.RelationType(nil), sp.Types...)
		if again.Key() != k {
			t.Errorf("equal specs have keys %q and %q", k, again.Key())
		}
	}
}

// TestLinksOfSpecsAnswersEachQuestionAsAlone: several specs in one query
// give each the links it would get alone, whatever the order of asks.
func TestLinksOfSpecsAnswersEachQuestionAsAlone(t *testing.T) {
	ctx := context.Background()
	st, pool := open(t)
	if _, err := st.ApplyDataset(ctx, "test", small()); err != nil {
		t.Fatal(err)
	}
	rows, _ := pool.Query(ctx, `SELECT id FROM entity ORDER BY id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) < 5 {
		t.Fatalf("ids %v, %v", ids, err)
	}
	asks := []store.SpecIDs{
		{Spec: store.LinkSpec{Direction: store.Incoming, Types: []kb.RelationType{kb.RelMemberOf}, Limit: 100}, IDs: ids},
		{Spec: store.LinkSpec{Direction: store.Outgoing, OtherKinds: []kb.Kind{kb.KindPartner}, Limit: 100}, IDs: ids[:3]},
		{Spec: store.LinkSpec{Limit: 1}, IDs: ids},
		{Spec: store.LinkSpec{AfterID: 2}, IDs: ids[2:]},
	}
	want := make([]map[int64][]*kb.Link, len(asks))
	total := 0
	for i, a := range asks {
		if want[i], err = st.LinksOf(ctx, store.Public, a.IDs, a.Spec); err != nil {
			t.Fatal(err)
		}
		for _, ls := range want[i] {
			total += len(ls)
		}
	}
	if total == 0 {
		t.Fatal("the questions have no links: the test proves nothing")
	}
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}} {
		var in []store.SpecIDs
		for _, i := range order {
			in = append(in, asks[i])
		}
		got, err := st.LinksOfSpecs(ctx, store.Public, in)
		if err != nil {
			t.Fatal(err)
		}
		for j, i := range order {
			if !reflect.DeepEqual(got[j], want[i]) {
				t.Errorf("order %v: ask %d got %d entities' links, alone %d", order, i, len(got[j]), len(want[i]))
			}
		}
	}
}
