package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// herData matches what the log may hold of Malwina Pokrywka: her key, her
// name as a record, her contact details and the quotes of her links.
const herData = `malwina-pokrywka|"name": "Malwina Pokrywka"|malwina@example|600 000 000|reprezentowała nas Malwina`

// A deleted person can be erased, and erasure scrubs the revisions that
// hold her data, so that no revert, history or export brings them back
// (issue 14, finding 4: before, erasePerson answered NOT_FOUND and an
// editor's revert of the deletion restored her with email and phone).
func TestEraseDeletedPersonLeavesNothingToBringBack(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	ctx := context.Background()
	admin := a.newToken("root", kb.RoleAdmin)
	editor := a.newToken("ed", kb.RoleEditor)
	id := a.idOf(admin, "malwina-pokrywka")
	a.mustAs(admin, `mutation($id: ID!) { updatePerson(id: $id, input: {email: "malwina@example.org", phone: "+48 600 000 000"}) { id } }`,
		map[string]any{"id": id}, nil)
	// The entries at the other end of her links, for their histories later.
	var her struct {
		N struct {
			Links struct {
				Nodes []struct {
					Node struct{ ID string } `json:"node"`
				} `json:"nodes"`
			} `json:"links"`
		} `json:"node"`
	}
	a.mustAs(admin, `query($id: ID!) { node(id: $id) { ... on Person { links(first: 50) { nodes { node { id } } } } } }`,
		map[string]any{"id": id}, &her)
	if len(her.N.Links.Nodes) == 0 {
		t.Fatal("the reference person has no links; the test needs some")
	}
	var del struct {
		D struct{ Deleted bool } `json:"deleteEntity"`
	}
	a.mustAs(admin, `mutation($id: ID!) { deleteEntity(id: $id, confirm: true) { deleted } }`, map[string]any{"id": id}, &del)
	if !del.D.Deleted {
		t.Fatal("not deleted")
	}
	// The deletion's revisions: hers and her links'.
	var deletion, linkDeletion string
	var entityRev, linkRev int64
	if err := a.Pool.QueryRow(ctx, `SELECT max(id) FROM revision WHERE operation = 'delete' AND entity_id IS NOT NULL`).Scan(&entityRev); err != nil {
		t.Fatal(err)
	}
	if err := a.Pool.QueryRow(ctx, `SELECT max(id) FROM revision WHERE operation = 'delete' AND link_id IS NOT NULL`).Scan(&linkRev); err != nil {
		t.Fatal(err)
	}
	deletion, linkDeletion = relayID("Revision", entityRev), relayID("Revision", linkRev)

	var erased struct {
		P *struct{ ID string } `json:"erasePerson"`
	}
	a.mustAs(admin, `mutation($id: ID!) { erasePerson(id: $id) { id } }`, map[string]any{"id": id}, &erased)
	if erased.P != nil {
		t.Errorf("erasePerson of a deleted person returned %+v, want null", erased.P)
	}

	// Revert: neither her deletion nor her links' can be undone any more.
	for _, rev := range []string{deletion, linkDeletion} {
		e := a.failAs(admin, `mutation($r: ID!) { revert(revisionId: $r) { id } }`, map[string]any{"r": rev})
		if e.Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(e.Message, "erased") {
			t.Errorf("revert of a scrubbed revision: %s %v", e.Message, e.Extensions)
		}
	}
	var back struct {
		N *struct{ ID string } `json:"node"`
	}
	a.mustAs(editor, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &back)
	if back.N != nil {
		t.Fatal("the erased person is back")
	}

	// History: no revision of any entry she was linked to, nor any row of
	// the log, holds her data.
	for _, n := range her.N.Links.Nodes {
		status, r := a.postAs(editor, `query($id: ID!) { node(id: $id) { ... on Entity { history(first: 100) { nodes { before { `+stateFields+` } after { `+stateFields+` } } } } } }`,
			map[string]any{"id": n.Node.ID})
		if status != 200 || len(r.Errors) > 0 {
			t.Fatalf("history: %d %+v", status, r.Errors)
		}
		if s := string(r.Data); strings.Contains(s, "malwina@example") || strings.Contains(s, "malwina-pokrywka") {
			t.Errorf("the history of %s still holds her data", n.Node.ID)
		}
	}
	var left int
	if err := a.Pool.QueryRow(ctx, `SELECT count(*) FROM revision WHERE concat(before::text, after::text) ~* $1`, herData).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("%d revisions still hold the person's data", left)
	}

	// Export: no record of her.
	res, body := get(t, a.URL+"/export?format=json")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d", res.StatusCode)
	}
	if strings.Contains(string(body), "malwina-pokrywka") || strings.Contains(string(body), "malwina@example") {
		t.Error("the export still names her record")
	}

	// Erasing again changes nothing and does not fail.
	a.mustAs(admin, `mutation($id: ID!) { erasePerson(id: $id) { id } }`, map[string]any{"id": id}, nil)
}

