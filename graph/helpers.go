package graph

import (
	"context"
	"fmt"

	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/store"
)

// entityByID loads one entity as its model; nil when missing or hidden.
func entityByID(ctx context.Context, id int64) (model.Entity, error) {
	e, err := loader.For(ctx).Entity.Load(ctx, id)
	if err != nil || e == nil {
		return nil, err
	}
	return model.FromEntity(e), nil
}

// mustEntity is entityByID for non-null fields: a hidden end is NOT_FOUND.
func mustEntity(ctx context.Context, id int64) (model.Entity, error) {
	m, err := entityByID(ctx, id)
	if err == nil && m == nil {
		err = fmt.Errorf("entity %d: %w", id, kb.ErrNotFound)
	}
	return m, err
}

// citations returns the citations of an entity.
func citations(ctx context.Context, id int64) ([]*model.Citation, error) {
	cs, err := loader.For(ctx).EntityCitations.Load(ctx, id)
	return mapCitations(cs), err
}

func mapCitations(cs []kb.Citation) []*model.Citation {
	out := make([]*model.Citation, len(cs))
	for i, c := range cs {
		out[i] = model.CitationFrom(c)
	}
	return out
}

// pageSize checks a first/last argument against the page-size cap.
func pageSize(field string, n *int) (int, error) {
	if n == nil {
		return 0, nil
	}
	switch {
	case *n < 0:
		return 0, kb.Invalid(field, "must not be negative, got %d", *n)
	case *n > MaxPageSize:
		return 0, fmt.Errorf("%w: %s is %d, the page size is at most %d", kb.ErrLimitExceeded, field, *n, MaxPageSize)
	}
	return *n, nil
}

// pageArgs are the Relay paging arguments of a list.
type pageArgs struct {
	first, last   *int
	after, before *string
}

// links resolves the generic links connection of entity id.
func links(ctx context.Context, id int64, direction *model.LinkDirection, types []kb.RelationType, first *int, after *string) (*model.LinkConnection, error) {
	n, err := pageSize("first", first)
	if err != nil {
		return nil, err
	}
	if first == nil {
		n = DefaultPageSize
	}
	sp := store.LinkSpec{Types: types, Limit: n + 1}
	if direction != nil {
		switch *direction {
		case model.LinkDirectionOutgoing:
			sp.Direction = store.Outgoing
		case model.LinkDirectionIncoming:
			sp.Direction = store.Incoming
		}
	}
	if after != nil {
		c, err := relay.ParseCursor("after", *after, "LINK")
		if err != nil {
			return nil, err
		}
		sp.AfterID = c.ID
	}
	ld := loader.For(ctx)
	ls, err := ld.Links(sp).Load(ctx, id)
	if err != nil {
		return nil, err
	}
	conn := &model.LinkConnection{PageInfo: &model.PageInfo{HasPreviousPage: after != nil}}
	if len(ls) > n {
		ls, conn.PageInfo.HasNextPage = ls[:n], true
	}
	for _, l := range ls {
		m := model.LinkFrom(l, id)
		cur := relay.Cursor{Order: "LINK", ID: l.ID}.Encode()
		conn.Nodes = append(conn.Nodes, m)
		conn.Edges = append(conn.Edges, &model.LinkEdge{Cursor: cur, Node: m})
	}
	setCursors(conn.PageInfo, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	conn.Count = func(ctx context.Context) (int, error) { return ld.LinkCount(sp).Load(ctx, id) }
	return conn, nil
}

func setCursors(pi *model.PageInfo, n int, cursor func(int) string) {
	if n == 0 {
		return
	}
	start, end := cursor(0), cursor(n-1)
	pi.StartCursor, pi.EndCursor = &start, &end
}

// list runs a root list query: it checks the paging and order arguments,
// reads one page, and hands each entity with its cursor to add. It sets
// the page info and the count function of the connection.
func (r *Resolver) list(ctx context.Context, f store.Filter, orderBy *model.EntityOrder, pa pageArgs,
	add func(e *kb.Entity, cursor string), pi **model.PageInfo, count *model.CountFunc) error {
	first, err := pageSize("first", pa.first)
	if err != nil {
		return err
	}
	last, err := pageSize("last", pa.last)
	if err != nil {
		return err
	}
	switch {
	case pa.first != nil && pa.last != nil:
		return kb.Invalid("last", "use either first or last, not both")
	case pa.last != nil && pa.after != nil:
		return kb.Invalid("after", "after goes with first; use before with last")
	case pa.first != nil && pa.before != nil:
		return kb.Invalid("before", "before goes with last; use after with first")
	case pa.first == nil && pa.last == nil:
		if pa.before != nil {
			last = DefaultPageSize
		} else {
			first = DefaultPageSize
		}
	}
	o := store.Order{Field: store.OrderName}
	if orderBy != nil {
		o = store.Order{Field: store.OrderField(orderBy.Field), Desc: orderBy.Direction == model.OrderDirectionDesc}
	}
	p := store.Page{First: first, Last: last}
	if pa.after != nil {
		c, err := relay.ParseCursor("after", *pa.after, o.Key())
		if err != nil {
			return err
		}
		p.After = &store.Position{Value: c.Value, ID: c.ID}
	}
	if pa.before != nil {
		c, err := relay.ParseCursor("before", *pa.before, o.Key())
		if err != nil {
			return err
		}
		p.Before = &store.Position{Value: c.Value, ID: c.ID}
	}
	if p.First == 0 && p.Last == 0 {
		// first: 0 or last: 0 asks for no items, but totalCount still works.
		*pi = &model.PageInfo{}
	} else {
		vis := loader.For(ctx).Visibility()
		page, err := r.Store.ListEntities(ctx, vis, f, o, p)
		if err != nil {
			return err
		}
		cursors := make([]string, len(page.Entities))
		for i, e := range page.Entities {
			pos := page.Positions[i]
			cursors[i] = relay.Cursor{Order: o.Key(), Value: pos.Value, ID: pos.ID}.Encode()
			add(e, cursors[i])
		}
		*pi = &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrev}
		setCursors(*pi, len(cursors), func(i int) string { return cursors[i] })
	}
	*count = func(ctx context.Context) (int, error) {
		return r.Store.CountEntities(ctx, loader.For(ctx).Visibility(), f)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// node resolves a global ID to its object: nil when it does not exist or is
// not visible, a validation error when the ID is malformed.
func node(ctx context.Context, id string) (model.Node, error) {
	typeName, rowID, err := relay.ParseID(id)
	if err != nil {
		return nil, err
	}
	if typeName == "Link" {
		l, err := loader.For(ctx).Link.Load(ctx, rowID)
		if err != nil || l == nil {
			return nil, err
		}
		return model.LinkFrom(l, l.FromID), nil
	}
	kind, ok := kb.KindOfTypeName(typeName)
	if !ok {
		return nil, kb.Invalid("id", "%q is not a valid ID", id)
	}
	e, err := loader.For(ctx).Entity.Load(ctx, rowID)
	if err != nil || e == nil || e.Kind != kind {
		return nil, err
	}
	return model.FromEntity(e), nil
}
