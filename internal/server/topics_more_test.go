package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// TestTopicChangesReachTheFeedAndTheCaches: a change of the vocabulary
// made on one server instance is announced like any write: the other
// instance's `changes` subscribers hear it (with the topic's slug) and
// its response cache forgets the answers that showed the old label, long
// before the cache's TTL.
func TestTopicChangesReachTheFeedAndTheCaches(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	cached := a.instance(server.Config{ResponseCache: server.ResponseCache{TTL: time.Hour, Entries: 16, MaxBytes: 1 << 20}})
	editor := a.newToken("curator", kb.RoleEditor)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The topics only: kinds narrow the feed, topics: true adds them.
	sub, err := cached.subscribe(ctx, editor, `subscription { changes(kinds: [PROJECT], topics: true) { operation topic entityId actor } }`)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.CloseNow()
	msgs := pump(ctx, sub)
	type topicChange struct {
		Operation string
		Topic     *string
		EntityID  *string
		Actor     string
	}
	next := func(d time.Duration) (topicChange, bool) {
		select {
		case m, ok := <-msgs:
			if !ok || m.Type != "next" {
				t.Fatalf("feed: %v %s", ok, m.Payload)
			}
			var p struct{ Data struct{ Changes topicChange } }
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				t.Fatal(err)
			}
			return p.Data.Changes, true
		case <-time.After(d):
			return topicChange{}, false
		}
	}
	// The subscribe message has no acknowledgement: make topics until the
	// feed is live.
	for i := 0; ; i++ {
		if i == 50 {
			t.Fatal("the feed never came live")
		}
		a.mustAs(editor, `mutation($l: String!) { createTopic(input: {labels: [{lang: "pl", label: $l}]}) { slug } }`,
			map[string]any{"l": unique("rozgrzewka")}, nil)
		if _, ok := next(300 * time.Millisecond); ok {
			break
		}
	}
	for { // drain the warm-up's other changes
		if _, ok := next(300 * time.Millisecond); !ok {
			break
		}
	}

	label := func() string {
		var got struct{ Topic struct{ Label string } }
		cached.query(`query @lang(lang: "en") { topic(slug: "zdrowie-psychiczne") { label } }`, nil, &got)
		return got.Topic.Label
	}
	before := label()
	if before == "" || label() != before {
		t.Fatalf("the cached label: %q", before)
	}
	a.mustAs(editor, `mutation { setTopicLabel(input: {slug: "zdrowie-psychiczne", lang: "en", label: "Mental wellbeing"}) { slug } }`, nil, nil)
	ch, ok := next(10 * time.Second)
	if !ok || ch.Operation != "TOPIC_LABEL_SET" || ch.Topic == nil || *ch.Topic != "zdrowie-psychiczne" || ch.EntityID != nil || ch.Actor != "curator" {
		t.Errorf("feed after setTopicLabel: %+v (%v), want TOPIC_LABEL_SET of zdrowie-psychiczne by curator", ch, ok)
	}
	deadline := time.Now().Add(5 * time.Second)
	for label() != "Mental wellbeing" {
		if time.Now().After(deadline) {
			t.Fatalf("the other instance's cache still answers %q after the label changed", label())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A rename and a merge are announced under the slug the topic has after.
	a.mustAs(editor, `mutation { renameTopic(input: {slug: "zdrowie-psychiczne", newSlug: "zdrowie"}) { slug } }`, nil, nil)
	if ch, _ := next(10 * time.Second); ch.Operation != "TOPIC_RENAME" || ch.Topic == nil || *ch.Topic != "zdrowie" {
		t.Errorf("feed after renameTopic: %+v", ch)
	}
	// Assigning a topic is a change of the practice; kinds: [PROJECT]
	// leaves it out, and topics: false leaves the vocabulary out.
	practice := a.idOf(editor, "szkolenia-integracyjne-kadry-spoldzielni")
	a.mustAs(editor, `mutation($id: ID!) { assignTopics(input: {id: $id, topics: ["zdrowie"]}) { id } }`, map[string]any{"id": practice}, nil)
	if ch, ok := next(time.Second); ok {
		t.Errorf("kinds: [PROJECT] delivered %+v", ch)
	}

	quiet, err := cached.subscribe(ctx, editor, `subscription { changes(topics: false) { operation topic entityId } }`)
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.CloseNow()
	quietMsgs := pump(ctx, quiet)
	var id string
	for i := 0; ; i++ { // until the second feed is live
		if i == 50 {
			t.Fatal("the second feed never came live")
		}
		a.mustAs(editor, `mutation { setTopicLabel(input: {slug: "zdrowie", lang: "sv", label: "Psykisk hälsa"}) { slug } }`, nil, nil)
		id, _ = a.create(editor, "createProject", map[string]any{"name": unique("Projekt")})
		if m, ok := waitMsg(quietMsgs, time.Second); ok {
			if strings.Contains(string(m.Payload), "TOPIC_") {
				t.Fatalf("topics: false delivered %s", m.Payload)
			}
			if strings.Contains(string(m.Payload), id) {
				break
			}
		}
	}
}

// waitMsg receives one message, or reports none within d.
func waitMsg(msgs <-chan wsMsg, d time.Duration) (wsMsg, bool) {
	select {
	case m, ok := <-msgs:
		return m, ok
	case <-time.After(d):
		return wsMsg{}, false
	}
}

// TestTopicHistory: a topic's revisions, newest first and paged like an
// entry's, each with the topic before and after; staff only; a topic
// revision cannot be reverted and says so.
func TestTopicHistory(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	editor := a.newToken("curator", kb.RoleEditor)
	for _, m := range []string{
		`mutation { createTopic(input: {slug: "spoldzielczosc", labels: [{lang: "pl", label: "spółdzielczość"}]}) { slug } }`,
		`mutation { setTopicLabel(input: {slug: "spoldzielczosc", lang: "en", label: "cooperativism"}) { slug } }`,
		`mutation { setTopicLabel(input: {slug: "spoldzielczosc", lang: "sv", label: "kooperation"}) { slug } }`,
		`mutation { removeTopicLabel(input: {slug: "spoldzielczosc", lang: "sv"}) { slug } }`,
		`mutation { renameTopic(input: {slug: "spoldzielczosc", newSlug: "ruch-spoldzielczy"}) { slug } }`,
		`mutation { mergeTopics(input: {from: "samorzad", into: "ruch-spoldzielczy"}) { slug } }`,
	} {
		a.mustAs(editor, m, nil, nil)
	}
	type label struct{ Lang, Label string }
	type state struct {
		Slug   string
		Labels []label
	}
	type page struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   string
		}
		Nodes []struct {
			ID        string
			Operation string
			Actor     string
			Before    *state
			After     *state
		}
	}
	read := func(args string) page {
		var got struct{ Topic struct{ History page } }
		a.mustAs(editor, `{ topic(slug: "spoldzielczosc") { history(`+args+`) {
			totalCount pageInfo { hasNextPage endCursor }
			nodes { id operation actor
				before { ... on TopicRecord { slug labels { lang label } } }
				after { ... on TopicRecord { slug labels { lang label } } } } } } }`, nil, &got)
		return got.Topic.History
	}
	first := read("first: 4")
	ops := []string{}
	for _, n := range first.Nodes {
		ops = append(ops, n.Operation)
	}
	if first.TotalCount != 6 || !first.PageInfo.HasNextPage || strings.Join(ops, ",") != "TOPIC_MERGE,TOPIC_RENAME,TOPIC_LABEL_REMOVE,TOPIC_LABEL_SET" {
		t.Fatalf("first page: total %d, next %v, ops %v", first.TotalCount, first.PageInfo.HasNextPage, ops)
	}
	if m := first.Nodes[0]; m.Actor != "curator" || m.Before == nil || m.After == nil || m.After.Slug != "ruch-spoldzielczy" ||
		len(m.After.Labels) <= len(m.Before.Labels) {
		t.Errorf("the merge: %+v → %+v, want the topic taking samorząd's labels where it had none", m.Before, m.After)
	}
	if rn := first.Nodes[1]; rn.Before.Slug != "spoldzielczosc" || rn.After.Slug != "ruch-spoldzielczy" {
		t.Errorf("the rename: %s → %s", rn.Before.Slug, rn.After.Slug)
	}
	rest := read(`first: 4, after: "` + first.PageInfo.EndCursor + `"`)
	if len(rest.Nodes) != 2 || rest.Nodes[1].Operation != "TOPIC_CREATE" || rest.Nodes[1].Before != nil ||
		rest.Nodes[1].After == nil || rest.Nodes[1].After.Labels[0] != (label{"pl", "spółdzielczość"}) {
		t.Errorf("second page: %+v", rest.Nodes)
	}

	if e := a.failAs("", `{ topic(slug: "ruch-spoldzielczy") { history { totalCount } } }`, nil); e.Extensions["code"] != "UNAUTHENTICATED" {
		t.Errorf("anonymous history: %v", e.Extensions["code"])
	}
	e := a.failAs(editor, `mutation($id: ID!) { revert(revisionId: $id) { id } }`, map[string]any{"id": first.Nodes[1].ID})
	if e.Extensions["code"] != "BAD_USER_INPUT" || e.Extensions["field"] != "revisionId" || !strings.Contains(e.Message, "topic rename") {
		t.Errorf("reverting a topic revision: %v %v %q", e.Extensions["code"], e.Extensions["field"], e.Message)
	}
}

