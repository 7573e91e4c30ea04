package textsearch

import (
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/lang"
)

// Token is one word of a text: its byte range in the text and its folded
// form.
type Token struct {
	Start, End int
	Folded     string
}

// foldTable holds the folded form of the runes below foldTableSize, which
// covers the Latin letters of Polish, Swedish and their neighbours; others
// are folded one by one through kb.Fold.
var foldTable [foldTableSize]string

const foldTableSize = 0x250

func init() {
	for r := rune(0); r < foldTableSize; r++ {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			foldTable[r] = kb.Fold(string(r))
		}
	}
}

func foldRune(r rune) string {
	if r < foldTableSize {
		return foldTable[r]
	}
	return kb.Fold(string(r))
}

// isWordRune reports whether r belongs to a word: letters, digits and
// combining marks (a decomposed "ó" is one letter).
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// Tokenize splits s into words, runs of letters and digits, folded as
// kb.Fold folds them. Everything else separates words. A word that folds
// to itself (lower-case ASCII letters and digits, most of a text) is a
// substring of s, not a copy.
func Tokenize(s string) []Token {
	// About a word in 8 bytes: one allocation for most texts.
	out := make([]Token, 0, len(s)/8+1)
	buf := make([]byte, 0, 32)
	scanWords(s, &buf, func(start, end int, folded []byte, same bool) {
		f := s[start:end]
		if !same {
			f = string(folded)
		}
		out = append(out, Token{Start: start, End: end, Folded: f})
	})
	return out
}

// scanWords calls yield for each word of s, as Tokenize splits and folds
// them: its byte range and its folded form in *buf, which the next word
// overwrites (buf is reused, so that a caller that only looks the form up
// allocates nothing); same is set when the form is s[start:end] itself.
func scanWords(s string, buf *[]byte, yield func(start, end int, folded []byte, same bool)) {
	b := (*buf)[:0]
	start, same := -1, true
	for i, r := range s {
		if r < utf8.RuneSelf {
			switch {
			case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
				if start < 0 {
					start = i
				}
				b = append(b, byte(r))
				continue
			case 'A' <= r && r <= 'Z':
				if start < 0 {
					start = i
				}
				b, same = append(b, byte(r+'a'-'A')), false
				continue
			}
		}
		if !isWordRune(r) {
			if start >= 0 && len(b) > 0 {
				yield(start, i, b, same && len(b) == i-start)
			}
			b, start, same = b[:0], -1, true
			continue
		}
		if start < 0 {
			start = i
		}
		b, same = append(b, foldRune(r)...), false
	}
	if start >= 0 && len(b) > 0 {
		yield(start, len(s), b, same && len(b) == len(s)-start)
	}
	*buf = b
}

// Words returns the folded words of s.
func Words(s string) []string {
	ts := Tokenize(s)
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Folded
	}
	return out
}

// Weight is the weight class of a field in the index: A counts most.
type Weight byte

// The weights: names and the entity's own attributes (its kind, city,
// region and country), then summaries with topics and activities, then
// descriptions and everything else. A query word found in an attribute
// says what the entity is, where a word in a text may only mention it:
// "spółdzielnie w Szwecji" is about Swedish cooperatives before texts
// that tell of a visit to Sweden.
const (
	WeightName        Weight = 'A'
	WeightAttribute   Weight = 'A'
	WeightSummary     Weight = 'B'
	WeightDescription Weight = 'C'
)

// Field is one searchable text of an entity.
type Field struct {
	Name   string // the GraphQL field name, "name", "summary", "description"
	Text   string
	Weight Weight
	// Hidden fields are indexed but never shown as a snippet: the words of
	// the entity's kind are not a text of it.
	Hidden bool
}

