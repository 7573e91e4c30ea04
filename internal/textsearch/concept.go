package textsearch

import "strings"

// A concept is one thing that people name with many words: a country in
// Polish, Swedish and English, as a noun and as an adjective, in any case
// ("Szwecja", "w Szwecji", "szwedzki", "Sweden", "Sverige", "svensk"), or
// a social cooperative ("spółdzielnia", "kooperativet", "cooperative").
// Every word that names a concept is indexed, and searched, under the
// concept's lexeme too, so that any of the words finds the others (see
// docs/search.md, "Ranking").
type concept struct {
	// lexeme is the term of the concept in the index. It starts with "=",
	// which no word of a text holds, so it never meets a real word.
	lexeme string
	// prefixes are the starts of folded words that name the concept: the
	// stems of its nouns and adjectives in the three languages.
	prefixes []string
}

// concepts are the countries of the reference data (kb country codes in
// lower case after "="), the cooperative and cities with exonyms.
var concepts = []concept{
	{"=se", []string{"szwec", "szwed", "sweden", "swedish", "swede", "sverige", "svensk"}},
	{"=pl", []string{"polsk", "polsc", "poland", "polish", "polen"}},
	{"=gb", []string{"brytyj", "brytani", "britain", "british", "storbritannien"}},
	{"=de", []string{"niemc", "niemiec", "germany", "german", "deutsch", "tysk"}},
	{"=coop", []string{"spoldziel", "kooperativ", "cooperativ", "kooperatyw"}},
	// Cities of the reference data that Polish names otherwise than
	// their own language does.
	{"=stockholm", []string{"sztokholm", "stockholm"}},
	{"=goteborg", []string{"goteborg", "gothenburg"}},
	{"=warszawa", []string{"warszaw", "warsaw"}},
}

// countryConcepts maps an ISO 3166-1 alpha-2 code to its concept's lexeme:
// an entity's own country is indexed under it, and a query may name the
// country by its code in capitals ("SE").
var countryConcepts = map[string]string{"SE": "=se", "PL": "=pl", "GB": "=gb", "DE": "=de"}

// conceptOf returns the lexeme of the concept a folded word names, or "".
func conceptOf(w string) string {
	if len(w) < 4 {
		return ""
	}
	for _, c := range concepts {
		for _, p := range c.prefixes {
			if strings.HasPrefix(w, p) {
				return c.lexeme
			}
		}
	}
	return ""
}

// isConcept reports whether a term is a concept's lexeme rather than a
// word: it is never offered as the correction of a typo.
func isConcept(term string) bool { return strings.HasPrefix(term, "=") }
