package bench

import (
	"context"
	"math/rand/v2"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// CountOps are the totalCount operations of issue 11 (docs/api.md,
// "Counts"): a root list's count alone, under one filter and under
// combined filters the counters cover, and under a name filter they do
// not (counted up to the bound); --ops names them.
var CountOps = []Op{
	{
		Name:  "count",
		Draw:  func(*rand.Rand, *Sample, *Client) Args { return Args{} },
		Query: `query Count { cooperatives(first: 1) { totalCount } }`,
		Vars:  func(Args) map[string]any { return nil },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, _ Args) error {
			return countCeiling(ctx, st, store.Filter{Kind: kb.KindCooperative}, 1)
		},
	},
	{
		Name: "count-sector",
		Draw: func(r *rand.Rand, _ *Sample, _ *Client) Args { return Args{Sector: sectors[r.IntN(len(sectors))]} },
		Query: `query CountSector($sector: Sector!) {
			partners(first: 20, filter: {sector: [$sector]}) { totalCount } }`,
		Vars: func(a Args) map[string]any { return map[string]any{"sector": a.Sector} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			return countCeiling(ctx, st, store.Filter{Kind: kb.KindPartner, Sectors: []kb.Sector{a.Sector}}, pageSize)
		},
	},
	{
		Name: "count-combined",
		Draw: func(r *rand.Rand, _ *Sample, _ *Client) Args { return Args{Sector: sectors[r.IntN(len(sectors))]} },
		// Three lists in one request, each under two or three filters.
		Query: `query CountCombined($sector: Sector!) {
			p: partners(first: 0, filter: {sector: [$sector], kind: [ASSOCIATION, COMPANY, MUNICIPALITY], country: "PL"}) { totalCount totalCountIsExact }
			c: cooperatives(first: 0, filter: {status: [OPERATING, REGISTERED], country: "PL"}) { totalCount totalCountIsExact }
			e: events(first: 0, filter: {kind: [STUDY_VISIT], status: [HELD], country: "SE"}) { totalCount totalCountIsExact } }`,
		Vars: func(a Args) map[string]any { return map[string]any{"sector": a.Sector} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			for _, f := range []store.Filter{
				{Kind: kb.KindPartner, Sectors: []kb.Sector{a.Sector}, Country: "PL",
					PartnerKinds: []kb.PartnerKind{kb.PartnerAssociation, kb.PartnerCompany, kb.PartnerMunicipality}},
				{Kind: kb.KindCooperative, CoopStatuses: []kb.CooperativeStatus{kb.CoopOperating, kb.CoopRegistered}, Country: "PL"},
				{Kind: kb.KindEvent, EventKinds: []kb.EventKind{kb.EventStudyVisit}, EventStatuses: []kb.EventStatus{kb.EventHeld}, Country: "SE"},
			} {
				if err := countCeiling(ctx, st, f, 0); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		Name: "count-name",
		Draw: func(r *rand.Rand, _ *Sample, _ *Client) Args {
			return Args{Text: suggestPrefixes[r.IntN(len(suggestPrefixes))]}
		},
		// A name filter: counted up to the bound, then flagged.
		Query: `query CountName($name: String!) {
			partners(first: 20, filter: {name: $name}) { totalCount totalCountIsExact } }`,
		Vars: func(a Args) map[string]any { return map[string]any{"name": a.Text} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			return countCeiling(ctx, st, store.Filter{Kind: kb.KindPartner, Name: a.Text}, pageSize)
		},
	},
}

// countCeiling reads what the server reads for a list of first items of f
// with its totalCount: the page (none for first: 0), then the count.
func countCeiling(ctx context.Context, st *store.Store, f store.Filter, first int) error {
	if first > 0 {
		if _, err := st.ListEntities(ctx, store.Public, f, store.Order{Field: store.OrderName}, store.Page{First: first}); err != nil {
			return err
		}
	}
	_, err := st.CountEntitiesUpTo(ctx, store.Public, f, store.DefaultCountBound)
	return err
}
