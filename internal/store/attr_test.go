package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestRegionCityActivityListAsRowByRow: the region, the city and a
// cooperative's activities, read through the indexes of the kinds' tables
// (migration 00033, Store.attrPlan) as a few ids or as a wide match
// counted from the index, give the same ids in the same order, and the
// same counts, as reading entity_full row by row with the filters'
// conditions; alone, combined with the counted columns, a name, a map
// area, and inside and/or/not; for readers and staff.
func TestRegionCityActivityListAsRowByRow(t *testing.T) {
	st, pool := open(t)
	d := small()
	rng := rand.New(rand.NewPCG(17, 33))
	regions := []string{"wielkopolskie", "Wielkopolskie", "łódzkie", "lodzkie", "", "Stockholms län"}
	cities := []string{"Poznań", "poznan", "POZNAŃ", "Łódź", "Lodz", "", "Rimbo"}
	statuses := []kb.PublicationStatus{kb.StatusPublished, kb.StatusPublished, kb.StatusDraft}
	acts := kb.Activities[:4]
	for i := range 80 {
		place := kb.Place{Country: "PL", Region: regions[rng.IntN(len(regions))], City: cities[rng.IntN(len(cities))]}
		if rng.IntN(3) == 0 {
			lat, lon := 52+rng.Float64(), 16+rng.Float64()
			place.Latitude, place.Longitude = &lat, &lon
		}
		e := kb.Entity{Key: fmt.Sprintf("attr-%02d", i), Name: fmt.Sprintf("Podmiot %02d", rng.IntN(40)), Status: statuses[rng.IntN(len(statuses))]}
		switch i % 4 {
		case 0:
			e.Kind = kb.KindPartner
			e.Partner = &kb.Partner{Sector: countSectors[rng.IntN(3)], PartnerKind: kb.PartnerCompany, Place: place}
		case 1:
			e.Kind = kb.KindCooperative
			a := []kb.Activity{acts[rng.IntN(len(acts))]}
			if rng.IntN(2) == 0 {
				a = append(a, acts[rng.IntN(len(acts))])
			}
			e.Cooperative = &kb.Cooperative{CoopStatus: kb.CoopOperating, Activities: slices.Compact(a), Place: place}
		case 2:
			e.Kind = kb.KindEvent
			e.Event = &kb.Event{EventKind: kb.EventForum, EventStatus: kb.EventHeld, Place: place}
		case 3:
			e.Kind = kb.KindForeignExample
			e.ForeignExample = &kb.ForeignExample{Place: place}
		}
		d.Entities = append(d.Entities, e)
	}
	load(t, st, d)
	ctx := context.Background()
	wlkp := &kb.BBox{South: 52, West: 16, North: 53, East: 17}
	var fs []store.Filter
	for _, k := range []kb.Kind{kb.KindPartner, kb.KindCooperative, kb.KindEvent, kb.KindForeignExample, kb.KindProject} {
		fs = append(fs,
			store.Filter{Kind: k, Region: "WIELKOPOLSKIE"},
			store.Filter{Kind: k, Region: "Łódzkie"},
			store.Filter{Kind: k, City: "poznań"},
			store.Filter{Kind: k, City: "Poznan", Region: "wielkopolskie"},
			store.Filter{Kind: k, City: "Gniezno"}, // none
			store.Filter{Kind: k, City: "lodz", Name: "podmiot 1"},
			store.Filter{Kind: k, Region: "wielkopolskie", Within: wlkp},
			store.Filter{Kind: k, Region: "wielkopolskie", Not: &store.Filter{City: "poznan"}},
			store.Filter{Kind: k, Or: []store.Filter{{City: "rimbo"}, {Region: "lodzkie"}}},
			store.Filter{Kind: k, Region: "wielkopolskie", UpdatedSince: &epoch})
	}
	for _, s := range countSectors {
		fs = append(fs, store.Filter{Kind: kb.KindPartner, Region: "wielkopolskie", Sectors: []kb.Sector{s}},
			store.Filter{Kind: kb.KindPartner, City: "poznan", Not: &store.Filter{Sectors: []kb.Sector{s}}})
	}
	for _, a := range acts {
		fs = append(fs, store.Filter{Kind: kb.KindCooperative, Activities: []kb.Activity{a}},
			store.Filter{Kind: kb.KindCooperative, Activities: []kb.Activity{a, acts[0]}, City: "poznan"},
			store.Filter{Kind: kb.KindCooperative, Not: &store.Filter{Activities: []kb.Activity{a}}},
			// Activities on a kind without them match nothing.
			store.Filter{Kind: kb.KindPartner, Activities: []kb.Activity{a}})
	}
	// Row by row: entity_full with the filters' own conditions.
	rowwise := func(vis store.Visibility, f store.Filter) []int64 {
		t.Helper()
		statuses := []string{"PUBLISHED"}
		if vis.Drafts {
			statuses = append(statuses, "DRAFT", "ARCHIVED")
		}
		page, err := st.ListEntities(ctx, vis, store.Filter{Kind: f.Kind}, store.Order{}, store.Page{First: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, e := range page.Entities {
			var ok bool
			err := pool.QueryRow(ctx, `SELECT
				($2 = '' OR lower(unaccent(region)) = lower(unaccent($2))) AND ($3 = '' OR lower(unaccent(city)) = lower(unaccent($3)))
				AND (cardinality($4::text[]) = 0 OR activities && $4::text[]) AND status = ANY($5)
				FROM entity_full WHERE id = $1`, e.ID, f.Region, f.City, activityNames(f.Activities), statuses).Scan(&ok)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				t.Fatal(err)
			}
			if ok {
				out = append(out, e.ID)
			}
		}
		return out
	}
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, f := range fs {
			// The reference: the same filter with what the plan reads
			// beforehand kept inside an and, where it is probed row by row.
			ref := store.Filter{Kind: f.Kind, And: []store.Filter{f}}
			ref.And[0].Kind = ""
			refPage, err := st.ListEntities(ctx, vis, ref, store.Order{}, store.Page{First: 1000})
			if err != nil {
				t.Fatalf("%+v: %v", ref, err)
			}
			want := entityIDs(refPage.Entities)
			if f.Not == nil && f.Or == nil && f.Name == "" && f.Within == nil && len(f.Sectors) == 0 && f.UpdatedSince == nil {
				if rw := rowwise(vis, f); !slices.Equal(rw, want) {
					t.Fatalf("%+v (drafts %v): the nested filter lists %v, entity_full row by row %v", f, vis.Drafts, want, rw)
				}
			}
			for _, limit := range []int{2000, 1} {
				restore := store.SetAttrIndexLimit(limit)
				page, err := st.ListEntities(ctx, vis, f, store.Order{}, store.Page{First: 1000})
				if err != nil {
					t.Fatalf("%+v: %v", f, err)
				}
				if got := entityIDs(page.Entities); !slices.Equal(got, want) {
					t.Errorf("%+v (drafts %v, limit %d): list %v, row by row %v", f, vis.Drafts, limit, got, want)
				}
				// A page of 2 after the first entry: the cursor's order.
				if len(want) > 2 {
					p2, err := st.ListEntities(ctx, vis, f, store.Order{}, store.Page{First: 2, After: &page.Positions[0]})
					if err != nil || !slices.Equal(entityIDs(p2.Entities), want[1:3]) || p2.HasNext != (len(want) > 3) {
						t.Errorf("%+v (limit %d): page after the first: %v, %v; want %v", f, limit, entityIDs(p2.Entities), err, want[1:3])
					}
				}
				c, err := st.CountEntitiesUpTo(ctx, vis, f, 1000)
				if err != nil || c != (store.Count{N: len(want), Exact: true}) {
					t.Errorf("%+v (drafts %v, limit %d): count = %+v, %v; want exactly %d", f, vis.Drafts, limit, c, err, len(want))
				}
				if len(want) > 2 {
					c, err := st.CountEntitiesUpTo(ctx, vis, f, 2)
					if err != nil || c != (store.Count{N: 2, Exact: false}) {
						t.Errorf("%+v (limit %d): count up to 2 = %+v, %v; want 2, not exact", f, limit, c, err)
					}
				}
				restore()
			}
		}
	}
}

