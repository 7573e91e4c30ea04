package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/server"
)

// The cases of the hostile run of issue 14 (docs/security.md): each was
// answered with INTERNAL, without a code, or not at once.

// forgedCursor encodes a cursor by hand, as an attacker would.
func forgedCursor(order, value string, id int64) string {
	return relay.Cursor{Order: order, Value: value, ID: id}.Encode()
}

// hostileInputs are wrong inputs that must be BAD_USER_INPUT naming the
// field, never INTERNAL. The fuzz seeds include them.
var hostileInputs = []struct {
	name, query string
	vars        map[string]any
	staff       bool
	field       string
}{
	{"cursor value not a timestamp",
		`{ partners(after: "eyJvIjoiQ1JFQVRFRF9BVF9BU0MiLCJ2IjoiZ2FyYmFnZSIsImkiOjF9", orderBy: {field: CREATED_AT}) { totalCount } }`,
		nil, false, "after"},
	{"cursor timestamp out of range",
		`query($a: String) { partners(after: $a, orderBy: {field: UPDATED_AT}) { totalCount } }`,
		map[string]any{"a": forgedCursor("UPDATED_AT_ASC", "294277-01-01T00:00:00Z", 1)}, false, "after"},
	{"before cursor timestamp out of range",
		`query($a: String) { partners(before: $a, last: 2, orderBy: {field: CREATED_AT, direction: DESC}) { totalCount } }`,
		map[string]any{"a": forgedCursor("CREATED_AT_DESC", "-4714-01-01T00:00:00Z", 1)}, false, "before"},
	{"cursor name with a NUL",
		`query($a: String) { partners(after: $a) { totalCount } }`,
		map[string]any{"a": forgedCursor("NAME_ASC", "a\x00b", 1)}, false, "after"},
	{"date that does not exist", `mutation { createProject(input: {name: "x", startsOn: "2020-02-30"}) { id } }`, nil, true, "startsOn"},
	{"date that is not a date", `mutation { createProject(input: {name: "x", startsOn: "not-a-date"}) { id } }`, nil, true, "startsOn"},
	{"date as a number", `mutation { createProject(input: {name: "x", startsOn: 20200101}) { id } }`, nil, true, "startsOn"},
	{"date in a variable",
		`mutation($in: CreateProjectInput!) { createProject(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"name": "x", "startsOn": "2020-13-01"}}, true, "startsOn"},
	{"history cursor at the largest id",
		`query($id: ID!, $a: String) { node(id: $id) { ... on Project { history(after: $a) { totalCount nodes { id } } } } }`,
		map[string]any{"id": relay.ID("Project", 1), "a": forgedCursor("REVISION", "", 9223372036854775807)}, true, ""},
}

func TestHostileInputIsBadUserInputNotInternal(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	ed := a.newToken("ed", kb.RoleEditor)
	for _, c := range hostileInputs {
		t.Run(c.name, func(t *testing.T) {
			tok := ""
			if c.staff {
				tok = ed
			}
			status, r := a.postAs(tok, c.query, c.vars)
			if c.name == "history cursor at the largest id" {
				// A cursor past every revision is a valid position: an empty page.
				if status != http.StatusOK || len(r.Errors) > 0 {
					t.Fatalf("status %d, errors %+v; want an empty page", status, r.Errors)
				}
				return
			}
			if len(r.Errors) == 0 {
				t.Fatalf("status %d, no error; data %s", status, r.Data)
			}
			e := r.Errors[0]
			if e.Extensions["code"] != server.CodeBadUserInput {
				t.Fatalf("got %+v, want BAD_USER_INPUT", e)
			}
			if c.field != "" && e.Extensions["field"] != c.field {
				t.Errorf("field %v, want %q (%s)", e.Extensions["field"], c.field, e.Message)
			}
		})
	}
}

// do sends a raw request and returns its status, headers and body.
func do(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, raw
}

// codeOf decodes an error body and returns the code of its first error.
func codeOf(t *testing.T, raw []byte) (string, string) {
	t.Helper()
	var r response
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) == 0 {
		t.Fatalf("not a JSON error body: %q", raw)
	}
	code, _ := r.Errors[0].Extensions["code"].(string)
	return code, r.Errors[0].Message
}

// chunked is a body of unknown length, sent with chunked encoding.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

// Every refusal at the HTTP level is JSON with a code.
func TestEveryRefusalHasACode(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	get := func(q, vars string) *http.Request {
		v := url.Values{"query": {q}}
		if vars != "" {
			v.Set("variables", vars)
		}
		req, _ := http.NewRequest(http.MethodGet, a.URL+"/graphql?"+v.Encode(), nil)
		return req
	}
	big := `{"query":"{ partners { totalCount } }","variables":{"x":"` + strings.Repeat("x", 2<<20) + `"}}`
	bigPost, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", chunked{strings.NewReader(big)})
	bigPost.Header.Set("Content-Type", "application/json")
	head, _ := http.NewRequest(http.MethodHead, a.URL+"/graphql", nil)
	badUpgrade, _ := http.NewRequest(http.MethodGet, a.URL+"/graphql", nil)
	badUpgrade.Header.Set("Connection", "Upgrade")
	badUpgrade.Header.Set("Upgrade", "websocket")
	subPost, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", strings.NewReader(`{"query":"subscription { changes { operation } }"}`))
	subPost.Header.Set("Content-Type", "application/json")
	subPost.Header.Set("Authorization", "Bearer "+a.newToken("ed", kb.RoleEditor))
	for _, c := range []struct {
		name   string
		req    *http.Request
		status int
		code   string
		say    string
	}{
		{"mutation over GET", get(`mutation { deleteEntity(id: "UGFydG5lcjox") { __typename } }`, ""), http.StatusMethodNotAllowed, server.CodeBadUserInput, "POST"},
		{"subscription over GET", get(`subscription { changes { operation } }`, ""), http.StatusBadRequest, server.CodeBadUserInput, "WebSocket"},
		{"undecodable variables", get(`query($n: String) { partners { totalCount } }`, `{"n":`), http.StatusBadRequest, server.CodeBadUserInput, "variables"},
		{"chunked body over 1 MiB", bigPost, http.StatusRequestEntityTooLarge, server.CodeLimitExceeded, "bytes"},
		{"subscription over POST", subPost, http.StatusBadRequest, server.CodeBadUserInput, "WebSocket"},
		{"WebSocket upgrade without a key", badUpgrade, http.StatusBadRequest, server.CodeBadUserInput, "Sec-WebSocket-Key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			status, h, raw := do(t, c.req)
			if status != c.status {
				t.Errorf("status %d, want %d: %s", status, c.status, raw)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			code, msg := codeOf(t, raw)
			if code != c.code || !strings.Contains(msg, c.say) {
				t.Errorf("code %q, message %q; want %s saying %q", code, msg, c.code, c.say)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("answered after %v, want at once", d)
			}
		})
	}
	// HEAD has no body by definition; the refusal still says what to use.
	status, h, _ := do(t, head)
	if status != http.StatusMethodNotAllowed || h.Get("Allow") == "" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Errorf("HEAD /graphql: %d, Allow %q, Content-Type %q; want 405 with Allow and a JSON type", status, h.Get("Allow"), h.Get("Content-Type"))
	}
}

// The readiness probe names no host or socket: the reason goes to the log.
func TestReadyzHidesTheReason(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{Ready: func(context.Context) error {
		return errors.New("dial tcp db.internal.example:5432: connection refused")
	}})
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/readyz", nil)
	status, _, raw := do(t, req)
	if status != http.StatusServiceUnavailable || bytes.Contains(raw, []byte("db.internal")) {
		t.Errorf("readyz: %d %s; want 503 without the cause", status, raw)
	}
	code, _ := codeOf(t, raw)
	if code != server.CodeUnavailable {
		t.Errorf("code %q, want UNAVAILABLE", code)
	}
}
