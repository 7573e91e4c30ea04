package graph

import (
	"context"

	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/store"
)

// Limits of the exploration queries; their defaults are in the schema
// (schema/exploration.graphqls) and nowhere else.
const (
	MaxNeighborhoodDepth = 3
	MaxNeighborhood      = 1000
	MaxPathDepth         = 6
	MaxPaths             = 10
	MaxGroupBy           = 3
)

// intArg checks an integer argument against its documented range [lo, hi]:
// a value outside it is invalid input (docs/api.md, Errors).
func intArg(field string, n, lo, hi int) (int, error) {
	switch {
	case n < lo:
		return 0, kb.Invalid(field, "must be at least %d, got %d", lo, n)
	case n > hi:
		return 0, kb.Invalid(field, "is %d, at most %d", n, hi)
	}
	return n, nil
}

// entitiesByID loads entities as models in the order of ids, skipping any
// that vanished or are hidden.
func entitiesByID(ctx context.Context, ids []int64) ([]model.Entity, error) {
	es, err := loader.For(ctx).Entities(ctx, ids)
	if err != nil {
		return nil, err
	}
	return entityModels(es), nil
}

// entityModels maps entities to their models, in order.
func entityModels(es []*kb.Entity) []model.Entity {
	out := make([]model.Entity, len(es))
	for i, e := range es {
		out[i] = model.FromEntity(e)
	}
	return out
}

// pathModel maps a store path; each link is read from the node before it.
func pathModel(p *store.Path) *model.Path {
	m := &model.Path{NodeIDs: p.Nodes, Length: len(p.Links)}
	for i, l := range p.Links {
		m.Links = append(m.Links, model.LinkFrom(l, p.Nodes[i]))
	}
	return m
}

// pathArgs checks the arguments of path and paths.
func pathArgs(from, to string, maxDepth int) (int64, int64, int, error) {
	f, err := entityID("from", from, "")
	if err != nil {
		return 0, 0, 0, err
	}
	t, err := entityID("to", to, "")
	if err != nil {
		return 0, 0, 0, err
	}
	d, err := intArg("maxDepth", maxDepth, 1, MaxPathDepth)
	return f, t, d, err
}

// mixFilter maps a sector mix filter input.
func mixFilter(field string, f *model.SectorMixFilter) (kb.MixFilter, error) {
	if f == nil {
		return kb.MixFilter{}, nil
	}
	m := kb.MixFilter{Full: f.Full, Includes: f.Includes, Missing: f.Missing}
	return m, m.Validate(field)
}

// aggregateFilter maps the aggregate filter onto the store's filter.
func aggregateFilter(kind *kb.Kind, in *model.AggregateFilter) (store.Filter, error) {
	var f store.Filter
	if kind != nil {
		f.Kind = *kind
	}
	if in == nil {
		return f, nil
	}
	f.Name, f.Sectors, f.PartnerKinds = deref(in.Name), in.Sector, in.PartnerKind
	f.Country, f.Region, f.City = deref(in.Country), deref(in.Region), deref(in.City)
	f.CoopStatuses, f.Activities, f.Topics = in.CooperativeStatus, in.Activity, in.Topic
	f.EventKinds, f.EventStatuses, f.SourceKinds, f.Language = in.EventKind, in.EventStatus, in.SourceKind, deref(in.Language)
	var err error
	f.SectorMix, err = mixFilter("filter.sectorMix", in.SectorMix)
	return f, err
}
