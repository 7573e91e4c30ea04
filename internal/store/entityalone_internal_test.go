package store

import "testing"

// TestOnEntityAlone: only conditions on entity's own columns may read
// entity instead of entity_full; a kind's column, or all of them, may not.
func TestOnEntityAlone(t *testing.T) {
	for _, c := range []struct {
		fragments []string
		want      bool
	}{
		{[]string{"e.kind = $1", "e.status = ANY($2)", "e.sort_name ASC", "e.id ASC"}, true},
		{[]string{"e.sector = $3", "(e.when_sort, e.id) > ($4, $5)"}, true},
		{[]string{"EXISTS (SELECT 1 FROM entity_place p WHERE p.entity_id = e.id)"}, true},
		{[]string{"e.kind = $1", "e.city = $2"}, false},
		{[]string{"e.country = $1"}, false}, // entity's own country is not the view's
		{[]string{"coalesce(e.topics @> $1, false)"}, false},
		{[]string{"e.* IS NOT NULL"}, false},
		{[]string{"pe.email = $1", "e.id = $2"}, true},
	} {
		if got := onEntityAlone(c.fragments...); got != c.want {
			t.Errorf("onEntityAlone(%q) = %v, want %v", c.fragments, got, c.want)
		}
	}
}