// TestAggregateGroupsByTopic: TOPIC groups by the topic (its slug is the
// key), named in the request's language, wherever it stands in groupBy.
func TestAggregateGroupsByTopic(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	type group struct {
		Key    []*string
		Labels []*string
		Count  int
	}
	run := func(q string) map[string]group {
		var got struct{ Aggregate struct{ Groups []group } }
		a.query(q, nil, &got)
		out := map[string]group{}
		for _, g := range got.Aggregate.Groups {
			k := []string{}
			for _, s := range g.Key {
				if s == nil {
					k = append(k, "-")
				} else {
					k = append(k, *s)
				}
			}
			out[strings.Join(k, "/")] = g
		}
		return out
	}
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	en := run(`query @lang(lang: "en") { aggregate(kind: GOOD_PRACTICE, groupBy: [KIND, TOPIC]) { groups { key labels count } } }`)
	g, ok := en["GOOD_PRACTICE/spoldzielnie-socjalne"]
	if !ok || g.Count != 4 || len(g.Labels) != 2 || str(g.Labels[0]) != "GOOD_PRACTICE" || str(g.Labels[1]) != "social cooperatives" {
		t.Errorf("the group of spoldzielnie-socjalne in English: %+v (%d groups)", g, len(en))
	}
	pl := run(`{ aggregate(kind: GOOD_PRACTICE, groupBy: [TOPIC]) { groups { key labels count } } }`)
	if g := pl["spoldzielnie-socjalne"]; g.Count != 4 || str(g.Labels[0]) != "spółdzielnie socjalne" {
		t.Errorf("without a language: %+v", g)
	}
	if len(pl) != len(en) {
		t.Errorf("%d groups without a language, %d in English", len(pl), len(en))
	}
	// Two topics merged are one group, under the slug that stays.
	editor := a.newToken("curator", kb.RoleEditor)
	before := pl["samorzad"].Count + pl["spoldzielnie-socjalne"].Count
	a.mustAs(editor, `mutation { mergeTopics(input: {from: "samorzad", into: "spoldzielnie-socjalne"}) { slug } }`, nil, nil)
	after := run(`{ aggregate(kind: GOOD_PRACTICE, groupBy: [TOPIC]) { groups { key labels count } } }`)
	if _, gone := after["samorzad"]; gone || after["spoldzielnie-socjalne"].Count > before || after["spoldzielnie-socjalne"].Count < pl["spoldzielnie-socjalne"].Count {
		t.Errorf("after the merge: samorzad %+v, spoldzielnie-socjalne %+v (before %d + %d)", after["samorzad"], after["spoldzielnie-socjalne"],
			pl["samorzad"].Count, pl["spoldzielnie-socjalne"].Count)
	}
}

