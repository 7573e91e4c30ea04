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
	pool, err := pgxpool.New(ctx, pgtest.NewDB(t, "migrated"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
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
		if err := s.complete(ctx, Public, got); err != nil {
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
