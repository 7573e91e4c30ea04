package bench

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/store"
)

// Ref is an entity of the sample the operations draw from.
type Ref struct {
	Kind kb.Kind
	ID   int64 // the row id; relay.ID(Kind.TypeName(), ID) is its global ID
}

// GlobalID is the API's ID of r.
func (r Ref) GlobalID() string { return relay.ID(r.Kind.TypeName(), r.ID) }

// Args are what one request of an operation asks, independent of the
// target: each target (the server, the pgx ceiling, the peer) turns them
// into its own query, so the three answer the same question.
type Args struct {
	A, B   Ref       // the entity asked for, or the two ends of a path or link
	Sector kb.Sector // the sector a list is filtered by
	Text   string    // what a search asks
}

// Op is one operation of the benchmark.
type Op struct {
	Name string
	// Draw picks the arguments of one request.
	Draw func(r *rand.Rand, s *Sample, c *Client) Args
	// Query and Vars are the GraphQL request partnergraph is sent.
	Query string
	Vars  func(a Args) map[string]any
	// Ceiling issues, through the store and so through pgx, the SQL the
	// server issues for the same arguments, in the same batches and in
	// the same order of dependency, without HTTP or GraphQL.
	Ceiling func(ctx context.Context, st *store.Store, c *Client, a Args) error
	// Staff operations need an editor token.
	Staff bool
}

// Client is the state one benchmark client keeps between its requests:
// the staff operations alternate a link with its unlink, so the graph
// does not grow and a pair is never linked twice.
type Client struct {
	Index, Of int    // this client's number, of how many
	Linked    string // the global ID of the link this client made last; "" if none
	LinkID    int64  // its row id, for the ceiling
	// Actor is who the ceiling's writes are made by.
	Actor string
}

// Sample holds the published entities the operations draw from.
type Sample struct {
	All          []Ref
	Cooperatives []Ref
	Partners     []Ref
	// Pairs are partners and what they may support (cooperatives,
	// projects, other partners) that no SUPPORTS link joins yet.
	Pairs [][2]Ref
}

func pick(r *rand.Rand, refs []Ref) Ref { return refs[r.IntN(len(refs))] }

var sectors = []kb.Sector{kb.SectorPublic, kb.SectorSocial, kb.SectorPrivate}

// pageSize is the length of the list pages, as a frontend shows them.
const pageSize = 20

// maxRelated is the page size the operations ask of related lists (a
// practice's cases, a partner's cooperatives): the largest page.
const maxRelated = 100

// relatedSpec is the spec the server reads a page of n related entities
// with: one more than the page, to tell whether there is a next one.
func relatedSpec(n int, dir store.Direction, other []kb.Kind, types ...kb.RelationType) store.LinkSpec {
	return store.LinkSpec{Direction: dir, Types: types, OtherKinds: other, Limit: n + 1, DistinctOther: true}
}

// The front page's nested pages: the first 3 cases of each practice and
// its first 5 partners, with their counts.
const (
	pageCases    = 3
	pagePartners = 5
	// nestedPageQuery is the front page a frontend asks for.
	nestedPageQuery = `query Page { goodPractices(first: 20) { totalCount nodes { id name
			cases(first: 3) { totalCount nodes { __typename name } }
			partners(first: 5) { totalCount nodes { name sector } } } } }`
)