// TestSearchFindsPracticesByTheirTopicsInEveryLanguage: a topic's
// Swedish or English label finds the practices that carry it, with a
// snippet naming the label's language, and follows the labels as staff
// change them.
func TestSearchFindsPracticesByTheirTopicsInEveryLanguage(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	editor := a.newToken("curator", kb.RoleEditor)
	practices := func(topic string) map[string]bool {
		var got struct {
			GoodPractices struct{ Nodes []struct{ Key string } }
		}
		a.query(`query($t: [String!]) { goodPractices(first: 50, filter: {topic: $t}) { nodes { key } } }`, map[string]any{"t": []string{topic}}, &got)
		out := map[string]bool{}
		for _, n := range got.GoodPractices.Nodes {
			out[n.Key] = true
		}
		return out
	}
	search := func(q string) map[string]string {
		var got searchResult
		a.query(searchKeys, map[string]any{"q": q, "first": 50, "types": []string{"GOOD_PRACTICE"}}, &got)
		out := map[string]string{}
		for _, e := range got.Search.Edges {
			out[e.Node.Key] = e.Snippet.Field
		}
		return out
	}
	want := practices("rozwiazywanie-konfliktow")
	if len(want) == 0 {
		t.Fatal("no practice carries rozwiazywanie-konfliktow")
	}
	for _, tc := range []struct{ query, field string }{
		{"konfliktlösning", "topics@sv"},
		{"konfliktlosning", "topics@sv"},
		{"conflict resolution", "topics@en"},
	} {
		got := search(tc.query)
		for key := range want {
			if got[key] != tc.field {
				t.Errorf("search %q: %s has snippet %q, want a hit from %s (hits %v)", tc.query, key, got[key], tc.field, got)
			}
		}
	}
	// A new English label is searchable at once, the old one no longer.
	a.mustAs(editor, `mutation { setTopicLabel(input: {slug: "rozwiazywanie-konfliktow", lang: "en", label: "conflict mediation"}) { slug } }`, nil, nil)
	if got := search("mediation"); len(got) < len(want) {
		t.Errorf("after the new label, mediation finds %v, want %v", got, want)
	}
	for key, field := range search("resolution conflict") { // the practice's description says it too
		if field == "topics@en" {
			t.Errorf("the former label still finds %s through its topics", key)
		}
	}
	a.mustAs(editor, `mutation { removeTopicLabel(input: {slug: "rozwiazywanie-konfliktow", lang: "sv"}) { slug } }`, nil, nil)
	if got := search("konfliktlösning"); len(got) != 0 {
		t.Errorf("the removed Swedish label still finds %v", got)
	}
}

