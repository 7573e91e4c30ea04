package relay

import (
	"errors"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// FuzzParseID: any text either parses to an ID that encodes back to an
// equivalent one, or fails with a *kb.ValidationError; never a panic.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{ID("Partner", 1), ID("Partner", 1<<62), "", "=", "UGFydG5lcjotMQ", "UGFydG5lcjo", "\xff", "Partner:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, id, err := ParseID(s)
		if err != nil {
			var v *kb.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("ParseID(%q): error %T %v, want a *kb.ValidationError", s, err, err)
			}
			return
		}
		if id <= 0 || typ == "" {
			t.Fatalf("ParseID(%q) = %q, %d: want a positive id and a type", s, typ, id)
		}
		if t2, id2, err := ParseID(ID(typ, id)); err != nil || t2 != typ || id2 != id {
			t.Fatalf("round trip of %q, %d: %q, %d, %v", typ, id, t2, id2, err)
		}
	})
}

// FuzzParseCursor: any text either parses to a cursor of the ordering
// asked for, or fails with a *kb.ValidationError.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{Cursor{Order: "name", Value: "a", ID: 1}.Encode(), Cursor{Order: "other", ID: 1}.Encode(), "", "e30", "bnVsbA", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor("after", s, "name")
		if err != nil {
			var v *kb.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("ParseCursor(%q): error %T %v, want a *kb.ValidationError", s, err, err)
			}
			return
		}
		if c.Order != "name" || c.ID <= 0 {
			t.Fatalf("ParseCursor(%q) = %+v", s, c)
		}
	})
}
