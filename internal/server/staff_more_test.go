package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// Fifty editors update one entry at once, all from version 1: exactly one
// wins, the other 49 get CONFLICT, and nothing is lost or half-written.
func TestConcurrentUpdatesWithVersionsLoseNothing(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{})
	tok := a.newToken("ed", kb.RoleEditor)
	id, v := a.create(tok, "createProject", map[string]any{"name": "Projekt"})
	const n = 50
	var wg sync.WaitGroup
	codes := make([]any, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, r := a.postAs(tok, `mutation($id: ID!, $v: Int, $s: String) { updateProject(id: $id, expectedVersion: $v, input: {summary: $s}) { version } }`,
				map[string]any{"id": id, "v": v, "s": fmt.Sprintf("writer %d", i)})
			if len(r.Errors) > 0 {
				codes[i] = r.Errors[0].Extensions["code"]
			}
		}()
	}
	wg.Wait()
	wins, conflicts := 0, 0
	winner := -1
	for i, c := range codes {
		switch c {
		case nil:
			wins++
			winner = i
		case server.CodeConflict:
			conflicts++
		default:
			t.Errorf("writer %d: %v, want success or CONFLICT", i, c)
		}
	}
	if wins != 1 || conflicts != n-1 {
		t.Fatalf("%d won, %d conflicts; want 1 and %d", wins, conflicts, n-1)
	}
	var got struct {
		N struct {
			Summary string
			Version int
			History struct{ TotalCount int }
		} `json:"node"`
	}
	a.mustAs(tok, `query($id: ID!) { node(id: $id) { ... on Project { summary version history { totalCount } } } }`, map[string]any{"id": id}, &got)
	if want := fmt.Sprintf("writer %d", winner); got.N.Summary != want || got.N.Version != v+1 || got.N.History.TotalCount != 2 {
		t.Errorf("after the race: %+v, want %q at version %d with 2 revisions", got.N, want, v+1)
	}

	// Writers that reload and retry on CONFLICT all get through: 50 updates,
	// 50 new versions, no lost update.
	var mu sync.Mutex
	retries := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var cur struct {
					N struct{ Version int } `json:"node"`
				}
				a.mustAs(tok, `query($id: ID!) { node(id: $id) { ... on Project { version } } }`, map[string]any{"id": id}, &cur)
				_, r := a.postAs(tok, `mutation($id: ID!, $v: Int, $s: String) { updateProject(id: $id, expectedVersion: $v, input: {funding: $s}) { version } }`,
					map[string]any{"id": id, "v": cur.N.Version, "s": fmt.Sprintf("funder %d", i)})
				if len(r.Errors) == 0 {
					return
				}
				if r.Errors[0].Extensions["code"] != server.CodeConflict {
					t.Errorf("retrying writer %d: %+v", i, r.Errors)
					return
				}
				mu.Lock()
				retries++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	a.mustAs(tok, `query($id: ID!) { node(id: $id) { ... on Project { summary version history { totalCount } } } }`, map[string]any{"id": id}, &got)
	if got.N.Version != v+1+n || got.N.History.TotalCount != 2+n {
		t.Errorf("after %d retried updates: version %d with %d revisions, want %d and %d (retries: %d)",
			n, got.N.Version, got.N.History.TotalCount, v+1+n, 2+n, retries)
	}
}

