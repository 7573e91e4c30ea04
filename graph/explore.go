package graph

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/lang"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/vektah/gqlparser/v2/ast"
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

// headFields are the fields of an entity that the entity row alone holds
// (store.EntityHeads), and __typename. Of the entity types only Partner
// has a sector, which the entity row keeps too (migration 00007).
var headFields = map[string]bool{
	"__typename": true, "id": true, "key": true, "kind": true, "name": true, "summary": true,
	"publicationStatus": true, "version": true, "createdAt": true, "updatedAt": true, "sector": true,
}

// nodesByID loads the entities ids for a list field of a walk's answer
// (a neighbourhood's or a path's nodes): from the entity row alone when
// the field's selection asks for nothing else, whatever the fragments,
// else as entitiesByID does. A neighbourhood of 500 nodes showing id, kind
// and name is the common case of a graph view (docs/traversal.md,
// "Reading the nodes").
//
// A walk's answer knows all its ids at once, so they are read at once,
// without the loaders' wait (loader.EntityHeadsNow); only the answers that
// are elements of a list (the paths of paths) keep the wait, so that their
// nodes are read in one statement for all of them.
func nodesByID(ctx context.Context, ids []int64) ([]model.Entity, error) {
	fc := graphql.GetFieldContext(ctx)
	ld := loader.For(ctx)
	now := fc != nil && (fc.Parent == nil || fc.Parent.Index == nil)
	var es []*kb.Entity
	var err error
	switch heads := fc != nil && headsSuffice(graphql.GetOperationContext(ctx), fc.Field.Selections); {
	case heads && now:
		es, err = ld.EntityHeadsNow(ctx, ids)
	case heads:
		es, err = ld.EntityHeads(ctx, ids)
	case now:
		es, err = ld.EntitiesNow(ctx, ids)
	default:
		es, err = ld.Entities(ctx, ids)
	}
	if err == nil {
		es, err = localized(ctx, es)
	}
	if err != nil {
		return nil, err
	}
	return entityModels(es), nil
}

// headsSuffice reports whether sel asks only for headFields, or for
// fields answered from the entity's id alone (byRowID), looking into
// inline fragments and named fragments.
func headsSuffice(op *graphql.OperationContext, sel ast.SelectionSet) bool {
	return walkSelection(op, sel, func(f *ast.Field) bool {
		if len(f.SelectionSet) == 0 {
			return headFields[f.Name]
		}
		return byRowID(f)
	})
}

// byRowID reports whether field f of an entity is answered from the
// entity's id alone, whatever else its row holds: its related
// connections (pages of links, each read by the level loader with the
// connections of the other entities of its level) and the sector mix of
// a partnership or a cooperative. A partnership listed with its members
// thus needs only its head, read with the page that lists it.
func byRowID(f *ast.Field) bool {
	if f.Definition == nil || f.Definition.Type == nil {
		return false
	}
	return f.Name == "sectorMix" || strings.HasSuffix(f.Definition.Type.Name(), "Connection")
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
func (r *Resolver) pathModel(p *store.Path) *model.Path {
	m := &model.Path{NodeIDs: p.Nodes, Length: len(p.Links), Lists: r.walkLists(),
		Held: model.Held{Heads: p.Heads, LinksHeld: p.LinksHeld}}
	for i, l := range p.Links {
		m.LinkList = append(m.LinkList, model.LinkFrom(l, p.Nodes[i]))
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

// groupLabels gives the keys of groups in words, group by group: a
// TOPIC key (a slug) as the topic's label in the request's language, any
// other as it is. The topics of the groups are read with one query, and
// only when the groups hold topics.
func (r *Resolver) groupLabels(ctx context.Context, by []store.GroupField, groups []store.Group) ([][]*string, error) {
	at := slices.Index(by, store.GroupTopic)
	var topics map[string]*kb.Topic
	if at >= 0 {
		slugs := []string{}
		for _, g := range groups {
			if k := g.Key[at]; k != nil {
				slugs = append(slugs, *k)
			}
		}
		if len(slugs) > 0 {
			var err error
			if topics, err = r.Store.TopicsBySlugs(ctx, slugs); err != nil {
				return nil, err
			}
		}
	}
	want := lang.Requested(ctx)
	out := make([][]*string, len(groups))
	for i, g := range groups {
		out[i] = slices.Clone(g.Key)
		if at >= 0 && g.Key[at] != nil {
			if t := topics[*g.Key[at]]; t != nil {
				l, _ := t.Label(want)
				out[i][at] = &l
			}
		}
	}
	return out, nil
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
