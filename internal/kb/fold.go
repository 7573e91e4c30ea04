package kb

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// letters that Unicode decomposition does not take apart.
var foldSpecial = strings.NewReplacer(
	"ł", "l", "Ł", "l", "ø", "o", "Ø", "o", "æ", "ae", "Æ", "ae",
	"ß", "ss", "đ", "d", "Đ", "d", "œ", "oe", "Œ", "oe",
)

// Fold returns s in lower case without diacritics ("Kooperativet Glöden" →
// "kooperativet gloden", "Łężeczki" → "lezeczki"), with runs of white space
// collapsed. It is the sort key of names and the basis of matching that
// ignores diacritics.
//
// Lists fold the name of every entity they return (for its cursor), so
// Fold avoids work: ASCII has no diacritics to drop, and the Unicode
// transformer, which allocates about 8 kB of buffers, is reused.
func Fold(s string) string {
	if !isASCII(s) {
		s = foldSpecial.Replace(s)
		t := folders.Get().(transform.Transformer)
		out, _, err := transform.String(t, s)
		folders.Put(t)
		if err == nil {
			s = out
		}
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// folders holds transformers that decompose, drop combining marks and
// recompose; transform.String resets one before use.
var folders = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
