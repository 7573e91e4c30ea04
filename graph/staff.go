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
	"github.com/partnergraph/partnergraph/internal/loader"
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

// citationInputs parses the citations of an input; their sources are
// given by global ID.
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

// create returns a function that stores the entry a create input was
// mapped to, or returns the error of the mapping:
// r.create(ctx)(partnerFromInput(input)).
func (r *Resolver) create(ctx context.Context) func(*kb.Entity, error) (*kb.Entity, error) {
	return func(e *kb.Entity, err error) (*kb.Entity, error) {
		if err != nil {
			return nil, err
		}
		return r.Store.CreateEntity(ctx, actor(ctx), e)
	}
}

// update returns a function that applies the patch an update input was
// mapped to to the entry id of kind, in the store's transaction:
// r.update(ctx, kb.KindPartner, id, v)(partnerPatch(input)).
func (r *Resolver) update(ctx context.Context, kind kb.Kind, id string, expectedVersion *int) func(*entityPatch, error) (*kb.Entity, error) {
	return func(p *entityPatch, err error) (*kb.Entity, error) {
		if err != nil {
			return nil, err
		}
		n, err := entityID("id", id, kind)
		if err != nil {
			return nil, err
		}
		return r.Store.UpdateEntity(ctx, actor(ctx), kb.OpUpdate, n, expectedVersion, p.apply)
	}
}

// setStatus changes the publication status of entity id by op.
func (r *Resolver) setStatus(ctx context.Context, id string, expectedVersion *int, op kb.Operation) (model.Entity, error) {
	n, err := entityID("id", id, "")
	if err != nil {
		return nil, err
	}
	e, err := r.Store.UpdateEntity(ctx, actor(ctx), op, n, expectedVersion, func(cur *kb.Entity) (*kb.Entity, error) {
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

// revert undoes revision id for the viewer: the role it takes depends on
// what undoing it does (kb.RevertRole), checked here with every other role
// check, before the store reverts in one transaction.
func (r *Resolver) revert(ctx context.Context, id int64) (*store.Reverted, error) {
	rev, err := r.Store.RevisionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	step := kb.HowToRevert(rev.Operation, rev.Before != nil, rev.After != nil)
	if err := auth.ViewerOf(ctx).Require(kb.RevertRole(step, rev.LinkID == 0)); err != nil {
		return nil, fmt.Errorf("undoing a creation deletes the entry: %w", err)
	}
	// A revision is never rewritten but by an erasure, which makes it one
	// that cannot be undone: the store checks that again in its
	// transaction, so the check above cannot go stale in a harmful way.
	return r.Store.Revert(ctx, actor(ctx), id)
}

// history resolves the revision history of an entity, a link or a topic.
func (r *Resolver) history(ctx context.Context, subject store.Subject, id int64, pa pageArgs) (*model.RevisionConnection, error) {
	w, err := pageWindow(pa, DefaultPageSize)
	if err != nil {
		return nil, err
	}
	// The history is shown newest first: `after` a revision are older ones
	// (lower ids), `before` it newer ones; a `last` page reads from the
	// oldest.
	sp := store.HistorySpec{Limit: w.n, Oldest: w.backward}
	if w.after != nil {
		c, err := relay.ParseCursor("after", *w.after, "REVISION")
		if err != nil {
			return nil, err
		}
		sp.Below = c.ID
	}
	if w.before != nil {
		c, err := relay.ParseCursor("before", *w.before, "REVISION")
		if err != nil {
			return nil, err
		}
		sp.Above = c.ID
	}
	ld := loader.For(ctx)
	conn := &model.RevisionConnection{
		Edges: []*model.RevisionEdge{}, Nodes: []*model.Revision{},
		PageInfo: &model.PageInfo{},
		Count: func(ctx context.Context) (int, error) {
			return ld.HistoryCount(subject).Load(ctx, id)
		},
	}
	if w.n == 0 {
		return conn, nil // first: 0 asks for no items, but totalCount still works
	}
	// Through loaders: the histories of a list of entries cost one
	// statement for the pages and, when asked, one for the totals.
	page, err := ld.History(subject, sp).Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = &store.HistoryPage{}
	}
	revs := page.Revisions
	if page.More {
		revs = append(revs, nil) // cut counts the row beyond the page
	}
	revs, conn.PageInfo = cut(w, revs)
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
	m.Before, m.After = recordState(rev, rev.Before), recordState(rev, rev.After)
	return m
}

// recordState types a state of revision rev (the data-set JSON of
// kb.Entity, kb.Link, kb.Indicator or kb.Topic): a link's revision holds
// links, an indicator operation indicators, a topic's revision topics, any
// other an entry. The record types'
// JSON names are the data set's (schema/dataset.graphqls), so the state
// decodes into them as it is; a field they lack is left out, and a state
// that does not decode (none this server writes) is null.
func recordState(rev *store.Revision, raw json.RawMessage) model.RecordState {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	switch {
	case rev.TopicID != 0:
		var t kb.Topic
		if json.Unmarshal(raw, &t) != nil {
			return nil
		}
		labels, _ := topicLabels(&t, nil)
		return &model.TopicRecord{Slug: t.Slug, OriginalLanguage: t.OriginalLanguage, Labels: labels}
	case rev.LinkID != 0:
		var l model.LinkRecord
		if json.Unmarshal(raw, &l) != nil {
			return nil
		}
		l.Sources = nonNil(l.Sources)
		return &l
	case rev.Operation == kb.OpIndicatorCreate || rev.Operation == kb.OpIndicatorUpdate:
		var in kb.Indicator
		if json.Unmarshal(raw, &in) != nil {
			return nil
		}
		// Revisions from before indicators of projects and events hold
		// only the cooperative's key: Subject reads both shapes.
		m := &model.IndicatorRecord{Indicator: in.Name, Value: in.Value, AsOf: in.AsOf, EntityKey: optional(in.Subject()),
			CooperativeKey: optional(in.CooperativeKey), Unit: optional(in.Unit), Note: optional(in.Note)}
		if c := in.Citation; c != nil {
			m.Citation = &model.CitationRecord{Source: c.SourceKey, Locator: optional(c.Locator), Quote: optional(c.Quote)}
		}
		return m
	}
	var e model.EntityRecord
	if json.Unmarshal(raw, &e) != nil {
		return nil
	}
	// The file leaves empty lists out; the types say they are lists.
	e.Sources = nonNil(e.Sources)
	if e.Cooperative != nil {
		e.Cooperative.Activities = nonNil(e.Cooperative.Activities)
	}
	if e.GoodPractice != nil {
		e.GoodPractice.Topics = nonNil(e.GoodPractice.Topics)
	}
	return &e
}

// optional is nil for "", the file's absent value.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
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
		TopicsCreated: rep.TopicsCreated, TopicsUpdated: rep.TopicsUpdated, TopicsUnchanged: rep.TopicsUnchanged,
	}
	for _, p := range rep.Problems {
		m.Problems = append(m.Problems, &model.ImportProblem{Record: p.Record, Field: model.Str(p.Field), Message: p.Message})
	}
	return m
}

