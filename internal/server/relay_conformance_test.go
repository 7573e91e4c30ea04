package server_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// The Relay conformance tests (issue 15): every type with an `id: ID!` is a
// Node that `node` refetches, and every connection, root or nested, pages
// both ways by the connection spec's algorithm. Both enumerate the schema
// by introspection, so a type or connection added later is checked too.

// introType is the part of an introspected type the tests read.
type introType struct {
	Kind       string
	Name       string
	Interfaces []struct{ Name string }
	Fields     []struct {
		Name string
		Args []struct {
			Name         string
			DefaultValue *string
			Type         introRef
		}
		Type introRef
	}
}

// introRef is a type reference, unwrapped three levels deep.
type introRef struct {
	Kind   string
	Name   *string
	OfType *introRef
}

// named returns the name of the type under NON_NULL and LIST wrappers.
func (r introRef) named() string {
	for r.Name == nil && r.OfType != nil {
		r = *r.OfType
	}
	if r.Name == nil {
		return ""
	}
	return *r.Name
}

const introspectTypes = `{ __schema { types { kind name interfaces { name }
  fields { name args { name defaultValue type { kind name ofType { kind name ofType { kind name } } } }
    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }`

func schemaTypes(a *api) map[string]introType {
	a.t.Helper()
	var got struct {
		Schema struct{ Types []introType } `json:"__schema"`
	}
	a.query(introspectTypes, nil, &got)
	out := map[string]introType{}
	for _, t := range got.Schema.Types {
		out[t.Name] = t
	}
	return out
}