// A revert restores the earlier state exactly: every field, the
// publication status and the sources; only the version moves on.
func TestRevertRestoresTheEarlierStateExactly(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	tok := a.newToken("ed", kb.RoleEditor)
	src1 := a.idOf(tok, "artykul-iii-wielkopolskie-forum-wtz")
	src2 := a.idOf(tok, "artykul-warsztaty-wymiany-doswiadczen-w-szwecji")
	const fields = `... on GoodPractice { id key name summary publicationStatus version
		sources { locator quote source { id } }
		description topics targetGroup resourcesNeeded evidence difficulties lessons transferPotential recognition }`
	var made struct {
		G map[string]any `json:"createGoodPractice"`
	}
	a.mustAs(tok, `mutation($s: ID!) { createGoodPractice(input: {name: "Praktyka", summary: "przed", description: "opis",
		topics: ["a", "b"], lessons: "lekcje", sources: [{source: $s, locator: "s. 1", quote: "cytat"}]}) { `+fields+` } }`,
		map[string]any{"s": src1}, &made)
	id := made.G["id"].(string)
	a.mustAs(tok, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": id}, nil)
	var before struct {
		N map[string]any `json:"node"`
	}
	read := `query($id: ID!) { node(id: $id) { ` + fields + ` } }`
	a.mustAs(tok, read, map[string]any{"id": id}, &before)

	var upd struct {
		U struct {
			History struct{ Nodes []struct{ ID string } }
		} `json:"updateGoodPractice"`
	}
	a.mustAs(tok, `mutation($id: ID!, $s: ID!) { updateGoodPractice(id: $id, input: {name: "Inna", summary: null, description: "nowy",
		topics: ["c"], lessons: null, evidence: "dowody", sources: [{source: $s, locator: "s. 9"}]}) { history(first: 1) { nodes { id } } } }`,
		map[string]any{"id": id, "s": src2}, &upd)
	a.mustAs(tok, `mutation($id: ID!) { unpublish(id: $id) { id } }`, map[string]any{"id": id}, nil)

	// Undo the update, then the unpublishing: the state before both.
	var hist struct {
		N struct {
			History struct {
				Nodes []struct{ ID, Operation string }
			}
		} `json:"node"`
	}
	a.mustAs(tok, `query($id: ID!) { node(id: $id) { ... on GoodPractice { history { nodes { id operation } } } } }`, map[string]any{"id": id}, &hist)
	if ops := hist.N.History.Nodes; len(ops) != 4 || ops[0].Operation != "UNPUBLISH" || ops[1].Operation != "UPDATE" {
		t.Fatalf("history %+v, want unpublish, update, publish, create", ops)
	}
	a.mustAs(tok, `mutation($r: ID!) { revert(revisionId: $r) { operation } }`, map[string]any{"r": hist.N.History.Nodes[0].ID}, nil)
	a.mustAs(tok, `mutation($r: ID!) { revert(revisionId: $r) { operation } }`, map[string]any{"r": upd.U.History.Nodes[0].ID}, nil)

	var after struct {
		N map[string]any `json:"node"`
	}
	a.mustAs(tok, read, map[string]any{"id": id}, &after)
	if after.N["version"].(float64) != before.N["version"].(float64)+4 {
		t.Errorf("version %v, want %v + 4", after.N["version"], before.N["version"])
	}
	delete(after.N, "version")
	delete(before.N, "version")
	if !jsonEqual(after.N, before.N) {
		t.Errorf("after revert:\n%v\nwant the state before the update:\n%v", after.N, before.N)
	}
}

// A 10,000-record import with one bad record writes nothing and names the
// bad record by its position and reason.
func TestImportOfTenThousandRecordsWithOneBadWritesNothing(t *testing.T) {
	// The test is about atomicity, not speed: on a loaded machine the import
	// may outlast the default 30 s request timeout (its time is measured
	// in docs/benchmarks.md).
	a := newAPI(t, "reference", server.Config{MaxBodyBytes: 8 << 20, RequestTimeout: 3 * time.Minute})
	tok := a.newToken("ed", kb.RoleEditor)
	const n = 10000
	entities := make([]any, 0, n)
	for i := range n - 2000 {
		entities = append(entities, map[string]any{"key": fmt.Sprintf("coop-%05d", i), "kind": "COOPERATIVE",
			"name": fmt.Sprintf("Spółdzielnia %d", i), "cooperative": map[string]any{"coopStatus": "REGISTERED"}})
	}
	links := make([]any, 0, 2000)
	for i := range 2000 {
		links = append(links, map[string]any{"from": fmt.Sprintf("coop-%05d", i), "to": "wtz-gebice", "type": "EMPLOYS_PARTICIPANTS_OF"})
	}
	// The bad one: a cooperative cannot lead a project.
	links[1234] = map[string]any{"from": "coop-01234", "to": "projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz", "type": "LEADS"}
	ds := map[string]any{"entities": entities, "links": links}

	var count struct {
		C struct{ TotalCount int } `json:"cooperatives"`
	}
	countQ := `{ cooperatives { totalCount } }`
	a.mustAs(tok, countQ, nil, &count)
	before := count.C.TotalCount

	var got struct {
		R struct {
			Written  bool
			Problems []struct{ Record, Field, Message string }
		} `json:"importDataset"`
	}
	a.mustAs(tok, `mutation($d: DatasetInput!) { importDataset(dataset: $d) { written problems { record field message } } }`, map[string]any{"d": ds}, &got)
	if got.R.Written || len(got.R.Problems) != 1 {
		t.Fatalf("report %+v, want nothing written and one problem", got.R)
	}
	p := got.R.Problems[0]
	if !strings.HasPrefix(p.Record, "links[1234]") || p.Field != "type" || !strings.Contains(p.Message, "LEADS may join Partner") {
		t.Errorf("problem %+v, want links[1234] with the LEADS rule", p)
	}
	a.mustAs(tok, countQ, nil, &count)
	if count.C.TotalCount != before {
		t.Errorf("%d cooperatives after the failed import, want %d", count.C.TotalCount, before)
	}

	// Fixed, a dry run writes nothing either, and the real run all of it.
	links[1234] = map[string]any{"from": "coop-01234", "to": "wtz-gebice", "type": "EMPLOYS_PARTICIPANTS_OF"}
	var rep struct {
		R struct {
			Written         bool
			EntitiesCreated int
			LinksCreated    int
		} `json:"importDataset"`
	}
	a.mustAs(tok, `mutation($d: DatasetInput!) { importDataset(dataset: $d, dryRun: true) { written entitiesCreated linksCreated } }`, map[string]any{"d": ds}, &rep)
	if rep.R.Written || rep.R.EntitiesCreated != n-2000 {
		t.Errorf("dry run %+v, want %d entities that would be created, nothing written", rep.R, n-2000)
	}
	a.mustAs(tok, countQ, nil, &count)
	if count.C.TotalCount != before {
		t.Errorf("the dry run wrote: %d cooperatives", count.C.TotalCount)
	}
	_ = context.Background
}

// erasePerson removes personal data, from the history too, and keeps the
// links, anonymised.
func TestErasePersonRemovesPersonalDataEverywhere(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	admin := a.newToken("root", kb.RoleAdmin)
	id := a.idOf(admin, "malwina-pokrywka")
	a.mustAs(admin, `mutation($id: ID!) { updatePerson(id: $id, input: {email: "malwina@example.org", phone: "+48 600 000 000"}) { id } }`,
		map[string]any{"id": id}, nil)
	var got struct {
		P struct {
			Name, Key string
			Email     *string
			Links     struct{ TotalCount int }
			History   struct {
				Nodes []struct {
					Operation     string
					Before, After any
				}
			}
		} `json:"erasePerson"`
	}
	a.mustAs(admin, `mutation($id: ID!) { erasePerson(id: $id) { name key email links { totalCount } history { nodes { operation before { `+stateFields+` } after { `+stateFields+` } } } } }`,
		map[string]any{"id": id}, &got)
	if got.P.Name != "Erased person" || strings.Contains(got.P.Key, "malwina") || got.P.Email != nil {
		t.Errorf("erased person %+v", got.P)
	}
	if got.P.Links.TotalCount == 0 {
		t.Errorf("the links went with the person; want them kept")
	}
	for _, r := range got.P.History.Nodes {
		if r.Before != nil || r.After != nil {
			t.Errorf("revision %s still holds data: %v %v", r.Operation, r.Before, r.After)
		}
	}
	// Her record, her contact details and every link that named her key are
	// gone from the log. (Articles that mention her in their own summaries
	// are other entries' published text and stay.)
	var n int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM revision
		WHERE concat(before::text, after::text) ~* 'malwina-pokrywka|"name": "Malwina Pokrywka"|malwina@example|600 000 000|reprezentowała nas Malwina'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d revisions still hold the person's data", n)
	}
	// Nor does the search index find her by her name or role.
	for _, q := range []string{"Malwina Pokrywka", "Pokrywka", "specjalistka"} {
		var found struct {
			Search struct {
				Nodes []struct {
					ID string `json:"id"`
				} `json:"nodes"`
			} `json:"search"`
		}
		a.mustAs(admin, `query($q: String!) { search(query: $q, types: [PERSON]) { nodes { id } } }`, map[string]any{"q": q}, &found)
		for _, n := range found.Search.Nodes {
			if n.ID == id {
				t.Errorf("search %q still finds the erased person", q)
			}
		}
	}
}

