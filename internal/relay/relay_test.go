package relay

import (
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
	if err != nil || got != c {
		t.Fatalf("ParseCursor = %+v, %v; want %+v", got, err, c)
	}
	if _, err := ParseCursor("after", c.Encode(), "CREATED_AT_DESC"); !kb.IsValidation(err) {
		t.Errorf("cursor of another ordering: error = %v, want a validation error", err)
	}
	if _, err := ParseCursor("after", "not-a-cursor", "NAME_ASC"); !kb.IsValidation(err) {
		t.Errorf("garbage cursor: error = %v, want a validation error", err)
	}
}
