package dataimport

import (
	"strings"
	"testing"
)

func TestDecodeAndProblemsNameEveryBadRecord(t *testing.T) {
	d, err := Decode(strings.NewReader(`{"entities": [
		{"key": "a", "kind": "PARTNER", "name": "A", "partner": {"sector": "NONE", "partnerKind": "OTHER"}},
		{"key": "b", "kind": "PROJECT", "name": "", "project": {}}
	], "links": [{"from": "a", "to": "zzz", "type": "LEADS"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ps := problems(d.ValidateAgainst(nil))
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{"entities[0] (key a): partner.sector", "entities[1] (key b): name", "links[0] (a -LEADS-> zzz): to"}
	if len(ps) != len(want) {
		t.Fatalf("problems %q, want %d", got, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("problem %d: %q, want it to start with %q", i, got[i], w)
		}
	}
	if _, err := Decode(strings.NewReader(`{"entities": [], "extra": 1}`)); err == nil {
		t.Error("an unknown field was accepted")
	}
}
