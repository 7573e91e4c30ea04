package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

func practiceWith(key string, topics ...string) kb.Entity {
	return kb.Entity{Key: key, Kind: kb.KindGoodPractice, Name: "Praktyka " + key, Status: kb.StatusPublished,
		GoodPractice: &kb.GoodPractice{Topics: topics}}
}

func topicSlugs(t *testing.T, st *store.Store, key string) []string {
	t.Helper()
	e, err := st.EntityByKey(context.Background(), store.Visibility{Drafts: true}, key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.PracticeTopics(context.Background(), []int64{e.ID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tp := range m[e.ID] {
		out = append(out, tp.Slug)
	}
	return out
}

// TestTopicVocabulary: writing practices makes one topic per folded label
// (migration 00026's trigger), with an ASCII slug from the label, and the
// staff's changes keep the practices' topics, filters and slugs in step.
func TestTopicVocabulary(t *testing.T) {
	ctx := context.Background()
	st, pool := open(t)
	d := small()
	d.Entities = append(d.Entities,
		practiceWith("a", "Spółdzielnie socjalne", "WTZ"),
		practiceWith("b", "spoldzielnie  SOCJALNE", "Współpraca z biznesem"),
		practiceWith("c", "wtz", "wtz"))
	load(t, st, d)

	if got := topicSlugs(t, st, "a"); !slices.Equal(got, []string{"spoldzielnie-socjalne", "wtz"}) {
		t.Errorf("a's topics: %v", got)
	}
	if got := topicSlugs(t, st, "b"); !slices.Equal(got, []string{"spoldzielnie-socjalne", "wspolpraca-z-biznesem"}) {
		t.Errorf("b's topics: %v", got)
	}
	// Written as the topics' labels, each once.
	c, err := st.EntityByKey(ctx, store.Visibility{Drafts: true}, "c")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.GoodPractice.Topics, []string{"WTZ"}) {
		t.Errorf("c's stored topics: %q", c.GoodPractice.Topics)
	}

	// Filters: a slug exactly, text folded and stemmed, in any language.
	for _, tc := range []struct {
		topics []string
		want   []string
	}{
		{[]string{"spoldzielnie-socjalne"}, []string{"a", "b"}},
		{[]string{"spółdzielnia"}, []string{"a", "b"}},
		{[]string{"wtz"}, []string{"a", "c"}},
		{[]string{"spoldzielnie-x"}, nil},
		{[]string{"social cooperatives"}, nil},
	} {
		expectKeys(t, tc.topics[0], listKeys(t, st, practices(store.Filter{Topics: tc.topics})), tc.want...)
	}

	// Labels in other languages match too, and are served with fallback.
	tp, err := st.SetTopicLabel(ctx, "editor", "spoldzielnie-socjalne", "en", "social cooperatives")
	if err != nil {
		t.Fatal(err)
	}
	if l, lang := tp.Label("sv"); l != "Spółdzielnie socjalne" || lang != "pl" {
		t.Errorf("label in sv: %q %q, want the Polish one", l, lang)
	}
	expectKeys(t, "english", listKeys(t, st, practices(store.Filter{Topics: []string{"social cooperative"}})), "a", "b")
	if _, err := st.SetTopicLabel(ctx, "editor", "wtz", "en", "Social Cooperatives"); !errors.Is(err, kb.ErrLabelTaken) {
		t.Errorf("a label another topic has: %v, want ErrLabelTaken", err)
	}
	if _, err := st.SetTopicLabel(ctx, "editor", "nope", "en", "x"); !errors.Is(err, kb.ErrTopicNotFound) {
		t.Errorf("unknown topic: %v", err)
	}

	// Rename: the old slug redirects, and no other topic may take it.
	if _, err := st.RenameTopic(ctx, "editor", "wtz", "Bad Slug"); !kb.IsValidation(err) {
		t.Errorf("bad slug: %v", err)
	}
	if _, err := st.RenameTopic(ctx, "editor", "wtz", "spoldzielnie-socjalne"); !errors.Is(err, kb.ErrSlugTaken) {
		t.Errorf("taken slug: %v", err)
	}
	if _, err := st.RenameTopic(ctx, "editor", "wtz", "warsztaty-terapii-zajeciowej"); err != nil {
		t.Fatal(err)
	}
	got, err := st.TopicBySlug(ctx, "wtz")
	if err != nil || got.Slug != "warsztaty-terapii-zajeciowej" {
		t.Errorf("old slug: %v %v", got, err)
	}
	expectKeys(t, "old slug", listKeys(t, st, practices(store.Filter{Topics: []string{"wtz"}})), "a", "c")
	if _, err := st.CreateTopic(ctx, "editor", store.NewTopic{Slug: "wtz", Labels: map[string]string{"pl": "Coś"}}); !errors.Is(err, kb.ErrSlugTaken) {
		t.Errorf("a redirect's slug: %v", err)
	}

	// A new label in the original language is written into the practices.
	if _, err := st.SetTopicLabel(ctx, "editor", "warsztaty-terapii-zajeciowej", "pl", "Warsztaty terapii zajęciowej"); err != nil {
		t.Fatal(err)
	}
	a, err := st.EntityByKey(ctx, store.Visibility{Drafts: true}, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.GoodPractice.Topics, []string{"Spółdzielnie socjalne", "Warsztaty terapii zajęciowej"}) {
		t.Errorf("a's stored topics after the label: %q", a.GoodPractice.Topics)
	}
	// The former label still names the topic.
	ids, err := st.FindTopics(ctx, []string{"WTZ", "nothing like it"})
	if err != nil || ids[0] == 0 || ids[1] != 0 {
		t.Errorf("FindTopics: %v %v", ids, err)
	}

	// Merge: b's business topic goes into the cooperatives' one; b carries
	// it once, and the merged slug redirects.
	if _, err := st.MergeTopics(ctx, "editor", "wspolpraca-z-biznesem", "wspolpraca-z-biznesem"); !kb.IsValidation(err) {
		t.Errorf("merge into itself: %v", err)
	}
	m, err := st.MergeTopics(ctx, "editor", "wspolpraca-z-biznesem", "spoldzielnie-socjalne")
	if err != nil {
		t.Fatal(err)
	}
	if m.Slug != "spoldzielnie-socjalne" {
		t.Errorf("merged into %q", m.Slug)
	}
	if got := topicSlugs(t, st, "b"); !slices.Equal(got, []string{"spoldzielnie-socjalne"}) {
		t.Errorf("b's topics after the merge: %v", got)
	}
	if got, err := st.TopicBySlug(ctx, "wspolpraca-z-biznesem"); err != nil || got.Slug != "spoldzielnie-socjalne" {
		t.Errorf("merged slug: %v %v", got, err)
	}

	// Every change is in the revision log under its topic.
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM revision WHERE topic_id IS NOT NULL`).Scan(&n); err != nil || n != 5 {
		t.Errorf("topic revisions: %d %v, want 5 (2 labels, rename, label, merge; the merge's under both)", n, err)
	}
}

// TestTopicMigrationFill is the migration's step on stored free text:
// practice_topic_fill makes one topic per folded label, labelled with the
// most frequent spelling, and links every practice, leaving the arrays as
// they were.
func TestTopicMigrationFill(t *testing.T) {
	ctx := context.Background()
	st, pool := open(t)
	d := small()
	d.Entities = append(d.Entities, practiceWith("a", "Ekonomia społeczna"), practiceWith("b", "ekonomia spoleczna", "Zdrowie"),
		practiceWith("c", "Ekonomia społeczna"))
	load(t, st, d)
	for _, q := range []string{
		`ALTER TABLE good_practice DISABLE TRIGGER good_practice_topics`,
		`UPDATE good_practice g SET topics = ARRAY['ekonomia spoleczna', 'Zdrowie', 'Nowy  temat']
			FROM entity e WHERE e.id = g.id AND e.key = 'b'`,
		`DELETE FROM practice_topic`, `DELETE FROM topic`,
		`ALTER TABLE good_practice ENABLE TRIGGER good_practice_topics`,
		`SELECT practice_topic_fill(0, 'test')`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	ts, err := st.Topics(ctx, store.Visibility{Drafts: true}, store.TopicFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tp := range ts {
		got = append(got, tp.Slug+"="+tp.Labels["pl"])
	}
	want := []string{"ekonomia-spoleczna=Ekonomia społeczna", "nowy-temat=Nowy temat", "wspolpraca-z-biznesem=Współpraca z biznesem", "zdrowie=Zdrowie"}
	if !slices.Equal(got, want) {
		t.Errorf("topics:\n got %q\nwant %q", got, want)
	}
	if got := topicSlugs(t, st, "b"); !slices.Equal(got, []string{"ekonomia-spoleczna", "zdrowie", "nowy-temat"}) {
		t.Errorf("b's topics: %v", got)
	}
	b, err := st.EntityByKey(ctx, store.Visibility{Drafts: true}, "b")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.GoodPractice.Topics, []string{"ekonomia spoleczna", "Zdrowie", "Nowy  temat"}) {
		t.Errorf("b's stored topics changed: %q", b.GoodPractice.Topics)
	}
	used, err := st.Topics(ctx, store.Public, store.TopicFilter{Text: "zdrowie psychiczne"})
	if err != nil || len(used) != 0 {
		t.Errorf("text filter: %v %v", used, err)
	}
}
