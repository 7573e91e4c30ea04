package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/dataimport"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/store"
)

// Requires is the @requires(role:) directive: the field resolves only for
// a viewer whose role allows role; otherwise UNAUTHENTICATED (no token) or
// FORBIDDEN (too small a role).
func Requires(ctx context.Context, _ any, next graphql.Resolver, role kb.Role) (any, error) {
	if err := auth.ViewerOf(ctx).Require(role); err != nil {
		return nil, err
	}
	return next(ctx)
}

func actor(ctx context.Context) string { return auth.ViewerOf(ctx).Actor() }

// entityID parses the global ID of an entity of kind (any kind when kind
// is empty).
func entityID(field, id string, kind kb.Kind) (int64, error) {
	k, rowID, err := relay.ParseEntityID(id)
	var v *kb.ValidationError
	if errors.As(err, &v) {
		// relay names the field "id"; name the argument the client sent.
		return 0, &kb.ValidationError{Field: field, Message: v.Message}
	}
	if err != nil {
		return 0, err
	}
	if kind != "" && k != kind {
		return 0, kb.Invalid(field, "is the ID of a %s, not of a %s", k.TypeName(), kind.TypeName())
	}
	return rowID, nil
}

// rowID parses a global ID of typeName.
func rowID(field, id, typeName string) (int64, error) {
	t, n, err := relay.ParseID(id)
	if err != nil {
		return 0, err
	}
	if t != typeName {
		return 0, kb.Invalid(field, "is the ID of a %s, not of a %s", t, typeName)
	}
	return n, nil
}

// takeCitations removes "sources" from an input map and returns the
// citations it held, and whether it was given at all.
func takeCitations(input map[string]any) ([]kb.Citation, bool, error) {
	raw, given := input["sources"]
	delete(input, "sources")
	if !given || raw == nil {
		return nil, given, nil
	}
	// The input arrives as decoded JSON or as a GraphQL literal, whose
	// lists and objects may be of several Go types: read it as JSON.
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, true, kb.Invalid("sources", "must be a list of citations")
	}
	var list []*model.CitationInput
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, true, kb.Invalid("sources", "must be a list of citations")
	}
	out, err := citationInputs(list)
	return out, true, err
}

func citationInputs(in []*model.CitationInput) ([]kb.Citation, error) {
	out := make([]kb.Citation, 0, len(in))
	for i, c := range in {
		id, err := entityID(fmt.Sprintf("sources[%d].source", i), c.Source, kb.KindSource)
		if err != nil {
			return nil, err
		}
		out = append(out, kb.Citation{SourceID: id, Locator: deref(c.Locator), Quote: deref(c.Quote)})
	}
	return out, nil
}

// createEntity creates an entity of kind from a create input.
func (r *Resolver) createEntity(ctx context.Context, kind kb.Kind, input map[string]any) (*kb.Entity, error) {
	cites, _, err := takeCitations(input)
	if err != nil {
		return nil, err
	}
	e, err := kb.EntityFromFields(kind, input)
	if err != nil {
		return nil, err
	}
	e.Citations = cites
	return r.Store.CreateEntity(ctx, actor(ctx), e)
}

// updateEntity applies an update input to the entity id of kind.
func (r *Resolver) updateEntity(ctx context.Context, kind kb.Kind, id string, expectedVersion *int, input map[string]any) (*kb.Entity, error) {
	n, err := entityID("id", id, kind)
	if err != nil {
		return nil, err
	}
	cites, citesGiven, err := takeCitations(input)
	if err != nil {
		return nil, err
	}
	return r.Store.UpdateEntity(ctx, actor(ctx), store.OpUpdate, n, expectedVersion, func(cur *kb.Entity) (*kb.Entity, error) {
		next, err := kb.PatchEntity(cur, input)
		if err != nil {
			return nil, err
		}
		if citesGiven {
			next.Citations = cites
		}
		return next, nil
	})
}

// setStatus changes the publication status of entity id by op.
func (r *Resolver) setStatus(ctx context.Context, id string, expectedVersion *int, op kb.StatusOp) (model.Entity, error) {
	n, err := entityID("id", id, "")
	if err != nil {
		return nil, err
	}
	e, err := r.Store.UpdateEntity(ctx, actor(ctx), string(op), n, expectedVersion, func(cur *kb.Entity) (*kb.Entity, error) {
		to, err := kb.Transition(cur.Status, op)
		if err != nil {
			return nil, err
		}
		next := *cur
		next.Status = to
		return &next, nil
	})
	if err != nil {
		return nil, err
	}
	return model.FromEntity(e), nil
}

