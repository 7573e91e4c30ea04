package textsearch_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/seed"
	"github.com/partnergraph/partnergraph/internal/textsearch"
)

// vocabulary returns the folded words of the reference data and the
// sorted terms they are indexed under (what search_term holds).
func vocabulary(t *testing.T) (words, terms []string) {
	t.Helper()
	ds, err := seed.Reference()
	if err != nil {
		t.Fatal(err)
	}
	ws, ts := map[string]bool{}, map[string]bool{}
	for i := range ds.Entities {
		for _, f := range textsearch.Fields(&ds.Entities[i]) {
			for _, w := range textsearch.Words(f.Text) {
				ws[w] = true
				for _, l := range textsearch.Lexemes(w) {
					ts[l] = true
				}
			}
		}
	}
	for w := range ws {
		words = append(words, w)
	}
	for l := range ts {
		terms = append(terms, l)
	}
	sort.Strings(words)
	sort.Strings(terms)
	return words, terms
}

// holders answers Prune's ranges from terms as the store reads them from
// search_term, at most limit terms a range.
func holders(w *textsearch.Word, terms []string, limit int) (map[string][]string, map[string]bool) {
	h, complete := map[string][]string{}, map[string]bool{}
	for _, t := range w.Terms() {
		for _, p := range textsearch.HolderPrefixes(t) {
			var in []string
			for i := sort.SearchStrings(terms, p); i < len(terms) && strings.HasPrefix(terms[i], p); i++ {
				in = append(in, terms[i])
			}
			if len(in) > limit {
				in = in[:limit+1]
			}
			h[p], complete[p] = in, len(in) <= limit
		}
	}
	return h, complete
}

// matches reports which words the tsquery of a one-word query matches: a
// word matches when one of its terms is named, or starts with the prefix.
func matches(tsq string, words []string, lexemes map[string][]string) []string {
	var named []string
	prefix := ""
	for _, part := range strings.Split(strings.Trim(tsq, "()"), " | ") {
		part = strings.Trim(part, "'")
		if p, ok := strings.CutSuffix(part, "':*"); ok {
			prefix = p
			continue
		}
		named = append(named, part)
	}
	var out []string
	for _, x := range words {
		for _, l := range lexemes[x] {
			if slices.Contains(named, l) || prefix != "" && strings.HasPrefix(l, prefix) {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

// A pruned word matches the very words of the vocabulary that all its
// terms match, for every word of the reference data typed as a query,
// whole or as a prefix, with its ranges complete or cut, and names fewer
// terms where the forms of a word overlap.
func TestPruneKeepsEveryMatchOfEveryWord(t *testing.T) {
	words, terms := vocabulary(t)
	lexemes := map[string][]string{}
	for _, x := range words {
		lexemes[x] = textsearch.Lexemes(x)
	}
	fewer := 0
	for _, typed := range words {
		for _, asPrefix := range []bool{false, true} {
			for _, limit := range []int{256, 2} {
				q, err := textsearch.Parse("query", typed)
				if err != nil {
					continue
				}
				w := q.Words()[0]
				if !asPrefix {
					w.Prefix = false
				}
				full := q.TSQuery()
				h, complete := holders(w, terms, limit)
				w.Prune(h, complete)
				pruned := q.TSQuery()
				if !w.Pruned() {
					t.Fatalf("%q: not pruned", typed)
				}
				if got, want := matches(pruned, words, lexemes), matches(full, words, lexemes); !slices.Equal(got, want) {
					t.Errorf("%q (prefix %v, range %d): pruned %s matches %v, all terms %s match %v", typed, asPrefix, limit, pruned, got, full, want)
				}
				if q.RankTSQuery() != full {
					t.Errorf("%q: the rank query %s is not the full one %s", typed, q.RankTSQuery(), full)
				}
				if strings.Count(pruned, "|") < strings.Count(full, "|") {
					fewer++
				}
			}
		}
	}
	if fewer == 0 {
		t.Error("no query named fewer terms")
	}
}

// The query of the profile: one term a word where the forms overlap.
func TestPruneNamesOneTermForCommonWords(t *testing.T) {
	_, terms := vocabulary(t)
	q, _ := textsearch.Parse("query", "spółdzielnia socjalna ceramika szwecji")
	for _, w := range q.Words() {
		w.Prefix = false
		w.Prune(holders(w, terms, 256))
	}
	if got, want := q.TSQuery(), `'=coop' & 'socjaln' & 'ceramik' & '=se'`; got != want {
		t.Errorf("pruned query %s, want %s (all terms: %s)", got, want, q.RankTSQuery())
	}
	// A change of the word's terms (a correction) undoes the pruning.
	w := q.Words()[2]
	w.Correct([]string{"ceramiki"})
	if w.Pruned() || !strings.Contains(q.TSQuery(), "ceramiki") {
		t.Errorf("after a correction: pruned %v, query %s", w.Pruned(), q.TSQuery())
	}
}

// Every lexeme of every word of the reference data starts with one of the
// prefixes HolderPrefixes gives for it (the store reads a term's holders
// from those ranges of the vocabulary).
func TestHolderPrefixesHoldEveryWord(t *testing.T) {
	words, _ := vocabulary(t)
	for _, x := range append(words, "dying", "happiness", "relational", "skies", "osrodek", "osrodka", "kooperativet", "sverige") {
		for _, l := range textsearch.Lexemes(x) {
			ok := false
			for _, p := range textsearch.HolderPrefixes(l) {
				ok = ok || strings.HasPrefix(x, p)
			}
			if !ok {
				t.Errorf("%q holds %q, which starts with none of %v", x, l, textsearch.HolderPrefixes(l))
			}
		}
	}
}

// A word that no word of the vocabulary holds is Unheld, and its query
// still names a term (which matches nothing); a prefix or a known word is
// not.
func TestPruneFindsWordsNothingHolds(t *testing.T) {
	_, terms := vocabulary(t)
	for typed, want := range map[string]bool{"spoldzelnia": true, "kooperaitvet ceramika": true, "spoldzielnia": false, "ceramika": false} {
		q, _ := textsearch.Parse("query", typed)
		for _, w := range q.Words() {
			w.Prefix = false
			w.Prune(holders(w, terms, 256))
		}
		if q.Unheld() != want || !strings.Contains(q.TSQuery(), "'") {
			t.Errorf("%q: Unheld %v, want %v; query %s", typed, q.Unheld(), want, q.TSQuery())
		}
	}
	q, _ := textsearch.Parse("query", "spoldzelni")
	w := q.Words()[0]
	w.Prune(holders(w, terms, 256))
	if q.Unheld() {
		t.Error("a word that matches as a prefix is Unheld")
	}
}
