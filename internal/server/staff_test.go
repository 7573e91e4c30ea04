package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// A staff member's first session, as docs/staff.md tells it: add a
// cooperative, link it to a partner and a practice with a source, look at
// its history, undo a change.
func TestStaffFirstSession(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	tok := a.newToken("anna", kb.RoleEditor)
	src := a.idOf(tok, "artykul-innowacje-dla-wtz-sukces-naszego-modelu")
	partner := a.idOf(tok, "wtz-gebice")
	practice := a.idOf(tok, "model-aktywizacji-zawodowej-uczestnikow-wtz")

	var created struct {
		C struct {
			ID, Key, PublicationStatus string
			Version                    int
			Sources                    []struct{ Locator string }
		} `json:"createCooperative"`
	}
	a.mustAs(tok, `mutation($src: ID!) { createCooperative(input: {
			name: "Spółdzielnia Socjalna „Dobre Ręce”", status: INITIATIVE_GROUP, activities: [SOAP_MAKING],
			city: "Gębice", country: "PL", sources: [{source: $src, locator: "s. 2"}]}) {
		id key publicationStatus version sources { locator } } }`, map[string]any{"src": src}, &created)
	c := created.C
	if c.Key != "spoldzielnia-socjalna-dobre-rece" || c.PublicationStatus != "DRAFT" || c.Version != 1 || len(c.Sources) != 1 {
		t.Fatalf("created %+v, want key spoldzielnia-socjalna-dobre-rece, DRAFT, version 1, one source", c)
	}

	var linked struct {
		L struct {
			ID, Label string
			Sources   []struct{ Quote string }
		} `json:"link"`
	}
	a.mustAs(tok, `mutation($from: ID!, $to: ID!, $src: ID!) { link(input: {from: $from, to: $to, type: EMPLOYS_PARTICIPANTS_OF,
			confidence: 0.9, sources: [{source: $src, locator: "s. 3", quote: "uczestnicy WTZ"}]}) { id label sources { quote } } }`,
		map[string]any{"from": c.ID, "to": partner, "src": src}, &linked)
	if linked.L.Label != "employs participants of" || len(linked.L.Sources) != 1 {
		t.Errorf("link %+v", linked.L)
	}
	a.mustAs(tok, `mutation($from: ID!, $to: ID!) { link(input: {from: $from, to: $to, type: DEMONSTRATES}) { id } }`,
		map[string]any{"from": c.ID, "to": practice}, nil)

	a.mustAs(tok, `mutation($id: ID!) { updateCooperative(id: $id, expectedVersion: 1, input: {status: REGISTERED, city: null}) { id } }`,
		map[string]any{"id": c.ID}, nil)

	var hist struct {
		N struct {
			Status  string  `json:"status"`
			City    *string `json:"city"`
			History struct {
				TotalCount int
				Nodes      []struct {
					ID, Actor, Operation string
					Before, After        map[string]any
				}
			}
		} `json:"node"`
	}
	q := `query($id: ID!) { node(id: $id) { ... on Cooperative { status city history { totalCount nodes { id actor operation before { ` + stateFields + ` } after { ` + stateFields + ` } } } } } }`
	a.mustAs(tok, q, map[string]any{"id": c.ID}, &hist)
	h := hist.N.History
	if h.TotalCount != 2 || h.Nodes[0].Operation != "UPDATE" || h.Nodes[0].Actor != "anna" || h.Nodes[1].Operation != "CREATE" {
		t.Fatalf("history %+v, want update then create by anna", h)
	}
	if hist.N.Status != "REGISTERED" || hist.N.City != nil {
		t.Fatalf("after update: status %s city %v, want REGISTERED and no city", hist.N.Status, hist.N.City)
	}

	a.mustAs(tok, `mutation($r: ID!) { revert(revisionId: $r) { operation } }`, map[string]any{"r": h.Nodes[0].ID}, nil)
	a.mustAs(tok, q, map[string]any{"id": c.ID}, &hist)
	if hist.N.Status != "INITIATIVE_GROUP" || hist.N.City == nil || *hist.N.City != "Gębice" {
		t.Errorf("after revert: status %s city %v, want INITIATIVE_GROUP in Gębice", hist.N.Status, hist.N.City)
	}
	if hist.N.History.TotalCount != 3 || hist.N.History.Nodes[0].Operation != "REVERT" {
		t.Errorf("history after revert: %+v, want a revert revision on top", hist.N.History)
	}

	// Anonymous readers do not see the draft; staff do.
	var anon struct{ Node *struct{ ID string } }
	a.mustAs("", `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": c.ID}, &anon)
	if anon.Node != nil {
		t.Errorf("anonymous reader sees the draft")
	}
}

func TestLinkRules(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	tok := a.newToken("ed", kb.RoleEditor)
	coop := a.idOf(tok, "spoldzielnia-socjalna-rowne-szanse")
	wtz := a.idOf(tok, "wtz-gebice")
	src := a.idOf(tok, "artykul-innowacje-dla-wtz-sukces-naszego-modelu")
	link := `mutation($from: ID!, $to: ID!, $type: RelationType!) { link(input: {from: $from, to: $to, type: $type}) { id } }`

	e := a.failAs(tok, link, map[string]any{"from": coop, "to": src, "type": "LEADS"})
	if e.Extensions["code"] != server.CodeBadUserInput || !strings.Contains(e.Message, "LEADS may join Partner to Project|Partnership") {
		t.Errorf("vocabulary breach: %s %v, want BAD_USER_INPUT naming the LEADS rule", e.Message, e.Extensions)
	}
	e = a.failAs(tok, link, map[string]any{"from": coop, "to": wtz, "type": "EMPLOYS_PARTICIPANTS_OF"})
	if e.Extensions["code"] != server.CodeConflict {
		t.Errorf("duplicate link: %s %v, want CONFLICT", e.Message, e.Extensions)
	}
	e = a.failAs(tok, link, map[string]any{"from": wtz, "to": wtz, "type": "SUPPORTS"})
	if e.Extensions["code"] != server.CodeBadUserInput || !strings.Contains(e.Message, "itself") {
		t.Errorf("self link: %s %v, want BAD_USER_INPUT", e.Message, e.Extensions)
	}
	e = a.failAs(tok, `mutation($from: ID!, $to: ID!) { link(input: {from: $from, to: $to, type: DEMONSTRATES, confidence: 1.5}) { id } }`,
		map[string]any{"from": coop, "to": a.idOf(tok, "model-aktywizacji-zawodowej-uczestnikow-wtz")})
	if e.Extensions["code"] != server.CodeBadUserInput {
		t.Errorf("confidence 1.5: %v, want BAD_USER_INPUT", e.Extensions)
	}
}

func TestUpdateIsPartialAndNullClears(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{})
	tok := a.newToken("ed", kb.RoleEditor)
	id, _ := a.create(tok, "createPartner", map[string]any{"name": "Fundacja X", "sector": "SOCIAL", "partnerKind": "FOUNDATION",
		"city": "Poznań", "website": "https://x.example.org"})
	var got struct {
		P struct {
			Name    string
			City    *string
			Website *string
			Version int
		} `json:"updatePartner"`
	}
	a.mustAs(tok, `mutation($id: ID!) { updatePartner(id: $id, input: {website: null, summary: "nowe"}) { name city website version } }`,
		map[string]any{"id": id}, &got)
	if got.P.Name != "Fundacja X" || got.P.City == nil || *got.P.City != "Poznań" || got.P.Website != nil || got.P.Version != 2 {
		t.Errorf("after update: %+v, want the name and city kept, the website cleared, version 2", got.P)
	}
	e := a.failAs(tok, `mutation($id: ID!) { updatePartner(id: $id, input: {name: null}) { name } }`, map[string]any{"id": id})
	if e.Extensions["code"] != server.CodeBadUserInput || e.Extensions["field"] != "name" {
		t.Errorf("clearing the name: %v, want BAD_USER_INPUT on name", e.Extensions)
	}
	e = a.failAs(tok, `mutation($id: ID!) { updatePartner(id: $id, expectedVersion: 1, input: {summary: "stale"}) { name } }`, map[string]any{"id": id})
	if e.Extensions["code"] != server.CodeConflict {
		t.Errorf("stale update: %v, want CONFLICT", e.Extensions)
	}
}

func TestDeleteSaysHowManyLinksGoAndWantsConfirmation(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	admin := a.newToken("root", kb.RoleAdmin)
	id := a.idOf(admin, "wtz-gebice")
	q := `mutation($id: ID!, $c: Boolean) { deleteEntity(id: $id, confirm: $c) { linkCount deleted } }`
	var got struct {
		D struct {
			LinkCount int
			Deleted   bool
		} `json:"deleteEntity"`
	}
	a.mustAs(admin, q, map[string]any{"id": id}, &got)
	if got.D.Deleted || got.D.LinkCount == 0 {
		t.Fatalf("without confirm: %+v, want not deleted and a link count", got.D)
	}
	n := got.D.LinkCount
	a.mustAs(admin, q, map[string]any{"id": id, "c": true}, &got)
	if !got.D.Deleted || got.D.LinkCount != n {
		t.Fatalf("with confirm: %+v, want deleted with %d links", got.D, n)
	}
	var after struct{ Node *struct{ ID string } }
	a.mustAs(admin, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &after)
	if after.Node != nil {
		t.Errorf("the entry is still there")
	}
}

// jsonEqual compares two decoded JSON values.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	var u, v any
	_ = json.Unmarshal(x, &u)
	_ = json.Unmarshal(y, &v)
	return reflect.DeepEqual(u, v)
}

func TestMalformedOrUnknownTokensAreRefused(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{})
	for _, h := range []string{"Basic dXNlcjpwYXNz", "Bearer", "Bearer pgr_unknown"} {
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { role } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", h)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r response
		_ = json.NewDecoder(res.Body).Decode(&r)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != server.CodeUnauthenticated {
			t.Errorf("Authorization %q: %d %+v, want 401 UNAUTHENTICATED", h, res.StatusCode, r.Errors)
		}
	}
	var v struct {
		Viewer struct {
			Name *string
			Role string
		}
	}
	a.mustAs("", `{ viewer { name role } }`, nil, &v)
	if v.Viewer.Role != "ANONYMOUS" || v.Viewer.Name != nil {
		t.Errorf("without a token: %+v, want ANONYMOUS", v.Viewer)
	}
}

// A person's contact details never leave through the public export or a
// public read, even when a published person has them.
func TestContactDetailsStayWithStaff(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	ed := a.newToken("ed", kb.RoleEditor)
	id := a.idOf(ed, "jolanta-grzech")
	a.mustAs(ed, `mutation($id: ID!) { updatePerson(id: $id, input: {email: "jolanta@example.org", phone: "+48 601 111 222"}) { id } }`,
		map[string]any{"id": id}, nil)
	var staff struct {
		N struct{ Email, Phone string } `json:"node"`
	}
	a.mustAs(ed, `query($id: ID!) { node(id: $id) { ... on Person { email phone } } }`, map[string]any{"id": id}, &staff)
	if staff.N.Email != "jolanta@example.org" || staff.N.Phone != "+48 601 111 222" {
		t.Errorf("staff read %+v", staff.N)
	}
	for _, format := range []string{"json", "jsonld", "csv", "graphml"} {
		res, err := http.Get(a.URL + "/export?format=" + format)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || strings.Contains(string(body), "jolanta@example.org") || strings.Contains(string(body), "601 111") {
			t.Errorf("export %s (%d) holds the contact details or failed", format, res.StatusCode)
		}
	}
	_, r := a.postAs("", `query($id: ID!) { node(id: $id) { ... on Person { name email } } }`, map[string]any{"id": id})
	if strings.Contains(string(r.Data), "jolanta@") || len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != server.CodeUnauthenticated {
		t.Errorf("anonymous read: %s %+v, want no email and UNAUTHENTICATED", r.Data, r.Errors)
	}
}