// Undoing an unlink makes the link again with its properties and sources;
// undoing a link's update restores it; undoing its creation unlinks.
func TestRevertOfLinks(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	tok := a.newToken("ed", kb.RoleEditor)
	src := a.idOf(tok, "artykul-innowacje-dla-wtz-sukces-naszego-modelu")
	coop, _ := a.create(tok, "createCooperative", minimalInputs["createCooperative"]("Spółdzielnia"))
	wtz := a.idOf(tok, "wtz-gebice")
	var made struct {
		L struct{ ID string } `json:"link"`
	}
	a.mustAs(tok, `mutation($f: ID!, $t: ID!, $s: ID!) { link(input: {from: $f, to: $t, type: EMPLOYS_PARTICIPANTS_OF, note: "n",
		confidence: 0.5, sources: [{source: $s, locator: "s. 1", quote: "q"}]}) { id } }`,
		map[string]any{"f": coop, "t": wtz, "s": src}, &made)
	const read = `query($id: ID!) { node(id: $id) { ... on Cooperative { links(direction: OUTGOING) { nodes {
		id type note confidence sources { locator quote source { id } } history { nodes { id operation } } } } } } }`
	type linkState struct {
		ID, Type, Note string
		Confidence     *float64
		Sources        []map[string]any
		History        struct {
			Nodes []struct{ ID, Operation string }
		}
	}
	type state struct {
		N struct {
			Links struct{ Nodes []linkState }
		} `json:"node"`
	}
	var st state
	a.mustAs(tok, read, map[string]any{"id": coop}, &st)
	orig := st.N.Links.Nodes[0]

	a.mustAs(tok, `mutation($id: ID!) { updateLink(id: $id, input: {note: null, confidence: 0.9, sources: []}) { id } }`, map[string]any{"id": made.L.ID}, nil)
	st = state{}
	a.mustAs(tok, read, map[string]any{"id": coop}, &st)
	upd := st.N.Links.Nodes[0]
	if upd.Note != "" || *upd.Confidence != 0.9 || len(upd.Sources) != 0 || upd.History.Nodes[0].Operation != "UPDATE" {
		t.Fatalf("after updateLink: %+v", upd)
	}
	a.mustAs(tok, `mutation($r: ID!) { revert(revisionId: $r) { id } }`, map[string]any{"r": upd.History.Nodes[0].ID}, nil)
	st = state{}
	a.mustAs(tok, read, map[string]any{"id": coop}, &st)
	got := st.N.Links.Nodes[0]
	if got.Note != orig.Note || *got.Confidence != *orig.Confidence || !jsonEqual(got.Sources, orig.Sources) {
		t.Errorf("after reverting the update: %+v, want %+v", got, orig)
	}

	a.mustAs(tok, `mutation($id: ID!) { unlink(id: $id) { deletedLinkId } }`, map[string]any{"id": made.L.ID}, nil)
	var rev int64
	if err := a.Pool.QueryRow(context.Background(), `SELECT max(id) FROM revision WHERE operation = 'delete' AND link_id IS NOT NULL`).Scan(&rev); err != nil {
		t.Fatal(err)
	}
	a.mustAs(tok, `mutation($r: ID!) { revert(revisionId: $r) { operation } }`, map[string]any{"r": relayID("Revision", rev)}, nil)
	st = state{}
	a.mustAs(tok, read, map[string]any{"id": coop}, &st)
	if len(st.N.Links.Nodes) != 1 {
		t.Fatalf("after reverting the unlink: %d links, want 1", len(st.N.Links.Nodes))
	}
	back := st.N.Links.Nodes[0]
	if back.Note != orig.Note || *back.Confidence != *orig.Confidence || !jsonEqual(back.Sources, orig.Sources) {
		t.Errorf("the link made again: %+v, want %+v", back, orig)
	}
	// Undoing its (re)creation unlinks it.
	a.mustAs(tok, `mutation($r: ID!) { revert(revisionId: $r) { operation } }`, map[string]any{"r": back.History.Nodes[0].ID}, nil)
	st = state{}
	a.mustAs(tok, read, map[string]any{"id": coop}, &st)
	if len(st.N.Links.Nodes) != 0 {
		t.Errorf("after reverting the creation: %d links, want 0", len(st.N.Links.Nodes))
	}
}

