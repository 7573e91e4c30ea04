package store_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestEntityHeadsAgreeWithEntitiesByID: for every entity of the reference
// data, with some drafts among them, EntityHeads gives what EntitiesByID
// gives of the entity row, hides what it hides, and gives each entity an
// empty struct of its kind's attributes.
func TestEntityHeadsAgreeWithEntitiesByID(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	loadReference(t, st)
	if _, err := pool.Exec(ctx, `UPDATE entity SET status = 'DRAFT' WHERE id IN (SELECT id FROM entity ORDER BY id DESC LIMIT 5)`); err != nil {
		t.Fatal(err)
	}
	rows, _ := pool.Query(ctx, `SELECT id FROM entity ORDER BY id DESC`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, 1<<40) // one that does not exist
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		full, err := st.EntitiesByID(ctx, vis, ids)
		if err != nil {
			t.Fatal(err)
		}
		heads, err := st.EntityHeads(ctx, vis, ids)
		if err != nil {
			t.Fatal(err)
		}
		hidden := 0
		for i, f := range full {
			h := heads[i]
			if (f == nil) != (h == nil) {
				t.Fatalf("drafts %t, id %d: full %v, head %v", vis.Drafts, ids[i], f, h)
			}
			if f == nil {
				hidden++
				continue
			}
			want := kb.Entity{ID: f.ID, Key: f.Key, Kind: f.Kind, Name: f.Name, Summary: f.Summary, Status: f.Status,
				Version: f.Version, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, CreatedBy: f.CreatedBy, UpdatedBy: f.UpdatedBy}
			got := *h
			got.Partner, got.Cooperative, got.Partnership, got.GoodPractice, got.ForeignExample = nil, nil, nil, nil, nil
			got.Project, got.Event, got.Person, got.Source = nil, nil, nil, nil
			if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
				t.Errorf("id %d: times %v %v, want %v %v", f.ID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
			}
			got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt = want.CreatedAt, want.UpdatedAt, got.CreatedAt, got.UpdatedAt
			if got.ID != want.ID || got.Key != want.Key || got.Kind != want.Kind || got.Name != want.Name ||
				got.Summary != want.Summary || got.Status != want.Status || got.Version != want.Version ||
				got.CreatedBy != want.CreatedBy || got.UpdatedBy != want.UpdatedBy {
				t.Errorf("id %d: head %+v, want %+v", f.ID, got, want)
			}
			if !hasKindAttrs(h) {
				t.Errorf("id %d (%s): no struct of its kind's attributes", f.ID, f.Kind)
			}
		}
		if want := map[bool]int{false: 6, true: 1}[vis.Drafts]; hidden != want {
			t.Errorf("drafts %t: %d entities missing or hidden, want %d", vis.Drafts, hidden, want)
		}
	}
}

// hasKindAttrs reports whether e has a struct of its kind's attributes.
func hasKindAttrs(e *kb.Entity) bool {
	switch e.Kind {
	case kb.KindPartner:
		return e.Partner != nil
	case kb.KindCooperative:
		return e.Cooperative != nil
	case kb.KindPartnership:
		return e.Partnership != nil
	case kb.KindGoodPractice:
		return e.GoodPractice != nil
	case kb.KindForeignExample:
		return e.ForeignExample != nil
	case kb.KindProject:
		return e.Project != nil
	case kb.KindEvent:
		return e.Event != nil
	case kb.KindPerson:
		return e.Person != nil
	case kb.KindSource:
		return e.Source != nil
	}
	return false
}
