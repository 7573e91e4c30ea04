package store

import (
	"context"
	"testing"

	"github.com/partnergraph/partnergraph/internal/pgtest"
)

// TestMigrationRenamesStoredSpellings writes data in the British spellings
// of earlier releases at migration 13, migrates up, and checks that the
// partner kind, the link type, the tallies, the counters and the revision
// log all say the US spelling; then migrates down and checks the way back.
func TestMigrationRenamesStoredSpellings(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, "empty")
	p, db, err := provider(pool)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := p.UpTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO entity (id, kind, key, name, sort_name, status, created_by, updated_by) OVERRIDING SYSTEM VALUE VALUES
			(1, 'PARTNER', 'rops', 'ROPS', 'rops', 'PUBLISHED', 't', 't'),
			(2, 'EVENT', 'forum', 'Forum', 'forum', 'PUBLISHED', 't', 't')`,
		`INSERT INTO partner (id, sector, partner_kind) VALUES (1, 'PUBLIC', 'REGIONAL_CENTRE')`,
		`INSERT INTO event (id, event_kind, event_status) VALUES (2, 'FORUM', 'HELD')`,
		`INSERT INTO link (from_id, to_id, type, created_by, updated_by) VALUES (1, 2, 'ORGANISED', 't', 't')`,
		`INSERT INTO revision (actor, operation, entity_id, after) VALUES
			('t', 'CREATE', 1, '{"key":"rops","kind":"PARTNER","partner":{"sector":"PUBLIC","partnerKind":"REGIONAL_CENTRE"}}')`,
		`INSERT INTO revision (actor, operation, link_id, before) VALUES
			('t', 'DELETE', 99, '{"from":"rops","to":"forum","type":"RECOGNISED_IN"}')`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	type state struct{ kind, link, tally, counted, revKind, revType string }
	read := func() state {
		t.Helper()
		var s state
		if err := pool.QueryRow(ctx, `SELECT
			(SELECT partner_kind FROM partner WHERE id = 1),
			(SELECT type FROM link),
			(SELECT string_agg(DISTINCT type, ',') FROM link_tally),
			(SELECT string_agg(partner_kind, ',') FROM (SELECT partner_kind FROM
				(SELECT partner_kind, n FROM entity_count WHERE kind = 'PARTNER'
				 UNION ALL SELECT partner_kind, n FROM entity_count_delta WHERE kind = 'PARTNER') c
				GROUP BY partner_kind HAVING sum(n) > 0) k),
			(SELECT after#>>'{partner,partnerKind}' FROM revision WHERE entity_id = 1),
			(SELECT before->>'type' FROM revision WHERE link_id = 99)`).
			Scan(&s.kind, &s.link, &s.tally, &s.counted, &s.revKind, &s.revType); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := state{"REGIONAL_CENTRE", "ORGANISED", "ORGANISED", "REGIONAL_CENTRE", "REGIONAL_CENTRE", "RECOGNISED_IN"}
	if got := read(); got != before {
		t.Fatalf("at 13: %+v, want %+v", got, before)
	}
	if _, err := p.UpTo(ctx, 14); err != nil {
		t.Fatal(err)
	}
	after := state{"REGIONAL_CENTER", "ORGANIZED", "ORGANIZED", "REGIONAL_CENTER", "REGIONAL_CENTER", "RECOGNIZED_IN"}
	if got := read(); got != after {
		t.Errorf("after 14: %+v, want %+v", got, after)
	}
	if _, err := p.DownTo(ctx, 13); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != before {
		t.Errorf("down to 13: %+v, want %+v", got, before)
	}
}
