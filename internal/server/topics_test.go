package server_test

import (
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// TestTopicVocabularyOverTheAPI: topics by slug with labels in the
// requested language, counts of published practices for anonymous
// readers, and the staff's mutations with their own error codes.
func TestTopicVocabularyOverTheAPI(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	editor := a.newToken("topics", kb.RoleEditor)

	type topic struct {
		Slug, Label, LabelLang string
		PracticeCount          int
	}
	read := func(token, lang, slug string) *topic {
		var got struct{ Topic *topic }
		a.mustAs(token, `query($s: String!) @lang(lang: "`+lang+`") { topic(slug: $s) { slug label labelLang practiceCount } }`,
			map[string]any{"s": slug}, &got)
		return got.Topic
	}
	if got := read("", "sv", "spoldzielnie-socjalne"); got == nil || got.Label != "sociala kooperativ" || got.LabelLang != "sv" || got.PracticeCount != 4 {
		t.Fatalf("topic in sv: %+v", got)
	}

	// A draft practice counts for staff only.
	practice := a.idOf(editor, "szkolenia-integracyjne-kadry-spoldzielni")
	a.mustAs(editor, `mutation($id: ID!) { unpublish(id: $id) { id } }`, map[string]any{"id": practice}, nil)
	if got := read("", "pl", "spoldzielnie-socjalne").PracticeCount; got != 3 {
		t.Errorf("anonymous count after unpublishing one: %d, want 3", got)
	}
	if got := read(editor, "pl", "spoldzielnie-socjalne").PracticeCount; got != 4 {
		t.Errorf("staff count: %d, want 4", got)
	}

	for _, tc := range []struct{ name, query, code string }{
		{"anonymous", `mutation { createTopic(input: {labels: [{lang: "pl", label: "x"}]}) { slug } }`, "UNAUTHENTICATED"},
		{"bad slug", `mutation { createTopic(input: {slug: "Nowy Temat", labels: [{lang: "pl", label: "Nowy temat"}]}) { slug } }`, "INVALID_SLUG"},
		{"taken slug", `mutation { createTopic(input: {slug: "samorzad", labels: [{lang: "pl", label: "Nowy temat"}]}) { slug } }`, "SLUG_TAKEN"},
		{"taken label", `mutation { createTopic(input: {labels: [{lang: "pl", label: "Zdrowie  Psychiczne"}]}) { slug } }`, "LABEL_TAKEN"},
		{"no original label", `mutation { createTopic(input: {labels: [{lang: "en", label: "New"}]}) { slug } }`, "BAD_USER_INPUT"},
		{"unknown topic", `mutation { setTopicLabel(input: {slug: "nie-ma", lang: "en", label: "x"}) { slug } }`, "TOPIC_NOT_FOUND"},
		{"label of another", `mutation { setTopicLabel(input: {slug: "samorzad", lang: "en", label: "Mental health"}) { slug } }`, "LABEL_TAKEN"},
		{"bad language", `mutation { setTopicLabel(input: {slug: "samorzad", lang: "xx-??", label: "x"}) { slug } }`, "BAD_USER_INPUT"},
		{"original label", `mutation { removeTopicLabel(input: {slug: "samorzad", lang: "pl"}) { slug } }`, "BAD_USER_INPUT"},
		{"merge into itself", `mutation { mergeTopics(input: {from: "samorzad", into: "samorzad"}) { slug } }`, "BAD_USER_INPUT"},
		{"assign unknown", `mutation($id: ID!) { assignTopics(input: {id: $id, topics: ["nie-ma"]}) { id } }`, "TOPIC_NOT_FOUND"},
	} {
		token := editor
		if tc.name == "anonymous" {
			token = ""
		}
		e := a.failAs(token, tc.query, map[string]any{"id": practice})
		if e.Extensions["code"] != tc.code {
			t.Errorf("%s: %v (%s), want %s", tc.name, e.Extensions["code"], e.Message, tc.code)
		}
	}

	// Rename: the old slug redirects.
	a.mustAs(editor, `mutation { renameTopic(input: {slug: "samorzad", newSlug: "samorzad-terytorialny"}) { slug } }`, nil, nil)
	if got := read("", "pl", "samorzad"); got == nil || got.Slug != "samorzad-terytorialny" {
		t.Errorf("old slug: %+v", got)
	}

	// Assign and unassign go through the entry, with a revision each.
	var got struct {
		AssignTopics struct {
			TopicTerms []struct{ Slug string }
			History    struct{ TotalCount int }
		}
	}
	a.mustAs(editor, `mutation($id: ID!) { assignTopics(input: {id: $id, topics: ["praca-chroniona", "samorzad"]}) {
		topicTerms { slug } history { totalCount } } }`, map[string]any{"id": practice}, &got)
	slugs := []string{}
	for _, tt := range got.AssignTopics.TopicTerms {
		slugs = append(slugs, tt.Slug)
	}
	if n := len(slugs); n < 2 || slugs[n-2] != "praca-chroniona" || slugs[n-1] != "samorzad-terytorialny" {
		t.Errorf("after assigning: %v", slugs)
	}
	var un struct {
		UnassignTopics struct {
			Topics []string
		}
	}
	a.mustAs(editor, `mutation($id: ID!) { unassignTopics(input: {id: $id, topics: ["praca-chroniona"]}) { topics } }`,
		map[string]any{"id": practice}, &un)
	if contains(un.UnassignTopics.Topics, "praca chroniona") || !contains(un.UnassignTopics.Topics, "samorząd") {
		t.Errorf("after unassigning: %v", un.UnassignTopics.Topics)
	}
}