// Mix is the representative mix, in the order it runs.
var Mix = []Op{
	{
		Name: "page",
		Draw: func(*rand.Rand, *Sample, *Client) Args { return Args{} },
		// The front page of good practices (issue 11): 20 practices and
		// how many there are, each with its first 3 cases (cooperatives,
		// projects, ...) and its first 5 partners behind them, and how many
		// of each: what a frontend shows, each nested page cut in SQL.
		Query: nestedPageQuery,
		Vars:  func(Args) map[string]any { return nil },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, _ Args) error {
			f := store.Filter{Kind: kb.KindGoodPractice}
			page, err := st.ListEntities(ctx, store.Public, f, store.Order{Field: store.OrderName}, store.Page{First: pageSize})
			if err != nil {
				return err
			}
			if _, err := st.CountEntities(ctx, store.Public, f); err != nil {
				return err
			}
			ids := rowIDs(page.Entities)
			// The cases and the partners, with their counts, are asked
			// for in the same level, so the server batches the four at
			// once. Of the entities shown the page asks only what the
			// entity row holds (__typename, name, a partner's sector),
			// which the pages read with each link or partner.
			sp := relatedSpec(pageCases, store.Incoming, nil, kb.RelDemonstrates)
			sp.Heads = true
			if _, err := st.LinksOf(ctx, store.Public, ids, sp); err != nil {
				return err
			}
			if _, err := st.CountLinksOf(ctx, store.Public, ids, sp.Unpaged()); err != nil {
				return err
			}
			if _, err := st.PracticePartnerPages(ctx, store.Public, ids, store.PartnerPage{Limit: pagePartners + 1, Heads: true}); err != nil {
				return err
			}
			_, err = st.CountPracticePartners(ctx, store.Public, ids)
			return err
		},
	},
	{
		Name: "partners",
		Draw: func(r *rand.Rand, _ *Sample, _ *Client) Args { return Args{Sector: sectors[r.IntN(len(sectors))]} },
		// A list of partners of one sector with the cooperatives each
		// founded, runs, supports or funds, or whose participants it trains.
		Query: `query Partners($sector: Sector!) { partners(first: 20, filter: {sector: [$sector]}) { nodes {
			id name sector partnerKind city
			cooperatives(first: 100) { nodes { id name status city } } } } }`,
		Vars: func(a Args) map[string]any { return map[string]any{"sector": a.Sector} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			page, err := st.ListEntities(ctx, store.Public, store.Filter{Kind: kb.KindPartner, Sectors: []kb.Sector{a.Sector}},
				store.Order{Field: store.OrderName}, store.Page{First: pageSize})
			if err != nil {
				return err
			}
			ids := rowIDs(page.Entities)
			coop := []kb.Kind{kb.KindCooperative}
			// One page of both directions: what the partner founded,
			// runs, supports or funds, and who employs its participants;
			// the cooperatives' whole rows with it (the page asks their
			// city).
			sp := relatedSpec(maxRelated, store.Both, coop, kb.CooperativePartnersIn...)
			sp.InTypes, sp.Rows = kb.CooperativePartnersOut, true
			_, err = st.LinkPages(ctx, store.Public, []store.SpecIDs{{Spec: sp, IDs: ids}})
			return err
		},
	},
	{
		Name: "cooperative",
		Draw: func(r *rand.Rand, s *Sample, _ *Client) Args { return Args{A: pick(r, s.Cooperatives)} },
		// A cooperative's page: its founders and workshops, the
		// partnerships around it with their members and sector mix, and
		// its indicators.
		Query: `query Cooperative($id: ID!) { node(id: $id) { ... on Cooperative {
			id name summary status activities city foundedOn
			founders(first: 100) { nodes { id kind name } }
			workshops(first: 100) { nodes { id name city } }
			partnerships(first: 10) { nodes { id name
				members(first: 20) { nodes { role sector member { id kind name } } }
				sectorMix { counts { sector count } isFull } } }
			indicators { name value unit asOf } } } }`,
		Vars: func(a Args) map[string]any { return map[string]any{"id": a.A.GlobalID()} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			id := []int64{a.A.ID}
			if _, err := entities(ctx, st, id); err != nil {
				return err
			}
			// Of the founders the page asks only what the entity row
			// holds, which their page reads with each link, and of the
			// partnerships that and what their ids answer (their
			// members and sector mix); of the workshops more, their
			// whole rows, read with their links too.
			founders := relatedSpec(maxRelated, store.Incoming, nil, kb.RelFounded)
			founders.Heads = true
			partnershipSpec := relatedSpec(10, store.Incoming, []kb.Kind{kb.KindPartnership}, kb.RelFormedAround)
			partnershipSpec.Heads = true
			workshops := relatedSpec(maxRelated, store.Outgoing, []kb.Kind{kb.KindPartner}, kb.RelEmploysParticipantsOf)
			workshops.Rows = true
			links, err := st.LinksOfSpecs(ctx, store.Public, []store.SpecIDs{
				{Spec: founders, IDs: id},
				{Spec: workshops, IDs: id},
				{Spec: partnershipSpec, IDs: id},
			})
			if err != nil {
				return err
			}
			partnerships := links[2]
			if _, err := st.Indicators(ctx, store.Public, id); err != nil {
				return err
			}
			ps := appendOthers(nil, a.A.ID, partnerships[a.A.ID])
			if len(ps) == 0 {
				return nil
			}
			// Of the members the page asks their sector and what the
			// entity row holds, read with their links.
			members := relatedSpec(20, store.Incoming, nil, kb.RelMemberOf)
			members.Heads = true
			if _, err := st.LinksOf(ctx, store.Public, ps, members); err != nil {
				return err
			}
			_, err = st.SectorCounts(ctx, store.Public, ps)
			return err
		},
	},
	{
		Name: "neighborhood",
		Draw: func(r *rand.Rand, s *Sample, _ *Client) Args { return Args{A: pick(r, s.All)} },
		Query: `query Neighborhood($id: ID!) { neighborhood(id: $id, depth: 2, limit: 500) {
			truncated nodes { id kind name } links { id type direction role } } }`,
		Vars: func(a Args) map[string]any { return map[string]any{"id": a.A.GlobalID()} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			g, err := st.Neighborhood(ctx, store.Public, a.A.ID, 2, store.Walk{}, 500)
			if err != nil {
				return err
			}
			_, err = entityHeads(ctx, st, g.Nodes)
			return err
		},
	},
	{
		Name: "path",
		Draw: func(r *rand.Rand, s *Sample, _ *Client) Args { return Args{A: pick(r, s.All), B: pick(r, s.All)} },
		Query: `query Path($from: ID!, $to: ID!) { path(from: $from, to: $to, maxDepth: 6) {
			length nodes { id kind name } links { type direction } } }`,
		Vars: func(a Args) map[string]any { return map[string]any{"from": a.A.GlobalID(), "to": a.B.GlobalID()} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			p, err := st.ShortestPath(ctx, store.Public, a.A.ID, a.B.ID, 6, store.Walk{})
			if err != nil || p == nil {
				return err
			}
			_, err = entityHeads(ctx, st, p.Nodes)
			return err
		},
	},
	searchOp("search", SearchQueries),
	{
		Name:  "link",
		Staff: true,
		// Each client links pairs of its own share of the sample's pairs,
		// none of them linked before, so that clients do not collide.
		Draw: func(r *rand.Rand, s *Sample, c *Client) Args {
			n := len(s.Pairs)
			if n == 0 {
				return Args{}
			}
			share := (n - c.Index + c.Of - 1) / c.Of // pairs j with j % Of == Index
			if share == 0 {
				p := s.Pairs[r.IntN(n)]
				return Args{A: p[0], B: p[1]}
			}
			p := s.Pairs[c.Index+c.Of*r.IntN(share)]
			return Args{A: p[0], B: p[1]}
		},
		// A staff member records that a partner supports a cooperative, a
		// project or another organisation; the next request of the same
		// client unlinks it.
		Query: `mutation Link($input: LinkInput!) { link(input: $input) { id type from { id name } to { id name } } }`,
		Vars: func(a Args) map[string]any {
			return map[string]any{"input": map[string]any{"from": a.A.GlobalID(), "to": a.B.GlobalID(), "type": kb.RelSupports, "note": "benchmark"}}
		},
		Ceiling: func(ctx context.Context, st *store.Store, c *Client, a Args) error {
			if c.LinkID != 0 {
				_, err := st.DeleteLink(ctx, c.Actor, c.LinkID, nil)
				c.LinkID = 0
				return err
			}
			l, err := st.CreateLink(ctx, c.Actor, &kb.Link{FromID: a.A.ID, ToID: a.B.ID, Type: kb.RelSupports, Note: "benchmark"})
			if err != nil {
				return err
			}
			c.LinkID = l.ID
			_, err = entities(ctx, st, []int64{l.FromID, l.ToID})
			return err
		},
	},
}

