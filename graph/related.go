package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/serial"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/vektah/gqlparser/v2/ast"
)

// relation is what a typed related field reads: links of these types in
// this direction, to entities of these kinds (any kind when empty).
type relation struct {
	dir     store.Direction
	kinds   []kb.Kind
	types   []kb.RelationType
	inTypes []kb.RelationType // with dir Both, the incoming types, when they differ
}

func rel(dir store.Direction, kinds []kb.Kind, types ...kb.RelationType) relation {
	return relation{dir: dir, kinds: kinds, types: types}
}

// relatedArgs are the arguments of a related connection field.
type relatedArgs struct {
	pageArgs
	kinds    []kb.Kind
	statuses []kb.PublicationStatus
	order    *model.RelatedOrder
	// heads reports whether the connection's selection asks of its
	// entities only for what their rows hold; nil: connectionHeadsSuffice.
	heads func(*graphql.OperationContext, ast.SelectionSet) bool
}

// args of a field typed by one kind of entity.
func args(first *int, after *string, last *int, before *string, f *model.RelatedFilter, o *model.RelatedOrder) relatedArgs {
	a := relatedArgs{pageArgs: pageArgs{first, last, after, before}, order: o}
	if f != nil {
		a.statuses = f.Status
	}
	return a
}

// entityArgs of a field typed Entity, which may filter by kind.
func entityArgs(first *int, after *string, last *int, before *string, f *model.RelatedEntityFilter, o *model.RelatedOrder) relatedArgs {
	a := relatedArgs{pageArgs: pageArgs{first, last, after, before}, order: o}
	if f != nil {
		a.kinds, a.statuses = f.Kind, f.Status
	}
	return a
}

// relatedPage is one page of a related list, in the order it is shown.
type relatedPage struct {
	links    []*kb.Link
	others   []*kb.Entity // the entity at the other end of each link
	cursors  []string
	pageInfo *model.PageInfo
	count    model.CountFunc
}

// relatedOrderKey names the ordering of a related list in its cursors. The
// REL_ prefix keeps root-list cursors (ordered by entity) out.
func relatedOrderKey(o *model.RelatedOrder) (byName, desc bool, key string) {
	field, dir := model.RelatedOrderFieldLinkedAt, model.OrderDirectionAsc
	if o != nil {
		field, dir = o.Field, o.Direction
	}
	return field == model.RelatedOrderFieldName, dir == model.OrderDirectionDesc, "REL_" + string(field) + "_" + string(dir)
}

// loadRelated reads one page of the entities related to entity id by r,
// through the request's loaders: the pages of all the entities of one
// level that ask for the same page share one query, each entity's page
// cut in SQL; the count, when asked for, is one grouped query per level.
func loadRelated(ctx context.Context, id int64, r relation, a relatedArgs) (*relatedPage, error) {
	w, err := pageWindow(a.pageArgs, DefaultRelatedPageSize)
	if err != nil {
		return nil, err
	}
	n := w.n
	byName, desc, key := relatedOrderKey(a.order)
	// Only lists of mixed kinds (r.kinds empty) take a kind filter.
	kinds := r.kinds
	if len(kinds) == 0 {
		kinds = a.kinds
	}
	heads := a.heads
	if heads == nil {
		heads = connectionHeadsSuffice
	}
	sp := store.LinkSpec{Direction: r.dir, Types: r.types, InTypes: r.inTypes, OtherKinds: kinds, Statuses: a.statuses,
		ByName: byName, Desc: desc != w.backward, Limit: n + 1, DistinctOther: true, Heads: selectionHeads(ctx, heads)}
	// A page that shows more of its entities than their heads reads them
	// whole with its links, one round trip less (pageEntities finds them).
	sp.Rows = !sp.Heads
	from, fromField, until, untilField := w.bounds()
	if from != nil {
		c, err := relay.ParseCursor(fromField, *from, key)
		if err != nil {
			return nil, err
		}
		sp.AfterID, sp.AfterName = c.ID, c.Value
	}
	if until != nil {
		c, err := relay.ParseCursor(untilField, *until, key)
		if err != nil {
			return nil, err
		}
		sp.UntilID, sp.UntilName = c.ID, c.Value
	}
	ld := loader.For(ctx)
	p := &relatedPage{pageInfo: &model.PageInfo{}}
	p.count = countFunc(ctx, func(ctx context.Context) func() (int, error) { return ld.LinkCount(sp).LoadThunk(ctx, id) })
	if n == 0 {
		// first: 0 asks for no items, but totalCount still works.
		return p, nil
	}
	rows, err := ld.Links(sp).Rows(ctx, id)
	if err != nil {
		return nil, err
	}
	rows, p.pageInfo = cut(w, rows)
	ids := make([]int64, len(rows))
	for i, row := range rows {
		ids[i] = otherEnd(id, row.Link)
	}
	es, err := pageEntities(ctx, ids, sp.Heads)
	if err != nil {
		return nil, err
	}
	seen := make(map[int64]bool, len(rows))
	for i, row := range rows {
		// An entity linked in two ways (supports and funds) is shown once;
		// one hidden since the page was read is left out.
		if es[i] == nil || seen[es[i].ID] {
			continue
		}
		seen[es[i].ID] = true
		p.links = append(p.links, row.Link)
		p.others = append(p.others, es[i])
		c := relay.Cursor{Order: key, ID: row.Link.ID}
		if byName {
			c.Value = row.OtherName
		}
		p.cursors = append(p.cursors, c.Encode())
	}
	setCursors(p.pageInfo, len(p.cursors), func(i int) string { return p.cursors[i] })
	return p, nil
}