// activityWords names the activities of cooperatives in Polish and English,
// so that "ceramika" and "ceramics" find a cooperative whose activity is
// CERAMICS.
var activityWords = map[kb.Activity]string{
	kb.ActivityCeramics:   "ceramika ceramics",
	kb.ActivitySoapMaking: "mydło mydlarnia soap making",
	kb.ActivityRestaurant: "restauracja gastronomia restaurant",
	kb.ActivityCafe:       "kawiarnia café",
	kb.ActivityGardening:  "ogrodnictwo ogrody gardening",
	kb.ActivityPackaging:  "pakowanie packaging",
	kb.ActivityCoPacking:  "co-packing konfekcjonowanie",
	kb.ActivityLaundry:    "pralnia laundry",
	kb.ActivityCatering:   "catering",
	kb.ActivityCleaning:   "sprzątanie cleaning",
	kb.ActivityCrafts:     "rękodzieło rzemiosło crafts",
}

// countryWords names the countries of the reference data, so that a place
// is found by its country's name in Polish, English and its own language.
var countryWords = map[string]string{
	"PL": "Polska Poland",
	"SE": "Szwecja Sweden Sverige",
	"GB": "Wielka Brytania United Kingdom",
	"DE": "Niemcy Germany Deutschland",
}

// partnerKindWords, eventKindWords and sourceKindWords name the kinds of
// partners, events and sources as people search for them.
var (
	partnerKindWords = map[kb.PartnerKind]string{
		kb.PartnerMunicipality:   "gmina urząd miasta municipality",
		kb.PartnerCounty:         "powiat starostwo county",
		kb.PartnerRegionalCenter: "ośrodek regionalny regional center centre",
		kb.PartnerMinistry:       "ministerstwo ministry",
		kb.PartnerPublicAgency:   "urząd agencja agency",
		kb.PartnerAssociation:    "stowarzyszenie association förening",
		kb.PartnerFoundation:     "fundacja foundation stiftelse",
		kb.PartnerFederation:     "związek federacja federation",
		kb.PartnerWorkshop:       "warsztat terapii zajęciowej WTZ occupational therapy workshop",
		kb.PartnerSupportCenter:  "ośrodek wsparcia ekonomii społecznej OWES support center centre",
		kb.PartnerCompany:        "firma przedsiębiorstwo spółka company",
	}
	eventKindWords = map[kb.EventKind]string{
		kb.EventForum:      "forum",
		kb.EventStudyVisit: "wizyta studyjna study visit",
		kb.EventTraining:   "szkolenie training",
		kb.EventConference: "konferencja conference",
		kb.EventMeeting:    "spotkanie meeting",
	}
	sourceKindWords = map[kb.SourceKind]string{
		kb.SourceArticle:   "artykuł article",
		kb.SourceReport:    "raport report",
		kb.SourceProgramme: "program programme",
		kb.SourceWebsite:   "strona website",
	}
	kindWordsOf = map[kb.Kind]string{
		kb.KindCooperative:    "spółdzielnia socjalna social cooperative",
		kb.KindPartnership:    "partnerstwo partnership",
		kb.KindGoodPractice:   "dobra praktyka good practice",
		kb.KindForeignExample: "przykład zagraniczny foreign example",
		kb.KindProject:        "projekt project",
		kb.KindEvent:          "wydarzenie event",
		kb.KindPerson:         "osoba person",
		kb.KindSource:         "źródło source",
	}
)

// kindWords names what e is: its kind and, for partners, events and
// sources, their own kind ("fundacja", "wizyta studyjna", "artykuł").
func kindWords(e *kb.Entity) string {
	words := kindWordsOf[e.Kind]
	switch {
	case e.Partner != nil:
		words = partnerKindWords[e.Partner.PartnerKind]
	case e.Event != nil:
		words = strings.TrimSpace(eventKindWords[e.Event.EventKind] + " " + words)
	case e.Source != nil:
		words = strings.TrimSpace(sourceKindWords[e.Source.SourceKind] + " " + words)
	}
	return words
}

func place(p kb.Place) string {
	return strings.Join(nonEmpty(p.City, p.Region, countryWords[p.Country]), ", ")
}

