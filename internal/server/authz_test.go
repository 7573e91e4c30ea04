package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// op is one operation of the authorization matrix: prepare makes fresh
// state with the admin token and returns the query and its variables.
type op struct {
	name    string
	need    kb.Role
	prepare func(a *api, admin string) (string, map[string]any)
}

func authzOps() []op {
	var ops []op
	for _, mut := range []string{"createPartner", "createCooperative", "createPartnership", "createGoodPractice",
		"createForeignExample", "createProject", "createEvent", "createPerson", "createSource"} {
		typeName := mut[len("create"):]
		ops = append(ops,
			op{mut, kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
				return fmt.Sprintf(`mutation($in: Create%sInput!) { %s(input: $in) { id } }`, typeName, mut),
					map[string]any{"in": minimalInputs[mut](unique(typeName))}
			}},
			op{"update" + typeName, kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
				id, _ := a.create(admin, mut, minimalInputs[mut](unique(typeName)))
				return fmt.Sprintf(`mutation($id: ID!) { update%s(id: $id, input: {summary: "changed"}) { id } }`, typeName),
					map[string]any{"id": id}
			}},
		)
	}
	draft := func(a *api, admin string) string {
		id, _ := a.create(admin, "createProject", minimalInputs["createProject"](unique("Project")))
		return id
	}
	status := func(name, setup string) op {
		return op{name, kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
			id := draft(a, admin)
			if setup != "" {
				a.mustAs(admin, `mutation($id: ID!) { `+setup+`(id: $id) { id } }`, map[string]any{"id": id}, nil)
			}
			return `mutation($id: ID!) { ` + name + `(id: $id) { id } }`, map[string]any{"id": id}
		}}
	}
	linkPair := func(a *api, admin string) (string, string) {
		coop, _ := a.create(admin, "createCooperative", minimalInputs["createCooperative"](unique("Coop")))
		gp, _ := a.create(admin, "createGoodPractice", minimalInputs["createGoodPractice"](unique("GP")))
		return coop, gp
	}
	makeLink := func(a *api, admin string) string {
		from, to := linkPair(a, admin)
		var got struct{ Link struct{ ID string } }
		a.mustAs(admin, `mutation($f: ID!, $t: ID!) { link(input: {from: $f, to: $t, type: DEMONSTRATES}) { id } }`,
			map[string]any{"f": from, "t": to}, &got)
		return got.Link.ID
	}
	ops = append(ops,
		status("publish", ""), status("unpublish", "publish"), status("archive", ""), status("restore", "archive"),
		op{"deleteEntity", kb.RoleAdmin, func(a *api, admin string) (string, map[string]any) {
			return `mutation($id: ID!) { deleteEntity(id: $id, confirm: true) { deleted } }`, map[string]any{"id": draft(a, admin)}
		}},
		op{"link", kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
			from, to := linkPair(a, admin)
			return `mutation($f: ID!, $t: ID!) { link(input: {from: $f, to: $t, type: DEMONSTRATES}) { id } }`,
				map[string]any{"f": from, "t": to}
		}},
		op{"updateLink", kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
			return `mutation($id: ID!) { updateLink(id: $id, input: {note: "n"}) { id } }`, map[string]any{"id": makeLink(a, admin)}
		}},
		op{"unlink", kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
			return `mutation($id: ID!) { unlink(id: $id) { deletedLinkId } }`, map[string]any{"id": makeLink(a, admin)}
		}},
		op{"revert", kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
			id := draft(a, admin)
			var got struct {
				U struct {
					History struct{ Nodes []struct{ ID string } }
				} `json:"updateProject"`
			}
			a.mustAs(admin, `mutation($id: ID!) { updateProject(id: $id, input: {summary: "x"}) { history(first: 1) { nodes { id } } } }`,
				map[string]any{"id": id}, &got)
			return `mutation($r: ID!) { revert(revisionId: $r) { id } }`, map[string]any{"r": got.U.History.Nodes[0].ID}
		}},
		op{"erasePerson", kb.RoleAdmin, func(a *api, admin string) (string, map[string]any) {
			id, _ := a.create(admin, "createPerson", minimalInputs["createPerson"](unique("Person")))
			return `mutation($id: ID!) { erasePerson(id: $id) { id } }`, map[string]any{"id": id}
		}},
		op{"importDataset", kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
			key := fmt.Sprintf("imported-%d", seq.Add(1))
			return `mutation($d: DatasetInput!) { importDataset(dataset: $d) { written } }`, map[string]any{"d": map[string]any{
				"entities": []any{map[string]any{"key": key, "kind": "PROJECT", "name": key, "project": map[string]any{}}},
			}}
		}},
		op{"createToken", kb.RoleAdmin, func(a *api, admin string) (string, map[string]any) {
			return `mutation { createToken(name: "x", role: READER) { secret } }`, nil
		}},
		op{"revokeToken", kb.RoleAdmin, func(a *api, admin string) (string, map[string]any) {
			var got struct {
				C struct{ Token struct{ ID string } } `json:"createToken"`
			}
			a.mustAs(admin, `mutation { createToken(name: "victim", role: READER) { token { id } } }`, nil, &got)
			return `mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }`, map[string]any{"id": got.C.Token.ID}
		}},
		// Protected fields.
		op{"Query.tokens", kb.RoleAdmin, func(a *api, admin string) (string, map[string]any) {
			return `{ tokens { name } }`, nil
		}},
		op{"Person.email", kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
			return `{ people(first: 1) { nodes { email } } }`, nil
		}},
		op{"Person.phone", kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
			return `{ people(first: 1) { nodes { phone } } }`, nil
		}},
		op{"Entity.history", kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
			return `{ entityByKey(key: "wtz-gebice") { ... on Partner { history { totalCount } } } }`, nil
		}},
		op{"Link.history", kb.RoleEditor, func(a *api, admin string) (string, map[string]any) {
			return `{ entityByKey(key: "wtz-gebice") { links(first: 1) { nodes { history { totalCount } } } } }`, nil
		}},
	)
	return ops
}

