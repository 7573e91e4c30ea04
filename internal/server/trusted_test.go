package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/server"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// postRaw posts a JSON body and returns the decoded response.
func (a *api) postRaw(body map[string]any) response {
	a.t.Helper()
	b, _ := json.Marshal(body)
	res, err := http.Post(a.URL+"/graphql", "application/json", bytes.NewReader(b))
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		a.t.Fatalf("response is not JSON (%d): %s", res.StatusCode, raw)
	}
	return r
}

func TestTrustedDocumentsOnlyRunRegisteredOperations(t *testing.T) {
	dir := t.TempDir()
	doc := "query Partners { partners { totalCount } }\n"
	if err := os.WriteFile(filepath.Join(dir, "partners.graphql"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	docs, err := server.LoadTrustedDocuments(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, "reference", server.Config{TrustedDocuments: docs})

	apq := func(hash string) map[string]any {
		return map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}
	}
	for name, body := range map[string]map[string]any{
		"exact text":           {"query": doc},
		"text without newline": {"query": strings.TrimSpace(doc)},
		"hash only":            {"extensions": apq(sha(doc))},
		"hash and text":        {"query": doc, "extensions": apq(sha(doc))},
	} {
		if r := a.postRaw(body); len(r.Errors) > 0 || !strings.Contains(string(r.Data), "totalCount") {
			t.Errorf("%s: %+v %s, want the registered operation to run", name, r.Errors, r.Data)
		}
	}
	other := "{ partners { totalCount } }"
	for name, body := range map[string]map[string]any{
		"other text":              {"query": other},
		"unknown hash":            {"extensions": apq(sha(other))},
		"APQ registering its own": {"query": other, "extensions": apq(sha(other))},
		"introspection":           {"query": "{ __schema { queryType { name } } }"},
	} {
		r := a.postRaw(body)
		if len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "FORBIDDEN" || !strings.Contains(r.Errors[0].Message, "PARTNERGRAPH_TRUSTED_DOCUMENTS") {
			t.Errorf("%s: %+v %s, want FORBIDDEN naming PARTNERGRAPH_TRUSTED_DOCUMENTS", name, r.Errors, r.Data)
		}
	}
	// A request with neither a document nor a hash is malformed, whatever
	// the server trusts.
	if r := a.postRaw(map[string]any{}); len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "query" {
		t.Errorf("nothing: %+v, want BAD_USER_INPUT naming query", r.Errors)
	}
	if _, err := server.LoadTrustedDocuments(t.TempDir()); err == nil {
		t.Error("an empty folder of trusted documents loaded, want an error")
	}
}

func TestAutomaticPersistedQueriesWithoutTrustedDocuments(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	q := "{ partners { totalCount } }"
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha(q)}}
	// Apollo and urql clients match the message and the code to resend
	// the request with its document.
	if r := a.postRaw(map[string]any{"extensions": ext}); len(r.Errors) != 1 || r.Errors[0].Message != "PersistedQueryNotFound" ||
		r.Errors[0].Extensions["code"] != server.CodePersistedQueryNotFound || r.Data != nil {
		t.Errorf("unregistered hash: %+v %s, want PersistedQueryNotFound coded PERSISTED_QUERY_NOT_FOUND, without data", r.Errors, r.Data)
	}
	if r := a.postRaw(map[string]any{"query": q, "extensions": ext}); len(r.Errors) > 0 {
		t.Errorf("register: %+v", r.Errors)
	}
	if r := a.postRaw(map[string]any{"extensions": ext}); len(r.Errors) > 0 || !strings.Contains(string(r.Data), "totalCount") {
		t.Errorf("by hash: %+v %s", r.Errors, r.Data)
	}
}