// Undoing the deletion of an entry makes it again under its old ID, with
// every field, its sources and the links that went with it.
func TestRevertOfADeletionBringsTheEntryBackWithItsLinks(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	admin := a.newToken("root", kb.RoleAdmin)
	id := a.idOf(admin, "wtz-gebice")
	const read = `query($id: ID!) { node(id: $id) { ... on Partner { id key name summary publicationStatus sector partnerKind city
		sources { locator quote source { id } }
		links(first: 100) { totalCount nodes { id type note role sources { locator quote } } } } } }`
	var before, after struct {
		N map[string]any `json:"node"`
	}
	a.mustAs(admin, read, map[string]any{"id": id}, &before)
	a.mustAs(admin, `mutation($id: ID!) { deleteEntity(id: $id, confirm: true) { deleted } }`, map[string]any{"id": id}, nil)
	var rev int64
	if err := a.Pool.QueryRow(context.Background(), `SELECT max(id) FROM revision WHERE operation = 'delete' AND entity_id IS NOT NULL`).Scan(&rev); err != nil {
		t.Fatal(err)
	}
	var got struct {
		R struct{ Operation string } `json:"revert"`
	}
	a.mustAs(admin, `mutation($r: ID!) { revert(revisionId: $r) { operation } }`, map[string]any{"r": relayID("Revision", rev)}, &got)
	if got.R.Operation != "REVERT" {
		t.Errorf("the revert's revision: %+v", got.R)
	}
	a.mustAs(admin, read, map[string]any{"id": id}, &after)
	if !jsonEqual(after.N, before.N) {
		t.Errorf("after undoing the deletion:\n%v\nwant:\n%v", after.N, before.N)
	}
	// The entry is back in the search index too.
	var found struct {
		Search struct {
			Nodes []struct {
				ID string `json:"id"`
			} `json:"nodes"`
		} `json:"search"`
	}
	a.mustAs(admin, `{ search(query: "warsztat gebice", types: [PARTNER]) { nodes { id } } }`, nil, &found)
	if len(found.Search.Nodes) == 0 || found.Search.Nodes[0].ID != id {
		t.Errorf("search after undoing the deletion: %+v, want the workshop first", found.Search.Nodes)
	}
}

// Entries of one name created at once get distinct keys, not a CONFLICT.
func TestConcurrentCreatesOfOneNameGetDistinctKeys(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{})
	tok := a.newToken("ed", kb.RoleEditor)
	const n = 10
	keys := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got struct {
				P struct{ Key string } `json:"createProject"`
			}
			_, r := a.postAs(tok, `mutation { createProject(input: {name: "Wspólny projekt"}) { key } }`, nil)
			if len(r.Errors) > 0 {
				t.Errorf("create %d: %+v", i, r.Errors)
				return
			}
			_ = json.Unmarshal(r.Data, &got)
			keys[i] = got.P.Key
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, "wspolny-projekt") || seen[k] {
			t.Errorf("keys %v: want distinct wspolny-projekt, wspolny-projekt-2, ...", keys)
			break
		}
		seen[k] = true
	}
}
