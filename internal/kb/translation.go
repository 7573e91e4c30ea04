package kb

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/partnergraph/partnergraph/internal/lang"
)

// TextField is a text field of an entry that may have translations. The
// values are the GraphQL enum values and the values stored in
// translation.field.
type TextField string

// The translatable fields.
const (
	FieldName        TextField = "NAME"
	FieldSummary     TextField = "SUMMARY"
	FieldDescription TextField = "DESCRIPTION"
	// FieldCity is the name of the entry's city or village: of its place,
	// the first place of an event.
	FieldCity TextField = "CITY"
)

// TextFields lists the translatable fields.
var TextFields = []TextField{FieldName, FieldSummary, FieldDescription, FieldCity}

// Valid reports whether f is a translatable field.
func (f TextField) Valid() bool { return slices.Contains(TextFields, f) }

// maxLen is the longest text f may hold, as the original field may.
func (f TextField) maxLen() int {
	if f == FieldName || f == FieldCity {
		return MaxNameLen
	}
	if f == FieldSummary {
		return MaxSummaryLen
	}
	return MaxTextLen
}

// MaxSummaryLen bounds a translated summary: a summary is a few sentences,
// and a translation that is far longer is a pasted description.
const MaxSummaryLen = 2000

// Translation is the text of one field of an entry in one language other
// than the entry's original, with who wrote it, when, and whether a
// machine did.
type Translation struct {
	Field   TextField `json:"field"`
	Lang    string    `json:"lang"`
	Text    string    `json:"text"`
	Machine bool      `json:"machine,omitempty"`
	// Place says which place a CITY translation names: 0 the entry's own
	// (an event's first), n an event's n-th further place
	// (Event.OtherPlaces[n-1]). Always 0 for the other fields.
	Place int `json:"place,omitempty"`
	// By and At are set by the store when the text is written; they are
	// kept while the text and Machine stay the same.
	By string     `json:"by,omitempty"`
	At *time.Time `json:"at,omitempty"`
}

// Texts are what an entry holds of languages: the language of its own text
// and its translations. Loaders read them apart from the entry.
type Texts struct {
	Original string
	// Name is the language of the name when it is not Original, else "".
	Name         string
	Translations []Translation
}

// NameOriginal returns the language of the name: Name, else Original.
func (t Texts) NameOriginal() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Original
}

// OriginalOrDefault returns the language of e's own text: Polish, the
// language of the reference data, when none is set.
func (e *Entity) OriginalOrDefault() string {
	if e.OriginalLanguage == "" {
		return lang.Default
	}
	return e.OriginalLanguage
}

// NameOriginal returns the language of e's name: NameLanguage, else the
// original language.
func (e *Entity) NameOriginal() string {
	if e.NameLanguage != "" {
		return e.NameLanguage
	}
	return e.OriginalOrDefault()
}

// originalOf returns the language of e's own text of field f.
func (e *Entity) originalOf(f TextField) string {
	if f == FieldName {
		return e.NameOriginal()
	}
	return e.OriginalOrDefault()
}

// FieldsOf lists the translatable fields an entry of kind k has, in the
// order of TextFields.
func FieldsOf(k Kind) []TextField {
	var out []TextField
	for _, f := range TextFields {
		if hasField(k, f) {
			out = append(out, f)
		}
	}
	return out
}

// hasField reports whether an entry of kind k has the field f.
func hasField(k Kind, f TextField) bool {
	switch f {
	case FieldDescription:
		return k == KindGoodPractice
	case FieldCity:
		return k == KindPartner || k == KindCooperative || k == KindForeignExample || k == KindEvent
	}
	return true
}

// validateTranslations checks e's original language and translations: a
// supported language each, a field the kind has, a language other than the
// original, one text per field and language, within the field's length.
func (e *Entity) validateTranslations() error {
	for _, x := range []struct{ field, tag string }{{"originalLanguage", e.OriginalLanguage}, {"nameLanguage", e.NameLanguage}} {
		if x.tag != "" && !lang.IsSupported(x.tag) {
			if _, err := lang.Parse(x.tag); err != nil {
				return Invalid(x.field, "%v", err)
			}
			return Invalid(x.field, "write the base tag of the language (%q), without region", x.tag)
		}
	}
	seen := map[[3]string]bool{}
	for i, t := range e.Translations {
		field := fmt.Sprintf("translations[%d]", i)
		if !t.Field.Valid() {
			return Invalid(field+".field", "unknown field %q; one of NAME, SUMMARY, DESCRIPTION, CITY", t.Field)
		}
		if !hasField(e.Kind, t.Field) {
			return Invalid(field+".field", "a %s has no %s to translate", e.Kind.TypeName(), t.Field)
		}
		if !lang.IsSupported(t.Lang) {
			if _, err := lang.Parse(t.Lang); err != nil {
				return Invalid(field+".lang", "%v", err)
			}
			return Invalid(field+".lang", "write the base tag of the language (%q), without region", t.Lang)
		}
		// A city's own name is its local one (Stockholm), whatever the
		// entry's language: its name in that language (Sztokholm) is a
		// translation too.
		if t.Lang == e.originalOf(t.Field) && t.Field != FieldCity {
			return Invalid(field+".lang", "%s is the language of the entry's own %s: change that instead", t.Lang, strings.ToLower(string(t.Field)))
		}
		if err := checkText(field+".text", t.Text, t.Field.maxLen(), true); err != nil {
			return err
		}
		if err := e.checkPlace(field+".place", t); err != nil {
			return err
		}
		k := [3]string{string(t.Field), fmt.Sprint(t.Place), t.Lang}
		if seen[k] {
			return Invalid(field, "a second %s translation into %s", t.Field, t.Lang)
		}
		seen[k] = true
	}
	return nil
}