func nonEmpty(ss ...string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Fields returns the searchable texts of e, in order of weight: its name,
// its kind and place, its summary, topics and activities, then its
// descriptions.
func Fields(e *kb.Entity) []Field {
	// Room for the name, kind and summary, the most fields of a kind's
	// attributes (a practice's: topics in each language and 8 texts) and
	// the translations: one allocation.
	fs := make([]Field, 1, 3+1+len(lang.Supported)+8+len(e.Translations))
	fs[0] = Field{Name: "name", Text: e.Name, Weight: WeightName}
	if k := kindWords(e); k != "" {
		fs = append(fs, Field{Name: "kind", Text: k, Weight: WeightAttribute, Hidden: true})
	}
	fs = append(fs, Field{Name: "summary", Text: e.Summary, Weight: WeightSummary})
	add := func(name string, w Weight, text string) {
		if strings.TrimSpace(text) != "" {
			fs = append(fs, Field{Name: name, Text: text, Weight: w})
		}
	}
	switch {
	case e.Partner != nil:
		a := e.Partner
		add("place", WeightAttribute, place(a.Place))
		add("legalForm", WeightDescription, a.LegalForm)
	case e.Cooperative != nil:
		a := e.Cooperative
		acts := make([]string, 0, len(a.Activities))
		for _, x := range a.Activities {
			acts = append(acts, activityWords[x])
		}
		add("activities", WeightSummary, strings.Join(acts, ", "))
		add("place", WeightAttribute, place(a.Place))
	case e.GoodPractice != nil:
		a := e.GoodPractice
		add("topics", WeightSummary, strings.Join(a.Topics, ", "))
		for _, l := range lang.Supported {
			if labels := a.TopicLabels[l]; len(labels) > 0 {
				add(fieldInLang("topics", l), WeightSummary, strings.Join(labels, ", "))
			}
		}
		add("description", WeightDescription, a.Description)
		add("targetGroup", WeightDescription, a.TargetGroup)
		add("resourcesNeeded", WeightDescription, a.ResourcesNeeded)
		add("evidence", WeightDescription, a.Evidence)
		add("difficulties", WeightDescription, a.Difficulties)
		add("lessons", WeightDescription, a.Lessons)
		add("transferPotential", WeightDescription, a.TransferPotential)
		add("recognition", WeightDescription, a.Recognition)
	case e.ForeignExample != nil:
		a := e.ForeignExample
		add("place", WeightAttribute, place(a.Place))
		add("model", WeightDescription, a.Model)
		add("targetGroup", WeightDescription, a.TargetGroup)
		add("lessonsForPoland", WeightDescription, a.LessonsForPoland)
		add("homeAnalogue", WeightDescription, a.HomeAnalogue)
	case e.Project != nil:
		add("funding", WeightDescription, e.Project.Funding)
	case e.Event != nil:
		a := e.Event
		add("place", WeightAttribute, place(a.Place))
		add("venue", WeightSummary, a.Venue)
	case e.Person != nil:
		add("publicRole", WeightSummary, e.Person.PublicRole)
	case e.Source != nil:
		add("publisher", WeightDescription, e.Source.Publisher)
	}
	// Translations weigh as the field they translate, so that a search in
	// English finds a Polish entry by its English name as well as by its
	// Polish one; the field is named with its language ("name@en"), which
	// a snippet reports.
	for _, t := range e.Translations {
		name, w := translatedFields[t.Field].name, translatedFields[t.Field].weight
		if strings.TrimSpace(t.Text) != "" {
			add(fieldInLang(name, t.Lang), w, t.Text)
		}
	}
	return fs
}

// fieldsInLang are the names fieldInLang returns for the supported
// languages, made once.
var fieldsInLang = func() map[[2]string]string {
	m := map[[2]string]string{}
	for _, f := range []string{"topics", "name", "summary", "description", "place"} {
		for _, l := range lang.Supported {
			m[[2]string{f, l}] = f + "@" + l
		}
	}
	return m
}()

// fieldInLang names field f in language l: "summary@en".
func fieldInLang(f, l string) string {
	if n, ok := fieldsInLang[[2]string{f, l}]; ok {
		return n
	}
	return f + "@" + l
}

// translatedFields are the names and weights of the fields translations
// are indexed as.
var translatedFields = map[kb.TextField]struct {
	name   string
	weight Weight
}{
	kb.FieldName:        {"name", WeightName},
	kb.FieldSummary:     {"summary", WeightSummary},
	kb.FieldDescription: {"description", WeightDescription},
	kb.FieldCity:        {"place", WeightAttribute},
}

// MaxWordLength is the longest word, in bytes, that is indexed or
// searched: longer runs of letters are not words people type, and
// PostgreSQL refuses lexemes over 2 kB.
const MaxWordLength = 100

// maxPosition is the largest position a tsvector stores; later words share
// it, which only blurs phrase matches far into long texts.
const maxPosition = 16383

// Document is what the index stores of one entity.
type Document struct {
	// Vector is a tsvector literal: every lexeme of every field with its
	// positions and the field's weight. The lexemes of one word share its
	// position, so a phrase matches whichever form each word takes.
	Vector string
	// NameVector is the part of Vector that comes from the name: small, so
	// that names are matched and scored without reading whole documents,
	// and for suggestions by the prefixes of words.
	NameVector string
	// NameWords is how many words the name has.
	NameWords int
	// Terms are the distinct lexemes of Vector, sorted: the vocabulary
	// that typos are corrected against.
	Terms []string
}

type occurrence struct {
	pos    int
	weight Weight
}

// Index computes the document of the fields fs.
func Index(fs []Field) Document { return NewIndexer().Index(fs) }

// An Indexer computes documents and remembers the lexemes of the words it
// has stemmed: the documents of a bulk build share most of their words
// (the generated graph's 1,000,000 documents hold a few thousand distinct
// words), and stemming every word three times was most of the CPU of
// building the index. Not safe for concurrent use.
type Indexer struct {
	lex map[string][]string
}

// NewIndexer returns an Indexer with nothing remembered.
func NewIndexer() *Indexer { return &Indexer{lex: map[string][]string{}} }

// maxRemembered bounds what an Indexer remembers: past it, it starts
// afresh.
const maxRemembered = 1 << 16

func (ix *Indexer) lexemes(w string) []string {
	if l, ok := ix.lex[w]; ok {
		return l
	}
	if len(ix.lex) >= maxRemembered {
		clear(ix.lex)
	}
	l := Lexemes(w)
	ix.lex[w] = l
	return l
}

// Index computes the document of the fields fs.
func (ix *Indexer) Index(fs []Field) Document {
	lex := map[string][]occurrence{}
	name := map[string][]occurrence{}
	pos, words := 0, 0
	for _, f := range fs {
		for _, t := range Tokenize(f.Text) {
			if pos < maxPosition {
				pos++
			}
			if f.Name == "name" {
				words++
			}
			if len(t.Folded) > MaxWordLength {
				continue
			}
			for _, l := range ix.lexemes(t.Folded) {
				add(lex, l, occurrence{pos, f.Weight})
				if f.Name == "name" {
					add(name, l, occurrence{pos, f.Weight})
				}
			}
		}
		pos += 8 // keeps phrases from spanning two fields
		if pos > maxPosition {
			pos = maxPosition
		}
	}
	vec, terms := literal(lex)
	nameVec, _ := literal(name)
	return Document{Vector: vec, NameVector: nameVec, NameWords: words, Terms: terms}
}

func add(m map[string][]occurrence, l string, o occurrence) {
	os := m[l]
	if n := len(os); n > 0 && os[n-1].pos == o.pos {
		return
	}
	if len(os) < 256 { // PostgreSQL keeps at most 256 positions per lexeme
		m[l] = append(os, o)
	}
}

// literal writes a tsvector literal of m and returns it with its sorted
// lexemes.
func literal(m map[string][]occurrence) (string, []string) {
	terms := make([]string, 0, len(m))
	for l := range m {
		terms = append(terms, l)
	}
	sort.Strings(terms)
	var b strings.Builder
	for i, l := range terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(quoteLexeme(l))
		b.WriteByte(':')
		for j, o := range m[l] {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(o.pos))
			b.WriteByte(byte(o.weight))
		}
	}
	return b.String(), terms
}

// quoteLexeme quotes a lexeme for a tsvector or tsquery literal. Words
// hold letters and digits only, but quoting keeps any other character
// (an apostrophe, a backslash) from changing the literal's meaning.
func quoteLexeme(l string) string {
	if strings.ContainsAny(l, `'\`) {
		l = strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(l)
	}
	return "'" + l + "'"
}
