package tsclient

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, storetest.Migrated, storetest.Reference)
}

// TestTheGeneratedClientRunsTheREADMEQueries serves the reference data
// through the full HTTP stack and runs the TypeScript client on it: its
// types generated from the schema, compiled with tsc, its answers checked
// by the client itself (it exits 1 on a wrong one) and here.
func TestTheGeneratedClientRunsTheREADMEQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and runs graphql-codegen, tsc and node")
	}
	// Node and npm are on every machine the tests run on; scripts/ts-client
	// installs the pinned packages. Without them this test fails.
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: the TypeScript client needs Node.js and npm (scripts/setup installs them)", tool)
		}
	}
	pool, err := pgxpool.New(context.Background(), pgtest.NewDB(t, "reference"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, store.New(pool)).Handler())
	t.Cleanup(srv.Close)

	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "ts-client")
	cmd := exec.CommandContext(t.Context(), script, srv.URL+"/graphql")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("scripts/ts-client: %v\nstdout: %s\nstderr: %s", err, out, stderr)
	}
	var got struct {
		Project    string
		Practices  int
		Pages      int
		Best       string
		PathLength int
		Failures   []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("the client's report is not JSON: %v\n%s", err, out)
	}
	if len(got.Failures) > 0 || got.Practices != 6 || got.Pages != 2 || got.PathLength != 3 ||
		got.Best != "Spółdzielnia Socjalna „Równe Szanse”" {
		t.Errorf("the client reported %+v", got)
	}
}
