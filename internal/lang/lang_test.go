package lang_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/partnergraph/partnergraph/internal/lang"
)

func TestParseNamesTheSupportedLanguage(t *testing.T) {
	for in, want := range map[string]string{"en": "en", "EN": "en", "en-GB": "en", "sv-FI": "sv", "pl-PL": "pl", " sv ": "sv"} {
		got, err := lang.Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, malformed := range map[string]bool{"": true, "english": true, "e_n!": true, "de": false, "fr-CA": false, "nb": false} {
		_, err := lang.Parse(in)
		var le *lang.Error
		if !errors.As(err, &le) || le.Malformed != malformed {
			t.Errorf("Parse(%q) = %v, want a lang.Error with Malformed %v", in, err, malformed)
		}
	}
}

func TestNegotiateFollowsTheQValues(t *testing.T) {
	for header, want := range map[string]string{
		"":                                 "",
		"en-US,en;q=0.9":                   "en",
		"sv;q=0.5, en;q=0.9":               "en",
		"de-DE, sv;q=0.8, en;q=0.1":        "sv",
		"de, fr;q=0.9":                     "",
		"*":                                "",
		"pl-PL,pl;q=0.9,en-US;q=0.8":       "pl",
		"en;q=0, sv;q=0.2":                 "sv",
		"nb-NO":                            "", // close to Swedish, but not Swedish
		"this is ; not = a header ,,, q=x": "",
	} {
		if got := lang.Negotiate(header); got != want {
			t.Errorf("Negotiate(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestOrderIsRequestedOriginalPolishEnglish(t *testing.T) {
	for _, c := range []struct {
		requested, original string
		want                []string
	}{
		{"sv", "pl", []string{"sv", "pl", "en"}},
		{"en", "sv", []string{"en", "sv", "pl"}},
		{"", "sv", []string{"sv", "pl", "en"}},
		{"pl", "pl", []string{"pl", "en"}},
	} {
		if got := lang.Order(c.requested, c.original); !slices.Equal(got, c.want) {
			t.Errorf("Order(%q, %q) = %v, want %v", c.requested, c.original, got, c.want)
		}
	}
}

func TestCountryNamesInEachLanguage(t *testing.T) {
	for _, c := range []struct{ code, in, want string }{
		{"SE", "pl", "Szwecja"}, {"SE", "sv", "Sverige"}, {"SE", "en", "Sweden"},
		{"PL", "sv", "Polen"}, {"GB", "pl", "Wielka Brytania"}, {"SE", "", "Szwecja"},
		{"XX", "en", ""}, {"", "en", ""},
	} {
		if got := lang.CountryName(c.code, c.in); got != c.want {
			t.Errorf("CountryName(%q, %q) = %q, want %q", c.code, c.in, got, c.want)
		}
	}
	if lang.Name("sv") != "svenska" || lang.EnglishName("pl") != "Polish" {
		t.Errorf("names: %q %q", lang.Name("sv"), lang.EnglishName("pl"))
	}
}
