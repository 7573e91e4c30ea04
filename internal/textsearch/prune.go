package textsearch

import (
	"slices"
	"strings"
)

// A query word matches a document word when the two share a term (the
// folded word, one of its stems, its concept: Lexemes), so its tsquery
// names every term of the word, OR-ed: "spółdzielnia" is (spoldzielnia |
// spoldzieln | spoldzielni | =coop). The text index answers such an OR by
// walking the posting list of every term, although most documents are in
// all of them: "spółdzielnia socjalna poznań" walked about a million
// postings for its 2,778 matches (docs/search.md). A term can be left out
// of the query without changing what it matches when every word that holds
// it also holds a term that stays: then every document that holds it holds
// the other, at the same position and with the same weight (a document
// word is indexed under all its lexemes at its position). Which words hold
// a term is read from the vocabulary: Prune is given, for each term, the
// vocabulary's entries in the range HolderPrefixes names, and keeps a
// smallest set of terms (greedily) that the words among them need.

// HolderPrefixes returns the prefixes that every word holding the term t
// (t among its Lexemes) starts with: the concept's prefixes for a
// concept's lexeme, else the term without its last three letters (at least
// one letter kept). The Polish and Swedish stemmers only remove endings
// (the mobile e of -ek and -ec removes a letter before the last one), and
// the English one rewrites at most the last three letters of what it keeps
// ("happiness" → "happi", "relational" → "relat", "dying" → "die").
// TestHolderPrefixesHoldEveryWordOfTheStemmersVocabularies checks it on
// the Snowball vocabularies.
func HolderPrefixes(t string) []string {
	if isConcept(t) {
		for _, c := range concepts {
			if c.lexeme == t {
				return c.prefixes
			}
		}
		return nil // a country code's concept with no words: no holder
	}
	n := len(t) - holderSlack
	if n < 1 {
		n = 1
	}
	// Never cut a multi-byte letter (terms are folded, but a letter outside
	// the fold table may remain).
	for n > 1 && n < len(t) && t[n]&0xC0 == 0x80 {
		n--
	}
	return []string{t[:n]}
}

// holderSlack is how many letters at the end of a term a word holding it
// may differ in.
const holderSlack = 3

// Prune sets the terms the tsquery of w names (see above): holders maps
// each prefix of HolderPrefixes of every term of w to the vocabulary's
// terms in its range, complete is false for a prefix whose range was cut
// (its terms are then all kept). The vocabulary must hold every word of
// the documents searched (the published ones: search_term), else a term
// held only by a word it lacks may be left out. Without a call, or when
// every term is needed, the tsquery names them all.
func (w *Word) Prune(holders map[string][]string, complete map[string]bool) {
	terms := w.Terms()
	w.kept, w.prunedFor, w.unheld = nil, w.pruneKey(), false
	inTerms := func(x string) bool { return slices.Contains(terms, x) }
	prefixMatch := w.Prefix && !w.completed
	// The words that hold a term of w, each with the terms of w it holds.
	type holder struct{ terms []string }
	var words []holder
	seen := map[string]bool{}
	forced := map[string]bool{}
	for _, t := range terms {
		for _, p := range HolderPrefixes(t) {
			if !complete[p] {
				forced[t] = true
			}
			for _, x := range holders[p] {
				if seen[x] {
					continue
				}
				seen[x] = true
				lex := sharedLexemes(x)
				var held []string
				covered := false
				for _, l := range lex {
					if inTerms(l) && !slices.Contains(held, l) {
						held = append(held, l)
					}
					if prefixMatch && strings.HasPrefix(l, w.Folded) {
						covered = true
					}
				}
				if len(held) > 0 && !covered {
					words = append(words, holder{held})
				}
			}
		}
	}
	// A term whose range was cut stays (its holders are not all known);
	// the others stay only when a holder needs them, and a term that no
	// word of the vocabulary holds is held by no document searched.
	kept := map[string]bool{}
	for _, t := range terms {
		if forced[t] {
			kept[t] = true
		}
	}
	uncovered := words[:0:0]
	for _, h := range words {
		if !holdsAny(h.terms, kept) {
			uncovered = append(uncovered, h)
		}
	}
	for len(uncovered) > 0 {
		best, bestN := "", 0
		for _, t := range terms {
			if kept[t] {
				continue
			}
			n := 0
			for _, h := range uncovered {
				if slices.Contains(h.terms, t) {
					n++
				}
			}
			if n > bestN {
				best, bestN = t, n
			}
		}
		if bestN == 0 { // cannot happen: every holder holds a term of w
			return
		}
		kept[best] = true
		rest := uncovered[:0]
		for _, h := range uncovered {
			if !slices.Contains(h.terms, best) {
				rest = append(rest, h)
			}
		}
		uncovered = rest
	}
	w.kept = []string{}
	for _, t := range terms {
		if kept[t] {
			w.kept = append(w.kept, t)
		}
	}
	if len(w.kept) == 0 && !prefixMatch {
		// Nothing searched holds the word: its tsquery must still name a
		// term, which matches nothing.
		w.kept = terms[:1]
		w.unheld = len(forced) == 0 && len(words) == 0
	}
}

// Unheld reports whether Prune found that no word of the vocabulary holds
// any term of w, nor starts with it where it matches as a prefix: no
// document searched matches it (a typo), and a query that needs it finds
// nothing without asking the index.
func (w *Word) Unheld() bool { return w.Pruned() && w.unheld }

// Unheld reports whether some word of q is Unheld: q, all of whose groups
// must match, then matches nothing.
func (q Query) Unheld() bool {
	for _, w := range q.Words() {
		if w.Unheld() {
			return true
		}
	}
	return false
}

func holdsAny(ts []string, kept map[string]bool) bool {
	for _, t := range ts {
		if kept[t] {
			return true
		}
	}
	return false
}

// Pruned reports whether Prune has run since the terms of w last changed
// (a correction, a completion, a prefix match).
func (w *Word) Pruned() bool { return w.kept != nil && w.prunedFor == w.pruneKey() }

// pruneKey is what Prune's answer depends on besides the vocabulary: the
// terms of w and whether it matches as a prefix.
func (w *Word) pruneKey() string {
	k := strings.Join(w.Terms(), " ")
	if w.Prefix && !w.completed {
		k += " *"
	}
	return k
}
