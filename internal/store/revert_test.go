package store_test

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// snapshot is what a failed write must leave as it was.
type snapshot struct{ entities, links, revisions, citations int }

func take(t *testing.T, pool *pgxpool.Pool) snapshot {
	t.Helper()
	return snapshot{count(t, pool, "entity"), count(t, pool, "link"), count(t, pool, "revision"), count(t, pool, "citation")}
}

func idOfKey(t *testing.T, st *store.Store, key string) int64 {
	t.Helper()
	e, err := st.EntityByKey(context.Background(), store.Visibility{Drafts: true}, key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return e.ID
}

func lastRevision(t *testing.T, pool *pgxpool.Pool, where string, args ...any) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `SELECT max(id) FROM revision WHERE `+where, args...).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// A revert that fails half-way leaves nothing changed: undoing the
// deletion of a cooperative makes the entry again, then its links one by
// one, and one of them cannot be made (its other end was deleted since).
// The entry, the links made before the failure and every revision written
// so far are rolled back with it.
func TestRevertThatFailsHalfWayChangesNothing(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	load(t, st, small())
	coop, wtz := idOfKey(t, st, "coop"), idOfKey(t, st, "wtz")
	if _, _, err := st.DeleteEntity(ctx, "ed", coop, true); err != nil {
		t.Fatal(err)
	}
	deletion := lastRevision(t, pool, "entity_id = $1", coop)
	// Its links to the practice come back first (revision order), the one
	// from the workshop fails: the workshop is gone.
	if _, _, err := st.DeleteEntity(ctx, "ed", wtz, true); err != nil {
		t.Fatal(err)
	}
	before := take(t, pool)
	_, err := st.Revert(ctx, "ed", deletion)
	if !errors.Is(err, kb.ErrNotFound) {
		t.Fatalf("revert: %v, want not found (the workshop is gone)", err)
	}
	if after := take(t, pool); after != before {
		t.Errorf("a failed revert changed the database: %+v, was %+v", after, before)
	}
	if es, err := st.EntitiesByID(ctx, store.Visibility{Drafts: true}, []int64{coop}); err != nil || es[0] != nil {
		t.Errorf("the cooperative is back after a failed revert: %v %v", es, err)
	}
	// The message names the link by the keys of its ends and the entry by
	// its name, never by row ids.
	msg := err.Error()
	if !strings.Contains(msg, `"wtz"`) || !strings.Contains(msg, `Cooperative "Spółdzielnia Socjalna`) {
		t.Errorf("message %q does not name the entry and the missing end", msg)
	}
	noRowIDs(t, msg, coop, wtz, deletion)

	// With the workshop back, the same revert succeeds, all of it, and
	// says which revision records it.
	if _, err := st.Revert(ctx, "ed", lastRevision(t, pool, "entity_id = $1", wtz)); err != nil {
		t.Fatalf("undelete the workshop: %v", err)
	}
	res, err := st.Revert(ctx, "ed", deletion)
	if err != nil {
		t.Fatalf("revert: %v", err)
	}
	if res.RevisionID == 0 || res.Revision == nil || res.Revision.ID != res.RevisionID || res.Revision.Operation != kb.OpRevert {
		t.Errorf("reverted: %+v", res)
	}
	if n := count(t, pool, "link"); n != 9 {
		t.Errorf("links after both reverts: %d, want all 9 back", n)
	}
}

// Revisions whose states were erased, indicator changes and erasures
// cannot be reverted; the refusal says why and writes nothing.
func TestRevertRefusesWhatCannotBeUndone(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	load(t, st, small())
	ind := lastRevision(t, pool, "operation = 'indicator.create'")
	before := take(t, pool)
	if _, err := st.Revert(ctx, "ed", ind); !kb.IsValidation(err) || !strings.Contains(err.Error(), "indicator create") {
		t.Errorf("revert of an indicator change: %v", err)
	}
	if after := take(t, pool); after != before {
		t.Errorf("a refused revert changed the database: %+v, was %+v", after, before)
	}
	if _, err := st.Revert(ctx, "ed", 1<<40); !errors.Is(err, kb.ErrNotFound) {
		t.Errorf("revert of no revision: %v", err)
	}
}

