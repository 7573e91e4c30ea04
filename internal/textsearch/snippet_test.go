package textsearch

import (
	"html"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/lang"
	"github.com/partnergraph/partnergraph/internal/seed"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// snippetQueries are the search mix of the bench (internal/bench,
// SearchQueries) and queries of docs/search.md: prefixes, phrases,
// Swedish, typos.
var snippetQueries = []string{
	"spoldzielnia", "spółdzielni socjalnej", "fundacja", "warsztat terapii", "warsztatow gebice",
	"stowarzyszenie poznan", "gmina gniezno", "kooperativet gloden", "ateljé", "ekonomiska forening",
	"ceramika", "spoldzielnia socjalna razem", "pomocy spolecznej", "stowarzyszenie na rzecz", "fundacja ekonomii",
	"aktywizacja zawodowa", "partnerstwo", "swiebodzinie", "stowarzyszenei", "kooperativet",
	"spółdzielnia", "spoldzielnia socjalna", `"spółdzielnia socjalna"`, "spoldzelnia", "warsztat terapii zajęciowej",
	"koop", "szwecji", "ceramics", "social cooperative ceramics", `"równe szanse"`, "w", "SE", "gniez",
}

// snippetEntities are the reference data's entities and 600 of the
// generated graph's, spread over its kinds.
func snippetEntities(t testing.TB) []kb.Entity {
	d, err := seed.Reference()
	if err != nil {
		t.Fatal(err)
	}
	es := d.Entities
	g, err := synth.New(1, 150000, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 150000; i += 250 {
		var e kb.Entity
		g.Entity(i, &e)
		es = append(es, e)
	}
	return es
}

// TestMatcherSnippetIsTheSnippetOfEveryWordTokenized holds the Matcher,
// which reads texts without copying their words and remembers what each
// word matches, to what a snippet was before it (referenceSnippet: every
// field tokenized and every word matched afresh), byte for byte, over the
// reference data and a sample of the generated graph, for the bench's
// queries, with a Matcher shared by all the entities of a query as a page
// shares one.
func TestMatcherSnippetIsTheSnippetOfEveryWordTokenized(t *testing.T) {
	es := snippetEntities(t)
	marked := 0
	for _, text := range snippetQueries {
		q, err := Parse("query", text)
		if err != nil {
			t.Fatal(err)
		}
		m := q.Matcher()
		for i := range es {
			fs := Fields(&es[i])
			got, want := m.Snippet(fs), referenceSnippet(q, fs)
			if got != want {
				t.Fatalf("%q, entity %q: Snippet = %+v, want %+v", text, es[i].Name, got, want)
			}
			if strings.Contains(got.HTML, "<mark>") {
				marked++
			}
		}
	}
	if marked < 500 {
		t.Errorf("only %d snippets mark a word: the comparison needs matches", marked)
	}
	// Texts that need escaping, words of combining marks, a cut text.
	q, err := Parse("query", "szanse ceramika")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		`„Równe <Szanse>” & 'ceramika' "x"`,
		"o\u0301 \u0301ceramika\u0301 szanse",
		strings.Repeat("słowo ", 40) + "ceramika & <b> " + strings.Repeat("inne ", 30),
		"CERAMIKA Ceramika ceramikę",
	} {
		fs := []Field{{Name: "name", Text: "x", Weight: WeightName}, {Name: "summary", Text: text, Weight: WeightSummary}}
		if got, want := q.Matcher().Snippet(fs), referenceSnippet(q, fs); got != want {
			t.Errorf("%q: Snippet = %+v, want %+v", text, got, want)
		}
	}
}

// TestTokenizeSharesTheWordsOfItsText checks that Tokenize folds as
// before (referenceTokenize) and copies no word that folds to itself.
func TestTokenizeSharesTheWordsOfItsText(t *testing.T) {
	for _, e := range snippetEntities(t)[:500] {
		for _, f := range Fields(&e) {
			got, want := Tokenize(f.Text), referenceTokenize(f.Text)
			if len(got) != len(want) {
				t.Fatalf("%q: %d tokens, want %d", f.Text, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%q: token %d = %+v, want %+v", f.Text, i, got[i], want[i])
				}
			}
		}
	}
	text := "spółdzielnia socjalna w poznaniu 2024"
	got := testing.AllocsPerRun(100, func() { Tokenize(text) })
	before := testing.AllocsPerRun(100, func() { referenceTokenize(text) })
	if got > before-5 {
		t.Errorf("Tokenize of %q: %.0f allocations, before %.0f: want 5 fewer at least (its 5 words)", text, got, before)
	}
}

// TestMatcherSnippetAllocatesLittle bounds the allocations of a page's
// snippets once its Matcher has seen their words: the excerpt's marked
// text, and nothing a word (tokens, folded words, matches). Before,
// every word of every field cost a folded string and a slice of query
// words, and every field a map.
func TestMatcherSnippetAllocatesLittle(t *testing.T) {
	q, err := Parse("query", "spoldzielnia socjalna")
	if err != nil {
		t.Fatal(err)
	}
	es := snippetEntities(t)[:100]
	fss := make([][]Field, len(es))
	for i := range es {
		fss[i] = Fields(&es[i])
	}
	m := q.Matcher()
	n := testing.AllocsPerRun(20, func() {
		for _, fs := range fss {
			m.Snippet(fs)
		}
	})
	if perEntity := n / float64(len(fss)); perEntity > 2 {
		t.Errorf("%.1f allocations a snippet, want at most 2", perEntity)
	}
}

// BenchmarkSnippetPage is the snippets of pages of 20 hits, a Matcher a
// page, over the bench's queries.
func BenchmarkSnippetPage(b *testing.B) {
	es := snippetEntities(b)
	type page struct {
		q   Query
		fss [][]Field
	}
	var pages []page
	for _, text := range snippetQueries[:25] {
		q, err := Parse("query", text)
		if err != nil {
			b.Fatal(err)
		}
		p := page{q: q}
		for i := 0; i < len(es) && len(p.fss) < 20; i++ {
			fs := Fields(&es[i])
			if s := q.Snippet(fs); strings.Contains(s.HTML, "<mark>") {
				p.fss = append(p.fss, fs)
			}
		}
		pages = append(pages, p)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := pages[i%len(pages)]
		m := p.q.Matcher()
		for _, fs := range p.fss {
			m.Snippet(fs)
		}
	}
}

// referenceTokenize is Tokenize as it was before it shared its words
// with its text.
func referenceTokenize(s string) []Token {
	var out []Token
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start >= 0 && b.Len() > 0 {
			out = append(out, Token{Start: start, End: end, Folded: b.String()})
		}
		start = -1
		b.Reset()
	}
	for i, r := range s {
		if !isWordRune(r) {
			flush(i)
			continue
		}
		if start < 0 {
			start = i
		}
		if r < 0x80 {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteByte(byte(r))
		} else {
			b.WriteString(foldRune(r))
		}
	}
	flush(len(s))
	return out
}