// checkPlace checks the place a translation names: 0, or for CITY a
// further place the event has.
func (e *Entity) checkPlace(field string, t Translation) error {
	switch {
	case t.Place == 0:
		return nil
	case t.Place < 0:
		return Invalid(field, "is %d; 0 names the entry's own place, 1 and up an event's further places", t.Place)
	case t.Field != FieldCity:
		return Invalid(field, "only CITY translations name a place; %s has none", t.Field)
	case e.Event == nil:
		return Invalid(field, "a %s has one place: its place is 0", e.Kind.TypeName())
	case t.Place > len(e.Event.OtherPlaces):
		return Invalid(field, "is %d, but the event has %d further places", t.Place, len(e.Event.OtherPlaces))
	}
	return nil
}

// SetTranslation sets the text of field f in language l, keeping the
// order of the others; it returns false when that text was there already.
func (e *Entity) SetTranslation(t Translation) bool {
	for i, o := range e.Translations {
		if o.Field == t.Field && o.Lang == t.Lang && o.Place == t.Place {
			if o.Text == t.Text && o.Machine == t.Machine {
				return false
			}
			e.Translations[i] = t
			return true
		}
	}
	e.Translations = append(e.Translations, t)
	return true
}

// RemoveTranslation removes the text of field f of place (0 but for an
// event's further places' CITY) in language l; it returns false when there
// was none.
func (e *Entity) RemoveTranslation(f TextField, place int, l string) bool {
	n := len(e.Translations)
	e.Translations = slices.DeleteFunc(slices.Clone(e.Translations), func(t Translation) bool {
		return t.Field == f && t.Lang == l && t.Place == place
	})
	return len(e.Translations) != n
}

// Served says which language each text field of an entry was served in,
// after Localize.
type Served struct {
	Name, Summary, Description, City string
}

// Localize rewrites e's text fields (name, summary, description, the city
// of its place) into the first language of lang.Order(requested, original)
// that has the text: a translation, or the entry's own text in its
// original language. A city's own name is its local one (Stockholm): its
// name in the requested language (Sztokholm) replaces it, and no other,
// and Served.City is "" when the local name is served. It returns the
// language each field is served in. Callers call it only when a language
// is requested: without one, every field is served as stored.
func Localize(e *Entity, requested string, texts Texts) Served {
	orig := texts.Original
	if orig == "" {
		orig = lang.Default
		texts.Original = orig
	}
	if texts.Name == "" && e.NameLanguage != "" {
		texts.Name = e.NameLanguage
	}
	if requested == "" {
		s := Served{Name: texts.NameOriginal(), Summary: orig}
		if e.GoodPractice != nil && e.GoodPractice.Description != "" {
			s.Description = orig
		}
		return s
	}
	pick := func(f TextField, place int, own *string) string {
		orig := orig
		if f == FieldName {
			orig = texts.NameOriginal()
		}
		order := lang.Order(requested, orig)
		if f == FieldCity {
			// A place's own name is its local one: it is what any
			// language without a name of its own for the place uses.
			order = []string{requested}
		}
		for _, l := range order {
			if l == orig && f != FieldCity {
				if *own != "" {
					return orig
				}
				continue
			}
			for _, t := range texts.Translations {
				if t.Field == f && t.Lang == l && t.Place == place {
					*own = t.Text
					return l
				}
			}
		}
		if *own == "" || f == FieldCity {
			return ""
		}
		return orig
	}
	var s Served
	s.Name = pick(FieldName, 0, &e.Name)
	s.Summary = pick(FieldSummary, 0, &e.Summary)
	if e.GoodPractice != nil {
		s.Description = pick(FieldDescription, 0, &e.GoodPractice.Description)
	}
	if p := e.Place(); p != nil && p.City != "" {
		s.City = pick(FieldCity, 0, &p.City)
	}
	// An event's further places, as its first: their slice is e's own
	// only when Localized copied it.
	if ev := e.Event; ev != nil {
		for i := range ev.OtherPlaces {
			if p := &ev.OtherPlaces[i]; p.City != "" {
				pick(FieldCity, i+1, &p.City)
			}
		}
	}

	return s
}

// Localized returns a copy of e with its text in the requested language
// (Localize) and Served set; e itself, which loaders and caches share, is
// left as it is.
func (e *Entity) Localized(requested string, texts Texts) *Entity {
	c := *e
	switch {
	case c.Partner != nil:
		a := *c.Partner
		c.Partner = &a
	case c.Cooperative != nil:
		a := *c.Cooperative
		c.Cooperative = &a
	case c.GoodPractice != nil:
		a := *c.GoodPractice
		c.GoodPractice = &a
	case c.ForeignExample != nil:
		a := *c.ForeignExample
		c.ForeignExample = &a
	case c.Event != nil:
		a := *c.Event
		a.OtherPlaces = slices.Clone(a.OtherPlaces)
		c.Event = &a
	}
	s := Localize(&c, requested, texts)
	c.Served = &s
	if c.OriginalLanguage == "" {
		c.OriginalLanguage, c.NameLanguage = texts.Original, texts.Name
	}
	return &c
}
