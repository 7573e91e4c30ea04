package kb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
)

func swedishVisit() *kb.Entity {
	return &kb.Entity{ID: 1, Kind: kb.KindEvent, Name: "Warsztaty w Szwecji", Summary: "Wizyta studyjna.",
		Event: &kb.Event{EventKind: kb.EventStudyVisit, EventStatus: kb.EventHeld, Place: kb.Place{Country: "SE", City: "Stockholm"}}}
}

func TestLocalizeFallsBackRequestedOriginalPolishEnglish(t *testing.T) {
	texts := kb.Texts{Original: "pl", Translations: []kb.Translation{
		{Field: kb.FieldName, Lang: "en", Text: "Workshops in Sweden"},
		{Field: kb.FieldCity, Lang: "pl", Text: "Sztokholm"},
	}}
	e := swedishVisit()
	en := e.Localized("en", texts)
	if en.Name != "Workshops in Sweden" || en.Served.Name != "en" || en.Summary != "Wizyta studyjna." || en.Served.Summary != "pl" {
		t.Errorf("en: %q (%s), %q (%s)", en.Name, en.Served.Name, en.Summary, en.Served.Summary)
	}
	if en.Event.City != "Stockholm" {
		t.Errorf("en city = %q, want the local name", en.Event.City)
	}
	if e.Name != "Warsztaty w Szwecji" || e.Event.City != "Stockholm" {
		t.Errorf("Localized changed the entity it copied: %q %q", e.Name, e.Event.City)
	}
	pl := e.Localized("pl", texts)
	if pl.Event.City != "Sztokholm" || pl.Name != "Warsztaty w Szwecji" || pl.Served.Name != "pl" {
		t.Errorf("pl: %q %q %s", pl.Event.City, pl.Name, pl.Served.Name)
	}
	// Swedish is asked for, the original is Swedish but blank: Polish,
	// then English.
	blank := &kb.Entity{Kind: kb.KindPerson, Name: "X", Person: &kb.Person{}}
	sv := blank.Localized("sv", kb.Texts{Original: "sv", Translations: []kb.Translation{
		{Field: kb.FieldSummary, Lang: "en", Text: "In English"},
	}})
	if sv.Summary != "In English" || sv.Served.Summary != "en" {
		t.Errorf("fallback to English: %q %s", sv.Summary, sv.Served.Summary)
	}
	// A Swedish name in a Polish entry: its language is Swedish.
	name := (&kb.Entity{Kind: kb.KindPerson, Name: "Kooperativet KOS", Person: &kb.Person{}}).
		Localized("en", kb.Texts{Original: "pl", Name: "sv"})
	if name.Served.Name != "sv" || name.Served.Summary != "" {
		t.Errorf("served = %+v", name.Served)
	}
}

func TestTranslationsAreValidated(t *testing.T) {
	for _, c := range []struct {
		tr    kb.Translation
		field string
	}{
		{kb.Translation{Field: "TITLE", Lang: "en", Text: "x"}, "translations[0].field"},
		{kb.Translation{Field: kb.FieldDescription, Lang: "en", Text: "x"}, "translations[0].field"},
		{kb.Translation{Field: kb.FieldName, Lang: "de", Text: "x"}, "translations[0].lang"},
		{kb.Translation{Field: kb.FieldName, Lang: "en-GB", Text: "x"}, "translations[0].lang"},
		{kb.Translation{Field: kb.FieldName, Lang: "pl", Text: "x"}, "translations[0].lang"},
		{kb.Translation{Field: kb.FieldName, Lang: "en", Text: "  "}, "translations[0].text"},
		{kb.Translation{Field: kb.FieldName, Lang: "en", Text: strings.Repeat("x", kb.MaxNameLen+1)}, "translations[0].text"},
		{kb.Translation{Field: kb.FieldSummary, Lang: "en", Text: strings.Repeat("x", kb.MaxSummaryLen+1)}, "translations[0].text"},
	} {
		e := swedishVisit()
		e.Translations = []kb.Translation{c.tr}
		var v *kb.ValidationError
		if err := e.Validate(); !errors.As(err, &v) || v.Field != c.field {
			t.Errorf("%+v: %v, want an error naming %s", c.tr, err, c.field)
		}
	}
	e := swedishVisit()
	e.Translations = []kb.Translation{{Field: kb.FieldName, Lang: "en", Text: "a"}, {Field: kb.FieldName, Lang: "en", Text: "b"}}
	if err := e.Validate(); err == nil {
		t.Error("two English names validate")
	}
	e = swedishVisit()
	e.OriginalLanguage = "de"
	if err := e.Validate(); err == nil {
		t.Error("an unsupported original language validates")
	}
	e = swedishVisit()
	e.NameLanguage = "sv"
	e.Translations = []kb.Translation{{Field: kb.FieldCity, Lang: "pl", Text: "Sztokholm"}, {Field: kb.FieldName, Lang: "pl", Text: "Warsztaty"}}
	if err := e.Validate(); err != nil {
		t.Errorf("a Polish city name and a Polish name of a Swedish-named entry: %v", err)
	}
}