// referenceSnippet is Matcher.Snippet as it was before the Matcher
// remembered matches: every field tokenized, every word matched.
func referenceSnippet(q Query, fs []Field) Snippet {
	match := func(folded string) int {
		lex := sharedLexemes(folded) // Lexemes, remembered
		for i, w := range q.Words() {
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
	best, bestTokens, bestHits, bestScore := -1, []Token(nil), []bool(nil), 0
	for i, f := range fs {
		if f.Hidden {
			continue
		}
		toks := referenceTokenize(f.Text)
		hits := make([]bool, len(toks))
		seen := map[int]bool{}
		for j, t := range toks {
			if w := match(t.Folded); w >= 0 {
				hits[j] = true
				seen[w] = true
			}
		}
		if len(seen) == 0 {
			continue
		}
		if score := len(seen)*1000 + weightFactor(f.Weight); score > bestScore {
			best, bestTokens, bestHits, bestScore = i, toks, hits, score
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
		bestTokens = referenceTokenize(fs[best].Text)
		bestHits = make([]bool, len(bestTokens))
	}
	f, toks, hits := fs[best], bestTokens, bestHits
	text := f.Text
	first := 0
	for i, h := range hits {
		if h {
			first = i
			break
		}
	}
	from, to := 0, len(text)
	lead, tail := "", ""
	if len(toks) > snippetWords {
		start := max(0, first-snippetWords/3)
		end := min(len(toks), start+snippetWords)
		start = max(0, end-snippetWords)
		if start > 0 {
			from, lead = toks[start].Start, "…"
		}
		if end < len(toks) {
			to, tail = toks[end-1].End, "…"
		}
	}
	var plain, marked strings.Builder
	plain.WriteString(lead)
	marked.WriteString(lead)
	at := from
	for i, t := range toks {
		if t.Start < from || t.End > to || !hits[i] {
			continue
		}
		marked.WriteString(html.EscapeString(text[at:t.Start]))
		marked.WriteString("<mark>")
		marked.WriteString(html.EscapeString(text[t.Start:t.End]))
		marked.WriteString("</mark>")
		at = t.End
	}
	marked.WriteString(html.EscapeString(text[at:to]))
	plain.WriteString(text[from:to])
	plain.WriteString(tail)
	marked.WriteString(tail)
	return Snippet{Field: f.Name, Text: plain.String(), HTML: marked.String()}
}

// TestFieldsAllocatesOnce checks that the fields of an entity, of any
// kind, are gathered in one slice allocated once.
func TestFieldsAllocatesOnce(t *testing.T) {
	d, err := seed.Reference()
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Entities {
		e := &d.Entities[i]
		fs := Fields(e)
		if cap(fs) < len(fs) || len(fs) > 3+1+len(lang.Supported)+8+len(e.Translations) {
			t.Errorf("%s: %d fields, more than Fields makes room for", e.Key, len(fs))
		}
	}
	e := &d.Entities[0]
	for i := range d.Entities {
		if d.Entities[i].GoodPractice != nil {
			e = &d.Entities[i]
		}
	}
	fs := Fields(e)
	want := 1.0 // the slice
	for _, f := range fs {
		if f.Name == "place" || strings.HasPrefix(f.Name, "topics") || f.Name == "activities" {
			want++ // a joined text
		}
	}
	if n := testing.AllocsPerRun(100, func() { Fields(e) }); n > want {
		t.Errorf("Fields of practice %s: %.0f allocations, want %.0f", e.Key, n, want)
	}
}
