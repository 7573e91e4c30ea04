package export

import (
	"strings"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/lang"
)

// The translations of an entry's texts (docs/api.md, "Languages") travel
// in CSV and GraphML as one column or key per translatable field and
// supported language, named <field>_<lang> (name_en, summary_sv,
// description_pl, city_sv): the text in that language, empty where there
// is none and in the entry's own language, whose text is the field itself
// (name, summary, ...); original_language and name_language (GraphML:
// originalLanguage, nameLanguage) say which that is.

// textKey names the column or key of field f in language l.
func textKey(f kb.TextField, l string) string {
	return strings.ToLower(string(f)) + "_" + l
}

// translationOf returns e's text of field f in language l, "" for none;
// for CITY, of the entry's own place (an event's first).
func translationOf(e *kb.Entity, f kb.TextField, l string) string {
	for _, t := range e.Translations {
		if t.Field == f && t.Lang == l && t.Place == 0 {
			return t.Text
		}
	}
	return ""
}

// otherPlacesIn returns the names in language l of the further places of
// event e, in their order and joined as other_places joins them, one entry
// per place (empty for a place without a name in l); "" when none has one.
// The names of the further places travel like the first place's city_<l>.
func otherPlacesIn(e *kb.Entity, l string) string {
	if e.Event == nil || len(e.Event.OtherPlaces) == 0 {
		return ""
	}
	names := make([]string, len(e.Event.OtherPlaces))
	found := false
	for _, t := range e.Translations {
		if t.Field == kb.FieldCity && t.Lang == l && t.Place >= 1 && t.Place <= len(names) {
			names[t.Place-1], found = t.Text, true
		}
	}
	if !found {
		return ""
	}
	return strings.Join(names, listSep)
}

// otherPlacesKey names the CSV column (other_places_<lang>) or GraphML key
// (otherPlaces_<lang>) of the further places' names in language l.
func otherPlacesKey(base, l string) string { return base + "_" + l }

// nameLanguage is the language of e's name when it is not its original
// language (a Swedish organisation's own name in a Polish entry), else "".
func nameLanguage(e *kb.Entity) string {
	if e.NameLanguage == e.OriginalOrDefault() {
		return ""
	}
	return e.NameLanguage
}

// translationColumns are the CSV columns of the languages of an entry of
// kind k: its original language, its name's, and each translation.
func translationColumns(k kb.Kind) []column {
	out := []column{
		{"original_language", func(e *kb.Entity) string { return e.OriginalOrDefault() }},
		{"name_language", nameLanguage},
	}
	for _, f := range kb.FieldsOf(k) {
		for _, l := range lang.Supported {
			out = append(out, column{textKey(f, l), func(e *kb.Entity) string { return translationOf(e, f, l) }})
		}
	}
	if k == kb.KindEvent {
		for _, l := range lang.Supported {
			out = append(out, column{otherPlacesKey("other_places", l), func(e *kb.Entity) string { return otherPlacesIn(e, l) }})
		}
	}
	return out
}

// translationKeys are the GraphML node keys of the languages, for every
// field any kind has.
func translationKeys() []graphKey {
	out := []graphKey{{"originalLanguage", "node", "originalLanguage"}, {"nameLanguage", "node", "nameLanguage"}}
	for _, f := range kb.TextFields {
		for _, l := range lang.Supported {
			k := textKey(f, l)
			out = append(out, graphKey{k, "node", k})
		}
	}
	for _, l := range lang.Supported {
		k := otherPlacesKey("otherPlaces", l)
		out = append(out, graphKey{k, "node", k})
	}
	return out
}

// slugsByLabel maps the folded labels of topics, in every language, to
// their slugs: how a practice's stored topics (labels) are named by slug.
func slugsByLabel(topics []*kb.Topic) map[string]string {
	out := map[string]string{}
	for _, t := range topics {
		for _, l := range t.Labels {
			out[kb.Fold(l)] = t.Slug
		}
	}
	return out
}
