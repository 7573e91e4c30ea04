package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/pgserver"
	"github.com/partnergraph/partnergraph/migrations"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// flagLine matches a flag of a help text: "  --name" at the start of a
// line, then its variable or the end of the line.
var flagLine = regexp.MustCompile(`(?m)^  --([a-z0-9-]+)(?: \(|$)`)

// TestHelpAtEveryLevel: help, -h and --help of every command and
// subcommand print its usage, one example and only its own flags (each
// flag listed is the command's, and each of its flags is listed).
func TestHelpAtEveryLevel(t *testing.T) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		var own map[string]bool
		if c.own != nil {
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			c.own(fs)
			own = map[string]bool{}
			fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
		}
		for _, args := range [][]string{
			append([]string{"help"}, words...),
			append(append([]string{}, words...), "-h"),
			append(append([]string{}, words...), "--help"),
		} {
			var out bytes.Buffer
			if err := run(t.Context(), args, env(nil), &out); err != nil {
				t.Errorf("%q: %v", args, err)
				continue
			}
			help := out.String()
			if !strings.Contains(help, "usage: partnergraph "+c.name) {
				t.Errorf("%q: no usage line:\n%s", args, help)
			}
			if !strings.Contains(help, "\nexample:\n  "+c.example+"\n") || !strings.Contains(c.example, "partnergraph "+words[0]) {
				t.Errorf("%q: no example of the command:\n%s", args, help)
			}
			bit := commandBit(c.name)
			listed := map[string]bool{}
			for _, m := range flagLine.FindAllStringSubmatch(help, -1) {
				listed[m[1]] = true
				if own[m[1]] {
					continue
				}
				o, ok := optionNamed(m[1])
				if !ok || o.Cmds&bit == 0 {
					t.Errorf("%q lists --%s, which %s does not read", args, m[1], c.name)
				}
			}
			for _, o := range options() {
				if bit != 0 && o.Cmds&bit != 0 && len(c.subs) == 0 && !listed[o.Flag] {
					t.Errorf("%q does not list --%s", args, o.Flag)
				}
			}
			for f := range own {
				if !listed[f] {
					t.Errorf("%q does not list its own --%s", args, f)
				}
			}
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		var out bytes.Buffer
		if err := run(t.Context(), args, env(nil), &out); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		for _, c := range commands() {
			if !strings.Contains(c.name, " ") && !strings.Contains(out.String(), "\n  "+c.name+" ") {
				t.Errorf("%q does not list %s:\n%s", args, c.name, out.String())
			}
		}
		if flagLine.MatchString(out.String()) && args[0] != "help" {
			t.Errorf("%q lists flags; the root help lists commands", args)
		}
	}
	// Specific cases of the issue: export and generate do not list
	// serving flags, token create lists its own and token list not them.
	for _, tc := range []struct {
		args  []string
		has   []string
		lacks []string
	}{
		{[]string{"export", "-h"}, []string{"format", "out", "country", "data-dir", "progress"}, []string{"addr", "rate-limit", "entities"}},
		{[]string{"generate", "-h"}, []string{"entities", "graph-seed", "progress"}, []string{"addr", "base-iri", "format"}},
		{[]string{"token", "create", "-h"}, []string{"name", "role", "data-dir"}, []string{"addr", "progress"}},
		{[]string{"token", "list", "--help"}, []string{"data-dir"}, []string{"name", "role", "addr"}},
		{[]string{"import", "data.json", "-h"}, []string{"dry-run", "actor", "progress"}, []string{"addr"}},
	} {
		var out bytes.Buffer
		if err := run(t.Context(), tc.args, env(nil), &out); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		listed := map[string]bool{}
		for _, m := range flagLine.FindAllStringSubmatch(out.String(), -1) {
			listed[m[1]] = true
		}
		for _, f := range tc.has {
			if !listed[f] {
				t.Errorf("%q lacks --%s", tc.args, f)
			}
		}
		for _, f := range tc.lacks {
			if listed[f] {
				t.Errorf("%q lists --%s", tc.args, f)
			}
		}
	}
}

// optionNamed returns the option of the table with the flag name.
func optionNamed(name string) (option, bool) {
	for _, o := range options() {
		if o.Flag == name {
			return o, true
		}
	}
	return option{}, false
}