// A revert of a deletion that comes before the erasure is refused once the
// person is erased, and an erasure of a live person stops the revert of
// her earlier updates too.
func TestEraseLivePersonStopsRevertOfHerUpdates(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	admin := a.newToken("root", kb.RoleAdmin)
	id := a.idOf(admin, "malwina-pokrywka")
	var upd struct {
		P struct {
			History struct {
				Nodes []struct{ ID string } `json:"nodes"`
			} `json:"history"`
		} `json:"updatePerson"`
	}
	a.mustAs(admin, `mutation($id: ID!) { updatePerson(id: $id, input: {email: "malwina@example.org"}) { history(first: 1) { nodes { id } } } }`,
		map[string]any{"id": id}, &upd)
	a.mustAs(admin, `mutation($id: ID!) { erasePerson(id: $id) { id } }`, map[string]any{"id": id}, nil)
	e := a.failAs(admin, `mutation($r: ID!) { revert(revisionId: $r) { id } }`, map[string]any{"r": upd.P.History.Nodes[0].ID})
	if e.Extensions["code"] != "BAD_USER_INPUT" {
		t.Errorf("revert of her update after erasure: %s %v", e.Message, e.Extensions)
	}
	var p struct {
		N struct{ Name, Email string } `json:"node"`
	}
	a.mustAs(admin, `query($id: ID!) { node(id: $id) { ... on Person { name email } } }`, map[string]any{"id": id}, &p)
	if p.N.Name != "Erased person" || p.N.Email != "" {
		t.Errorf("after the refused revert: %+v", p.N)
	}
}

// mentions finds the entries whose text names a person, in any
// inflection: what an erasure leaves, for staff to review first.
func TestMentionsFindsEntriesThatNameAPerson(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	admin := a.newToken("root", kb.RoleAdmin)
	id := a.idOf(admin, "malwina-pokrywka")
	const q = `query($id: ID!) { mentions(of: $id) { __typename id ... on Source { key } ... on GoodPractice { key } } }`
	mentioned := func() []string {
		var got struct {
			M []struct{ Key string } `json:"mentions"`
		}
		a.mustAs(admin, q, map[string]any{"id": id}, &got)
		var keys []string
		for _, m := range got.M {
			keys = append(keys, m.Key)
		}
		return keys
	}
	keys := mentioned()
	// The reference data names her in an article's summary ("z
	// wystąpieniami Malwiny Pokrywki") and in a practice's ("przedstawione
	// przez Malwinę Pokrywkę").
	if len(keys) < 2 {
		t.Fatalf("mentions of Malwina Pokrywka: %v, want the article and the practice", keys)
	}
	t.Logf("mentions: %v", keys)
	var article bool
	for _, k := range keys {
		article = article || strings.HasPrefix(k, "artykul")
	}
	if !article {
		t.Errorf("mentions %v: no article", keys)
	}
	// Still found after deletion, before erasure.
	a.mustAs(admin, `mutation($id: ID!) { deleteEntity(id: $id, confirm: true) { deleted } }`, map[string]any{"id": id}, nil)
	if after := mentioned(); len(after) != len(keys) {
		t.Errorf("after deletion: %v, want %v", after, keys)
	}
	// After erasure the name is gone: a clear refusal, not an empty list.
	a.mustAs(admin, `mutation($id: ID!) { erasePerson(id: $id) { id } }`, map[string]any{"id": id}, nil)
	if e := a.failAs(admin, q, map[string]any{"id": id}); e.Extensions["code"] != "BAD_USER_INPUT" || !strings.Contains(e.Message, "erased") {
		t.Errorf("mentions of an erased person: %s %v", e.Message, e.Extensions)
	}
	// Staff only, and of people only.
	if e := a.failAs("", q, map[string]any{"id": id}); e.Extensions["code"] != "UNAUTHENTICATED" {
		t.Errorf("anonymous: %v", e.Extensions)
	}
	partner := a.idOf(admin, "wtz-gebice")
	if e := a.failAs(admin, q, map[string]any{"id": partner}); e.Extensions["code"] != "BAD_USER_INPUT" {
		t.Errorf("mentions of a partner: %v", e.Extensions)
	}
}

// Undoing the creation of an entry deletes it, which takes ADMIN as
// deleteEntity does: graph checks the role before the store reverts, so an
// editor's attempt is FORBIDDEN and changes nothing; a link's creation an
// editor may undo.
func TestUndoingAnEntrysCreationTakesAnAdmin(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	admin := a.newToken("root", kb.RoleAdmin)
	editor := a.newToken("ed", kb.RoleEditor)
	id, _ := a.create(editor, "createCooperative", minimalInputs["createCooperative"](unique("Spółdzielnia")))
	var made struct {
		N struct {
			History struct {
				Nodes []struct{ ID, Operation string }
			}
		} `json:"node"`
	}
	a.mustAs(editor, `query($id: ID!) { node(id: $id) { ... on Cooperative { history { nodes { id operation } } } } }`, map[string]any{"id": id}, &made)
	if len(made.N.History.Nodes) != 1 || made.N.History.Nodes[0].Operation != "CREATE" {
		t.Fatalf("history of a new entry: %+v", made.N.History.Nodes)
	}
	creation := made.N.History.Nodes[0].ID
	q := `mutation($r: ID!) { revert(revisionId: $r) { operation } }`
	if e := a.failAs(editor, q, map[string]any{"r": creation}); e.Extensions["code"] != "FORBIDDEN" {
		t.Errorf("an editor undoing a creation: %s %v, want FORBIDDEN", e.Message, e.Extensions)
	}
	var still struct {
		N *struct{ ID string } `json:"node"`
	}
	a.mustAs(editor, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &still)
	if still.N == nil {
		t.Fatal("the refused revert deleted the entry")
	}
	var got struct {
		R struct{ Operation string } `json:"revert"`
	}
	a.mustAs(admin, q, map[string]any{"r": creation}, &got)
	a.mustAs(editor, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &still)
	if got.R.Operation != "REVERT" || still.N != nil {
		t.Errorf("an admin undoing a creation: %+v, entry %v; want a REVERT and the entry gone", got.R, still.N)
	}
}