// nodeTypes returns the object types that have a field `id: ID!`.
func nodeTypes(types map[string]introType) []string {
	var out []string
	for _, t := range types {
		if t.Kind != "OBJECT" || strings.HasPrefix(t.Name, "__") {
			continue
		}
		for _, f := range t.Fields {
			if f.Name == "id" && f.Type.Kind == "NON_NULL" && f.Type.named() == "ID" {
				out = append(out, t.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestEveryTypeWithAnIDIsANodeThatNodeRefetches(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	admin := a.newToken("root", kb.RoleAdmin)
	editor := a.newToken("ed", kb.RoleEditor)
	reader := a.newToken("rd", kb.RoleReader)
	types := schemaTypes(a)

	// One real instance of each type, found the way a client finds it.
	var ids struct {
		Partners, Cooperatives, Partnerships, GoodPractices, ForeignExamples, Projects, Events, People, Sources struct {
			Nodes []struct {
				ID    string
				Links struct{ Nodes []struct{ ID string } }
			}
		}
	}
	var lists []string
	for _, f := range []string{"partners", "cooperatives", "partnerships", "goodPractices", "foreignExamples", "projects", "events", "people", "sources"} {
		lists = append(lists, f+`(first: 1) { nodes { id links(first: 1) { nodes { id } } } }`)
	}
	a.mustAs(admin, `{ `+strings.Join(lists, " ")+` }`, nil, &ids)
	instance := map[string]string{}
	for name, l := range map[string][]struct {
		ID    string
		Links struct{ Nodes []struct{ ID string } }
	}{"Partner": ids.Partners.Nodes, "Cooperative": ids.Cooperatives.Nodes, "Partnership": ids.Partnerships.Nodes,
		"GoodPractice": ids.GoodPractices.Nodes, "ForeignExample": ids.ForeignExamples.Nodes, "Project": ids.Projects.Nodes,
		"Event": ids.Events.Nodes, "Person": ids.People.Nodes, "Source": ids.Sources.Nodes} {
		if len(l) == 0 {
			t.Fatalf("the reference data has no %s", name)
		}
		instance[name] = l[0].ID
		if len(l[0].Links.Nodes) > 0 {
			instance["Link"] = l[0].Links.Nodes[0].ID
		}
	}
	var hist struct {
		Node struct {
			History struct{ Nodes []struct{ ID string } }
		}
	}
	a.mustAs(admin, `query($id: ID!) { node(id: $id) { ... on Partner { history(first: 1) { nodes { id } } } } }`,
		map[string]any{"id": instance["Partner"]}, &hist)
	if len(hist.Node.History.Nodes) == 0 {
		t.Fatal("a reference partner has no revision")
	}
	instance["Revision"] = hist.Node.History.Nodes[0].ID
	var toks struct{ Tokens []struct{ ID string } }
	a.mustAs(admin, `{ tokens { id } }`, nil, &toks)
	instance["Token"] = toks.Tokens[0].ID

	all := nodeTypes(types)
	if len(all) < 12 {
		t.Fatalf("introspection found %d types with id: ID!, want at least the 12 known: %v", len(all), all)
	}
	seen := map[string]string{}
	for _, name := range all {
		if !slices.ContainsFunc(types[name].Interfaces, func(i struct{ Name string }) bool { return i.Name == "Node" }) {
			t.Errorf("%s has id: ID! but does not implement Node", name)
		}
		id, ok := instance[name]
		if !ok {
			t.Errorf("%s has id: ID! but the test knows no instance of it to refetch through node: add one", name)
			continue
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%s and %s share the ID %s", name, other, id)
		}
		seen[id] = name
		var got struct {
			Node *struct {
				Typename string `json:"__typename"`
				ID       string
			}
			Nodes []*struct {
				Typename string `json:"__typename"`
				ID       string
			}
		}
		a.mustAs(admin, `query($id: ID!) { node(id: $id) { __typename id } nodes(ids: [$id]) { __typename id } }`, map[string]any{"id": id}, &got)
		if got.Node == nil || got.Node.Typename != name || got.Node.ID != id {
			t.Errorf("node(%s of a %s) = %+v", id, name, got.Node)
		}
		if len(got.Nodes) != 1 || got.Nodes[0] == nil || got.Nodes[0].Typename != name || got.Nodes[0].ID != id {
			t.Errorf("nodes([%s of a %s]) = %+v", id, name, got.Nodes)
		}
	}

	// Revisions are for staff, tokens for admins, as history and tokens
	// are: the others get the code of their role whether or not the ID
	// exists; a missing one is null for those who may see it.
	missingRev, missingTok := relayID("Revision", 999999), relayID("Token", 999999)
	for _, tc := range []struct {
		who, token, id, code string
	}{
		{"anonymous, revision", "", instance["Revision"], server.CodeUnauthenticated},
		{"anonymous, missing revision", "", missingRev, server.CodeUnauthenticated},
		{"reader, revision", reader, instance["Revision"], server.CodeForbidden},
		{"editor, token", editor, instance["Token"], server.CodeForbidden},
		{"editor, missing token", editor, missingTok, server.CodeForbidden},
	} {
		e := a.failAs(tc.token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": tc.id})
		if e.Extensions["code"] != tc.code {
			t.Errorf("%s: got %v (%s), want %s", tc.who, e.Extensions["code"], e.Message, tc.code)
		}
	}
	for _, tc := range []struct{ who, token, id string }{{"editor", editor, missingRev}, {"admin", admin, missingTok}} {
		var got struct{ Node *struct{ ID string } }
		a.mustAs(tc.token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": tc.id}, &got)
		if got.Node != nil {
			t.Errorf("%s, missing %s: %+v, want null", tc.who, tc.id, got.Node)
		}
	}
	var rev struct {
		Node struct {
			Typename  string `json:"__typename"`
			Operation string
		}
	}
	a.mustAs(editor, `query($id: ID!) { node(id: $id) { __typename ... on Revision { operation } } }`, map[string]any{"id": instance["Revision"]}, &rev)
	if rev.Node.Typename != "Revision" || rev.Node.Operation == "" {
		t.Errorf("an editor's revision: %+v", rev.Node)
	}
}

// connField is a connection field of a type, with what it needs.
type connField struct {
	owner, name string
	args        string // required arguments, as GraphQL text
}

// connections returns every field whose type is a connection, of the
// Query type and of every object type, and fails for one that lacks any
// of first, after, last and before.
func connections(t *testing.T, types map[string]introType) []connField {
	t.Helper()
	required := map[string]string{"Query.search": `query: "spółdzielnia"`}
	var out []connField
	for _, ty := range types {
		if ty.Kind != "OBJECT" || strings.HasPrefix(ty.Name, "__") || ty.Name == "Mutation" || ty.Name == "Subscription" {
			continue
		}
		for _, f := range ty.Fields {
			if !strings.HasSuffix(f.Type.named(), "Connection") {
				continue
			}
			have := map[string]bool{}
			cf := connField{owner: ty.Name, name: f.Name}
			for _, arg := range f.Args {
				have[arg.Name] = true
				if arg.Type.Kind == "NON_NULL" && arg.DefaultValue == nil {
					args, ok := required[ty.Name+"."+f.Name]
					if !ok {
						t.Fatalf("%s.%s needs %s: tell the test a value", ty.Name, f.Name, arg.Name)
					}
					cf.args = args
				}
			}
			for _, p := range []string{"first", "after", "last", "before"} {
				if !have[p] {
					t.Errorf("%s.%s has no %s: connections page both ways", ty.Name, f.Name, p)
				}
			}
			out = append(out, cf)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].owner+"."+out[i].name < out[j].owner+"."+out[j].name })
	return out
}

// connPage is one page of any connection.
type connPage struct {
	Edges    []struct{ Cursor string }
	PageInfo struct {
		HasNextPage, HasPreviousPage bool
		StartCursor, EndCursor       *string
	}
	TotalCount *int
}

func TestEveryConnectionPagesBothWaysByTheSpec(t *testing.T) {
	// The search for the longest lists reads every list of every entity
	// of a kind at once: more than the default cost limit allows.
	a := newAPI(t, "reference", server.Config{Limits: server.Limits{MaxCost: 10_000_000}})
	admin := a.newToken("root", kb.RoleAdmin)
	types := schemaTypes(a)
	conns := connections(t, types)
	if len(conns) < 40 {
		t.Fatalf("introspection found %d connection fields, want the 40 and more of the schema", len(conns))
	}

	// Give one partner a history long enough to page through.
	var p struct {
		Partners struct{ Nodes []struct{ ID string } }
	}
	a.mustAs(admin, `{ partners(first: 1) { nodes { id } } }`, nil, &p)
	for i := range 4 {
		a.mustAs(admin, `mutation($id: ID!, $s: String) { updatePartner(id: $id, input: {summary: $s}) { id } }`,
			map[string]any{"id": p.Partners.Nodes[0].ID, "s": fmt.Sprintf("summary %d", i)}, nil)
	}

	// For each type, the instance with the longest list of each of its
	// connection fields: the root lists hold every entity.
	parents := map[string]map[string]string{} // type -> field -> id
	roots := map[string]string{"Partner": "partners", "Cooperative": "cooperatives", "Partnership": "partnerships",
		"GoodPractice": "goodPractices", "ForeignExample": "foreignExamples", "Project": "projects", "Event": "events",
		"Person": "people", "Source": "sources"}
	byOwner := map[string][]connField{}
	for _, c := range conns {
		byOwner[c.owner] = append(byOwner[c.owner], c)
	}
	for owner, fields := range byOwner {
		if owner == "Query" {
			continue
		}
		var list string
		switch owner {
		case "Topic":
			// Topics are found by slug, not node(id:): one with a history
			// long enough to page.
			for _, l := range []string{"a", "b", "c", "d"} {
				a.mustAs(admin, `mutation($l: String!) { setTopicLabel(input: {slug: "samorzad", lang: "en", label: $l}) { slug } }`,
					map[string]any{"l": "local government " + l}, nil)
			}
			parents[owner] = map[string]string{}
			for _, f := range fields {
				parents[owner][f.name] = "samorzad"
			}
			continue
		case "Link":
			list = `partners(first: 100) { nodes { links(first: 100) { nodes { id ` + countSel(fields) + ` } } } }`
		default:
			root, ok := roots[owner]
			if !ok {
				t.Fatalf("the test does not know where to find instances of %s, which has connections", owner)
			}
			list = root + `(first: 100) { nodes { id ` + countSel(fields) + ` } }`
		}
		var raw map[string]json.RawMessage
		a.mustAs(admin, `{ `+list+` }`, nil, &raw)
		parents[owner] = longest(t, raw, fields)
	}

	walked := 0
	for _, c := range conns {
		t.Run(c.owner+"."+c.name, func(t *testing.T) {
			fetch := func(args string) connPage {
				t.Helper()
				all := strings.Trim(strings.Join([]string{c.args, args}, ", "), ", ")
				field := fmt.Sprintf("%s(%s) { edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }", c.name, all)
				if c.owner == "Query" {
					var got map[string]connPage
					a.mustAs(admin, `{ `+field+` }`, nil, &got)
					return got[c.name]
				}
				if c.owner == "Topic" {
					var got struct{ Topic map[string]connPage }
					a.mustAs(admin, `query($s: String!) { topic(slug: $s) { `+field+` } }`, map[string]any{"s": parents[c.owner][c.name]}, &got)
					return got.Topic[c.name]
				}
				var got struct{ Node map[string]connPage }
				a.mustAs(admin, `query($id: ID!) { node(id: $id) { ... on `+c.owner+` { `+field+` } } }`,
					map[string]any{"id": parents[c.owner][c.name]}, &got)
				return got.Node[c.name]
			}
			forward, backward := walk(t, fetch, "first", "after"), walk(t, fetch, "last", "before")
			slices.Reverse(backward)
			if !slices.Equal(forward, backward) {
				t.Fatalf("forward %d items, backward %d, not the same in reverse:\n%v\n%v", len(forward), len(backward), forward, backward)
			}
			t.Logf("%d items", len(forward))
			if len(forward) >= 4 {
				walked++
				window(t, fetch, forward)
			}
		})
	}
	t.Logf("%d connections walked both ways, %d with windows", len(conns), walked)
	if walked < 10 {
		t.Errorf("only %d connections had 4 items or more to test windows on", walked)
	}
}

// countSel asks, of an instance, for the first 100 items of each of fields
// (their cursors only), to find the longest.
func countSel(fields []connField) string {
	var sel []string
	for _, f := range fields {
		sel = append(sel, fmt.Sprintf("%s(first: 100) { edges { cursor } }", f.name))
	}
	return strings.Join(sel, " ")
}

// longest returns, for each field, the id of the instance in raw (a root
// list, or the links of a root list) with the most items in it.
func longest(t *testing.T, raw map[string]json.RawMessage, fields []connField) map[string]string {
	t.Helper()
	type inst map[string]json.RawMessage
	var all []inst
	var collect func(json.RawMessage)
	collect = func(m json.RawMessage) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(m, &obj) != nil {
			return
		}
		if nodes, ok := obj["nodes"]; ok {
			var list []inst
			if json.Unmarshal(nodes, &list) == nil {
				for _, i := range list {
					if _, ok := i["id"]; ok && len(i) > 1 {
						all = append(all, i)
					}
					for _, v := range i {
						collect(v)
					}
				}
			}
		}
	}
	for _, v := range raw {
		collect(v)
	}
	out := map[string]string{}
	for _, f := range fields {
		best, bestN := "", -1
		for _, i := range all {
			var c connPage
			if json.Unmarshal(i[f.name], &c) != nil {
				continue
			}
			if len(c.Edges) > bestN {
				var id string
				_ = json.Unmarshal(i["id"], &id)
				best, bestN = id, len(c.Edges)
			}
		}
		if best == "" {
			t.Fatalf("no instance has %s", f.name)
		}
		out[f.name] = best
	}
	return out
}

// walk pages through a connection by 2s, forwards (first/after) or
// backwards (last/before), checks the page info at both ends and on the
// way, and returns the cursors in the order read.
func walk(t *testing.T, fetch func(string) connPage, size, cursorArg string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 200 {
			t.Fatalf("%s: more than 200 pages", size)
		}
		args := size + ": 2"
		if cursor != "" {
			args += fmt.Sprintf(", %s: %q", cursorArg, cursor)
		}
		p := fetch(args)
		pi := p.PageInfo
		forward := size == "first"
		// The end the walk starts from has nothing beyond it.
		if pages == 0 && ((forward && pi.HasPreviousPage) || (!forward && pi.HasNextPage)) {
			t.Errorf("%s: the first page read says there are items before where it starts: %+v", size, pi)
		}
		var cs []string
		for _, e := range p.Edges {
			cs = append(cs, e.Cursor)
		}
		if len(cs) > 0 && (pi.StartCursor == nil || pi.EndCursor == nil || *pi.StartCursor != cs[0] || *pi.EndCursor != cs[len(cs)-1]) {
			t.Errorf("%s: start and end cursors %v %v do not match the edges %v", size, pi.StartCursor, pi.EndCursor, cs)
		}
		more := pi.HasNextPage
		if !forward {
			slices.Reverse(cs)
			more = pi.HasPreviousPage
		}
		out = append(out, cs...)
		if !more {
			if len(cs) > 2 {
				t.Errorf("%s: a page of %d items", size, len(cs))
			}
			return out
		}
		if len(cs) != 2 {
			t.Fatalf("%s: a page of %d items says more follow", size, len(cs))
		}
		cursor = cs[len(cs)-1]
	}
}

// window checks the spec's algorithm with both cursors and with first and
// last together on a list of at least 4 items (cursors in order).
func window(t *testing.T, fetch func(string) connPage, c []string) {
	t.Helper()
	cursors := func(p connPage) []string {
		var out []string
		for _, e := range p.Edges {
			out = append(out, e.Cursor)
		}
		return out
	}
	between := fmt.Sprintf("after: %q, before: %q", c[0], c[3])
	for _, tc := range []struct {
		args      string
		want      []string
		prev, nxt bool
	}{
		// By the spec's HasNextPage and HasPreviousPage: with first, a next
		// page when more than first items lie between the cursors, a
		// previous one when there is an after cursor; with last, the
		// other way round.
		{"first: 10, " + between, c[1:3], true, false},
		{"first: 1, " + between, c[1:2], true, true},
		{"last: 10, " + between, c[1:3], false, true},
		{"last: 1, " + between, c[2:3], true, true},
		{"first: 3, last: 1", c[2:3], true, true},
		{"first: 3, last: 2, after: \"\", before: \"\"", c[1:3], true, true},
		{fmt.Sprintf("first: 2, after: \"\", before: %q", c[3]), c[0:2], false, true},
	} {
		p := fetch(tc.args)
		if got := cursors(p); !slices.Equal(got, tc.want) {
			t.Errorf("(%s): %d items %v, want %v", tc.args, len(got), got, tc.want)
			continue
		}
		if p.PageInfo.HasPreviousPage != tc.prev || p.PageInfo.HasNextPage != tc.nxt {
			t.Errorf("(%s): hasPreviousPage %t hasNextPage %t, want %t %t", tc.args,
				p.PageInfo.HasPreviousPage, p.PageInfo.HasNextPage, tc.prev, tc.nxt)
		}
	}
}

// TestLastCostsWhatFirstCosts checks that the cost model counts a page
// asked for with last as one asked for with first, on the connections that
// took only first before.
func TestLastCostsWhatFirstCosts(t *testing.T) {
	a := newAPI(t, "reference", server.Config{Limits: server.Limits{MaxCost: 1}})
	cost := func(q string) any {
		t.Helper()
		e := a.fail(q, nil)
		if e.Extensions["code"] != server.CodeLimitExceeded {
			t.Fatalf("%s: %v (%s), want LIMIT_EXCEEDED", q, e.Extensions["code"], e.Message)
		}
		return e.Extensions["cost"]
	}
	for _, tc := range []struct{ first, last string }{
		{`{ search(query: "koop", first: 50) { nodes { name } } }`, `{ search(query: "koop", last: 50) { nodes { name } } }`},
		{`{ partners(first: 30) { nodes { links(first: 40) { nodes { type } } } } }`, `{ partners(last: 30) { nodes { links(last: 40) { nodes { type } } } } }`},
		{`{ partners(first: 30) { nodes { history(first: 40) { nodes { actor } } } } }`, `{ partners(first: 30) { nodes { history(last: 40) { nodes { actor } } } } }`},
	} {
		if f, l := cost(tc.first), cost(tc.last); f != l {
			t.Errorf("%s costs %v, %s costs %v", tc.first, f, tc.last, l)
		}
	}
}
