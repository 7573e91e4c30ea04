package relay

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"testing"
)

// TestCursorEncodeIsEncodingJSONs writes cursors, plain ones (a search's,
// a page's) and ones that JSON must escape, and compares them with what
// encoding/json makes of them; and bounds a search cursor's allocations.
func TestCursorEncodeIsEncodingJSONs(t *testing.T) {
	var cs []Cursor
	for _, order := range []string{"SEARCH", "NAME", "", "a\"b", "<x>", "a&b", "ł", "\\", "\x01", "~\x7f"} {
		for _, value := range []string{"", "1ubk8pue72iid", "Spółdzielnia", "2026-12-03T10:00:00Z", "a b", "<", "\u2028"} {
			for _, id := range []int64{0, 1, -7, math.MaxInt64, math.MinInt64} {
				cs = append(cs, Cursor{Order: order, Value: value, ID: id})
			}
		}
	}
	cs = append(cs, Cursor{Order: "NAME", Value: "x", More: []string{"y"}, ID: 3}, Cursor{Order: "NAME", More: []string{}, ID: 3})
	for _, c := range cs {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.Encode(), base64.RawURLEncoding.EncodeToString(b); got != want {
			t.Errorf("%+v: Encode = %s, want %s (%s)", c, got, want, b)
		}
	}
	c := Cursor{Order: "SEARCH", Value: "1ubk8pue72iid", ID: 20}
	if n := testing.AllocsPerRun(100, func() { c.Encode() }); n > 1 {
		t.Errorf("a search cursor costs %.0f allocations, want 1 (its string)", n)
	}
}