// pageEntities loads the entities of a page of a related connection, in
// the language of the request: from the entity row alone (loader
// EntityHead) when heads, else whole. The front page asks for the names
// of 160 cases and partners; reading them whole joined each to its kind's
// table and read some fifty columns (docs/benchmarks.md). Heads come with
// the page that named them (LinkSpec.Heads, PartnerPage.Heads), and so do
// whole rows (LinkSpec.Rows), so those cost no statement.
func pageEntities(ctx context.Context, ids []int64, heads bool) ([]*kb.Entity, error) {
	ld := loader.For(ctx)
	load := ld.Entity.LoadAll
	if heads {
		load = ld.EntityHead.LoadAll
	}
	es, err := load(ctx, ids)
	if err != nil {
		return nil, err
	}
	return localized(ctx, es)
}

// membershipHeadsSuffice is connectionHeadsSuffice for a connection of
// memberships, whose nodes' own fields come from the link and the
// member's row (its sector): it reports whether the selection asks of
// the member, if at all, only for headFields.
func membershipHeadsSuffice(op *graphql.OperationContext, sel ast.SelectionSet) bool {
	return connectionNodesOnly(op, sel, func(sel ast.SelectionSet) bool {
		return walkSelection(op, sel, func(f *ast.Field) bool {
			switch f.Name {
			case "member":
				return headsSuffice(op, f.SelectionSet)
			case "__typename", "partnership", "role", "sector", "startsOn", "endsOn", "sources":
				return true
			}
			return false
		})
	})
}

// selectionHeads reports whether suffice holds for the selection of the
// field of ctx: whether the entities it lists need only their heads.
func selectionHeads(ctx context.Context, suffice func(*graphql.OperationContext, ast.SelectionSet) bool) bool {
	fc := graphql.GetFieldContext(ctx)
	return fc != nil && graphql.HasOperationContext(ctx) && suffice(graphql.GetOperationContext(ctx), fc.Field.Selections)
}

// connectionHeadsSuffice reports whether the selection of a connection
// field asks of its nodes, directly or through its edges, only for
// headFields; any field it does not know makes it answer false.
func connectionHeadsSuffice(op *graphql.OperationContext, sel ast.SelectionSet) bool {
	return connectionNodesOnly(op, sel, func(sel ast.SelectionSet) bool { return headsSuffice(op, sel) })
}

// connectionNodesOnly reports whether the selection of a connection field
// asks of its nodes, directly or through its edges, only what node
// accepts of a node's selection; any other field of the connection or of
// its edges makes it answer false.
func connectionNodesOnly(op *graphql.OperationContext, sel ast.SelectionSet, node func(ast.SelectionSet) bool) bool {
	return walkSelection(op, sel, func(f *ast.Field) bool {
		switch f.Name {
		case "totalCount", "pageInfo", "__typename":
			return true
		case "nodes":
			return node(f.SelectionSet)
		case "edges":
			return walkSelection(op, f.SelectionSet, func(f *ast.Field) bool {
				switch f.Name {
				case "cursor", "__typename":
					return true
				case "node":
					return node(f.SelectionSet)
				}
				return false
			})
		}
		return false
	})
}

// walkSelection reports whether ok holds for every field of sel, looking
// into inline and named fragments.
func walkSelection(op *graphql.OperationContext, sel ast.SelectionSet, ok func(*ast.Field) bool) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if !ok(s) {
				return false
			}
		case *ast.InlineFragment:
			if !walkSelection(op, s.SelectionSet, ok) {
				return false
			}
		case *ast.FragmentSpread:
			if op == nil || op.Doc == nil {
				return false
			}
			f := op.Doc.Fragments.ForName(s.Name)
			if f == nil || !walkSelection(op, f.SelectionSet, ok) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// countFunc returns the count function of a connection field. When the
