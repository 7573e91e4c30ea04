package relay

import (
	"reflect"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
)

func TestIDRoundTrip(t *testing.T) {
	s := ID("Cooperative", 42)
	kind, id, err := ParseEntityID(s)
	if err != nil || kind != kb.KindCooperative || id != 42 {
		t.Fatalf("ParseEntityID(%q) = %v, %d, %v; want COOPERATIVE, 42, nil", s, kind, id, err)
	}
}

func TestParseIDRejectsForeignInput(t *testing.T) {
	for _, in := range []string{"", "42", "!!!", ID("Cooperative", 0), ID("Cooperative", -3), "Q29vcGVyYXRpdmU6eA", string(make([]byte, 600))} {
		if _, _, err := ParseID(in); !kb.IsValidation(err) {
			t.Errorf("ParseID(%q) error = %v, want a validation error", in, err)
		}
	}
	if _, _, err := ParseEntityID(ID("Link", 3)); !kb.IsValidation(err) {
		t.Errorf("ParseEntityID(a link ID) error = %v, want a validation error", err)
	}
}

func TestCursorRoundTripAndOrderCheck(t *testing.T) {
	c := Cursor{Order: "NAME_ASC", Value: "równe szanse", ID: 7}
	got, err := ParseCursor("after", c.Encode(), "NAME_ASC")
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("ParseCursor = %+v, %v; want %+v", got, err, c)
	}
	// A cursor of an order by several keys carries each key's value.
	multi := Cursor{Order: "COUNTRY_ASC,NAME_DESC", Value: "PL", More: []string{"równe szanse"}, ID: 7}
	if got, err := ParseCursor("after", multi.Encode(), multi.Order); err != nil || !reflect.DeepEqual(got, multi) {
		t.Fatalf("ParseCursor = %+v, %v; want %+v", got, err, multi)
	}
	if _, err := ParseCursor("after", Cursor{Order: "A_ASC,B_ASC", Value: "x", More: []string{"a\x00"}, ID: 1}.Encode(), "A_ASC,B_ASC"); !kb.IsValidation(err) {
		t.Errorf("a further value with a NUL byte: error = %v, want a validation error", err)
	}
	if _, err := ParseCursor("after", c.Encode(), "CREATED_AT_DESC"); !kb.IsValidation(err) {
		t.Errorf("cursor of another ordering: error = %v, want a validation error", err)
	}
	if _, err := ParseCursor("after", "not-a-cursor", "NAME_ASC"); !kb.IsValidation(err) {
		t.Errorf("garbage cursor: error = %v, want a validation error", err)
	}
}
