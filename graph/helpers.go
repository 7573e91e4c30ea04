package graph

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/vikstrous/dataloadgen"
)

// entityByID loads one entity as its model; nil when missing or hidden.
func entityByID(ctx context.Context, id int64) (model.Entity, error) {
	e, err := loader.For(ctx).Entity.Load(ctx, id)
	if err != nil || e == nil {
		return nil, err
	}
	if e, err = localizedOne(ctx, e); err != nil {
		return nil, err
	}
	return model.FromEntity(e), nil
}

// mustEntity is entityByID for non-null fields: a hidden end is NOT_FOUND.
func mustEntity(ctx context.Context, id int64) (model.Entity, error) {
	m, err := entityByID(ctx, id)
	if err == nil && m == nil {
		err = fmt.Errorf("entry: %w", kb.ErrNotFound) // the path names the field; a hidden entry keeps its ID
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
		// Outside the argument's documented range: BAD_USER_INPUT, as
		// docs/api.md ("Errors") sets the rule.
		return 0, kb.Invalid(field, "is %d, the page size is at most %d", *n, MaxPageSize)
	}
	return *n, nil
}

// pageArgs are the Relay paging arguments of a list.
type pageArgs struct {
	first, last   *int
	after, before *string
}

// links resolves the generic links connection of entity id.
func links(ctx context.Context, id int64, direction *model.LinkDirection, types []kb.RelationType, pa pageArgs) (*model.LinkConnection, error) {
	w, err := pageWindow(pa, DefaultPageSize)
	if err != nil {
		return nil, err
	}
	sp := store.LinkSpec{Types: types, Limit: w.n + 1, Desc: w.backward}
	if direction != nil {
		switch *direction {
		case model.LinkDirectionOutgoing:
			sp.Direction = store.Outgoing
		case model.LinkDirectionIncoming:
			sp.Direction = store.Incoming
		}
	}
	from, fromField, until, untilField := w.bounds()
	if from != nil {
		c, err := relay.ParseCursor(fromField, *from, "LINK")
		if err != nil {
			return nil, err
		}
		sp.AfterID = c.ID
	}
	if until != nil {
		c, err := relay.ParseCursor(untilField, *until, "LINK")
		if err != nil {
			return nil, err
		}
		sp.UntilID = c.ID
	}
	ld := loader.For(ctx)
	// The count is of the whole list, whatever the page.
	whole := sp.Unpaged()
	conn := &model.LinkConnection{PageInfo: &model.PageInfo{}}
	conn.Count = func(ctx context.Context) (int, error) { return ld.LinkCount(whole).Load(ctx, id) }
	if w.n == 0 {
		return conn, nil // first: 0 asks for no items, but totalCount still works
	}
	ls, err := ld.Links(sp).Load(ctx, id)
	if err != nil {
		return nil, err
	}
	ls, conn.PageInfo = cut(w, ls)
	for _, l := range ls {
		m := model.LinkFrom(l, id)
		cur := relay.Cursor{Order: "LINK", ID: l.ID}.Encode()
		conn.Nodes = append(conn.Nodes, m)
		conn.Edges = append(conn.Edges, &model.LinkEdge{Cursor: cur, Node: m})
	}
	setCursors(conn.PageInfo, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

// parseListCursor decodes a cursor of the list ordering o and checks its
// position has the type of each order key, before it reaches SQL.
func parseListCursor(field, s string, o store.Order) (relay.Cursor, error) {
	c, err := relay.ParseCursor(field, s, o.Key())
	if err != nil {
		return c, err
	}
	if len(c.More) != len(o.Then) {
		return relay.Cursor{}, kb.Invalid(field, "the cursor holds %d keys, the ordering %d", 1+len(c.More), 1+len(o.Then))
	}
	for i, k := range o.Keys() {
		if k.Field != store.OrderCreatedAt && k.Field != store.OrderUpdatedAt {
			continue
		}
		v := c
		if i > 0 {
			v.Value = c.More[i-1]
		}
		if _, err := v.TimeValue(field); err != nil {
			return relay.Cursor{}, err
		}
	}
	return c, nil
}

// listOrder turns the orderBy argument of a root list into a store order,
// by name when it is absent or empty, and checks it (BAD_USER_INPUT on
// orderBy for a field given twice or too many keys).
func listOrder(orderBy []*model.EntityOrder) (store.Order, error) {
	if len(orderBy) == 0 {
		return store.Order{Field: store.OrderName}, nil
	}
	keys := make([]store.OrderKey, len(orderBy))
	for i, k := range orderBy {
		keys[i] = store.OrderKey{Field: store.OrderField(k.Field), Desc: k.Direction == model.OrderDirectionDesc}
	}
	o := store.OrderOf(keys)
	return o, o.Check("orderBy")
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
// the page info and the count functions of the connection, which share
// one count (store.CountEntitiesUpTo, bounded by Resolver.CountBound) when
// totalCount and totalCountIsExact are both asked for.
func (r *Resolver) list(ctx context.Context, f store.Filter, orderBy []*model.EntityOrder, pa pageArgs,
	add func(e *kb.Entity, cursor string), pi **model.PageInfo, count *model.CountFunc, exact *model.ExactFunc) error {
	w, err := pageWindow(pa, DefaultPageSize)
	if err != nil {
		return err
	}
	pa = w.pageArgs
	first, last := w.n, 0
	if w.backward {
		first, last = 0, w.n
	}
	o, err := listOrder(orderBy)
	if err != nil {
		return err
	}
	p := store.Page{First: first, Last: last}
	if pa.after != nil {
		c, err := parseListCursor("after", *pa.after, o)
		if err != nil {
			return err
		}
		p.After = &store.Position{Value: c.Value, More: c.More, ID: c.ID}
	}
	if pa.before != nil {
		c, err := parseListCursor("before", *pa.before, o)
		if err != nil {
			return err
		}
		p.Before = &store.Position{Value: c.Value, More: c.More, ID: c.ID}
	}
	var (
		once sync.Once
		c    store.Count
		cerr error
	)
	counted := func(ctx context.Context) (store.Count, error) {
		once.Do(func() {
			bound := r.CountBound
			if bound == 0 {
				bound = store.DefaultCountBound
			}
			c, cerr = r.Store.CountEntitiesUpTo(ctx, loader.For(ctx).Visibility(), f, bound)
		})
		return c, cerr
	}
	if p.First == 0 && p.Last == 0 {
		// first: 0 or last: 0 asks for no items, but totalCount still works.
		*pi = &model.PageInfo{}
	} else {
		ld := loader.For(ctx)
		vis := ld.Visibility()
		var page *store.EntityPage
		read := func(ctx context.Context) (err error) {
			page, err = r.Store.ListEntities(ctx, vis, f, o, p)
			return err
		}
		reads := []func(context.Context) error{read}
		if wantsCount(ctx) {
			// The count is asked for: read with the page, in one round
			// trip (store.Together); its error is totalCount's.
			reads = append(reads, func(ctx context.Context) error {
				_, err := counted(ctx)
				return err
			})
		}
		if ahead := ld.AskAheadList(ctx, f.Kind); ahead != nil {
			// What the fields under the entities of the last run's page
			// asked is asked for them ahead (loader.Ahead), in the same
			// round trip as the page and the count.
			err = ahead(reads...)[0]
		} else {
			err = r.Store.Together(ctx, reads...)[0]
		}
		if err != nil {
			return err
		}
		if page.Entities, err = localizedRoot(ctx, page.Entities); err != nil {
			return err
		}
		*pi = &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrev}
		type item struct {
			e   *kb.Entity
			pos store.Position
		}
		items := make([]item, len(page.Entities))
		for i, e := range page.Entities {
			items[i] = item{e, page.Positions[i]}
		}
		items = trim(w, items, *pi)
		ids := make([]int64, len(items))
		cursors := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.e.ID
			cursors[i] = relay.Cursor{Order: o.Key(), Value: it.pos.Value, More: it.pos.More, ID: it.pos.ID}.Encode()
			add(it.e, cursors[i])
		}
		ld.ListRead(ctx, ids)
		setCursors(*pi, len(cursors), func(i int) string { return cursors[i] })
	}
	*count = func(ctx context.Context) (int, error) {
		c, err := counted(ctx)
		return c.N, err
	}
	*exact = func(ctx context.Context) (bool, error) {
		c, err := counted(ctx)
		return c.Exact, err
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
func (r *Resolver) node(ctx context.Context, id string) (model.Node, error) {
	out, err := r.nodes(ctx, []string{id}, "id")
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// nodes resolves global IDs like node, all entries with one LoadAll and
// all links with another: one batch of each, whatever the number of IDs.
// Revisions (staff only) and tokens (admins only) are read one by one:
// they are refetched singly, by the staff. field names the argument in
// errors ("ids", or "id" for node).
func (r *Resolver) nodes(ctx context.Context, ids []string, field string) ([]model.Node, error) {
	type ask struct {
		at   int
		kind kb.Kind // empty for a link
		id   int64
	}
	var entities, links, others []ask
	typeNames := make([]string, len(ids))
	for i, id := range ids {
		name := field
		if field == "ids" {
			name = fmt.Sprintf("ids[%d]", i)
		}
		typeName, rowID, err := relay.ParseID(id)
		if err != nil {
			if field == "ids" {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return nil, err
		}
		typeNames[i] = typeName
		switch typeName {
		case "Link":
			links = append(links, ask{at: i, id: rowID})
			continue
		case "Revision", "Token":
			others = append(others, ask{at: i, id: rowID})
			continue
		}
		kind, ok := kb.KindOfTypeName(typeName)
		if !ok {
			return nil, kb.Invalid(name, "%q is not a valid ID", id)
		}
		entities = append(entities, ask{at: i, kind: kind, id: rowID})
	}
	rowIDs := func(as []ask) []int64 {
		out := make([]int64, len(as))
		for i, a := range as {
			out[i] = a.id
		}
		return out
	}
	ld := loader.For(ctx)
	if field == "id" && len(entities) == 1 {
		// node(id: ...) at the root: what the fields under the entity
		// asked the last runs of the operation goes with its row
		// (loader.Ahead).
		ld.AskAhead(ctx, entities[0].kind, entities[0].id)
	}
	// Both batches are asked for before either is awaited: one wait.
	entityThunk := ld.Entity.LoadAllThunk(ctx, rowIDs(entities))
	linkThunk := ld.Link.LoadAllThunk(ctx, rowIDs(links))
	es, err := entityThunk()
	if err != nil {
		return nil, firstError(err)
	}
	if es, err = localized(ctx, es); err != nil {
		return nil, err
	}
	ls, err := linkThunk()
	if err != nil {
		return nil, firstError(err)
	}
	out := make([]model.Node, len(ids))
	for i, a := range entities {
		if e := es[i]; e != nil && e.Kind == a.kind {
			// Every entity type implements Node, though the Entity
			// interface does not say so (schema/entities.graphqls).
			out[a.at] = model.FromEntity(e).(model.Node)
		}
	}
	for i, a := range links {
		if l := ls[i]; l != nil {
			out[a.at] = model.LinkFrom(l, l.FromID)
		}
	}
	for _, a := range others {
		n, err := r.staffNode(ctx, typeNames[a.at], a.id)
		if err != nil {
			return nil, err
		}
		out[a.at] = n
	}
	return out, nil
}

// staffNode reads a revision (staff only, as `history` is) or a token
// (admins only, as `tokens` is): nil when it does not exist, FORBIDDEN
// (UNAUTHENTICATED without a token) for a caller without the role, whether
// it exists or not, so that the answer tells such a caller nothing.
func (r *Resolver) staffNode(ctx context.Context, typeName string, id int64) (model.Node, error) {
	v := auth.ViewerOf(ctx)
	if typeName == "Token" {
		if err := v.Require(kb.RoleAdmin); err != nil {
			return nil, fmt.Errorf("a token: %w", err)
		}
		t, err := r.Store.TokenByID(ctx, id)
		if errors.Is(err, kb.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return tokenModel(t), nil
	}
	if err := v.Require(kb.RoleEditor); err != nil {
		return nil, fmt.Errorf("a revision: %w", err)
	}
	rev, err := r.Store.RevisionByID(ctx, id)
	if errors.Is(err, kb.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return revisionModel(rev), nil
}

// firstError returns the first error of a LoadAll's error slice: a batch
// fails as a whole, each key with the same error, which is worth saying
// once.
func firstError(err error) error {
	var errs dataloadgen.ErrorSlice
	if errors.As(err, &errs) {
		for _, e := range errs {
			if e != nil {
				return e
			}
		}
	}
	return err
}

// mapFilter sets the map conditions of a list filter, checked.
func mapFilter(field string, f *store.Filter, near *model.NearInput, within *model.BoundingBoxInput) error {
	if near != nil {
		c := kb.Circle{Lat: near.Lat, Lon: near.Lon, RadiusKm: near.RadiusKm}
		if err := c.Validate(field + ".near"); err != nil {
			return err
		}
		f.Near = &c
	}
	if within != nil {
		b := kb.BBox{South: within.South, West: within.West, North: within.North, East: within.East}
		if err := b.Validate(field + ".within"); err != nil {
			return err
		}
		f.Within = &b
	}
	return nil
}
