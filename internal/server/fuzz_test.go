package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/server"
)

// The fuzz targets post hostile input through the full HTTP stack on the
// reference data. Every case must get a clean answer: no panic, no 5xx, a
// JSON body whose errors all carry a code other than INTERNAL, within the
// client's timeout. Their seeds (below and in testdata/fuzz) run as
// ordinary tests in go test; scripts/test fuzzes each for a bounded time.

var fuzzClient = &http.Client{Timeout: 30 * time.Second}

// checkClean posts body with contentType and fails t unless the answer is
// clean.
func checkClean(t *testing.T, url, contentType string, body []byte) {
	t.Helper()
	res, err := fuzzClient.Post(url+"/graphql", contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("no answer (%v) to %.200q", err, body)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 500 {
		t.Fatalf("status %d (%s) for %.200q", res.StatusCode, raw, body)
	}
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("answer is not JSON (%d): %.200s, for %.200q", res.StatusCode, raw, body)
	}
	for _, e := range r.Errors {
		code, _ := e.Extensions["code"].(string)
		if code == "" || code == server.CodeInternal {
			t.Fatalf("error without a clean code: %+v, for %.200q", e, body)
		}
	}
}

var fuzzAPI *api

// sharedAPI serves the reference data once for all fuzz inputs of a run.
func sharedAPI(f *testing.F) *api {
	if fuzzAPI == nil {
		fuzzAPI = newAPI(f, "reference", server.Config{})
		f.Cleanup(func() { fuzzAPI = nil })
	}
	return fuzzAPI
}

func deep(n int) string {
	return strings.Repeat("{ partners { nodes ", n) + "{ name }" + strings.Repeat(" }", 2*n)
}

func aliasBomb(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: partners(first: 100) { nodes { name } }", i)
	}
	b.WriteString(" }")
	return b.String()
}

