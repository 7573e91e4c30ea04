package textsearch

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// Limits of a query.
const (
	MaxQueryLength = 200 // characters
	MaxQueryWords  = 12
	// MinTypoLength is the shortest word (in letters) corrected for typos.
	MinTypoLength = 5
	// MaxTypoDistance is how many letters a corrected word may differ by.
	MaxTypoDistance = 2
	// minPrefix is the shortest word also matched as the start of a longer
	// one ("spoldz" finds "spółdzielnia").
	minPrefix = 3
)

// Word is one word of a query.
type Word struct {
	Folded  string
	Lexemes []string // the folded word and its stems
	// Prefix matches the word as the start of longer terms too: the last
	// word of a query, as it may be unfinished, and every word once
	// Widen has been called.
	Prefix bool
	// prefixable is whether the word is long enough to match as a prefix.
	prefixable bool
	// Corrections are vocabulary terms within MaxTypoDistance of the word,
	// set by Correct when the word itself matches no term.
	Corrections []string
	// completions are the vocabulary's terms that start with the word,
	// set by Complete: a prefix word then matches them by name instead
	// of as a prefix (see Complete).
	completions []string
	completed   bool
	// kept are the terms the word's tsquery names when Prune has left
	// out those it need not; nil: all of them.
	kept      []string
	prunedFor string
	unheld    bool
}

// Terms returns the terms w matches by name: its forms, corrections and
// completions (not what it matches as a prefix).
func (w *Word) Terms() []string {
	out := make([]string, 0, len(w.Lexemes)+len(w.Corrections)+len(w.completions))
	out = append(out, w.Lexemes...)
	out = append(out, w.Corrections...)
	return append(out, w.completions...)
}

// MaxCompletions is how many vocabulary terms a prefix word is replaced
// by at most (see Word.Complete).
const MaxCompletions = 16

// NeedsCompletion reports whether w matches as a prefix and has not been
// given the terms it completes to yet.
func (w *Word) NeedsCompletion() bool { return w.Prefix && !w.completed }

// Complete gives w, a word that matches as a prefix, the terms of the
// vocabulary that start with it: terms holds every one of them, or more
// than MaxCompletions when there are more. With at most MaxCompletions,
// the word's tsquery names those terms instead of a prefix match, which
// the text index answers by collecting every document of every term
// under the prefix into a bitmap before it intersects anything ("terapii:*"
// with "warsztat" at 1M: 174 ms against 76 ms; docs/search.md). The
// terms must be all those the searched documents hold that start with
// the word, as the vocabulary of published documents is for a reader of
// published entries; with more, the word keeps its prefix match.
func (w *Word) Complete(terms []string) {
	if !w.Prefix || len(terms) > MaxCompletions {
		return
	}
	w.completed = true
	w.completions = w.completions[:0]
	for _, t := range terms {
		if strings.HasPrefix(t, w.Folded) && !contains(w.Lexemes, t) && !contains(w.Corrections, t) && !contains(w.completions, t) {
			w.completions = append(w.completions, t)
		}
	}
}

// Fuzzy reports whether the word is long enough to be corrected for typos.
func (w *Word) Fuzzy() bool { return utf8.RuneCountInString(w.Folded) >= MinTypoLength }

// Group is a word or a quoted phrase of a query.
type Group struct {
	Words  []*Word
	Phrase bool
	// Text is the group as the user typed it: the word, or the words of
	// the phrase separated by spaces.
	Text string
}

// Query is a parsed search query: every group must match.
type Query struct {
	Groups []Group
}

// stopWords are dropped from a query outside quotes, unless nothing else
// is left: they match nearly everything and narrow nothing.
var stopWords = map[string]bool{
	"w": true, "we": true, "i": true, "z": true, "ze": true, "na": true, "do": true, "dla": true,
	"o": true, "od": true, "po": true, "przy": true, "oraz": true, "a": true, "u": true, "sie": true,
	"the": true, "of": true, "and": true, "in": true, "for": true, "on": true, "at": true,
	"och": true, "pa": true, "av": true, "med": true, "en": true, "ett": true,
}

