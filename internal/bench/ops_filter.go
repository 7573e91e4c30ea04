package bench

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// FilterOps are the filtered pages of issue 17 (docs/api.md, "Filters" and
// "Places"): a page of 20 with its totalCount under each shape that missed
// 10 ms on the generated million-entity graph (docs/benchmarks.md,
// "Filters at 1M"); --ops names them. Their arguments are fixed: the
// shapes, not the values, are what is measured.
var FilterOps = []Op{
	filterOp("filter-kind", `partners(first: 20, filter: {kind: [ASSOCIATION]})`,
		store.Filter{Kind: kb.KindPartner, PartnerKinds: []kb.PartnerKind{kb.PartnerAssociation}}, store.Order{}),
	filterOp("filter-country-rare", `partners(first: 20, filter: {country: "SE"})`,
		store.Filter{Kind: kb.KindPartner, Country: "SE"}, store.Order{}),
	filterOp("filter-not-partners", `partners(first: 20, filter: {not: {country: "PL"}})`,
		store.Filter{Kind: kb.KindPartner, Not: &store.Filter{Country: "PL"}}, store.Order{}),
	filterOp("filter-not-count", `goodPractices(first: 20, filter: {country: ["PL"], partnerSector: [PRIVATE], not: {partnerSector: [PUBLIC]}})`,
		store.Filter{Kind: kb.KindGoodPractice, PracticeCountries: []string{"PL"}, PracticeSectors: []kb.Sector{kb.SectorPrivate},
			Not: &store.Filter{PracticeSectors: []kb.Sector{kb.SectorPublic}}}, store.Order{}),
	filterOp("filter-bbox", `partners(first: 20, filter: {within: {south: 51.5, west: 16, north: 53.5, east: 18}})`,
		store.Filter{Kind: kb.KindPartner, Within: &kb.BBox{South: 51.5, West: 16, North: 53.5, East: 18}}, store.Order{}),
	filterOp("filter-near", `partners(first: 20, filter: {near: {lat: 52.41, lon: 16.93, radiusKm: 50}})`,
		store.Filter{Kind: kb.KindPartner, Near: &kb.Circle{Lat: 52.41, Lon: 16.93, RadiusKm: 50}}, store.Order{}),
	filterOp("filter-near-sector", `partners(first: 20, filter: {near: {lat: 52.41, lon: 16.93, radiusKm: 50}, sector: [PRIVATE]})`,
		store.Filter{Kind: kb.KindPartner, Near: &kb.Circle{Lat: 52.41, Lon: 16.93, RadiusKm: 50}, Sectors: []kb.Sector{kb.SectorPrivate}}, store.Order{}),
	filterOp("filter-events-within", `events(first: 20, filter: {within: {south: 49, west: 14, north: 55, east: 24.2}}, orderBy: {field: WHEN})`,
		store.Filter{Kind: kb.KindEvent, Within: &kb.BBox{South: 49, West: 14, North: 55, East: 24.2}}, store.Order{Field: store.OrderWhen}),
	// The shapes that had no operation before (docs/benchmarks.md,
	// "Filters at 1M, the rest"): a region, a city (a common one and one
	// none has), an activity, a sector mix, a topic none carries, or/not
	// of sectors, orders in mixed directions.
	filterOp("filter-region", `partners(first: 20, filter: {region: "Wielkopolskie"})`,
		store.Filter{Kind: kb.KindPartner, Region: "Wielkopolskie"}, store.Order{}),
	filterOp("filter-city", `partners(first: 20, filter: {city: "poznan"})`,
		store.Filter{Kind: kb.KindPartner, City: "poznan"}, store.Order{}),
	filterOp("filter-city-none", `partners(first: 20, filter: {city: "Rimbo"})`,
		store.Filter{Kind: kb.KindPartner, City: "Rimbo"}, store.Order{}),
	filterOp("filter-activity", `cooperatives(first: 20, filter: {activity: [CERAMICS]})`,
		store.Filter{Kind: kb.KindCooperative, Activities: []kb.Activity{kb.ActivityCeramics}}, store.Order{}),
	filterOp("filter-mix-full", `partnerships(first: 20, filter: {sectorMix: {full: true}})`,
		store.Filter{Kind: kb.KindPartnership, SectorMix: kb.MixFilter{Full: ptrBool(true)}}, store.Order{}),
	// A cooperative's mix is kept like a partnership's (cooperative_mix,
	// migration 00050); it was computed from its links.
	filterOp("filter-coop-mix-full", `cooperatives(first: 20, filter: {sectorMix: {full: true}})`,
		store.Filter{Kind: kb.KindCooperative, SectorMix: kb.MixFilter{Full: ptrBool(true)}}, store.Order{}),
	filterOp("filter-coop-mix-missing", `cooperatives(first: 20, filter: {sectorMix: {missing: [PUBLIC]}})`,
		store.Filter{Kind: kb.KindCooperative, SectorMix: kb.MixFilter{Missing: []kb.Sector{kb.SectorPublic}}}, store.Order{}),
	filterOp("filter-coop-mix-includes", `cooperatives(first: 20, filter: {sectorMix: {includes: [SOCIAL], missing: [PRIVATE]}})`,
		store.Filter{Kind: kb.KindCooperative, SectorMix: kb.MixFilter{Includes: []kb.Sector{kb.SectorSocial}, Missing: []kb.Sector{kb.SectorPrivate}}}, store.Order{}),
	// Full and includes: two conditions on one mix made the planner sort
	// every match (over 30 s at 1M); one now.
	filterOp("filter-coop-mix-full-includes", `cooperatives(first: 20, filter: {sectorMix: {full: true, includes: [PUBLIC]}})`,
		store.Filter{Kind: kb.KindCooperative, SectorMix: kb.MixFilter{Full: ptrBool(true), Includes: []kb.Sector{kb.SectorPublic}}}, store.Order{}),
	filterOp("filter-mix-full-includes", `partnerships(first: 20, filter: {sectorMix: {full: true, includes: [PUBLIC]}})`,
		store.Filter{Kind: kb.KindPartnership, SectorMix: kb.MixFilter{Full: ptrBool(true), Includes: []kb.Sector{kb.SectorPublic}}}, store.Order{}),
	filterOp("filter-topic-none", `goodPractices(first: 20, filter: {topic: ["nieistniejący temat"]})`,
		store.Filter{Kind: kb.KindGoodPractice, Topics: []string{"nieistniejący temat"}}, store.Order{}),
	filterOp("filter-or-sector", `partners(first: 20, filter: {or: [{sector: [PRIVATE]}, {kind: [ASSOCIATION]}]})`,
		store.Filter{Kind: kb.KindPartner, Or: []store.Filter{{Sectors: []kb.Sector{kb.SectorPrivate}}, {PartnerKinds: []kb.PartnerKind{kb.PartnerAssociation}}}}, store.Order{}),
	filterOp("filter-not-sector", `partners(first: 20, filter: {not: {sector: [PRIVATE]}})`,
		store.Filter{Kind: kb.KindPartner, Not: &store.Filter{Sectors: []kb.Sector{kb.SectorPrivate}}}, store.Order{}),
	filterOp("order-country-name-desc", `partners(first: 20, orderBy: [{field: COUNTRY}, {field: NAME, direction: DESC}])`,
		store.Filter{Kind: kb.KindPartner}, store.Order{Field: store.OrderCountry, Then: []store.OrderKey{{Field: store.OrderName, Desc: true}}}),
	filterOp("order-updated-desc-name", `partners(first: 20, orderBy: [{field: UPDATED_AT, direction: DESC}, {field: NAME}])`,
		store.Filter{Kind: kb.KindPartner}, store.Order{Field: store.OrderUpdatedAt, Desc: true, Then: []store.OrderKey{{Field: store.OrderName}}}),
	filterOp("filter-updated", `partners(first: 20, filter: {updatedSince: "2000-01-01T00:00:00Z"}, orderBy: {field: UPDATED_AT})`,
		store.Filter{Kind: kb.KindPartner, UpdatedSince: ptrTime(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))}, store.Order{Field: store.OrderUpdatedAt}),
}

func ptrTime(t time.Time) *time.Time { return &t }

func ptrBool(b bool) *bool { return &b }

// filterOp is the operation name: the list call with its totalCount and
// the page's ids and names; the ceiling reads the page and the count of f
// in order o, as the server does.
func filterOp(name, call string, f store.Filter, o store.Order) Op {
	return Op{
		Name:  name,
		Draw:  func(*rand.Rand, *Sample, *Client) Args { return Args{} },
		Query: `query Filter { l: ` + call + ` { totalCount totalCountIsExact nodes { id name } } }`,
		Vars:  func(Args) map[string]any { return nil },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, _ Args) error {
			if _, err := st.ListEntities(ctx, store.Public, f, o, store.Page{First: pageSize}); err != nil {
				return err
			}
			_, err := st.CountEntitiesUpTo(ctx, store.Public, f, store.DefaultCountBound)
			return err
		},
	}
}