func fragmentBomb(levels int) string {
	var b strings.Builder
	b.WriteString("{ partners(first: 100) { nodes { ...F0 } } }\n")
	for i := range levels {
		fmt.Fprintf(&b, "fragment F%d on Partner { a%d: name ...F%d ...F%d }\n", i, i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Partner { name }\n", levels)
	return b.String()
}

var sqlInjections = []string{
	`'; DROP TABLE entity; --`,
	`" OR 1=1 --`,
	`%' OR '%'='`,
	`\'; SELECT pg_sleep(10); --`,
	`$1) OR (1=1`,
	"\x00",
}

// FuzzGraphQL fuzzes the document and the variables (as JSON text).
func FuzzGraphQL(f *testing.F) {
	a := sharedAPI(f)
	seeds := []struct{ query, vars string }{
		{"{ partners { totalCount } }", ""},
		{deep(40), ""},
		{deep(2000), ""},
		{aliasBomb(200), ""},
		{fragmentBomb(30), ""},
		{"{ partners { nodes { ...A } } } fragment A on Partner { ...B } fragment B on Partner { ...A }", ""},
		{"{ partners { nodes { ...A } } } fragment A on Partner { name ...A }", ""},
		{strings.Repeat("{", 100000), ""},
		{"{ search(query: \"" + strings.Repeat("ś", 100000) + "\") { totalCount } }", ""},
		{"{ search(query: \"\xff\xfe\xc3\x28\") { totalCount } }", ""},
		{"\xff\xfe{ partners { totalCount } }", ""},
		{"query($f: PartnerFilter) { partners(filter: $f) { totalCount } }", `{"f": {"name": "\u0000", "country": "` + strings.Repeat("x", 10000) + `"}}`},
		{"query($id: ID!) { node(id: $id) { id } }", `{"id": "UGFydG5lcjotMQ"}`},
		{"query($id: ID!) { node(id: $id) { id } }", `{"id": "` + strings.Repeat("A", 600) + `"}`},
		{"query($ids: [ID!]!) { nodes(ids: $ids) { id } }", `{"ids": [` + strings.TrimSuffix(strings.Repeat(`"UGFydG5lcjox",`, 5000), ",") + `]}`},
		{"query($a: String) { partners(after: $a) { totalCount } }", `{"a": "eyJvIjoibmFtZSIsImkiOi0xfQ"}`},
		{"query($a: String) { partners(after: $a, last: 5) { totalCount } }", `{"a": "!!!"}`},
		{"{ partners(first: -1) { totalCount } }", ""},
		{"{ partners(first: 2147483648) { totalCount } }", ""},
		{"{ neighborhood(id: \"x\", depth: 99) { nodes { id } } }", ""},
		{"mutation { deleteEntity(id: \"UGFydG5lcjox\") }", ""},
		{"subscription { changes { kind } }", ""},
		{"", `{"x":`},
		{"query A { partners { totalCount } } query B { partners { totalCount } }", ""},
	}
	// The hostile run of issue 14: forged cursors, impossible dates, the
	// largest revision cursor (hostile_test.go).
	for _, h := range hostileInputs {
		v, _ := json.Marshal(h.vars)
		if h.vars == nil {
			v = nil
		}
		seeds = append(seeds, struct{ query, vars string }{h.query, string(v)})
	}
	for _, s := range sqlInjections {
		v, _ := json.Marshal(map[string]any{"f": map[string]any{"name": s, "city": s, "region": s, "country": s}, "q": s, "id": s, "a": s})
		seeds = append(seeds, struct{ query, vars string }{
			"query($f: PartnerFilter, $q: String!, $id: ID!, $a: String) { partners(filter: $f, after: $a) { totalCount } search(query: $q) { totalCount } node(id: $id) { id } }", string(v)})
	}
	for _, s := range seeds {
		f.Add(s.query, s.vars)
	}
	f.Fuzz(func(t *testing.T, query, vars string) {
		body := map[string]any{"query": query}
		if json.Valid([]byte(vars)) {
			body["variables"] = json.RawMessage(vars)
		}
		b, err := json.Marshal(body)
		if err != nil {
			t.Skip()
		}
		checkClean(t, a.URL, "application/json", b)
	})
}

// FuzzGraphQLBody fuzzes the raw request body and its content type.
func FuzzGraphQLBody(f *testing.F) {
	a := sharedAPI(f)
	batch := "[" + strings.TrimSuffix(strings.Repeat(`{"query":"{ partners { totalCount } }"},`, 1000), ",") + "]"
	for _, s := range []struct{ body, contentType string }{
		{`{"query":"{ partners { totalCount } }"}`, "application/json"},
		{batch, "application/json"},
		{"  " + batch, "application/json; charset=utf-8"},
		{`{"query":"{ partners { totalCount } }"}`, "text/plain"},
		{`{ partners { totalCount } }`, "application/graphql"},
		{`query={ partners { totalCount } }`, "application/x-www-form-urlencoded"},
		{"--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--", "multipart/form-data; boundary=x"},
		{`{"query": 1}`, "application/json"},
		{`{"query":"{ partners { totalCount } }","variables":[]}`, "application/json"},
		{`{"query":"{ partners { totalCount } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"zz"}}}`, "application/json"},
		{"\xff\xfe\x00", "application/json"},
		{"null", "application/json"},
		{"", ""},
		{strings.Repeat(`{"a":`, 10000), "application/json"},
		// issue 14: a subscription over POST is refused at once, a body
		// with a NUL in a cursor's position is BAD_USER_INPUT.
		{`{"query":"subscription { changes { operation } }"}`, "application/json"},
		{`{"query":"query($a: String) { partners(after: $a) { totalCount } }","variables":{"a":"eyJvIjoiTkFNRV9BU0MiLCJ2IjoiYVx1MDAwMGIiLCJpIjoxfQ"}}`, "application/json"},
		{`{"query":"mutation { createProject(input: {name: \"x\", startsOn: \"2020-02-30\"}) { id } }"}`, "application/json"},
	} {
		f.Add([]byte(s.body), s.contentType)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, c := range []byte(contentType) {
			if c < 0x20 && c != '\t' || c == 0x7f {
				t.Skip("not a header value a client can send")
			}
		}
		checkClean(t, a.URL, contentType, body)
	})
}

// FuzzIDsAndCursors fuzzes global IDs and cursors where the API reads
// them: node(id:), a link target, and after/before.
func FuzzIDsAndCursors(f *testing.F) {
	a := sharedAPI(f)
	for _, s := range []string{
		relay.ID("Partner", 1), relay.ID("Partner", -1), relay.ID("Link", 1), relay.ID("Nope", 1),
		relay.Cursor{Order: "name", ID: 1}.Encode(), relay.Cursor{Order: "name", Value: "'; --", ID: 9}.Encode(),
		"", "=", "====", "UGFydG5lcjox=====", "not base64!", strings.Repeat("QUFB", 200), "\xff\xfe", "UGFydG5lcjo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
		// issue 14: positions that are not what the ordering stores.
		"eyJvIjoiQ1JFQVRFRF9BVF9BU0MiLCJ2IjoiZ2FyYmFnZSIsImkiOjF9",
		relay.Cursor{Order: "NAME_ASC", Value: "a\x00b", ID: 1}.Encode(),
		relay.Cursor{Order: "NAME_ASC", Value: "\xff", ID: 1}.Encode(),
		relay.Cursor{Order: "NAME_ASC", ID: 9223372036854775807}.Encode(),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, q := range []string{
			`query($s: ID!) { node(id: $s) { id } }`,
			`query($s: ID!) { nodes(ids: [$s, $s]) { id } }`,
			`query($s: ID!) { neighborhood(id: $s) { nodes { id } } }`,
			`query($s: String) { partners(after: $s) { totalCount pageInfo { endCursor } } }`,
			`query($s: String) { partners(before: $s, last: 3) { totalCount } }`,
			`query($s: String) { partners(after: $s, orderBy: {field: CREATED_AT}) { totalCount } }`,
			`query($s: String) { partners(before: $s, last: 3, orderBy: {field: UPDATED_AT, direction: DESC}) { totalCount } }`,
		} {
			b, err := json.Marshal(map[string]any{"query": q, "variables": map[string]any{"s": s}})
			if err != nil {
				t.Skip()
			}
			checkClean(t, a.URL, "application/json", b)
		}
	})
}
