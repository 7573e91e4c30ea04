// Package textsearch turns text into the terms of the full-text index and
// a user's query into a PostgreSQL tsquery over the same terms. It is pure
// Go: PostgreSQL only stores and matches the terms ('simple' tsvectors and
// tsqueries, pg_trgm for typos), so the search runs on any stock server,
// managed ones included, without dictionaries installed on it.
//
// Every word is folded (lower case, no diacritics, as kb.Fold) and indexed
// under its folded form and its stems in Polish, Swedish and English: the
// language of a single word is not known (a Swedish name in a Polish
// summary), and a stem of the wrong language only adds a term that the
// same word in a query produces too.
package textsearch

import (
	"sort"
	"strings"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/swedish"
)

// polishSuffixes are the inflectional endings the Polish stemmer removes,
// longest first, on folded words (ą → a, ę → e, ó → o). Nouns and
// adjectives: spółdzielnia, spółdzielni, spółdzielnie, spółdzielniach →
// spoldzieln; socjalna, socjalnych, socjalnej → socjaln; warsztat,
// warsztatów, warsztaty → warsztat.
var polishSuffixes = []string{
	// adjectives
	"owego", "owemu", "owych", "owymi", "owej", "owym",
	"iego", "iemu", "iej", "ich", "imi",
	"ego", "emu", "ych", "ymi",
	// nouns
	"iach", "iami", "owie", "ach", "ami", "iom", "iow", "iem",
	"ej", "ym", "im", "om", "ow", "em", "ie", "ia", "ii", "iu", "io",
	"a", "e", "i", "o", "u", "y",
}

func init() {
	// Longest first, whatever the order of the list above.
	sort.SliceStable(polishSuffixes, func(i, j int) bool { return len(polishSuffixes[i]) > len(polishSuffixes[j]) })
}

// minStem is the shortest stem the Polish stemmer leaves: a shorter one
// would join unrelated words ("pan", "pani").
const minStem = 4

// StemPolish removes one inflectional ending from a folded Polish word, so
// that the forms of one word share a stem: "spoldzielniach" → "spoldzieln",
// "ceramiki" → "ceramik", "szwecji" → "szwecj", "warsztatow" → "warsztat".
// It is a light stemmer: it leaves alternations of the stem itself alone
// ("rzeka", "rzece") and words it does not know stay as they are.
func StemPolish(w string) string {
	for _, suf := range polishSuffixes {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= minStem {
			return w[:len(w)-len(suf)]
		}
	}
	// The mobile e of -ek and -ec: ośrodek, ośrodka → osrodk; Szwec,
	// Szweca; not after a vowel (człowiek, człowieka).
	if n := len(w); n >= minStem+2 && (strings.HasSuffix(w, "ek") || strings.HasSuffix(w, "ec")) && !isVowel(w[n-3]) {
		return w[:n-2] + w[n-1:]
	}
	return w
}

func isVowel(c byte) bool { return strings.IndexByte("aeiouy", c) >= 0 }

// StemSwedish is the Snowball Swedish stemmer on a folded word.
func StemSwedish(w string) string { return swedish.Stem(w, true) }

// StemEnglish is the Snowball English (Porter2) stemmer on a folded word.
func StemEnglish(w string) string { return english.Stem(w, true) }

// Lexemes returns the distinct terms a folded word is indexed under: the
// word itself, its Polish, Swedish and English stems, and the lexeme of
// the concept it names, if any (a country, a cooperative: see concepts).
// Words of fewer than three letters and numbers are indexed as they are.
func Lexemes(w string) []string {
	out := []string{w}
	if len(w) < 3 || isNumber(w) {
		return out
	}
	for _, s := range [...]string{StemPolish(w), StemSwedish(w), StemEnglish(w)} {
		if s != "" && !contains(out, s) {
			out = append(out, s)
		}
	}
	if c := conceptOf(w); c != "" {
		out = append(out, c)
	}
	return out
}

func isNumber(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return true
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