// Parse parses a query as a user types it: words, each of which must
// match in some inflected form, and phrases in double quotes ("…", „…”),
// whose words must match in that order. It returns a *kb.ValidationError
// on field when the query is too long or holds no word.
func Parse(field, q string) (Query, error) {
	if utf8.RuneCountInString(q) > MaxQueryLength {
		return Query{}, kb.Invalid(field, "is longer than %d characters", MaxQueryLength)
	}
	q = strings.NewReplacer("„", `"`, "”", `"`, "“", `"`, "«", `"`, "»", `"`).Replace(q)
	var all, kept []Group
	for i, part := range strings.Split(q, `"`) {
		var words []*Word
		var typed []string
		for _, t := range Tokenize(part) {
			if len(t.Folded) > MaxWordLength {
				continue
			}
			w := newWord(t.Folded, i%2 == 0)
			// A country named by its code in capitals ("SE") is the
			// country; in lower case "se" is a word like any other.
			if c, ok := countryConcepts[part[t.Start:t.End]]; ok {
				w.Lexemes = append(w.Lexemes, c)
			}
			words, typed = append(words, w), append(typed, part[t.Start:t.End])
		}
		if len(words) == 0 {
			continue
		}
		if i%2 == 1 { // inside quotes
			g := Group{Words: words, Phrase: len(words) > 1, Text: strings.Join(typed, " ")}
			all, kept = append(all, g), append(kept, g)
			continue
		}
		for j, w := range words {
			g := Group{Words: []*Word{w}, Text: typed[j]}
			all = append(all, g)
			if !stopWords[w.Folded] {
				kept = append(kept, g)
			}
		}
	}
	if len(kept) == 0 {
		kept = all
	}
	if n := len(kept); n > 0 && !kept[n-1].Phrase {
		w := kept[n-1].Words[0]
		w.Prefix = w.prefixable
	}
	n := 0
	for _, g := range kept {
		n += len(g.Words)
	}
	switch {
	case n == 0:
		return Query{}, kb.Invalid(field, "holds no word to search for")
	case n > MaxQueryWords:
		return Query{}, kb.Invalid(field, "has %d words, at most %d are searched", n, MaxQueryWords)
	}
	return Query{Groups: kept}, nil
}

func newWord(folded string, prefix bool) *Word {
	return &Word{Folded: folded, Lexemes: slices.Clone(sharedLexemes(folded)), prefixable: prefix && utf8.RuneCountInString(folded) >= minPrefix}
}

// Widen lets every word of q that is long enough match as the start of a
// longer term, not just the last one, and reports whether that changed
// anything. Searches widen a query that finds nothing as typed
// ("spoldz ceram"); matching prefixes of every word on every search would
// cost a scan of many index keys for each.
func (q Query) Widen() bool {
	changed := false
	for _, w := range q.Words() {
		if w.prefixable && !w.Prefix {
			w.Prefix, changed = true, true
		}
	}
	return changed
}

// Words returns every word of q.
func (q Query) Words() []*Word {
	var out []*Word
	for _, g := range q.Groups {
		out = append(out, g.Words...)
	}
	return out
}

// Correct sets the corrections of w from candidates, vocabulary terms that
// are near it by trigrams: those within MaxTypoDistance letters of the word
// or of one of its stems.
func (w *Word) Correct(candidates []string) {
	if !w.Fuzzy() {
		return
	}
	for _, c := range candidates {
		if contains(w.Lexemes, c) || contains(w.Corrections, c) || isConcept(c) {
			continue
		}
		for _, l := range w.Lexemes {
			if d := levenshtein.ComputeDistance(l, c); d <= MaxTypoDistance && d < utf8.RuneCountInString(l)/2 {
				w.Corrections = append(w.Corrections, c)
				break
			}
		}
	}
}