// field's selection asks for totalCount, the count is asked for at once,
// beside the page, so that the counts of a level go to the database in
// the same batch as its pages, whatever order their pages complete in
// (a page without items returns before those that load entities); else
// it is asked for only if called.
func countFunc(ctx context.Context, ask func(ctx context.Context) func() (int, error)) model.CountFunc {
	if graphql.GetFieldContext(ctx) != nil {
		for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
			if f.Name == "totalCount" {
				wait := ask(ctx)
				// The count is waited for by the totalCount field: its
				// slot is the one to give back (package serial).
				return func(ctx context.Context) (int, error) {
					defer serial.Pause(ctx)()
					return wait()
				}
			}
		}
	}
	return func(ctx context.Context) (int, error) { return ask(ctx)() }
}

// otherEnd is the end of l that is not id.
func otherEnd(id int64, l *kb.Link) int64 {
	if l.ToID == id {
		return l.FromID
	}
	return l.ToID
}

// connOf maps a page to the nodes and edges of a connection of one model
// type; entities of other kinds are left out.
func connOf[N comparable, E any](p *relatedPage, conv func(*kb.Entity) N, edge func(cursor string, n N) E) ([]N, []E) {
	var zero N
	nodes := make([]N, 0, len(p.others))
	edges := make([]E, 0, len(p.others))
	for i, e := range p.others {
		if n := conv(e); n != zero {
			nodes = append(nodes, n)
			edges = append(edges, edge(p.cursors[i], n))
		}
	}
	return nodes, edges
}

func entityConn(p *relatedPage, err error) (*model.EntityConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.EntityConnection{PageInfo: p.pageInfo, Count: p.count}
	c.Nodes, c.Edges = connOf(p, model.FromEntity, func(cur string, n model.Entity) *model.EntityEdge {
		return &model.EntityEdge{Cursor: cur, Node: n}
	})
	return c, nil
}

func partnerConn(p *relatedPage, err error) (*model.PartnerConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.PartnerConnection{PageInfo: p.pageInfo, Count: p.count}
	c.Nodes, c.Edges = connOf(p, model.PartnerFrom, func(cur string, n *model.Partner) *model.PartnerEdge {
		return &model.PartnerEdge{Cursor: cur, Node: n}
	})
	return c, nil
}

func cooperativeConn(p *relatedPage, err error) (*model.CooperativeConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.CooperativeConnection{PageInfo: p.pageInfo, Count: p.count}
	c.Nodes, c.Edges = connOf(p, model.CooperativeFrom, func(cur string, n *model.Cooperative) *model.CooperativeEdge {
		return &model.CooperativeEdge{Cursor: cur, Node: n}
	})
	return c, nil
}

func partnershipConn(p *relatedPage, err error) (*model.PartnershipConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.PartnershipConnection{PageInfo: p.pageInfo, Count: p.count}
	c.Nodes, c.Edges = connOf(p, model.PartnershipFrom, func(cur string, n *model.Partnership) *model.PartnershipEdge {
		return &model.PartnershipEdge{Cursor: cur, Node: n}
	})
	return c, nil
}

func goodPracticeConn(p *relatedPage, err error) (*model.GoodPracticeConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.GoodPracticeConnection{PageInfo: p.pageInfo, Count: p.count}
	c.Nodes, c.Edges = connOf(p, model.GoodPracticeFrom, func(cur string, n *model.GoodPractice) *model.GoodPracticeEdge {
		return &model.GoodPracticeEdge{Cursor: cur, Node: n}
	})
	return c, nil
}

func projectConn(p *relatedPage, err error) (*model.ProjectConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.ProjectConnection{PageInfo: p.pageInfo, Count: p.count}
	c.Nodes, c.Edges = connOf(p, model.ProjectFrom, func(cur string, n *model.Project) *model.ProjectEdge {
		return &model.ProjectEdge{Cursor: cur, Node: n}
	})
	return c, nil
}

func eventConn(p *relatedPage, err error) (*model.EventConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.EventConnection{PageInfo: p.pageInfo, Count: p.count}
	c.Nodes, c.Edges = connOf(p, model.EventFrom, func(cur string, n *model.Event) *model.EventEdge {
		return &model.EventEdge{Cursor: cur, Node: n}
	})
	return c, nil
}

func personConn(p *relatedPage, err error) (*model.PersonConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.PersonConnection{PageInfo: p.pageInfo, Count: p.count}
	c.Nodes, c.Edges = connOf(p, model.PersonFrom, func(cur string, n *model.Person) *model.PersonEdge {
		return &model.PersonEdge{Cursor: cur, Node: n}
	})
	return c, nil
}