// Extra are operations outside the mix that earlier figures were measured
// with; --ops names them.
var Extra = []Op{
	{
		Name:  "aggregate",
		Draw:  func(*rand.Rand, *Sample, *Client) Args { return Args{} },
		Query: `query Aggregate { aggregate(kind: PARTNER, groupBy: [SECTOR]) { totalCount groups { key count } } }`,
		Vars:  func(Args) map[string]any { return nil },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, _ Args) error {
			_, _, err := st.Aggregate(ctx, store.Public, store.Filter{Kind: kb.KindPartner}, []store.GroupField{store.GroupSector})
			return err
		},
	},
	// One kind of search query each, for the targets of issue 12: a
	// common word, two and three words, a phrase and a misspelled word.
	searchOp("search-common", []string{"spoldzielnia", "spółdzielnia", "stowarzyszenie", "fundacja", "warsztat"}),
	searchOp("search-two", []string{"spoldzielnia socjalna", "warsztat terapii", "stowarzyszenie poznan", "gmina gniezno", "aktywizacja zawodowa"}),
	searchOp("search-three", []string{"spółdzielnia socjalna poznań", "warsztat terapii zajęciowej", "ośrodek pomocy społecznej", "spoldzielnia socjalna razem", "fundacja ekonomii spolecznej"}),
	searchOp("search-phrase", []string{`"spółdzielnia socjalna"`, `"warsztat terapii"`, `"pomocy społecznej"`, `"równe szanse"`, `"ekonomiska förening"`}),
	searchOp("search-typo", []string{"spoldzelnia", "stowarzyszenei", "fundajca", "warsztta terapii", "kooperaitvet"}),
	{
		Name: "suggest",
		Draw: func(r *rand.Rand, _ *Sample, _ *Client) Args {
			return Args{Text: suggestPrefixes[r.IntN(len(suggestPrefixes))]}
		},
		Query: `query Suggest($p: String!) { suggest(prefix: $p, limit: 10) { entityId kind name } }`,
		Vars:  func(a Args) map[string]any { return map[string]any{"p": a.Text} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			_, err := st.Suggest(ctx, store.Public, a.Text, nil, 10)
			return err
		},
	},
}