// changeFilter is what a `changes` subscription asks for.
type changeFilter struct {
	kinds     []kb.Kind
	linkTypes []kb.RelationType
	ops       []kb.Operation
	// topics: nil lets the changes of topics through when neither kinds
	// nor linkTypes narrow the feed.
	topics *bool
}

// changeModel maps a change of the feed, or returns nil when the filter
// leaves it out.
func changeModel(c store.Change, f changeFilter) *model.Change {
	if len(f.ops) > 0 && !slices.Contains(f.ops, c.Operation) {
		return nil
	}
	narrowed := len(f.kinds) > 0 || len(f.linkTypes) > 0
	if c.TopicID != 0 {
		if f.topics != nil && !*f.topics || f.topics == nil && narrowed {
			return nil
		}
	} else if narrowed {
		entityOK := c.LinkID == 0 && slices.Contains(f.kinds, c.Kind)
		linkOK := c.LinkID != 0 && slices.Contains(f.linkTypes, c.LinkType)
		if !entityOK && !linkOK {
			return nil
		}
	}
	m := &model.Change{RevisionID: relay.ID("Revision", c.RevisionID), At: c.At, Actor: c.Actor, Operation: c.Operation}
	if c.TopicID != 0 {
		slug := c.TopicSlug
		m.Topic = &slug
	} else if c.LinkID != 0 {
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
func (r *Resolver) feedChanges(ctx context.Context, in <-chan store.Change, f changeFilter) <-chan *model.Change {
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
				m := changeModel(c, f)
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
