package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/store"
)

// newToken stores a token of role named name and returns its secret.
func (a *api) newToken(name string, role kb.Role) string {
	a.t.Helper()
	secret, hash := auth.NewToken()
	if _, err := store.New(a.Pool).CreateToken(context.Background(), name, role, hash); err != nil {
		a.t.Fatal(err)
	}
	return secret
}

// postAs sends a query with a bearer token ("" for none) and returns the
// HTTP status and the decoded response.
func (a *api) postAs(token, query string, vars map[string]any) (int, response) {
	a.t.Helper()
	status, _, raw := a.send(token, query, vars, nil)
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		a.t.Fatalf("response is not JSON (%d): %s", status, raw)
	}
	return status, r
}

// send posts a query with a bearer token ("" for none) and the headers
// given, and returns the HTTP status, the response's headers and its body.
func (a *api) send(token, query string, vars map[string]any, headers map[string]string) (int, http.Header, []byte) {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, raw
}

// mustAs posts a query that must succeed and decodes its data into out.
func (a *api) mustAs(token, query string, vars map[string]any, out any) {
	a.t.Helper()
	status, r := a.postAs(token, query, vars)
	if status != http.StatusOK || len(r.Errors) > 0 {
		a.t.Fatalf("query failed (%d): %+v\n%s", status, r.Errors, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			a.t.Fatalf("decode %s: %v", r.Data, err)
		}
	}
}

// failAs posts a query that must fail and returns its first error.
func (a *api) failAs(token, query string, vars map[string]any) gqlError {
	a.t.Helper()
	_, r := a.postAs(token, query, vars)
	if len(r.Errors) == 0 {
		a.t.Fatalf("query succeeded, want an error: %s", r.Data)
	}
	return r.Errors[0]
}

// idOf returns the global ID of the entity with key, as staff sees it.
func (a *api) idOf(token, key string) string {
	a.t.Helper()
	var got struct {
		E *struct{ ID string } `json:"entityByKey"`
	}
	a.mustAs(token, `query($k: String!) { entityByKey(key: $k) { id } }`, map[string]any{"k": key}, &got)
	if got.E == nil {
		a.t.Fatalf("no entity %q", key)
	}
	return got.E.ID
}

var seq atomic.Int64

// unique returns a name no other call returns.
func unique(prefix string) string { return fmt.Sprintf("%s %d", prefix, seq.Add(1)) }

// minimal create inputs per kind, by mutation name.
var minimalInputs = map[string]func(name string) map[string]any{
	"createPartner": func(n string) map[string]any {
		return map[string]any{"name": n, "sector": "SOCIAL", "partnerKind": "ASSOCIATION"}
	},
	"createCooperative": func(n string) map[string]any {
		return map[string]any{"name": n, "status": "INITIATIVE_GROUP", "activities": []string{"CERAMICS"}}
	},
	"createPartnership":    func(n string) map[string]any { return map[string]any{"name": n} },
	"createGoodPractice":   func(n string) map[string]any { return map[string]any{"name": n, "topics": []string{"partnerstwo"}} },
	"createForeignExample": func(n string) map[string]any { return map[string]any{"name": n, "country": "SE"} },
	"createProject":        func(n string) map[string]any { return map[string]any{"name": n} },
	"createEvent": func(n string) map[string]any {
		return map[string]any{"name": n, "eventKind": "FORUM", "eventStatus": "PLANNED"}
	},
	"createPerson": func(n string) map[string]any { return map[string]any{"name": n, "email": "a@example.org"} },
	"createSource": func(n string) map[string]any { return map[string]any{"name": n, "sourceKind": "ARTICLE"} },
}

// create makes an entity through the API with mutation (createCooperative)
// and returns its ID and version.
func (a *api) create(token, mutation string, input map[string]any) (string, int) {
	a.t.Helper()
	var got map[string]struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	}
	typeName := mutation[len("create"):]
	a.mustAs(token, fmt.Sprintf(`mutation($in: Create%sInput!) { %s(input: $in) { id version } }`, typeName, mutation),
		map[string]any{"in": input}, &got)
	return got[mutation].ID, got[mutation].Version
}

func relayID(typeName string, id int64) string { return relay.ID(typeName, id) }