func sourceConn(p *relatedPage, err error) (*model.SourceConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.SourceConnection{PageInfo: p.pageInfo, Count: p.count}
	c.Nodes, c.Edges = connOf(p, model.SourceFrom, func(cur string, n *model.Source) *model.SourceEdge {
		return &model.SourceEdge{Cursor: cur, Node: n}
	})
	return c, nil
}

// membershipConn resolves the MEMBER_OF links of a partnership (Incoming:
// its members) or of a member (Outgoing: its partnerships) as a page of
// memberships, each with the member's sector.
func membershipConn(ctx context.Context, id int64, dir store.Direction, a relatedArgs) (*model.MembershipConnection, error) {
	a.heads = membershipHeadsSuffice
	p, err := loadRelated(ctx, id, rel(dir, nil, kb.RelMemberOf), a)
	if err != nil {
		return nil, err
	}
	// The other end of a partnership's membership is its member, read with
	// the page (its head, when the selection asks no more of it); of a
	// member's, the partnership, and the member is id.
	var self *kb.Entity
	if dir != store.Incoming && len(p.links) > 0 {
		if self, err = loader.For(ctx).Entity.Load(ctx, id); err != nil {
			return nil, err
		}
	}
	c := &model.MembershipConnection{PageInfo: p.pageInfo, Count: p.count}
	for i, l := range p.links {
		m := &model.Membership{LinkID: l.ID, MemberID: l.FromID, PartnershipID: l.ToID, StartsOn: l.StartsOn, EndsOn: l.EndsOn}
		if role := kb.MemberRole(l.Role); role.Valid() {
			m.Role = &role
		}
		member := self
		if dir == store.Incoming {
			member = p.others[i]
			m.Loaded = member
		}
		if member != nil && member.Partner != nil {
			m.Sector = &member.Partner.Sector
		}
		c.Nodes = append(c.Nodes, m)
		c.Edges = append(c.Edges, &model.MembershipEdge{Cursor: p.cursors[i], Node: m})
	}
	return c, nil
}

// practicePartners resolves the partners behind a good practice as a page
// ordered by name, cut in SQL for all the practices of a level at once.
func practicePartners(ctx context.Context, id int64, pa pageArgs) (*model.PartnerConnection, error) {
	w, err := pageWindow(pa, DefaultRelatedPageSize)
	if err != nil {
		return nil, err
	}
	n := w.n
	const key = "PARTNERS_BEHIND_NAME_ASC"
	pp := store.PartnerPage{Desc: w.backward, Limit: n + 1}
	from, fromField, until, untilField := w.bounds()
	if from != nil {
		c, err := relay.ParseCursor(fromField, *from, key)
		if err != nil {
			return nil, err
		}
		pp.AfterID, pp.AfterName = c.ID, c.Value
	}
	if until != nil {
		c, err := relay.ParseCursor(untilField, *until, key)
		if err != nil {
			return nil, err
		}
		pp.UntilID, pp.UntilName = c.ID, c.Value
	}
	pp.Heads = selectionHeads(ctx, connectionHeadsSuffice)
	ld := loader.For(ctx)
	conn := &model.PartnerConnection{PageInfo: &model.PageInfo{}}
	conn.Count = countFunc(ctx, func(ctx context.Context) func() (int, error) { return ld.PracticePartnerCount().LoadThunk(ctx, id) })
	if n == 0 {
		return conn, nil
	}
	named, err := ld.PracticePartnerPage(pp).Load(ctx, id)
	if err != nil {
		return nil, err
	}
	named, conn.PageInfo = cut(w, named)
	ids := make([]int64, len(named))
	for i, x := range named {
		ids[i] = x.ID
	}
	es, err := pageEntities(ctx, ids, pp.Heads)
	if err != nil {
		return nil, err
	}
	for i, e := range es {
		if e == nil {
			continue // hidden since the page was read
		}
		if m := model.PartnerFrom(e); m != nil {
			cur := relay.Cursor{Order: key, Value: named[i].SortName, ID: named[i].ID}.Encode()
			conn.Nodes = append(conn.Nodes, m)
			conn.Edges = append(conn.Edges, &model.PartnerEdge{Cursor: cur, Node: m})
		}
	}
	setCursors(conn.PageInfo, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	return conn, nil
}

// indicators are the indicators of the entry rowID (a cooperative, project
// or event), oldest first, only those of names when names is not empty;
// the entries of a page share one query (loader.Indicators).
func indicators(ctx context.Context, rowID int64, names []kb.IndicatorName) ([]*model.Indicator, error) {
	ins, err := loader.For(ctx).Indicators.Load(ctx, rowID)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Indicator, 0, len(ins))
	for _, in := range ins {
		if len(names) == 0 || slices.Contains(names, in.Name) {
			out = append(out, model.IndicatorFrom(in))
		}
	}
	return out, nil
}
