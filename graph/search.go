package graph

import (
	"context"
	"fmt"

	"hash/fnv"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/loader"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/textsearch"
)

// searchOrder names search cursors: a cursor is the position of a hit in
// the ranking (an offset), bound to its search by a hash of the arguments.
const searchOrder = "SEARCH"

// searchKey identifies a search for its cursors, so that a cursor of one
// search is refused by another.
func searchKey(query string, types []kb.Kind, country string) string {
	h := fnv.New64a()
	h.Write([]byte(query + "\x00" + strings.Join(strs(types), ",") + "\x00" + strings.ToUpper(country)))
	return strconv.FormatUint(h.Sum64(), 36)
}

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// search resolves the root search field: it checks the paging arguments,
// reads one page of hits and maps them to edges with cursors, scores and
// snippets.
func (r *Resolver) search(ctx context.Context, query string, types []kb.Kind, filter *model.SearchFilter, pa pageArgs) (*model.SearchConnection, error) {
	w, err := pageWindow(pa, DefaultPageSize)
	if err != nil {
		return nil, err
	}
	req := store.SearchRequest{Query: query, Kinds: types}
	if filter != nil {
		req.Country = deref(filter.Country)
	}
	key := searchKey(query, types, req.Country)
	// A cursor is the rank of a hit (1 for the best): the hits after
	// `after` and before `before` are the ranks between them.
	rank := func(field string, s *string) (int, error) {
		if s == nil {
			return 0, nil
		}
		c, err := relay.ParseCursor(field, *s, searchOrder)
		if err != nil {
			return 0, err
		}
		if c.Value != key {
			return 0, kb.Invalid(field, "the cursor belongs to another search")
		}
		return int(c.ID), nil
	}
	lo, err := rank("after", w.after)
	if err != nil {
		return nil, err
	}
	hi, err := rank("before", w.before)
	if err != nil {
		return nil, err
	}
	vis := loader.For(ctx).Visibility()
	countReq := req // the count reads neither offset nor limit
	if _, err := textsearch.Parse("query", query); err != nil {
		return nil, err // before any read: a query that cannot be searched is refused once
	}
	// The count: read with the page when the selection asks for it and a
	// page is read (one reading of the text index for both), else by
	// CountSearch, at once beside the page or when called (searchCount).
	var count model.BoundedCountFunc
	withPage := wantsCount(ctx) && !(w.backward && hi == 0)
	if withPage {
		count = model.BoundedCountFunc(func(ctx context.Context) (int, bool, error) {
			return r.Store.CountSearch(ctx, vis, countReq)
		}).Once()
	} else {
		count = r.searchCount(ctx, vis, countReq)
	}
	if w.backward && hi == 0 {
		// The last hits of the whole ranking: where it ends is its count,
		// which is bounded (store.DefaultCountBound).
		n, exact, err := count(ctx)
		if err != nil {
			return nil, err
		}
		if !exact {
			return nil, fmt.Errorf("last without before needs the end of the ranking, and the search has more than %d hits; page with first, or backwards from a cursor: %w", n, kb.ErrLimitExceeded)
		}
		hi = n + 1
	}
	req.Offset, req.Limit = lo, w.n
	if hi > 0 && w.backward {
		req.Offset = max(lo, hi-1-w.n)
	}
	if hi > 0 {
		req.Limit = max(0, min(req.Limit, hi-1-req.Offset))
	}
	conn := &model.SearchConnection{
		PageInfo:       &model.PageInfo{HasPreviousPage: req.Offset > 0, HasNextPage: w.backward && w.before != nil},
		Edges:          []*model.SearchEdge{},
		Count:          count,
		Nodes:          []model.Entity{},
		UnmatchedWords: []string{},
	}
	if req.Limit > 0 {
		req.Count = withPage
		page, err := r.Store.Search(ctx, vis, req)
		if err != nil {
			return nil, err
		}
		if page.Counted {
			n, exact := page.Total, page.TotalExact
			conn.Count = func(context.Context) (int, bool, error) { return n, exact, nil }
		}
		switch {
		case w.backward:
			conn.PageInfo.HasPreviousPage = req.Offset > lo
		case hi > 0:
			conn.PageInfo.HasNextPage = req.Offset+len(page.Hits) < hi-1
		default:
			conn.PageInfo.HasNextPage = page.HasNext
		}
		if w.keep >= 0 && len(page.Hits) > w.keep {
			drop := len(page.Hits) - w.keep
			page.Hits = page.Hits[drop:]
			req.Offset += drop
			conn.PageInfo.HasPreviousPage = true
		}
		conn.Partial, conn.UnmatchedWords = page.Partial, page.Unmatched
		if conn.UnmatchedWords == nil {
			conn.UnmatchedWords = []string{}
		}
		hits := make([]*kb.Entity, len(page.Hits))
		for i, h := range page.Hits {
			hits[i] = h.Entity
		}
		if hits, err = localizedRoot(ctx, hits); err != nil {
			return nil, err
		}
		for i, h := range page.Hits {
			m := model.FromEntity(hits[i])
			cur := relay.Cursor{Order: searchOrder, Value: key, ID: int64(req.Offset + i + 1)}.Encode()
			conn.Nodes = append(conn.Nodes, m)
			conn.Edges = append(conn.Edges, &model.SearchEdge{Cursor: cur, Node: m, Score: h.Score, MissingWords: h.Missing,
				Snippet: &model.Snippet{Field: h.Snippet.Field, Text: h.Snippet.Text, HTML: h.Snippet.HTML}})
		}
		setCursors(conn.PageInfo, len(conn.Edges), func(i int) string { return conn.Edges[i].Cursor })
	}
	return conn, nil
}

