package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/textsearch"
)

// TestCompletePrunesAsPruneDoes checks that complete, which completes the
// prefix words of a query and prunes every word in one round trip (the
// ranges of the completions' holders cut from the range of the word's
// own), leaves each query as the completions read on their own, then
// prune, leave it: the same tsqueries, term for term. The vocabulary holds
// more than wideRange terms under one prefix ("wa"), so that the path
// that falls back to prune's own read runs too, and more than pruneRange
// under another ("ko"), whose terms prune keeps.
func TestCompletePrunesAsPruneDoes(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, "migrated")
	s := New(pool)
	terms := []string{"warsztat", "warszt", "warsztaty", "warsztatow", "warszawa", "warszaw", "terapii", "terap",
		"terapia", "terapeut", "zajeciowej", "zajeci", "zajec", "spoldzielnia", "spoldzieln", "spoldzielni", "=coop",
		"socjalna", "socjaln", "poznan", "poznaniu", "gniezno", "gniezn", "gnieznie", "kooperativet", "kooperativ",
		"ekonomiska", "ekonomisk", "ekonomiskt", "ekonom", "ekonomii", "stowarzyszenie", "stowarzyszen", "fundacja", "fundacj"}
	for i := range 600 { // past wideRange under "wa"
		terms = append(terms, fmt.Sprintf("wa%03dx", i))
	}
	for i := range 300 { // past pruneRange under "ko"
		terms = append(terms, fmt.Sprintf("ko%03d", i))
	}
	if _, err := pool.Exec(ctx, `INSERT INTO search_term (term) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, terms); err != nil {
		t.Fatal(err)
	}
	for _, query := range []string{
		"warsztat terapii", "warsztat terapii zajęciowej", "warsztaty ter", "spółdzielnia socjalna pozn", "gmina gniez",
		"kooperativet", "koop", "ekonomiska forening", "fundacja ekonomii", "stowarzyszenie poznan", "wars", "warsz",
		"spo", "\"spółdzielnia socjalna\"", "zajec", "ko", "kooperativ ekonomisk", "xyz",
	} {
		got, err := parse(query)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.complete(ctx, Public, got, nil); err != nil {
			t.Fatal(err)
		}
		prunedAll := true
		for _, w := range got.Words() {
			prunedAll = prunedAll && w.Pruned()
		}
		if want, ok := map[string]bool{"warsztat terapii": true, "spółdzielnia socjalna pozn": true, "warsz": false}[query]; ok && prunedAll != want {
			t.Errorf("%q: complete pruned every word: %v, want %v", query, prunedAll, want)
		}
		if err := s.prune(ctx, Public, got); err != nil { // a no-op where complete pruned
			t.Fatal(err)
		}
		want, err := parse(query)
		if err != nil {
			t.Fatal(err)
		}
		var words []*textsearch.Word
		var prefixes []string
		for _, w := range want.Words() {
			if w.NeedsCompletion() {
				words, prefixes = append(words, w), append(prefixes, w.Folded)
			}
		}
		if len(words) > 0 {
			completions, err := s.completions(ctx, prefixes)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range words {
				w.Complete(completions[i])
			}
		}
		if err := s.prune(ctx, Public, want); err != nil {
			t.Fatal(err)
		}
		if g, w := got.TSQuery(), want.TSQuery(); g != w {
			t.Errorf("%q: complete left %s, completions then prune %s", query, g, w)
		}
		if g, w := got.Unheld(), want.Unheld(); g != w {
			t.Errorf("%q: unheld %v, want %v", query, g, w)
		}
	}
}

// TestCompleteKnowsWhatCorrectAsks checks that which words the vocabulary
// holds, as complete reads it beside the completions (a range of one term
// a form), is what correct's own test reads (a form is a term, or a term
// starts with the word), word for word, for words it holds as they are,
// by a stem, by a concept, as the start of a term, and not at all; with
// the prepared statements of a pool and with the functions of one
// without them.
func TestCompleteKnowsWhatCorrectAsks(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDB(t, "migrated")
	// "zajeciowa" starts with the stem of "zajęciowymi", which is no
	// term: the word is not known.
	terms := []string{"warsztat", "warszt", "warsztaty", "terapii", "terap", "zajec", "zajeciowa", "spoldzieln", "=coop",
		"socjaln", "poznan", "gniezn", "kooperativet", "ekonomisk", "stowarzyszen", "fundacj"}
	for _, mode := range []string{"cache_statement", "cache_describe"} {
		cfg, err := pgxpool.ParseConfig(url + " default_query_exec_mode=" + mode)
		if err != nil {
			t.Fatal(err)
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		if _, err := pool.Exec(ctx, `INSERT INTO search_term (term) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, terms); err != nil {
			t.Fatal(err)
		}
		s := New(pool)
		if s.serverPlans != (mode == "cache_describe") {
			t.Fatalf("%s: serverPlans %v", mode, s.serverPlans)
		}
		for _, query := range []string{
			"warsztat terapii", "warsztatami zajeciowymi", "spółdzielnia socjalna", "spółdzielni", "spoldzelnia",
			"stowarzyszenei fundajca", "kooperativet ekonomiska", "warszt", "gnieźnie poznaniu", "xqzwyv qqzzxx",
			"zajęciowej warsztaty", "fundacjami",
		} {
			got, err := parse(query)
			if err != nil {
				t.Fatal(err)
			}
			known := vocabularyKnown{}
			if err := s.complete(ctx, Public, got, known); err != nil {
				t.Fatal(err)
			}
			want := vocabularyKnown{}
			words := fuzzyWords(got)
			if err := s.readKnown(ctx, words, want); err != nil {
				t.Fatal(err)
			}
			if query == "warsztatami zajeciowymi" && known[words[1]] {
				t.Errorf("%s: zajeciowymi known", mode)
			}
			if len(known) != len(words) {
				t.Errorf("%s, %q: complete read %d of the %d words to correct", mode, query, len(known), len(words))
			}
			for _, w := range words {
				if known[w] != want[w] {
					t.Errorf("%s, %q: %s known %v, correct's test %v", mode, query, w.Folded, known[w], want[w])
				}
			}
		}
	}
}
