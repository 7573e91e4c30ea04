package kb

import (
	"strings"
	"unicode"

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
func Fold(s string) string {
	s = foldSpecial.Replace(s)
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.Join(strings.Fields(strings.ToLower(out)), " ")
}