// searchCount returns the count function of a search connection whose
// count is not read with its page: a search that asks for the last hits
// without a cursor (their place is the count), or whose selection does not
// ask for the count. When the selection asks for totalCount or
// totalCountIsExact, the count starts at once, on a connection of its own,
// so that the request waits for the longer of it and the page; else it is
// read only if called.
func (r *Resolver) searchCount(ctx context.Context, vis store.Visibility, req store.SearchRequest) model.BoundedCountFunc {
	count := model.BoundedCountFunc(func(ctx context.Context) (int, bool, error) {
		return r.Store.CountSearch(ctx, vis, req)
	}).Once()
	if !wantsCount(ctx) {
		return count
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _, _ = count(ctx) // kept by Once for the resolvers
	}()
	return func(ctx context.Context) (int, bool, error) {
		select {
		case <-done:
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
		return count(ctx)
	}
}

// wantsCount reports whether the selection of the connection field of ctx
// (a search, a root list) asks for totalCount or totalCountIsExact.
func wantsCount(ctx context.Context) bool {
	if graphql.GetFieldContext(ctx) == nil {
		return false
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == "totalCount" || f.Name == "totalCountIsExact" {
			return true
		}
	}
	return false
}

// suggest resolves the root suggest field. Its default limit lives in
// the schema only: limit is nil when a client sends null.
func (r *Resolver) suggest(ctx context.Context, prefix string, types []kb.Kind, limit *int) ([]*model.Suggestion, error) {
	if limit == nil {
		return nil, kb.Invalid("limit", "must not be null; omit it for the default")
	}
	n := *limit
	if n < 1 || n > store.MaxSuggestions {
		return nil, kb.Invalid("limit", "must be between 1 and %d, got %d", store.MaxSuggestions, n)
	}
	ss, err := r.Store.Suggest(ctx, loader.For(ctx).Visibility(), prefix, types, n)
	if err != nil {
		return nil, err
	}
	// A suggestion names the entry in the request's language, as its
	// page will.
	named := make([]*kb.Entity, len(ss))
	for i, s := range ss {
		named[i] = &kb.Entity{ID: s.ID, Kind: s.Kind, Name: s.Name}
	}
	if named, err = localized(ctx, named); err != nil {
		return nil, err
	}
	out := make([]*model.Suggestion, len(ss))
	for i, s := range ss {
		out[i] = &model.Suggestion{EntityID: relay.ID(s.Kind.TypeName(), s.ID), RowID: s.ID, Kind: s.Kind, Name: named[i].Name}
	}
	return out, nil
}