// TestAnEventsFurtherPlacesComeInTheRequestedLanguage: a CITY translation
// names a place (0 the first, n the n-th further one); each of an event's
// places is served in the requested language, and a place it does not
// have is refused naming `place`.
func TestAnEventsFurtherPlacesComeInTheRequestedLanguage(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	editor := a.newToken("translator", kb.RoleEditor)
	visit := a.idOf(editor, "warsztaty-wymiany-doswiadczen-szwecja")
	places := func(l string) []string {
		var got struct {
			Node struct{ Places []struct{ Name string } }
		}
		a.query(`query($id: ID!) @lang(lang: "`+l+`") { node(id: $id) { ... on Event { places { name } } } }`, map[string]any{"id": visit}, &got)
		out := []string{}
		for _, p := range got.Node.Places {
			out = append(out, p.Name)
		}
		return out
	}
	if got := places("pl"); strings.Join(got, ",") != "Sztokholm,Rimbo" {
		t.Fatalf("places in Polish before: %v, want Sztokholm (translated), Rimbo", got)
	}
	set := `mutation($id: ID!, $p: Int, $f: TranslatableField!) { setTranslation(input: {id: $id, field: $f, lang: "en", text: "Rimbo (Norrtälje)", place: $p}) {
		... on Event { translations(lang: "en") { field place text } } } }`
	var got struct {
		SetTranslation struct {
			Translations []struct {
				Field, Text string
				Place       int
			}
		}
	}
	a.mustAs(editor, set, map[string]any{"id": visit, "p": 1, "f": "CITY"}, &got)
	found := false
	for _, tr := range got.SetTranslation.Translations {
		found = found || tr.Field == "CITY" && tr.Place == 1 && tr.Text == "Rimbo (Norrtälje)"
	}
	if !found {
		t.Errorf("translations after setting place 1: %+v", got.SetTranslation.Translations)
	}
	if got := places("en"); len(got) != 2 || got[0] != "Stockholm" || got[1] != "Rimbo (Norrtälje)" {
		t.Errorf("places in English: %v, want Stockholm (its own name), Rimbo (Norrtälje)", got)
	}
	if got := places("sv"); strings.Join(got, ",") != "Stockholm,Rimbo" {
		t.Errorf("places in Swedish: %v, the local names", got)
	}
	// Wrong places are refused, naming the argument.
	partner := a.idOf(editor, "coompanion")
	for _, tc := range []struct {
		name string
		vars map[string]any
	}{
		{"beyond the event's places", map[string]any{"id": visit, "p": 2, "f": "CITY"}},
		{"negative", map[string]any{"id": visit, "p": -1, "f": "CITY"}},
		{"not a city", map[string]any{"id": visit, "p": 1, "f": "NAME"}},
		{"not an event", map[string]any{"id": partner, "p": 1, "f": "CITY"}},
	} {
		e := a.failAs(editor, set, tc.vars)
		if e.Extensions["code"] != "BAD_USER_INPUT" || e.Extensions["field"] != "place" {
			t.Errorf("%s: %v on %v (%s), want BAD_USER_INPUT on place", tc.name, e.Extensions["code"], e.Extensions["field"], e.Message)
		}
	}
	remove := `mutation($id: ID!) { removeTranslation(input: {id: $id, field: CITY, lang: "en", place: 1}) { id } }`
	a.mustAs(editor, remove, map[string]any{"id": visit}, nil)
	if got := places("en"); got[1] != "Rimbo" {
		t.Errorf("after removing it: %v", got)
	}
	if e := a.failAs(editor, remove, map[string]any{"id": visit}); e.Extensions["code"] != "NOT_FOUND" {
		t.Errorf("removing it twice: %v", e.Extensions["code"])
	}
}