// TestAuthorizationMatrix runs every mutation and protected field as an
// anonymous caller, a reader, an editor, an admin and a revoked token.
func TestAuthorizationMatrix(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	admin := a.newToken("admin", kb.RoleAdmin)
	callers := []struct {
		name  string
		role  kb.Role
		token string
	}{
		{"anonymous", kb.RoleAnonymous, ""},
		{"reader", kb.RoleReader, a.newToken("reader", kb.RoleReader)},
		{"editor", kb.RoleEditor, a.newToken("editor", kb.RoleEditor)},
		{"admin", kb.RoleAdmin, admin},
		{"revoked", kb.RoleAdmin, a.newToken("revoked", kb.RoleAdmin)},
	}
	st := store.New(a.Pool)
	ts, err := st.Tokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeToken(context.Background(), ts[len(ts)-1].ID); err != nil {
		t.Fatal(err)
	}
	for _, o := range authzOps() {
		for _, c := range callers {
			t.Run(o.name+"/"+c.name, func(t *testing.T) {
				a := *a
				a.t = t
				query, vars := o.prepare(&a, admin)
				status, r := a.postAs(c.token, query, vars)
				var code any
				if len(r.Errors) > 0 {
					code = r.Errors[0].Extensions["code"]
				}
				switch {
				case c.name == "revoked":
					if status != http.StatusUnauthorized || code != server.CodeUnauthenticated {
						t.Errorf("got %d %v, want 401 UNAUTHENTICATED", status, code)
					}
				case c.role.Allows(o.need):
					if status != http.StatusOK || len(r.Errors) > 0 {
						t.Errorf("got %d %+v, want success", status, r.Errors)
					}
				case c.role == kb.RoleAnonymous:
					if code != server.CodeUnauthenticated {
						t.Errorf("got %v (%+v), want UNAUTHENTICATED", code, r.Errors)
					}
				default:
					if code != server.CodeForbidden {
						t.Errorf("got %v (%+v), want FORBIDDEN", code, r.Errors)
					}
				}
			})
		}
	}
}
