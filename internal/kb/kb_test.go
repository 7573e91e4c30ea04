package kb

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

func TestFoldDropsDiacriticsAndCase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Spółdzielnia Socjalna „Równe Szanse”", "spoldzielnia socjalna „rowne szanse”"},
		{"Kooperativet Glöden", "kooperativet gloden"},
		{"Ateljé Inuti", "atelje inuti"},
		{"Łężeczki", "lezeczki"},
		{"Roslagens  Ekonomiska\tFörening", "roslagens ekonomiska forening"},
		{"Franstorps Verkstäder", "franstorps verkstader"},
	} {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMixOf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		counts  map[Sector]int
		full    bool
		missing []Sector
	}{
		{"all three", map[Sector]int{SectorPublic: 1, SectorSocial: 2, SectorPrivate: 1}, true, []Sector{}},
		{"no private partner", map[Sector]int{SectorPublic: 1, SectorSocial: 1}, false, []Sector{SectorPrivate}},
		{"no members", nil, false, []Sector{SectorPublic, SectorSocial, SectorPrivate}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := MixOf(tc.counts)
			if m.Full() != tc.full || !slices.Equal(m.Missing, tc.missing) {
				t.Errorf("MixOf(%v): full %v missing %v, want %v %v", tc.counts, m.Full(), m.Missing, tc.full, tc.missing)
			}
		})
	}
}

func TestCheckLinkNamesTheRule(t *testing.T) {
	if err := CheckLink(RelEmploysParticipantsOf, KindCooperative, KindPartner); err != nil {
		t.Fatalf("cooperative employs participants of a workshop: %v", err)
	}
	err := CheckLink(RelEmploysParticipantsOf, KindPerson, KindPartner)
	if !IsValidation(err) || !strings.Contains(err.Error(), "EMPLOYS_PARTICIPANTS_OF may join Cooperative|ForeignExample to Partner, not Person to Partner") {
		t.Fatalf("person employs: got %v, want a validation error naming the rule", err)
	}
	if err := CheckLink("LIKES", KindPartner, KindPartner); !IsValidation(err) {
		t.Fatalf("unknown type: got %v, want a validation error", err)
	}
}

func TestEveryRelationHasLabelsAndKinds(t *testing.T) {
	seen := map[RelationType]bool{}
	for _, r := range Relations {
		if seen[r.Type] {
			t.Errorf("%s appears twice", r.Type)
		}
		seen[r.Type] = true
		if r.Label == "" || r.InverseLabel == "" || r.Description == "" || len(r.From) == 0 || len(r.To) == 0 {
			t.Errorf("%s lacks a label, inverse label, description or kinds", r.Type)
		}
	}
}

func TestValidateEntity(t *testing.T) {
	ok := Entity{Kind: KindPartner, Key: "rops-poznan", Name: "ROPS", Partner: &Partner{Sector: SectorPublic, PartnerKind: PartnerRegionalCenter}}
	if err := ok.Validate(); err != nil || ok.Status != StatusDraft {
		t.Fatalf("valid partner: err %v, status %q; want nil, DRAFT", err, ok.Status)
	}
	for _, tc := range []struct {
		name  string
		e     Entity
		field string
	}{
		{"empty name", Entity{Kind: KindPerson, Name: " ", Person: &Person{}}, "name"},
		{"wrong attributes", Entity{Kind: KindPerson, Name: "X", Partner: &Partner{}}, "person"},
		{"bad sector", Entity{Kind: KindPartner, Name: "X", Partner: &Partner{Sector: "NONE", PartnerKind: PartnerCompany}}, "partner.sector"},
		{"bad country", Entity{Kind: KindForeignExample, Name: "X", ForeignExample: &ForeignExample{Place: Place{Country: "Sweden"}}}, "foreignExample.country"},
		{"bad key", Entity{Kind: KindPerson, Key: "Not A Key", Name: "X", Person: &Person{}}, "key"},
		{"bad url", Entity{Kind: KindSource, Name: "X", Source: &Source{SourceKind: SourceArticle, URL: "javascript:alert(1)"}}, "source.url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.e.Validate()
			v, isV := errors.AsType[*ValidationError](err)
			if !isV || v.Field != tc.field {
				t.Errorf("Validate() = %v, want a validation error on %s", err, tc.field)
			}
		})
	}
}