// alternatives is the tsquery of one word: any of its lexemes or
// corrections, or a term it starts; with own, only where they carry the
// weight of a name or an attribute (A). With all, every term of the word
// is named, else only those Prune kept (the same matches).
func (w *Word) alternatives(own, all bool) string {
	weight := ""
	if own {
		weight = ":A"
	}
	terms := w.Terms()
	if !all && w.Pruned() {
		terms = w.kept
	}
	parts := make([]string, 0, len(terms)+1)
	for _, t := range terms {
		parts = append(parts, quoteLexeme(t)+weight)
	}
	if w.Prefix && !w.completed {
		if own {
			parts = append(parts, quoteLexeme(w.Folded)+":*A")
		} else {
			parts = append(parts, quoteLexeme(w.Folded)+":*")
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " | ") + ")"
}

// TSQuery returns q as a tsquery literal over the lexemes of Index: every
// group must match, a word in any of its forms, a phrase word after word.
// The tsqueries of a Query name the terms Prune kept, which match what all
// the terms of its words match; RankTSQuery names them all.
func (q Query) TSQuery() string {
	return strings.Join(q.GroupTSQueries(), " & ")
}

// AnyTSQuery returns q as a tsquery literal that any one group matches.
func (q Query) AnyTSQuery() string {
	return strings.Join(q.GroupTSQueries(), " | ")
}

// RankTSQuery is AnyTSQuery with every term of every word, pruned or not:
// ts_rank scores a document by the query's terms, and a hit must score
// as it did before its query was pruned.
func (q Query) RankTSQuery() string {
	return strings.Join(q.groupTSQueries(false, true), " | ")
}

// OwnTSQuery returns the tsquery literal of q matched only where the
// words carry the weight of a name or an attribute of the entity (A).
func (q Query) OwnTSQuery() string {
	return strings.Join(q.groupTSQueries(true, false), " & ")
}

// OwnGroupTSQueries returns, for each group of q, its tsquery literal
// matched only where the words carry the weight A (see OwnTSQuery).
func (q Query) OwnGroupTSQueries() []string { return q.groupTSQueries(true, false) }

// GroupTSQueries returns the tsquery literal of each group of q.
func (q Query) GroupTSQueries() []string { return q.groupTSQueries(false, false) }

func (q Query) groupTSQueries(own, all bool) []string {
	groups := make([]string, len(q.Groups))
	for i, g := range q.Groups {
		words := make([]string, len(g.Words))
		for j, w := range g.Words {
			words[j] = w.alternatives(own, all)
		}
		groups[i] = strings.Join(words, " <-> ")
		if len(words) > 1 {
			groups[i] = "(" + groups[i] + ")"
		}
	}
	return groups
}

// Matcher matches the words of texts against a query, as Query.Snippet
// and Query.Missing do. For snippets it remembers which query word each
// word of a text matches, and reads texts without copying their words
// (scanWords): the snippets of a page of hits read the same words over
// and over, and a field then costs a lookup a word and no allocation but
// its spans (BenchmarkSnippetPage: 6,562 → 558 allocations a page).
// Stemming is remembered by all searches (sharedLexemes). A Matcher sees the query as it stands when made: Widen, Complete
// and Correct after that are not seen. Not safe for concurrent use.
type Matcher struct {
	q     Query
	words []*Word        // q.Words()
	hit   map[string]int // a folded word of a text → match
	buf   []byte         // the folded word being read (scanWords)
	cur   []span         // the spans of the field being read
	best  []span         // the spans of the best field so far
	seen  []int          // seen[i] == pass: word i found in the field read in pass
	pass  int
}

// span is a word of a text: its byte range and the index of the query word
// it matches, or -1.
type span struct {
	start, end, word int
}

// Matcher returns a Matcher of q.
func (q Query) Matcher() *Matcher {
	words := q.Words()
	// A page's snippets read a few hundred distinct words.
	return &Matcher{q: q, words: words, hit: make(map[string]int, 512), seen: make([]int, len(words))}
}

// The lexemes of the words that searches have stemmed (the snippets'
// words, the query's, the vocabulary's words that Prune reads), shared by
// all: the hits of one page share most of their words, and so do the
// pages of different searches (the generated graph's million documents
// hold a few thousand distinct words); with a Matcher's own memo only,
// stemming was still about a fifth of the server's CPU for a search at
// 1M, 16 clients. Lexemes depends on the
// word only, so what is remembered never goes stale. Past
// maxShared words nothing more is remembered (a bound on memory: about
// 3 MB), and the words beyond are stemmed as before.
var (
	shared      sync.Map // folded word → []string, never modified
	sharedCount atomic.Int64
)

const maxShared = 1 << 15

func sharedLexemes(folded string) []string {
	if l, ok := shared.Load(folded); ok {
		return l.([]string)
	}
	l := Lexemes(folded)
	if sharedCount.Load() < maxShared {
		if _, loaded := shared.LoadOrStore(folded, l); !loaded {
			sharedCount.Add(1)
		}
	}
	return l
}

// match returns the index in q.Words() of the first word that a folded
// word of a text matches, or -1.
func (m *Matcher) match(folded string) int {
	lex := sharedLexemes(folded)
	for i, w := range m.words {
		for _, l := range lex {
			if contains(w.Lexemes, l) || contains(w.Corrections, l) {
				return i
			}
		}
		if w.Prefix && strings.HasPrefix(folded, w.Folded) {
			return i
		}
	}
	return -1
}

// Missing returns the groups of q (as typed) that the fields fs do not
// match: a word that no word of the fields matches, in any of its forms,
// corrections or as a prefix; a phrase any of whose words is so missing.
func (q Query) Missing(fs []Field) []string { return q.Matcher().Missing(fs) }

// Missing is Query.Missing.
func (m *Matcher) Missing(fs []Field) []string {
	q := m.q
	found := make([]bool, len(m.words))
	for _, f := range fs {
		for _, t := range Tokenize(f.Text) {
			m.matchAll(t.Folded, found)
		}
	}
	out := []string{}
	i := 0
	for _, g := range q.Groups {
		all := true
		for range g.Words {
			all = all && found[i]
			i++
		}
		if !all {
			out = append(out, g.Text)
		}
	}
	return out
}

// matchAll sets found[i] for every word i of q.Words() that the folded
// word of a text matches.
func (m *Matcher) matchAll(folded string, found []bool) {
	lex := sharedLexemes(folded)
	for i, w := range m.words {
		if found[i] {
			continue
		}
		for _, l := range lex {
			if contains(w.Lexemes, l) || contains(w.Corrections, l) {
				found[i] = true
			}
		}
		if w.Prefix && strings.HasPrefix(folded, w.Folded) {
			found[i] = true
		}
	}
}

// Snippet is the part of one field of an entity that matched a query.
type Snippet struct {
	Field string
	// Text is the excerpt as plain text; "…" marks a cut.
	Text string
	// HTML is the excerpt escaped for HTML, the matched words in <mark>.
	HTML string
}

// snippetWords is about how many words a snippet shows.
const snippetWords = 24

// Snippet returns an excerpt of the field of fs that matches q best: the
// one that holds the most of the query's words, the heaviest of those, cut
// around its first match. With no field matching (a match by a typo in a
// term no longer there) it returns the start of the summary, or the name.
func (q Query) Snippet(fs []Field) Snippet { return q.Matcher().Snippet(fs) }

// Snippet is Query.Snippet.
func (m *Matcher) Snippet(fs []Field) Snippet {
	best, bestScore := -1, 0
	for i, f := range fs {
		if f.Hidden {
			continue
		}
		found := m.spans(f.Text)
		if found == 0 {
			continue
		}
		if score := found*1000 + weightFactor(f.Weight); score > bestScore {
			best, bestScore = i, score
			m.best, m.cur = m.cur, m.best
		}
	}
	if best < 0 {
		for i, f := range fs {
			if f.Name == "name" && best < 0 || f.Name == "summary" && strings.TrimSpace(f.Text) != "" {
				best = i
			}
		}
		if best < 0 {
			return Snippet{}
		}
		// A field that matched nothing: its words, none of them a hit.
		m.spans(fs[best].Text)
		m.best, m.cur = m.cur, m.best
	}
	return excerpt(fs[best], m.best)
}

// spans reads the words of text into m.cur, each with the query word it
// matches (match, remembered in m.hit), and returns how many distinct
// query words the text matches.
func (m *Matcher) spans(text string) int {
	m.pass++
	m.cur = m.cur[:0]
	found := 0
	scanWords(text, &m.buf, func(start, end int, folded []byte, same bool) {
		w, ok := m.hit[string(folded)]
		if !ok {
			f := text[start:end] // the word itself, not a copy, where it folds to itself
			if !same {
				f = string(folded)
			}
			w = m.match(f)
			m.hit[f] = w
		}
		if w >= 0 && m.seen[w] != m.pass {
			m.seen[w] = m.pass
			found++
		}
		m.cur = append(m.cur, span{start, end, w})
	})
	return found
}

func weightFactor(w Weight) int {
	switch w {
	case WeightName:
		return 100
	case WeightSummary:
		return 10
	}
	return 1
}

// excerpt cuts the text of f around its first hit to about snippetWords
// words and marks the hits: the words of toks (the words of f.Text) that
// match a query word.
func excerpt(f Field, toks []span) Snippet {
	text := f.Text
	first := 0
	hits := 0
	for i, t := range toks {
		if t.word >= 0 {
			if hits == 0 {
				first = i
			}
			hits++
		}
	}
	from, to := 0, len(text)
	lead, tail := "", ""
	if len(toks) > snippetWords {
		start := max(0, first-snippetWords/3)
		end := min(len(toks), start+snippetWords)
		start = max(0, end-snippetWords)
		if start > 0 {
			from, lead = toks[start].start, "…"
		}
		if end < len(toks) {
			to, tail = toks[end-1].end, "…"
		}
	}
	var marked strings.Builder
	marked.Grow(len(lead) + to - from + len(tail) + hits*len("<mark></mark>") + 16)
	marked.WriteString(lead)
	at := from
	for _, t := range toks {
		if t.start < from || t.end > to || t.word < 0 {
			continue
		}
		escapeHTML(&marked, text[at:t.start])
		marked.WriteString("<mark>")
		escapeHTML(&marked, text[t.start:t.end])
		marked.WriteString("</mark>")
		at = t.end
	}
	escapeHTML(&marked, text[at:to])
	marked.WriteString(tail)
	return Snippet{Field: f.Name, Text: lead + text[from:to] + tail, HTML: marked.String()}
}

// escapeHTML writes s to b escaped as html.EscapeString escapes it,
// without a copy of s in between.
func escapeHTML(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&#39;"
		case '"':
			esc = "&#34;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}