// runBinary runs partnergraph (this test binary) with args and vars in
// dir and returns its output and exit status.
func runBinary(t *testing.T, dir string, vars []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"PARTNERGRAPH_TEST_MAIN=1"}, vars...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// TestExitStatus: help exits 0 with the help on standard output; a
// command line that cannot be understood exits 2 with a message on
// standard error that says where to look.
func TestExitStatus(t *testing.T) {
	vars := []string{"DATABASE_URL=host=/nonexistent"} // nothing here may reach a database
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"token", "-h"}, {"token", "create", "--help"}, {"export", "-h"}, {"version"}, {"--version"}} {
		out, errOut, code := runBinary(t, "", vars, args...)
		if code != 0 || out == "" || errOut != "" {
			t.Errorf("%q: status %d, stdout %d bytes, stderr %q; want 0, the help, nothing", args, code, len(out), errOut)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"; "partnergraph help" lists the commands`},
		{[]string{"export", "--addr", ":1"}, `flag provided but not defined: -addr; "partnergraph export -h" lists its flags`},
		{[]string{"export", "--format", "pdf"}, "format"},
		{[]string{"token"}, "say create, list or revoke"},
		{[]string{"token", "frob"}, `unknown token command "frob"`},
		{[]string{"token", "create", "--role", "editor"}, "--name is required"},
		{[]string{"token", "revoke"}, "give the token's ID"},
		{[]string{"import"}, "give one data-set file"},
		{[]string{"help", "frob"}, `no command "frob"`},
		{[]string{"version", "--json"}, "unexpected arguments"},
		{[]string{"migrate", "extra"}, "unexpected arguments"},
		{[]string{"--db-max-conns", "zero"}, "-db-max-conns"},
	} {
		_, errOut, code := runBinary(t, "", vars, tc.args...)
		if code != 2 || !strings.HasPrefix(errOut, "partnergraph: ") || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: status %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	// A failure of the work, not of the call, stays 1.
	if _, errOut, code := runBinary(t, "", vars, "migrate"); code != 1 || errOut == "" {
		t.Errorf("migrate without a database: status %d, stderr %q; want 1", code, errOut)
	}
}

// TestVersion: version and --version print the same: the module version,
// the commit (or why there is none), Go's version, the schema's hash and
// the newest migration.
func TestVersion(t *testing.T) {
	var a, b bytes.Buffer
	if err := run(t.Context(), []string{"version"}, env(nil), &a); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"--version"}, env(nil), &b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("version and --version differ:\n%s\n%s", a.String(), b.String())
	}
	out := a.String()
	names, _ := fs.Glob(migrations.FS, "*.sql")
	newest := names[len(names)-1]
	schemaFiles, _ := filepath.Glob("../../schema/*.graphqls")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^partnergraph \S+\n`),
		regexp.MustCompile(`(?m)^commit: +(unknown \(built without VCS information|[0-9a-f]{40})`),
		regexp.MustCompile(`(?m)^go: +` + regexp.QuoteMeta(runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) + `$`),
		regexp.MustCompile(`(?m)^schema: +sha256:[0-9a-f]{64} \(\d+ files\)$`),
		regexp.MustCompile(`(?m)^migrations: ` + strings.TrimLeft(newest[:5], "0") + ` \(` + regexp.QuoteMeta(newest) + `\)$`),
	} {
		if !want.MatchString(out) {
			t.Errorf("version lacks %s:\n%s", want, out)
		}
	}
	v, err := readVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.SchemaN != len(schemaFiles) {
		t.Errorf("the schema hash covers %d files, schema/ has %d", v.SchemaN, len(schemaFiles))
	}
	// The hash follows the files' content and only that.
	load := func(input string) *ast.Schema {
		return gqlparser.MustLoadSchema(&ast.Source{Name: "a.graphqls", Input: "type Query { a: Int }"}, &ast.Source{Name: "b.graphqls", Input: input})
	}
	h1, n := schemaHash(load("extend type Query { b: Int }"))
	h2, _ := schemaHash(load("extend type Query { b: Int }"))
	h3, _ := schemaHash(load("extend type Query { b: String }"))
	if n != 2 || h1 != h2 || h1 == h3 {
		t.Errorf("schemaHash: %d files, same input %v, changed input %v", n, h1 == h2, h1 != h3)
	}
}

// TestDataDirNone: --data-dir none is a throwaway cluster in a temporary
// directory, removed at the end, and never a directory named "none".
func TestDataDirNone(t *testing.T) {
	cwd, err := os.MkdirTemp("", "partnergraph-cwd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(cwd) })
	cmd := exec.Command(os.Args[0], "db", "--data-dir", "none")
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "PARTNERGRAPH_TEST_MAIN=1", "PARTNERGRAPH_LOG_FORMAT=json", "DATABASE_URL=")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	dataDir := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "embedded PostgreSQL started" {
				dataDir <- line["data_dir"].(string)
			}
		}
	}()
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("db printed no URL: %v", err)
	}
	url = strings.TrimPrefix(strings.TrimSpace(url), "DATABASE_URL=")
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	var migrated bool
	if err := conn.QueryRow(t.Context(), `SELECT to_regclass('entity') IS NOT NULL`).Scan(&migrated); err != nil || !migrated {
		t.Errorf("the throwaway database is not migrated (%v)", err)
	}
	conn.Close(t.Context())
	var dir string
	select {
	case dir = <-dataDir:
	case <-time.After(10 * time.Second):
		t.Fatal("db did not log its data directory")
	}
	if filepath.Base(dir) == "none" || !strings.HasPrefix(dir, "/tmp/partnergraph-none-") {
		t.Errorf("data directory %s, want a fresh one in /tmp", dir)
	}
	if _, err := os.Stat(filepath.Join(cwd, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a directory named none in the working directory: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("db after SIGTERM: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the throwaway data directory %s is left behind: %v", dir, err)
	}
}

// TestEveryCommandBesideARunningServer runs each command of the CLI on
// the data directory of a running serve: each uses serve's PostgreSQL,
// the server sees what they wrote (a token the CLI made authenticates,
// then stops working once revoked) and keeps serving, and no second
// PostgreSQL is started. Long commands show no progress in a script and
// do with --progress always.
func TestEveryCommandBesideARunningServer(t *testing.T) {
	dir, err := os.MkdirTemp("", "partnergraph-beside-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := start(t, "PARTNERGRAPH_DATA_DIR="+dir, "PARTNERGRAPH_RATE_LIMIT=0")
	running, err := pgserver.FindRunning(dir)
	if err != nil || running == nil || running.Owner.Program != "partnergraph serve" {
		t.Fatalf("serve's PostgreSQL: %+v, %v", running, err)
	}
	ctx := t.Context()
	vars := env(map[string]string{"PARTNERGRAPH_DATA_DIR": dir, "PARTNERGRAPH_LOG_LEVEL": "error"})
	do := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, args, vars, &out); err != nil {
			t.Fatalf("%q beside serve: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	ask := func(token, query string) (int, string) {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"query": query})
		req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}

	secret := secretPattern.FindString(do("token", "create", "--name", "beside", "--role", "admin"))
	if status, body := ask(secret, "{ viewer { name role } }"); status != 200 || !strings.Contains(body, `"role":"ADMIN"`) {
		t.Fatalf("the CLI's token against the running server: %d %s", status, body)
	}
	if out := do("token", "list"); !strings.Contains(out, "beside") || !strings.Contains(out, "admin") {
		t.Errorf("token list: %s", out)
	}
	if out := do("migrate"); !strings.Contains(out, "migrations are current") {
		t.Errorf("migrate: %s", out)
	}
	if out := do("seed"); !strings.Contains(out, "0 created") {
		t.Errorf("seed over serve's reference data: %s", out)
	}

	file := filepath.Join(t.TempDir(), "data.json")
	b, _ := json.Marshal(map[string]any{"entities": []any{map[string]any{"key": "obok-serwera", "kind": "COOPERATIVE",
		"name": "Spółdzielnia obok serwera", "cooperative": map[string]any{"coopStatus": "REGISTERED"}}}})
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out := do("import", file); !strings.Contains(out, "entities 1 created") {
		t.Errorf("import: %s", out)
	}
	if _, body := ask(secret, `{ cooperatives { totalCount } }`); !strings.Contains(body, `"totalCount":2`) {
		t.Errorf("the server after the CLI's import: %s", body)
	}
	out := filepath.Join(t.TempDir(), "graph.json")
	do("export", "--format", "json", "--out", out)
	if b, err := os.ReadFile(out); err != nil || !bytes.Contains(b, []byte(`"key": "wtz-gebice"`)) {
		t.Errorf("export: %v, %d bytes", err, len(b))
	}
	if out := do("generate", "--entities", "1000", "--links", "1000", "--graph-seed", "9"); !strings.Contains(out, "generated 1000 entities") {
		t.Errorf("generate: %s", out)
	}
	if _, body := ask(secret, `{ entityByKey(key: "gen-9-0") { key } }`); !strings.Contains(body, `"key":"gen-9-0"`) {
		t.Errorf("the server after the CLI's generate: %s", body)
	}

	if out := do("reindex", "--all"); !regexp.MustCompile(`^reindexed [1-9]\d+ entities in `).MatchString(out) {
		t.Errorf("reindex --all: %s", out)
	}
	if _, body := ask(secret, `{ search(query: "obok serwera") { nodes { key } } }`); !strings.Contains(body, "obok-serwera") {
		t.Errorf("search after the CLI's reindex: %s", body)
	}

	// db prints serve's DATABASE_URL and, interrupted, leaves it running.
	dbCtx, stopDB := context.WithCancel(ctx)
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(dbCtx, []string{"db"}, vars, w); w.Close() }()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("db beside serve printed nothing: %v", err)
	}
	if !strings.Contains(line, "host="+running.SocketDir+" ") {
		t.Errorf("db printed %q, want serve's socket %s", line, running.SocketDir)
	}
	stopDB()
	go io.Copy(io.Discard, r) //nolint:errcheck // drain until closed
	if err := <-done; err != nil {
		t.Errorf("db: %v", err)
	}

	// The binary in a script (stderr a pipe) shows no progress; asked to,
	// it does.
	cli := []string{"PARTNERGRAPH_DATA_DIR=" + dir, "DATABASE_URL="}
	stdout, stderr, code := runBinary(t, "", cli, "export", "--format", "json")
	if code != 0 || !strings.Contains(stdout, `"key": "wtz-gebice"`) || strings.Contains(stderr, "\r") || strings.Contains(stderr, "export: writing") {
		t.Errorf("export in a script: status %d, stderr %q", code, stderr)
	}
	_, stderr, code = runBinary(t, "", append(cli, "PARTNERGRAPH_PROGRESS=always"), "export", "--format", "json")
	if code != 0 || !strings.Contains(stderr, "\rexport: writing json to standard output") {
		t.Errorf("export --progress always: status %d, stderr %q", code, stderr)
	}
	stdout, stderr, code = runBinary(t, "", cli, "import", file)
	if code != 0 || !strings.Contains(stdout, "1 unchanged") || strings.Contains(stderr, "\r") {
		t.Errorf("import in a script: status %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	_, stderr, code = runBinary(t, "", cli, "import", file, "--progress", "always", "--dry-run")
	if code != 0 || !strings.Contains(stderr, "\rimport: reading data.json") || !strings.Contains(stderr, "\rimport: validating (dry run) 1 entities") {
		t.Errorf("import --progress always: status %d, stderr %q", code, stderr)
	}

	if out := do("token", "revoke", "1"); !strings.Contains(out, "revoked") {
		t.Errorf("token revoke: %s", out)
	}
	if status, body := ask(secret, "{ viewer { name } }"); status != 401 || !strings.Contains(body, "UNAUTHENTICATED") {
		t.Errorf("the revoked token: %d %s", status, body)
	}
	if status, body := ask("", `{ cooperatives { totalCount } }`); status != 200 || !strings.Contains(body, `"totalCount":`) {
		t.Errorf("serve after the commands: %d %s", status, body)
	}
	if now, err := pgserver.FindRunning(dir); err != nil || now == nil || now.PID != running.PID {
		t.Errorf("PostgreSQL after the commands: %+v, %v; want serve's, pid %d", now, err, running.PID)
	}
	p.stop(t)
}

// TestServeWaitsForACommandsPostgreSQL: serve started while a command
// (here db) runs the embedded PostgreSQL does not use that server, which
// stops when the command ends: it says whom it waits for, and serves on a
// PostgreSQL of its own once the command has ended. A second serve on the
// same data directory fails.
func TestServeWaitsForACommandsPostgreSQL(t *testing.T) {
	dir, err := os.MkdirTemp("", "partnergraph-wait-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, stopDB := context.WithCancel(t.Context())
	defer stopDB()
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"db", "--data-dir", dir}, env(map[string]string{"PARTNERGRAPH_LOG_LEVEL": "error"}), w)
		w.Close()
	}()
	if _, err := bufio.NewReader(r).ReadString('\n'); err != nil {
		t.Fatalf("db printed nothing: %v (%v)", err, <-done)
	}
	go io.Copy(io.Discard, r) //nolint:errcheck // drain until closed

	p, serving := spawn(t, "PARTNERGRAPH_DATA_DIR="+dir)
	deadline := time.After(60 * time.Second)
	for waiting := false; !waiting; {
		select {
		case line := <-p.lines:
			waiting = line["msg"] == "waiting for the PostgreSQL on the data directory to stop" &&
				strings.Contains(line["owner"].(string), "partnergraph db")
		case addr := <-serving:
			t.Fatalf("serve serves on %s on the db command's PostgreSQL", addr)
		case err := <-p.exited:
			t.Fatalf("serve exited: %v", err)
		case <-deadline:
			t.Fatal("serve did not say it waits for the db command")
		}
	}
	stopDB()
	if err := <-done; err != nil {
		t.Fatalf("db: %v", err)
	}
	select {
	case p.addr = <-serving:
	case err := <-p.exited:
		t.Fatalf("serve exited: %v", err)
	case <-time.After(90 * time.Second):
		t.Fatal("serve did not serve after db ended")
	}
	if body := p.cooperatives(t); !strings.Contains(body, "Równe Szanse") {
		t.Errorf("serve after waiting: %s", body)
	}
	if running, err := pgserver.FindRunning(dir); err != nil || running == nil || running.Owner.Program != "partnergraph serve" {
		t.Errorf("PostgreSQL after db: %+v, %v; want serve's own", running, err)
	}
	_, stderr, code := runBinary(t, "", []string{"PARTNERGRAPH_DATA_DIR=" + dir, "DATABASE_URL=", "PARTNERGRAPH_ADDR=127.0.0.1:0"}, "serve")
	if code != 1 || !strings.Contains(stderr, "in use by") || !strings.Contains(stderr, "partnergraph serve") {
		t.Errorf("a second serve: status %d, stderr %q", code, stderr)
	}
	p.stop(t)
}

// TestTwoCommandsAtOnceOnAFreshDataDirectory: two processes started
// together on a data directory without a cluster make one cluster (one
// initdb) and one server between them, and both do their work.
func TestTwoCommandsAtOnceOnAFreshDataDirectory(t *testing.T) {
	dir, err := os.MkdirTemp("", "partnergraph-race-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	vars := []string{"PARTNERGRAPH_DATA_DIR=" + dir, "DATABASE_URL=", "PARTNERGRAPH_LOG_FORMAT=json"}
	type result struct {
		stdout, stderr string
		code           int
	}
	results := make(chan result, 2)
	for _, name := range []string{"first", "second"} {
		go func() {
			out, errOut, code := runBinary(t, "", vars, "token", "create", "--name", name, "--role", "reader")
			results <- result{out, errOut, code}
		}()
	}
	started := 0
	for range 2 {
		r := <-results
		if r.code != 0 || !secretPattern.MatchString(r.stdout) {
			t.Fatalf("token create at once: status %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		started += strings.Count(r.stderr, `"msg":"embedded PostgreSQL started"`)
	}
	if started < 1 {
		t.Error("neither command logged that it started PostgreSQL")
	}
	out, _, code := runBinary(t, "", vars, "token", "list")
	if code != 0 || !strings.Contains(out, "first") || !strings.Contains(out, "second") {
		t.Errorf("token list after both: status %d\n%s", code, out)
	}
	if entries, err := filepath.Glob(filepath.Join(dir, "pgdata*")); err != nil || len(entries) != 1 {
		t.Errorf("clusters in the data directory: %v, %v; want pgdata alone", entries, err)
	}
}