func TestMixFilterMatch(t *testing.T) {
	full := MixOf(map[Sector]int{SectorPublic: 1, SectorSocial: 2, SectorPrivate: 1})
	noPrivate := MixOf(map[Sector]int{SectorPublic: 1, SectorSocial: 1})
	yes, no := true, false
	for _, tc := range []struct {
		name   string
		f      MixFilter
		mix    SectorMix
		expect bool
	}{
		{"empty filter, any mix", MixFilter{}, noPrivate, true},
		{"full wanted, full", MixFilter{Full: &yes}, full, true},
		{"full wanted, private missing", MixFilter{Full: &yes}, noPrivate, false},
		{"not full wanted, private missing", MixFilter{Full: &no}, noPrivate, true},
		{"without a private partner", MixFilter{Missing: []Sector{SectorPrivate}}, noPrivate, true},
		{"without a private partner, full", MixFilter{Missing: []Sector{SectorPrivate}}, full, false},
		{"includes public and social", MixFilter{Includes: []Sector{SectorPublic, SectorSocial}}, noPrivate, true},
		{"includes private", MixFilter{Includes: []Sector{SectorPrivate}}, noPrivate, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.Match(tc.mix); got != tc.expect {
				t.Errorf("Match: got %v, want %v", got, tc.expect)
			}
		})
	}
	if err := (MixFilter{Missing: []Sector{"CHURCH"}}).Validate("sectorMix"); !IsValidation(err) {
		t.Errorf("unknown sector: got %v, want a validation error", err)
	}
}

// BenchmarkFold folds names as list cursors and filters do: Polish and
// Swedish names with diacritics, and plain ASCII ones.
func BenchmarkFold(b *testing.B) {
	for _, name := range []string{"Spółdzielnia Socjalna „Równe Szanse” w Gnieźnie", "Fundacja Ekonomii Spolecznej 1234"} {
		b.Run(fmt.Sprintf("%.12s", name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Fold(name)
			}
		})
	}
}

// TestFoldOfASCIIMatchesTheFullFold pins the fast path for ASCII to the
// full fold, as Fold did it before it had one.
func TestFoldOfASCIIMatchesTheFullFold(t *testing.T) {
	full := func(s string) string {
		s = foldSpecial.Replace(s)
		out, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(strings.ToLower(out)), " ")
	}
	for _, s := range []string{"Fundacja  Ekonomii\tSpolecznej ", "WTZ 12", "", "  ", "ABC-def_09", "Łężeczki", "Kooperativet Glöden"} {
		if got, want := Fold(s), full(s); got != want {
			t.Errorf("Fold(%q) = %q, the full fold gives %q", s, got, want)
		}
	}
}

// TestFoldIsSafeForConcurrentUse: the transformers are pooled.
func TestFoldIsSafeForConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := Fold("Kooperativet Glöden i Łężeczkach"); got != "kooperativet gloden i lezeczkach" {
					t.Errorf("Fold = %q", got)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestEarlierSpellingsAreReadAsToday checks that the British spellings of
// earlier releases load, from JSON as from code, as today's values, and that
// the values written are today's.
func TestEarlierSpellingsAreReadAsToday(t *testing.T) {
	var e Entity
	if err := json.Unmarshal([]byte(`{"key":"rops","kind":"PARTNER","name":"ROPS","partner":{"sector":"PUBLIC","partnerKind":"REGIONAL_CENTRE"}}`), &e); err != nil {
		t.Fatal(err)
	}
	if e.Partner.PartnerKind != PartnerRegionalCenter {
		t.Errorf("partnerKind %q, want %q", e.Partner.PartnerKind, PartnerRegionalCenter)
	}
	var l Link
	if err := json.Unmarshal([]byte(`{"from":"a","to":"b","type":"RECOGNISED_IN"}`), &l); err != nil {
		t.Fatal(err)
	}
	if l.Type != RelRecognizedIn {
		t.Errorf("type %q, want %q", l.Type, RelRecognizedIn)
	}
	out, err := json.Marshal(Link{FromKey: "a", ToKey: "b", Type: RelationType("ORGANISED").Canonical()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"type":"ORGANIZED"`) {
		t.Errorf("written %s, want today's spelling", out)
	}
	for old, want := range map[PartnerKind]PartnerKind{"SUPPORT_CENTRE": PartnerSupportCenter, "COMPANY": PartnerCompany, "NONSENSE": "NONSENSE"} {
		if got := old.Canonical(); got != want {
			t.Errorf("%q.Canonical() = %q, want %q", old, got, want)
		}
	}
	if RelationType("NONSENSE").Canonical().Valid() {
		t.Error("an unknown relation type became valid")
	}
}
