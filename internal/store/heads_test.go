package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// TestPagesCarryTheHeadsEntityHeadsReads: a page of links or of the
// partners behind practices that asks for heads (LinkSpec.Heads,
// PartnerPage.Heads) names the same links or partners as without them,
// and gives with each the head that EntityHeads reads of its entity; a
// page of links that asks for whole rows (LinkSpec.Rows), the row that
// EntitiesByID reads (none through the functions, whose callers read
// them apart): in every form of the page (link order by type, by name,
// without types, through the functions of a store that keeps no prepared
// statements, the kept set of practice partners and the rule staff read),
// for the public and for staff, on a generated graph with drafts in it.
func TestPagesCarryTheHeadsEntityHeadsReads(t *testing.T) {
	prepared, pool := open(t)
	ctx := context.Background()
	g, err := synth.New(11, 1500, 6000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prepared.BulkLoad(ctx, "generate", g, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE entity SET status = 'DRAFT' WHERE id % 7 = 0`); err != nil {
		t.Fatal(err)
	}
	// What only staff see of a person, for the whole rows to hide it
	// from the public as EntitiesByID does.
	if tag, err := pool.Exec(ctx, `UPDATE person SET email = 'p' || id || '@example.org', phone = '+48 600 000 000'`); err != nil || tag.RowsAffected() == 0 {
		t.Fatalf("%v people given an email: %v", tag.RowsAffected(), err)
	}
	bare := unprepared(t, pool)
	rows, _ := pool.Query(ctx, `SELECT id FROM (SELECT from_id AS id FROM link UNION ALL SELECT to_id FROM link) x
		GROUP BY id ORDER BY count(*) DESC, id LIMIT 30`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) < 30 {
		t.Fatalf("%d ids: %v", len(ids), err)
	}
	rows, _ = pool.Query(ctx, `SELECT id FROM entity WHERE kind = 'GOOD_PRACTICE' ORDER BY id LIMIT 40`)
	practices, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(practices) < 10 {
		t.Fatalf("%d practices: %v", len(practices), err)
	}
	all := kb.RelationTypes()
	specs := []store.LinkSpec{
		{Direction: store.Outgoing, Types: all, Limit: 5},
		{Direction: store.Incoming, Types: all[:3], Limit: 4, Desc: true},
		{Direction: store.Both, Types: all[:2], InTypes: all[2:5], Limit: 7},
		{Direction: store.Both, Types: all, ByName: true, Limit: 6},
		{Direction: store.Both, Limit: 8},
		{Direction: store.Outgoing, Types: all, OtherKinds: []kb.Kind{kb.KindCooperative, kb.KindPartner}, Limit: 5},
		{Direction: store.Incoming, Types: all, Statuses: []kb.PublicationStatus{kb.StatusPublished}, Limit: 5},
	}
	// same checks that e, read with a page, is what read (EntityHeads or
	// EntitiesByID, named what) reads of entity id.
	same := func(name, what string, read func(context.Context, store.Visibility, []int64) ([]*kb.Entity, error),
		vis store.Visibility, e *kb.Entity, id int64) {
		t.Helper()
		want, err := read(ctx, vis, []int64{id})
		if err != nil {
			t.Fatal(err)
		}
		if e == nil || want[0] == nil || !reflect.DeepEqual(*e, *want[0]) {
			t.Errorf("%s: entity %d is %+v, %s reads %+v", name, id, e, what, want[0])
		}
	}
	heads := 0
	check := func(st *store.Store, name string, vis store.Visibility, e *kb.Entity, id int64) {
		t.Helper()
		same(name, "EntityHeads", st.EntityHeads, vis, e, id)
		heads++
	}
	rowsRead := 0
	checkRow := func(st *store.Store, name string, vis store.Visibility, e *kb.Entity, id int64, functions bool) {
		t.Helper()
		if functions {
			if e != nil {
				t.Errorf("%s: the functions read the row of %d: %+v", name, id, e)
			}
			return
		}
		same(name, "EntitiesByID", st.EntitiesByID, vis, e, id)
		rowsRead++
	}
	for _, st := range []struct {
		name string
		s    *store.Store
	}{{"prepared", prepared}, {"without prepared statements", bare}} {
		for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
			for _, sp := range specs {
				for _, whole := range []bool{false, true} {
					withHeads := sp
					withHeads.Heads, withHeads.Rows = !whole, whole
					// Beside an ask without heads, in one statement, as a page
					// of two related lists.
					other := store.SpecIDs{Spec: store.LinkSpec{Direction: store.Outgoing, Types: all, Limit: 3}, IDs: ids[:5]}
					want, err := st.s.LinkPages(ctx, vis, []store.SpecIDs{{Spec: sp, IDs: ids}, other})
					if err != nil {
						t.Fatal(err)
					}
					got, err := st.s.LinkPages(ctx, vis, []store.SpecIDs{{Spec: withHeads, IDs: ids}, other})
					if err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("%s, drafts %t, rows %t, %+v", st.name, vis.Drafts, whole, sp)
					if !reflect.DeepEqual(got[1], want[1]) {
						t.Errorf("%s: the ask without heads changed beside one with them", name)
					}
					for _, id := range ids {
						if len(got[0][id]) != len(want[0][id]) {
							t.Fatalf("%s, %d: %d links with heads, %d without", name, id, len(got[0][id]), len(want[0][id]))
						}
						for i, r := range got[0][id] {
							w := want[0][id][i]
							if !reflect.DeepEqual(r.Link, w.Link) || r.OtherName != w.OtherName || w.Other != nil || w.Whole != nil {
								t.Fatalf("%s, %d: link %d is %+v with heads, %+v without", name, id, i, r, w)
							}
							other := r.Link.ToID
							if other == id {
								other = r.Link.FromID
							}
							if whole {
								checkRow(st.s, name, vis, r.Whole, other, st.s == bare)
							} else {
								check(st.s, name, vis, r.Other, other)
							}
						}
					}
				}
			}
			for _, pp := range []store.PartnerPage{{Limit: 5}, {Limit: 3, Desc: true}, {Limit: 4, AfterName: "m", AfterID: 1}} {
				withHeads := pp
				withHeads.Heads = true
				want, err := st.s.PracticePartnerPages(ctx, vis, practices, pp)
				if err != nil {
					t.Fatal(err)
				}
				got, err := st.s.PracticePartnerPages(ctx, vis, practices, withHeads)
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("%s, drafts %t, partners %+v", st.name, vis.Drafts, pp)
				for _, id := range practices {
					if len(got[id]) != len(want[id]) {
						t.Fatalf("%s, %d: %d partners with heads, %d without", name, id, len(got[id]), len(want[id]))
					}
					for i, n := range got[id] {
						if w := want[id][i]; n.ID != w.ID || n.SortName != w.SortName || w.Head != nil {
							t.Fatalf("%s, %d: partner %d is %+v with heads, %+v without", name, id, i, n, w)
						}
						check(st.s, name, vis, n.Head, n.ID)
					}
				}
			}
		}
	}
	if heads < 1000 || rowsRead < 500 {
		t.Errorf("%d heads and %d rows compared: too few for the test to mean much", heads, rowsRead)
	}
}