func entityIDs(es []*kb.Entity) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func activityNames(as []kb.Activity) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = string(a)
	}
	return out
}

// TestSplitWalkPagesAsRowByRow: a page by name of a filter of counted
// columns in and/or/not, or of several values, walks each partner kind
// (or event kind) the counters say matches and merges them
// (Filter.splitWalk); paged forwards and backwards, in both directions,
// it gives the ids of reading the rows one by one.
func TestSplitWalkPagesAsRowByRow(t *testing.T) {
	st, _ := open(t)
	d := small()
	rng := rand.New(rand.NewPCG(17, 34))
	statuses := []kb.PublicationStatus{kb.StatusPublished, kb.StatusPublished, kb.StatusDraft}
	for i := range 60 {
		e := kb.Entity{Key: fmt.Sprintf("split-%02d", i), Name: fmt.Sprintf("Podmiot %02d", rng.IntN(30)), Status: statuses[rng.IntN(len(statuses))]}
		place := kb.Place{Country: countCountry[rng.IntN(len(countCountry))]}
		if i%3 == 0 {
			e.Kind = kb.KindEvent
			e.Event = &kb.Event{EventKind: countEvKinds[rng.IntN(2)], EventStatus: countEvStatus[rng.IntN(2)], Place: place}
		} else {
			e.Kind = kb.KindPartner
			e.Partner = &kb.Partner{Sector: countSectors[rng.IntN(3)], PartnerKind: countPKinds[rng.IntN(3)], Place: place}
		}
		d.Entities = append(d.Entities, e)
	}
	load(t, st, d)
	ctx := context.Background()
	priv := store.Filter{Sectors: []kb.Sector{kb.SectorPrivate}}
	fs := []store.Filter{
		{Kind: kb.KindPartner, Not: &priv},
		{Kind: kb.KindPartner, Or: []store.Filter{priv, {PartnerKinds: countPKinds[:1]}}},
		{Kind: kb.KindPartner, Sectors: countSectors[:2]},
		{Kind: kb.KindPartner, PartnerKinds: countPKinds[1:], Not: &store.Filter{Country: "SE"}},
		{Kind: kb.KindPartner, Or: []store.Filter{}},
		{Kind: kb.KindEvent, Not: &store.Filter{EventKinds: countEvKinds[:1]}},
		{Kind: kb.KindEvent, EventKinds: countEvKinds, Not: &store.Filter{Country: "PL"}},
	}
	for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
		for _, f := range fs {
			for _, desc := range []bool{false, true} {
				o := store.Order{Field: store.OrderName, Desc: desc}
				rowwise := f
				rowwise.CreatedSince = &epoch // not counted: one walk, row by row
				all, err := st.ListEntities(ctx, vis, rowwise, o, store.Page{First: 1000})
				if err != nil {
					t.Fatal(err)
				}
				want := entityIDs(all.Entities)
				var got []int64
				var after *store.Position
				for {
					p, err := st.ListEntities(ctx, vis, f, o, store.Page{First: 3, After: after})
					if err != nil {
						t.Fatalf("%+v: %v", f, err)
					}
					got = append(got, entityIDs(p.Entities)...)
					if !p.HasNext {
						break
					}
					after = &p.Positions[len(p.Positions)-1]
				}
				if !slices.Equal(got, want) {
					t.Errorf("%+v (drafts %v, desc %v): paged forwards %v, row by row %v", f, vis.Drafts, desc, got, want)
				}
				got = nil
				var before *store.Position
				for {
					p, err := st.ListEntities(ctx, vis, f, o, store.Page{Last: 3, Before: before})
					if err != nil {
						t.Fatalf("%+v: %v", f, err)
					}
					got = append(entityIDs(p.Entities), got...)
					if !p.HasPrev {
						break
					}
					before = &p.Positions[0]
				}
				if !slices.Equal(got, want) {
					t.Errorf("%+v (drafts %v, desc %v): paged backwards %v, row by row %v", f, vis.Drafts, desc, got, want)
				}
			}
		}
	}
}
