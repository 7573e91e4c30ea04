package textsearch

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
)

func TestStemPolishJoinsInflectedForms(t *testing.T) {
	groups := [][]string{
		{"spółdzielnia", "spółdzielni", "spółdzielnie", "spółdzielniach", "spółdzielniami", "spółdzielnią", "spoldzielniom"},
		{"ceramika", "ceramiki", "ceramikę", "ceramiką"},
		{"Szwecja", "Szwecji", "szwecję"},
		{"warsztat", "warsztatów", "warsztaty", "warsztatach", "warsztatem", "warsztatu"},
		{"socjalna", "socjalnych", "socjalnej", "socjalne", "socjalnego", "socjalnym"},
		{"Gębice", "Gębicach"},
		{"Łężeczki", "Łężeczkach"},
		{"Poznań", "Poznaniu", "Poznaniem"},
		{"szkolenie", "szkolenia", "szkoleniach", "szkoleń"},
		{"partnerstwo", "partnerstwa", "partnerstwie", "partnerstw"},
		{"Sztokholm", "Sztokholmie"},
		{"ośrodek", "ośrodka", "ośrodkiem", "ośrodków"},
		{"człowiek", "człowieka"},
	}
	for _, g := range groups {
		want := StemPolish(kb.Fold(g[0]))
		for _, w := range g[1:] {
			if got := StemPolish(kb.Fold(w)); got != want {
				t.Errorf("StemPolish(%q) = %q, want %q (the stem of %q)", w, got, want, g[0])
			}
		}
	}
}

func TestStemPolishLeavesShortWordsAlone(t *testing.T) {
	for _, w := range []string{"wtz", "rops", "forum", "kos", "pan"} {
		if got := StemPolish(w); got != w {
			t.Errorf("StemPolish(%q) = %q, want it unchanged", w, got)
		}
	}
}

func TestLexemesStemSwedishAndEnglish(t *testing.T) {
	tests := []struct{ a, b string }{
		{"verkstäder", "verkstad"},
		{"kooperativen", "kooperativ"},
		{"föreningen", "förening"},
		{"cooperatives", "cooperative"},
		{"workshops", "workshop"},
	}
	for _, tt := range tests {
		a, b := Lexemes(kb.Fold(tt.a)), Lexemes(kb.Fold(tt.b))
		shared := false
		for _, l := range a {
			shared = shared || slices.Contains(b, l)
		}
		if !shared {
			t.Errorf("Lexemes(%q) = %v and Lexemes(%q) = %v share no term", tt.a, a, tt.b, b)
		}
	}
}

func TestTokenizeFoldsAndKeepsOffsets(t *testing.T) {
	s := "Spółdzielnia Socjalna „Równe Szanse” (Gębice)"
	toks := Tokenize(s)
	var got []string
	for _, tk := range toks {
		got = append(got, tk.Folded+"="+s[tk.Start:tk.End])
	}
	want := []string{"spoldzielnia=Spółdzielnia", "socjalna=Socjalna", "rowne=Równe", "szanse=Szanse", "gebice=Gębice"}
	if !slices.Equal(got, want) {
		t.Errorf("Tokenize = %v, want %v", got, want)
	}
}

func TestParseAndTSQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ceramika", `('ceramika' | 'ceramik' | 'ceramika':*)`},
		{`"równe szanse"`, `(('rowne' | 'rown') <-> ('szanse' | 'szans'))`},
		{"wtz w gębicach", `'wtz' & ('gebicach' | 'gebic' | 'gebicach':*)`},
	}
	for _, tt := range tests {
		q, err := Parse("query", tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if got := q.TSQuery(); got != tt.want {
			t.Errorf("Parse(%q).TSQuery() = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseRejectsEmptyAndLongQueries(t *testing.T) {
	for _, in := range []string{"", "  ", `"" ,.`, strings.Repeat("a ", 150)} {
		var v *kb.ValidationError
		if _, err := Parse("query", in); !errors.As(err, &v) || v.Field != "query" {
			t.Errorf("Parse(%q) = %v, want a validation error on query", in, err)
		}
	}
}

func TestCorrectAcceptsTwoTyposInLongWords(t *testing.T) {
	q, _ := Parse("query", "coompanoin glodn")
	ws := q.Words()
	ws[0].Correct([]string{"coompanion", "companion", "compass"})
	if !slices.Contains(ws[0].Corrections, "coompanion") {
		t.Errorf("corrections of coompanoin = %v, want coompanion among them", ws[0].Corrections)
	}
	ws[1].Correct([]string{"gloden"})
	if !slices.Contains(ws[1].Corrections, "gloden") {
		t.Errorf("corrections of glodn = %v, want gloden", ws[1].Corrections)
	}
	short, _ := Parse("query", "kos")
	short.Words()[0].Correct([]string{"kot"})
	if len(short.Words()[0].Corrections) != 0 {
		t.Errorf("a three-letter word was corrected: %v", short.Words()[0].Corrections)
	}
}

func TestIndexSharesPositionsAndWeights(t *testing.T) {
	d := Index([]Field{{"name", "Kooperativet Glöden", WeightName, false}, {"summary", "spółdzielnia", WeightSummary, false}})
	for _, want := range []string{"'gloden':2A", "'kooperativet':1A", "'spoldzieln':11B"} {
		if !strings.Contains(d.Vector, want) {
			t.Errorf("Vector = %s, want it to hold %s", d.Vector, want)
		}
	}
	if !strings.Contains(d.NameVector, "'gloden':2A") || strings.Contains(d.NameVector, "spoldzieln") || d.NameWords != 2 {
		t.Errorf("NameVector = %s (%d words), want the name's lexemes only", d.NameVector, d.NameWords)
	}
}

func TestSnippetMarksMatchedWordsOfTheHeaviestField(t *testing.T) {
	q, _ := Parse("query", "ceramiki")
	fs := []Field{{"name", "Równe Szanse", WeightName, false}, {"summary", "Spółdzielnia produkująca ceramikę & mydło.", WeightSummary, false}}
	s := q.Snippet(fs)
	if s.Field != "summary" || s.HTML != "Spółdzielnia produkująca <mark>ceramikę</mark> &amp; mydło." {
		t.Errorf("Snippet = %+v", s)
	}
}

func TestSnippetPrefersTheFieldWithMoreQueryWords(t *testing.T) {
	q, _ := Parse("query", "spoldzielnie ceramika")
	fs := []Field{{"name", "Spółdzielnia Socjalna „Równe Szanse”", WeightName, false},
		{"summary", "Spółdzielnia socjalna produkująca ceramikę.", WeightSummary, false}}
	if s := q.Snippet(fs); s.Field != "summary" {
		t.Errorf("Snippet field = %s, want summary, which holds both words", s.Field)
	}
	q, _ = Parse("query", "spoldzielnie")
	if s := q.Snippet(fs); s.Field != "name" {
		t.Errorf("Snippet field = %s, want name, the heavier of two fields with the word", s.Field)
	}
	q, _ = Parse("query", "nic")
	if s := q.Snippet(fs); s.Field != "summary" || strings.Contains(s.HTML, "<mark>") {
		t.Errorf("Snippet without a match = %+v, want the summary unmarked", s)
	}
}

func TestOverlongWordsAreNeitherIndexedNorSearched(t *testing.T) {
	long := strings.Repeat("a", MaxWordLength+1)
	d := Index([]Field{{"name", "Glöden " + long, WeightName, false}})
	if strings.Contains(d.Vector, long) || d.NameWords != 2 {
		t.Errorf("Index kept a word of %d letters: %.80s", len(long), d.Vector)
	}
	if _, err := Parse("query", long); err == nil {
		t.Errorf("Parse of one overlong word succeeded, want a validation error")
	}
}

func TestWidenLetsEveryWordMatchAsAPrefix(t *testing.T) {
	q, _ := Parse("query", "spoldz ceram")
	if got, want := q.TSQuery(), `'spoldz' & ('ceram' | 'ceram':*)`; got != want {
		t.Errorf("as typed: %s, want %s", got, want)
	}
	if !q.Widen() || q.Widen() {
		t.Errorf("Widen should change the query once")
	}
	if got, want := q.TSQuery(), `('spoldz' | 'spoldz':*) & ('ceram' | 'ceram':*)`; got != want {
		t.Errorf("widened: %s, want %s", got, want)
	}
}

func TestCompleteNamesTheTermsOfAPrefixInsteadOfMatchingIt(t *testing.T) {
	q, _ := Parse("query", "warsztat terap")
	w := q.Words()[1]
	if !w.NeedsCompletion() {
		t.Fatalf("the last word should need completion")
	}
	w.Complete([]string{"terap", "terapeut", "terapii", "terapia"})
	if w.NeedsCompletion() {
		t.Errorf("a completed word still needs completion")
	}
	if got, want := q.TSQuery(), `('warsztat' | 'warszt') & ('terap' | 'terapeut' | 'terapii' | 'terapia')`; got != want {
		t.Errorf("completed: %s, want %s", got, want)
	}
	if got, want := q.OwnTSQuery(), `('warsztat':A | 'warszt':A) & ('terap':A | 'terapeut':A | 'terapii':A | 'terapia':A)`; got != want {
		t.Errorf("completed, own: %s, want %s", got, want)
	}

	// More terms than MaxCompletions: the word keeps its prefix match.
	q, _ = Parse("query", "spo")
	many := make([]string, MaxCompletions+1)
	for i := range many {
		many[i] = "spo" + string(rune('a'+i))
	}
	q.Words()[0].Complete(many)
	if got, want := q.TSQuery(), `('spo' | 'spo':*)`; got != want {
		t.Errorf("too many completions: %s, want %s", got, want)
	}

	// No term starts with the word: only its own forms match.
	q, _ = Parse("query", "ceramika")
	q.Words()[0].Complete(nil)
	if got, want := q.TSQuery(), `('ceramika' | 'ceramik')`; got != want {
		t.Errorf("no completions: %s, want %s", got, want)
	}
	// A word that is not a prefix is left alone.
	q, _ = Parse("query", "ceramika wtz")
	q.Words()[0].Complete([]string{"ceramikami"})
	if got, want := q.TSQuery(), `('ceramika' | 'ceramik') & ('wtz' | 'wtz':*)`; got != want {
		t.Errorf("not a prefix: %s, want %s", got, want)
	}
}

// A Matcher serves a page of hits: what it remembers of one hit's texts
// must not change the snippet or the missing words of the next.
func TestMatcherAnswersEveryHitAsAFreshQueryWould(t *testing.T) {
	q, _ := Parse("query", "spoldzielnie ceramika szwecja")
	hits := [][]Field{
		{{"name", "Spółdzielnia Socjalna „Równe Szanse”", WeightName, false}, {"summary", "Spółdzielnia socjalna produkująca ceramikę.", WeightSummary, false}},
		{{"name", "Kooperativet Glöden", WeightName, false}, {"summary", "Ceramika i tekstylia w Szwecji.", WeightSummary, false}},
		{{"name", "Fundacja", WeightName, false}, {"summary", "Nic wspólnego.", WeightSummary, false}},
		{{"name", "Ceramika Gębicka", WeightName, false}, {"summary", "Spółdzielnia socjalna, ceramika.", WeightSummary, false}},
	}
	m := q.Matcher()
	for i, fs := range hits {
		if got, want := m.Snippet(fs), q.Snippet(fs); got != want {
			t.Errorf("hit %d: Matcher snippet %+v, fresh %+v", i, got, want)
		}
		if got, want := m.Missing(fs), q.Missing(fs); !slices.Equal(got, want) {
			t.Errorf("hit %d: Matcher missing %v, fresh %v", i, got, want)
		}
	}
	if got := m.Missing(hits[2]); !slices.Equal(got, []string{"spoldzielnie", "ceramika", "szwecja"}) {
		t.Errorf("missing of a hit that holds no word = %v", got)
	}
}
