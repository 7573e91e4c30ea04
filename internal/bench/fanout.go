package bench

import (
	"fmt"
	"strings"
)

// FanOut is a request shaped to fan out: related lists nested several
// levels deep, traversals repeated across root fields, aliases and
// fragments. Issue 11 asks that each be refused by the cost estimate
// before it runs or answered quickly; the suite runs them on a small
// generated graph (internal/server TestFanOutShapes) and the same set can
// be timed against a server on the 1M graph (fanout_1m_test.go).
type FanOut struct {
	Name  string
	Query string
	// Refused is whether the default cost ceiling refuses it.
	Refused bool
	// First is the page size every nested connection of an answered
	// shape asks for: each connection in the answer holds min(First,
	// totalCount) nodes.
	First int
}

// FanOutVars are the variables of the shapes: $from and $to, the global
// IDs of two entities for the path searches.
func FanOutVars(from, to string) map[string]any { return map[string]any{"from": from, "to": to} }

// repeat returns n aliased copies of field.
func repeat(n int, field string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " f%d: %s", i, field)
	}
	return b.String()
}

// FanOutShapes is the set: the refused ones first.
var FanOutShapes = []FanOut{
	{Name: "issue 11's hostile request", Refused: true, Query: `{ partners(first: 100, filter: {kind: [REGIONAL_CENTER]}) { nodes { cooperatives { nodes {
		supporters { nodes { ... on Partner { cooperatives { nodes { supporters { nodes { id } } } } } } } } } } } }`},
	{Name: "cases, supporters, cooperatives: 4 deep by default", Refused: true, Query: `{ goodPractices(first: 100) { nodes { cases { nodes {
		... on Cooperative { supporters { nodes { ... on Partner { cooperatives { nodes { id name } } } } } } } } } } }`},
	{Name: "founders' cooperatives at 100 a page", Refused: true, Query: `{ cooperatives(first: 50) { nodes { founders(first: 100) { nodes {
		... on Partner { cooperatives(first: 100) { nodes { id } } } } } } } }`},
	{Name: "project partners 5 deep", Refused: true, Query: `{ projects(first: 100) { nodes { partners { nodes { projects { nodes {
		partners { nodes { projects { nodes { id } } } } } } } } } } }`},
	{Name: "event participants' partnerships' members", Refused: true, Query: `{ events(first: 100) { nodes { participants { nodes {
		... on Partner { memberships { nodes { partnership { members { nodes { member { id } } } } } } } } } } } }`},
	{Name: "20 mostConnected", Refused: true, Query: `{` + repeat(20, `mostConnected(first: 10) { degree node { id name } }`) + ` }`},
	{Name: "20 paths(k: 10)", Refused: true, Query: `query($from: ID!, $to: ID!) {` +
		repeat(20, `paths(from: $from, to: $to, k: 10) { length nodes { id } links { type } }`) + ` }`},
	{Name: "fragments nesting 100-item pages", Refused: true, Query: `{ partners(first: 100) { nodes { ...F } } }
		fragment F on Partner { cooperatives(first: 100) { nodes { supporters(first: 100) { nodes { ...G } } } } }
		fragment G on Partner { cooperatives(first: 100) { nodes { id } } }`},
	{Name: "20 aliases of partners with 100 cooperatives", Refused: true, Query: `{` +
		repeat(20, `partners(first: 100) { nodes { cooperatives(first: 100) { nodes { id } } } }`) + ` }`},
	{Name: "20 neighborhoods of 1,000", Refused: true, Query: `query($from: ID!) {` +
		repeat(20, `neighborhood(id: $from, depth: 3, limit: 1000) { nodes { id } links { id } }`) + ` }`},
	{Name: "people's affiliations' participants", Refused: true, Query: `{ people(first: 100) { nodes { affiliations(first: 100) { nodes {
		... on Project { participants(first: 100) { nodes { id } } } } } } } }`},
	{Name: "inspired practices' cases' events' presenters: 5 deep", Refused: true, Query: `{ foreignExamples(first: 100) { nodes { inspired { nodes {
		... on GoodPractice { cases { nodes { ... on Project { events { nodes { presenters { nodes { id } } } } } } } } } } } } }`},
	{Name: "members' memberships", Refused: true, Query: `{ partnerships(first: 100) { nodes { members(first: 100) { nodes { member {
		... on Partner { memberships(first: 100) { nodes { partnership { id } } } } } } } } } }`},
	{Name: "20 aggregates", Refused: true, Query: `{` + repeat(20, `aggregate(kind: PARTNER, groupBy: [SECTOR, REGION]) { totalCount }`) + ` }`},

	{Name: "the front page", First: 3, Query: `{ goodPractices(first: 20) { totalCount nodes { id name
		cases(first: 3) { totalCount nodes { __typename id name } } partners(first: 3) { totalCount nodes { id name sector } } } } }`},
	{Name: "partners' cooperatives' founders' projects' leaders: 5 deep", First: 3, Query: `{ partners(first: 5) { nodes { id
		cooperatives(first: 3) { totalCount nodes { id founders(first: 3) { totalCount nodes { id ... on Partner {
		projects(first: 3) { totalCount nodes { id leaders(first: 3) { totalCount nodes { id name } } } } } } } } } } } }`},
	{Name: "cases' supporters and partners", First: 5, Query: `{ goodPractices(first: 10) { nodes { id cases(first: 5) { totalCount nodes { id
		... on Cooperative { supporters(first: 5) { totalCount nodes { id } } }
		... on Project { partners(first: 5) { totalCount nodes { id } } } } } } } }`},
	{Name: "every list of an event", First: 5, Query: `{ events(first: 10) { nodes { id
		organizers(first: 5) { totalCount nodes { id } } visited(first: 5) { totalCount nodes { id } }
		presenters(first: 5) { totalCount nodes { id } } participants(first: 5) { totalCount nodes { id } }
		projects(first: 5) { totalCount nodes { id } } } } }`},
	{Name: "partnerships' members and what they are around", First: 5, Query: `{ partnerships(first: 10) { nodes { id
		members(first: 5) { totalCount nodes { member { id } } } around(first: 5) { totalCount nodes { id } } } } }`},
	{Name: "every list of a foreign example", First: 5, Query: `{ foreignExamples(first: 10) { nodes { id
		studyVisits(first: 5) { totalCount nodes { id } } inspired(first: 5) { totalCount nodes { id } }
		comparableTo(first: 5) { totalCount nodes { id } } } } }`},
	{Name: "every list of a cooperative, by name", First: 4, Query: `{ cooperatives(first: 10) { nodes { id
		founders(first: 4, orderBy: {field: NAME}) { totalCount nodes { id } } workshops(first: 4) { totalCount nodes { id } }
		partnerships(first: 4) { totalCount nodes { id } } practices(first: 4) { totalCount nodes { id } }
		supporters(first: 4, orderBy: {field: NAME, direction: DESC}) { totalCount nodes { id } } } } }`},
	{Name: "3 mostConnected", Refused: true, Query: `{` + repeat(3, `mostConnected(first: 10) { degree node { id name } }`) + ` }`},
	{Name: "one mostConnected", First: 10, Query: `{ mostConnected(first: 10) { degree node { id name } } }`},
	{Name: "one paths(k: 10)", First: 10, Query: `query($from: ID!, $to: ID!) { paths(from: $from, to: $to, k: 10) { length nodes { id } } }`},
	{Name: "search hits' supporters", First: 50, Query: `{ search(query: "spółdzielnia", first: 50) { nodes { id
		... on Cooperative { supporters(first: 50) { totalCount nodes { id } } } } } }`},
	{Name: "search hits' supporters at 100 a page", Refused: true, Query: `{ search(query: "spółdzielnia", first: 100) { nodes { id
		... on Cooperative { supporters(first: 100) { totalCount nodes { id } } } } } }`},
}