// Messages name entries by kind and name and links by the keys of their
// ends, never by internal row ids (issue 19, point 1).
func TestWriteErrorsNameEntriesNotRowIDs(t *testing.T) {
	st, _ := open(t)
	ctx := context.Background()
	load(t, st, small())
	coop, wtz, practice := idOfKey(t, st, "coop"), idOfKey(t, st, "wtz"), idOfKey(t, st, "practice")
	stale := 99
	keep := func(e *kb.Entity) (*kb.Entity, error) { return e, nil }
	_, err := st.UpdateEntity(ctx, "ed", kb.OpUpdate, coop, &stale, keep)
	if !errors.Is(err, kb.ErrConflict) || !strings.HasPrefix(err.Error(), `update Cooperative "Spółdzielnia Socjalna „Równe Szanse”": conflict`) {
		t.Errorf("stale update: %v", err)
	}
	noRowIDs(t, err.Error(), coop)

	_, err = st.UpdateEntity(ctx, "ed", kb.OpPublish, 1<<40, nil, keep)
	if !errors.Is(err, kb.ErrNotFound) || err.Error() != "publish entry: not found" {
		t.Errorf("update of no entry: %v", err)
	}

	_, err = st.CreateLink(ctx, "ed", &kb.Link{FromID: coop, ToID: practice, Type: kb.RelDemonstrates})
	if !errors.Is(err, kb.ErrConflict) || !strings.Contains(err.Error(), `Cooperative "Spółdzielnia Socjalna „Równe Szanse”" -DEMONSTRATES-> GoodPractice "Jak pozyskać partnera biznesowego"`) {
		t.Errorf("duplicate link: %v", err)
	}
	noRowIDs(t, err.Error(), coop, practice)

	ls, err := st.LinksOfSpecs(ctx, store.Visibility{Drafts: true}, []store.SpecIDs{{Spec: store.LinkSpec{Direction: store.Outgoing, Types: []kb.RelationType{kb.RelEmploysParticipantsOf}}, IDs: []int64{coop}}})
	if err != nil || len(ls[0][coop]) != 1 {
		t.Fatalf("links: %v %v", ls, err)
	}
	link := ls[0][coop][0]
	_, err = st.UpdateLink(ctx, "ed", kb.OpUpdate, link.ID, &stale, func(l *kb.Link) (*kb.Link, error) { return l, nil })
	if !errors.Is(err, kb.ErrConflict) || !strings.HasPrefix(err.Error(), "update link coop -EMPLOYS_PARTICIPANTS_OF-> wtz: conflict") {
		t.Errorf("stale link update: %v", err)
	}
	noRowIDs(t, err.Error(), link.ID, coop, wtz)
	_, err = st.DeleteLink(ctx, "ed", 1<<40, nil)
	if !errors.Is(err, kb.ErrNotFound) || err.Error() != "delete link: not found" {
		t.Errorf("unlink of no link: %v", err)
	}
}

// noRowIDs fails when msg holds one of ids as a number of its own.
func noRowIDs(t *testing.T, msg string, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		if regexp.MustCompile(`\b` + strconv.FormatInt(id, 10) + `\b`).MatchString(msg) {
			t.Errorf("message %q names row id %d", msg, id)
		}
	}
}

// An erasure that meets a revert of the person's deletion committing at
// the same moment refuses with CONFLICT and changes nothing, rather than
// leave the person made again with the data the revert restored. The
// revert is played by a transaction that holds the deletion's revision (as
// Revert does, FOR SHARE) and makes the entry again.
func TestEraseRefusesWhenARevertMakesThePersonAgainMeanwhile(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	p, err := st.CreateEntity(ctx, "ed", &kb.Entity{Kind: kb.KindPerson, Name: "Anna Nowak", Person: &kb.Person{Email: "anna@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.DeleteEntity(ctx, "ed", p.ID, true); err != nil {
		t.Fatal(err)
	}
	deletion := lastRevision(t, pool, "entity_id = $1", p.ID)

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT 1 FROM revision WHERE id = $1 FOR SHARE`, deletion); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO entity (id, kind, key, name, sort_name, created_by, updated_by)
		OVERRIDING SYSTEM VALUE VALUES ($1, 'PERSON', $2, 'Anna Nowak', 'anna nowak', 'ed', 'ed')`, p.ID, p.Key); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := st.ErasePerson(ctx, "admin", p.ID)
		done <- err
	}()
	// Wait until the erasure waits for the revision's lock.
	for i := 0; ; i++ {
		var waiting int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE revision%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the erasure did not wait for the revert: %v", err)
		default:
		}
		if i > 500 {
			t.Fatal("the erasure never waited for the revision's lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err = <-done
	if !errors.Is(err, kb.ErrConflict) {
		t.Fatalf("erasure during a revert: %v, want a conflict", err)
	}
	var before []byte
	if err := pool.QueryRow(ctx, `SELECT before FROM revision WHERE id = $1`, deletion).Scan(&before); err != nil || before == nil {
		t.Errorf("the refused erasure scrubbed the deletion's revision: %s %v", before, err)
	}
	// Erasing again, now that the entry exists, erases it.
	if _, err := st.ErasePerson(ctx, "admin", p.ID); err != nil {
		t.Errorf("erasing again: %v", err)
	}
}

// The erasure finds the revisions of links that named the person's key
// through the indexes of migration 00013, not by reading the whole log.
func TestEraseFindsLinkRevisionsByIndex(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	load(t, st, small())
	// On a log this small a sequential scan is cheaper; forbidding it
	// shows whether the indexes can serve the condition at all.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `EXPLAIN SELECT id FROM revision WHERE link_id IS NOT NULL
		AND (coalesce(after->>'from', before->>'from') = 'wtz' OR coalesce(after->>'to', before->>'to') = 'wtz')`)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	p := strings.Join(plan, "\n")
	if !strings.Contains(p, "revision_link_from_key_idx") || !strings.Contains(p, "revision_link_to_key_idx") {
		t.Errorf("plan of the erasure's link revisions does not use the key indexes:\n%s", p)
	}
}
