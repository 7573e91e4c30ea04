package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/store"
)

var secretPattern = regexp.MustCompile(`pgr_[A-Za-z0-9_-]{43}`)

func TestTokenCreateListRevoke(t *testing.T) {
	url := pgtestDB(t)
	vars := env(map[string]string{"DATABASE_URL": url})
	var out bytes.Buffer
	if err := run(t.Context(), []string{"token", "create", "--name", "Anna Kowalska", "--role", "editor"}, vars, &out); err != nil {
		t.Fatal(err)
	}
	secret := secretPattern.FindString(out.String())
	if secret == "" {
		t.Fatalf("token create printed no secret:\n%s", out.String())
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool)
	v, err := st.ViewerByTokenHash(t.Context(), auth.Hash(secret))
	if err != nil || v.Name != "Anna Kowalska" || v.Role != kb.RoleEditor {
		t.Fatalf("the new token reads as %+v, %v; want Anna Kowalska, EDITOR", v, err)
	}
	var stored int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM api_token WHERE position($1::bytea in hash) > 0`, []byte(secret)).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("the secret itself is stored (%d, %v)", stored, err)
	}

	out.Reset()
	if err := run(t.Context(), []string{"token", "list"}, vars, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Anna Kowalska") || !strings.Contains(out.String(), "editor") || strings.Contains(out.String(), secret) {
		t.Errorf("token list:\n%s", out.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"token", "revoke", "1"}, vars, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ViewerByTokenHash(t.Context(), auth.Hash(secret)); !errors.Is(err, kb.ErrNotFound) {
		t.Errorf("revoked token: %v, want not found", err)
	}
	if err := run(t.Context(), []string{"token", "create", "--name", "x", "--role", "owner"}, vars, io.Discard); err == nil {
		t.Error("role owner accepted")
	}
}

func TestImportCommandIsAllOrNothing(t *testing.T) {
	url := pgtestDB(t)
	vars := env(map[string]string{"DATABASE_URL": url})
	if err := run(t.Context(), []string{"seed"}, vars, io.Discard); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "data.json")
	write := func(d any) {
		b, _ := json.Marshal(d)
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	good := map[string]any{"key": "nowa-spoldzielnia", "kind": "COOPERATIVE", "name": "Nowa Spółdzielnia",
		"cooperative": map[string]any{"coopStatus": "REGISTERED"}}
	bad := map[string]any{"key": "zla", "kind": "PARTNER", "name": "Zła", "partner": map[string]any{"sector": "NONE", "partnerKind": "OTHER"}}
	write(map[string]any{
		"entities": []any{good, bad},
		"links":    []any{map[string]any{"from": "nowa-spoldzielnia", "to": "wtz-gebice", "type": "EMPLOYS_PARTICIPANTS_OF"}},
	})
	var out bytes.Buffer
	err := run(t.Context(), []string{"import", file}, vars, &out)
	if err == nil || !strings.Contains(out.String(), "entities[1] (key zla): partner.sector") {
		t.Fatalf("import with a bad record: %v\n%s", err, out.String())
	}
	count := func() int {
		pool, err := pgxpool.New(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM entity`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ref := referenceEntities(t)
	if n := count(); n != ref {
		t.Fatalf("%d entities after the failed import, want %d", n, ref)
	}
	write(map[string]any{"entities": []any{good},
		"links": []any{map[string]any{"from": "nowa-spoldzielnia", "to": "wtz-gebice", "type": "EMPLOYS_PARTICIPANTS_OF"}}})
	out.Reset()
	if err := run(t.Context(), []string{"import", file, "--dry-run"}, vars, &out); err != nil || !strings.Contains(out.String(), "dry run") {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	if n := count(); n != ref {
		t.Fatalf("the dry run wrote: %d entities", n)
	}
	out.Reset()
	if err := run(t.Context(), []string{"import", file}, vars, &out); err != nil || !strings.Contains(out.String(), "entities 1 created") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if n := count(); n != ref+1 {
		t.Fatalf("%d entities after the import, want %d", n, ref+1)
	}
}

// A token made by the CLI works against a running server, and neither it
// nor a revoked one ever shows up in the logs.
func TestServeAcceptsTokensAndNeverLogsThem(t *testing.T) {
	url := pgtestDB(t)
	var out bytes.Buffer
	if err := run(t.Context(), []string{"token", "create", "--name", "ed", "--role", "editor"}, env(map[string]string{"DATABASE_URL": url}), &out); err != nil {
		t.Fatal(err)
	}
	secret := secretPattern.FindString(out.String())
	p := start(t, "DATABASE_URL="+url, "PARTNERGRAPH_LOG_LEVEL=debug")
	ask := func(token string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/graphql", strings.NewReader(`{"query":"{ viewer { name role } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := ask(secret); status != 200 || !strings.Contains(body, `"role":"EDITOR"`) {
		t.Errorf("with the token: %d %s", status, body)
	}
	if status, body := ask("pgr_unknown"); status != 401 || !strings.Contains(body, "UNAUTHENTICATED") {
		t.Errorf("with an unknown token: %d %s", status, body)
	}
	p.stop(t)
	for {
		select {
		case line := <-p.lines:
			b, _ := json.Marshal(line)
			if strings.Contains(string(b), secret) || strings.Contains(string(b), "pgr_unknown") {
				t.Errorf("a token in the log: %s", b)
			}
			continue
		default:
		}
		break
	}
}

// pgtestDB returns a fresh empty database.
func pgtestDB(t *testing.T) string { return pgtest.NewDB(t, "empty") }