// searchOp is a search operation named name that asks one of queries at
// random, one page of 20 hits with totalCount, as a search box does.
func searchOp(name string, queries []string) Op {
	return Op{
		Name: name,
		Draw: func(r *rand.Rand, _ *Sample, _ *Client) Args {
			return Args{Text: queries[r.IntN(len(queries))]}
		},
		Query: `query Search($q: String!) { search(query: $q, first: 20) {
			totalCount totalCountIsExact edges { score snippet { field html } node { id kind name } } } }`,
		Vars: func(a Args) map[string]any { return map[string]any{"q": a.Text} },
		Ceiling: func(ctx context.Context, st *store.Store, _ *Client, a Args) error {
			// As the server: the count with the page, else on its own.
			r := store.SearchRequest{Query: a.Text, Limit: pageSize, Count: true}
			page, err := st.Search(ctx, store.Public, r)
			if err != nil || page.Counted {
				return err
			}
			r.Count = false
			_, _, err = st.CountSearch(ctx, store.Public, r)
			return err
		},
	}
}

// suggestPrefixes are what staff type while linking.
var suggestPrefixes = []string{"spo", "koop", "fund", "warsz", "gmi", "stow", "atel", "gniez", "łęż", "ekon"}

// unlinkQuery is the request that alternates with the link operation.
const unlinkQuery = `mutation Unlink($id: ID!) { unlink(id: $id) { deletedLinkId } }`

// OpNamed returns the operation of the mix, of Extra, of Walks, of
// CountOps or of FilterOps, with the given name.
func OpNamed(name string) (Op, error) {
	for _, op := range append(append(append(append(Mix[:len(Mix):len(Mix)], Extra...), Walks...), CountOps...), FilterOps...) {
		if op.Name == name {
			return op, nil
		}
	}
	return Op{}, fmt.Errorf("unknown operation %q", name)
}

// entityHeads loads what the entity row holds of the entities ids, as a
// walk's nodes that show only such fields are loaded (graph's nodesByID):
// not at all when there are none.
func entityHeads(ctx context.Context, st *store.Store, ids []int64) ([]*kb.Entity, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return st.EntityHeads(ctx, store.Public, ids)
}

// entities loads the entities ids as the loader does: not at all when
// there are none.
func entities(ctx context.Context, st *store.Store, ids []int64) ([]*kb.Entity, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return st.EntitiesByID(ctx, store.Public, ids)
}

func rowIDs(es []*kb.Entity) []int64 {
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

// appendOthers appends the other end of each link of id.
func appendOthers(dst []int64, id int64, links []*kb.Link) []int64 {
	for _, l := range links {
		if l.FromID == id {
			dst = append(dst, l.ToID)
		} else {
			dst = append(dst, l.FromID)
		}
	}
	return dst
}

func distinct(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