// history resolves the revision history of an entity or a link.
func (r *Resolver) history(ctx context.Context, entity bool, id int64, first *int, after *string) (*model.RevisionConnection, error) {
	n, err := pageSize("first", first)
	if err != nil {
		return nil, err
	}
	if first == nil {
		n = DefaultPageSize
	}
	var before int64
	if after != nil {
		c, err := relay.ParseCursor("after", *after, "REVISION")
		if err != nil {
			return nil, err
		}
		before = c.ID
	}
	revs, more, err := r.Store.History(ctx, entity, id, n, before)
	if err != nil {
		return nil, err
	}
	total, err := r.Store.CountHistory(ctx, entity, id)
	if err != nil {
		return nil, err
	}
	conn := &model.RevisionConnection{
		Edges: []*model.RevisionEdge{}, Nodes: []*model.Revision{}, TotalCount: total,
		PageInfo: &model.PageInfo{HasNextPage: more, HasPreviousPage: after != nil},
	}
	for _, rev := range revs {
		m := revisionModel(rev)
		conn.Nodes = append(conn.Nodes, m)
		conn.Edges = append(conn.Edges, &model.RevisionEdge{Cursor: relay.Cursor{Order: "REVISION", ID: rev.ID}.Encode(), Node: m})
	}
	setCursors(conn.PageInfo, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

func revisionModel(rev *store.Revision) *model.Revision {
	m := &model.Revision{ID: relay.ID("Revision", rev.ID), At: rev.At, Actor: rev.Actor, Operation: rev.Operation}
	if rev.Before != nil {
		var v any
		if json.Unmarshal(rev.Before, &v) == nil {
			m.Before = v
		}
	}
	if rev.After != nil {
		var v any
		if json.Unmarshal(rev.After, &v) == nil {
			m.After = v
		}
	}
	return m
}

func tokenModel(t *store.Token) *model.Token {
	return &model.Token{ID: relay.ID("Token", t.ID), Name: t.Name, Role: t.Role, CreatedAt: t.CreatedAt, RevokedAt: t.RevokedAt}
}

func importReport(rep *dataimport.Report) *model.ImportReport {
	m := &model.ImportReport{
		Written: rep.Written, DryRun: rep.DryRun, Problems: []*model.ImportProblem{},
		EntitiesCreated: rep.EntitiesCreated, EntitiesUpdated: rep.EntitiesUpdated, EntitiesUnchanged: rep.EntitiesUnchanged,
		LinksCreated: rep.LinksCreated, LinksUpdated: rep.LinksUpdated, LinksUnchanged: rep.LinksUnchanged,
		IndicatorsCreated: rep.IndicatorsCreated, IndicatorsUpdated: rep.IndicatorsUpdated,
	}
	for _, p := range rep.Problems {
		m.Problems = append(m.Problems, &model.ImportProblem{Record: p.Record, Field: model.Str(p.Field), Message: p.Message})
	}
	return m
}

// changeModel maps a change of the feed, or returns nil when the filters
// leave it out.
func changeModel(c store.Change, kinds []kb.Kind, linkTypes []kb.RelationType, ops []string) *model.Change {
	if len(ops) > 0 && !slices.Contains(ops, c.Operation) {
		return nil
	}
	if len(kinds) > 0 || len(linkTypes) > 0 {
		entityOK := c.LinkID == 0 && slices.Contains(kinds, c.Kind)
		linkOK := c.LinkID != 0 && slices.Contains(linkTypes, c.LinkType)
		if !entityOK && !linkOK {
			return nil
		}
	}
	m := &model.Change{RevisionID: relay.ID("Revision", c.RevisionID), At: c.At, Actor: c.Actor, Operation: c.Operation}
	if c.LinkID != 0 {
		id, t := relay.ID("Link", c.LinkID), c.LinkType
		m.LinkID, m.LinkType = &id, &t
	} else if c.EntityID != 0 {
		k := c.Kind
		m.Kind = &k
		if k.Valid() {
			id := relay.ID(k.TypeName(), c.EntityID)
			m.EntityID = &id
		}
	}
	return m
}

// feedChanges filters the changes of in for one subscriber until ctx
// ends, in closes, or the subscriber's token is revoked.
func (r *Resolver) feedChanges(ctx context.Context, in <-chan store.Change, kinds []kb.Kind, linkTypes []kb.RelationType, ops []string) <-chan *model.Change {
	out := make(chan *model.Change)
	tokenID := auth.ViewerOf(ctx).TokenID
	go func() {
		defer close(out)
		every := r.TokenRecheck
		if every <= 0 {
			every = DefaultTokenRecheck
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if ok, err := r.Store.TokenActive(ctx, tokenID); err == nil && !ok {
					return
				}
			case c, open := <-in:
				if !open {
					return
				}
				m := changeModel(c, kinds, linkTypes, ops)
				if m == nil {
					continue
				}
				select {
				case out <- m:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}
