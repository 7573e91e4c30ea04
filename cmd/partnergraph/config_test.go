package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestConfigDocIsCurrent: docs/configuration.md is what the option table
// writes; after a change of the table, `go generate ./cmd/partnergraph`
// brings it up to date.
func TestConfigDocIsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := writeConfigDoc(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Error("docs/configuration.md differs from the option table: run `go generate ./cmd/partnergraph` and commit the result")
	}
	for _, o := range options() {
		if !strings.Contains(want.String(), "`--"+o.Flag+"`") {
			t.Errorf("the doc lacks --%s", o.Flag)
		}
	}
}

// TestEveryOptionIsWellFormed checks the table itself: a flag and help
// for every row, names used once, every default accepted by its own
// parser, and a variable for every setting but the generator's.
func TestEveryOptionIsWellFormed(t *testing.T) {
	flags, envs := map[string]bool{}, map[string]bool{}
	for _, o := range options() {
		if o.Flag == "" || o.Help == "" || o.set == nil || o.Cmds == 0 {
			t.Errorf("%+v: a row needs a flag, help, a parser and commands", o)
		}
		if flags[o.Flag] || (o.Env != "" && envs[o.Env]) {
			t.Errorf("--%s / %s: used twice", o.Flag, o.Env)
		}
		flags[o.Flag], envs[o.Env] = true, true
		if o.Env == "" && o.Cmds != cmdGenerate {
			t.Errorf("--%s has no environment variable", o.Flag)
		}
		if o.Default == "" && o.DocDefault == "" {
			t.Errorf("--%s: no default to document", o.Flag)
		}
		if o.Default != "" {
			var c Config
			if err := o.set(&c, o.Default); err != nil {
				t.Errorf("--%s: its default %q is refused: %v", o.Flag, o.Default, err)
			}
		}
	}
}

// TestEverySettingHasAFlagThatWinsOverItsVariable: for each option with a
// variable (read as serve, or its first command that is not), the variable and the flag reach the same Config, and the flag
// wins over the variable.
func TestEverySettingHasAFlagThatWinsOverItsVariable(t *testing.T) {
	// Two valid values per kind of option, told apart by the parsed Config.
	values := map[string][2]string{
		"addr": {":1", ":2"}, "database-url": {"postgres://a/x", "postgres://b/y"}, "data-dir": {"/a", "/b"},
		"pg-bin": {"/a", "/b"}, "pg-user": {"a", "b"}, "db-max-conns": {"3", "4"},
		"db-plan-cache-mode": {"auto", "force_custom_plan"}, "log-level": {"debug", "error"}, "log-format": {"json", "text"},
		"seed": {"false", "true"}, "cors-origins": {"https://a.example", "https://b.example"}, "cors-credentials": {"true", "false"},
		"base-iri": {"https://a.example/", "https://b.example/"}, "shutdown-timeout": {"1s", "2s"}, "request-timeout": {"1s", "2s"},
		"db-statement-timeout": {"1s", "2s"}, "aggregate-cache": {"1s", "2s"}, "loader-wait": {"2ms", "3ms"},
		"response-cache": {"1s", "3s"}, "response-cache-mb": {"1", "2"}, "response-cache-entries": {"1", "2"},
		"max-depth": {"1", "2"}, "max-cost": {"1", "2"}, "max-aliases": {"1", "2"}, "max-root-fields": {"1", "2"}, "max-tokens": {"1", "2"},
		"rate-limit": {"1", "2"}, "rate-burst": {"1", "2"}, "staff-rate-limit": {"1", "2"}, "staff-rate-burst": {"1", "2"},
		"cost-rate": {"1", "2"}, "cost-burst": {"1", "2"}, "staff-cost-rate": {"1", "2"}, "staff-cost-burst": {"1", "2"},
		"introspection": {"false", "true"}, "trusted-documents": {"/a", "/b"}, "pprof-addr": {":1", ":2"},
		"database-replica-urls": {"postgres://r1/db", "postgres://r2/db"}, "replica-max-lag": {"2s", "3s"},
		"database-listen-url": {"postgres://a/db", "postgres://b/db"}, "db-exec-mode": {"cache_statement", "cache_describe"},
		"trusted-proxies": {"10.0.0.0/8", "192.0.2.1"}, "metrics-addr": {":3", ":4"},
		"otlp-endpoint": {"http://a", "http://b"}, "otlp-headers": {"api-key=a%20b", "x=1,y=2"}, "otlp-traces-endpoint": {"http://a/t", "http://b/t"},
		"gogc": {"50", "off"}, "memory-limit": {"1GiB", "2GiB"}, "traversal-index": {"false", "true"},
		"max-exports": {"1", "3"}, "max-exports-per-address": {"1", "2"}, "export-write-timeout": {"1s", "2s"}, "ws-init-timeout": {"1s", "2s"},
		"count-bound": {"10", "-1"}, "max-rows": {"10", "-1"}, "max-response-bytes": {"1000", "-1"},
		"heavy-cost": {"2000", "-1"}, "heavy-concurrency": {"1", "2"}, "heavy-queue": {"4", "-1"}, "heavy-wait": {"1s", "2s"}, "fair-share": {"10ms", "0s"}, "fair-wait": {"100ms", "1s"},
		"heavy-db-connections": {"0", "2"}, "heavy-db-nice": {"0", "10"}, "heavy-parallelism": {"2", "-1"},
		"heavy-demote-rows": {"1000", "-1"}, "heavy-demote-fields": {"500", "-1"},
		"access-log-sample": {"1", "0"}, "slow-request": {"0", "2s"},
		"progress": {"always", "never"},
	}
	for _, o := range options() {
		if o.Env == "" {
			continue // the generator's flags have no variable
		}
		cmd := "serve"
		for _, name := range []string{"serve", "export", "import", "generate"} {
			if o.Cmds&commandBit(name) != 0 {
				cmd = name
				break
			}
		}
		v, ok := values[o.Flag]
		if !ok {
			t.Errorf("--%s: no test values: add them here", o.Flag)
			continue
		}
		fromEnv, _, err := parseConfig(cmd, nil, env(map[string]string{o.Env: v[0]}))
		if err != nil {
			t.Errorf("%s=%s: %v", o.Env, v[0], err)
			continue
		}
		fromFlag, _, err := parseConfig(cmd, []string{"--" + o.Flag + "=" + v[0]}, env(nil))
		if err != nil {
			t.Errorf("--%s=%s: %v", o.Flag, v[0], err)
			continue
		}
		both, _, err := parseConfig(cmd, []string{"--" + o.Flag + "=" + v[1]}, env(map[string]string{o.Env: v[0]}))
		if err != nil {
			t.Errorf("--%s=%s over %s=%s: %v", o.Flag, v[1], o.Env, v[0], err)
			continue
		}
		flagOnly, _, _ := parseConfig(cmd, []string{"--" + o.Flag + "=" + v[1]}, env(nil))
		if !sameConfig(fromEnv, fromFlag) {
			t.Errorf("%s=%s and --%s=%s give different configurations", o.Env, v[0], o.Flag, v[0])
		}
		if !sameConfig(both, flagOnly) || sameConfig(both, fromEnv) {
			t.Errorf("--%s=%s does not win over %s=%s", o.Flag, v[1], o.Env, v[0])
		}
	}
}

// sameConfig reports whether two configurations hold the same settings.
func sameConfig(a, b Config) bool { return reflect.DeepEqual(a, b) }

// TestSecretsComeFromFiles: every secret of the table may come from the
// file its _FILE variable names, and is never quoted in an error.
func TestSecretsComeFromFiles(t *testing.T) {
	// A valid value and an invalid one per secret, the invalid one
	// holding something that must not reach an error message.
	samples := map[string][2]string{
		"database-url":          {"postgres://u:hunter2@db/x", ""},
		"otlp-headers":          {"api-key=hunter2", "api-key:hunter2"},
		"database-replica-urls": {"postgres://u:hunter2@r1/x,postgres://u:hunter2@r2/x", "mysql://u:hunter2@r1/x"},
		"database-listen-url":   {"postgres://u:hunter2@db/x", "postgres://u:hunter2@db:port/x"},
	}
	for _, o := range options() {
		if !o.Secret {
			continue
		}
		v, ok := samples[o.Flag]
		if !ok {
			t.Errorf("--%s is secret but has no sample here: add one", o.Flag)
			continue
		}
		file := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(file, []byte(v[0]+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, _, err := parseConfig("serve", nil, env(map[string]string{o.Env + "_FILE": file}))
		if err != nil {
			t.Fatalf("%s_FILE: %v", o.Env, err)
		}
		direct, _, _ := parseConfig("serve", nil, env(map[string]string{o.Env: v[0]}))
		if !sameConfig(c, direct) {
			t.Errorf("%s_FILE gives another configuration than %s", o.Env, o.Env)
		}
		if _, _, err := parseConfig("serve", nil, env(map[string]string{o.Env: v[0], o.Env + "_FILE": file})); err == nil || !strings.Contains(err.Error(), "both set") {
			t.Errorf("%s and %s_FILE both set: %v", o.Env, o.Env, err)
		}
		if _, _, err := parseConfig("serve", nil, env(map[string]string{o.Env + "_FILE": filepath.Join(t.TempDir(), "missing")})); err == nil || !strings.Contains(err.Error(), o.Env+"_FILE") {
			t.Errorf("%s_FILE naming a missing file: %v", o.Env, err)
		}
		if v[1] != "" {
			_, _, err := parseConfig("serve", nil, env(map[string]string{o.Env: v[1]}))
			if err == nil || !strings.Contains(err.Error(), o.Env) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%s=%s: error %v, want one naming the variable and not the value", o.Env, v[1], err)
			}
		}
	}
}

// TestSubcommandsListOnlyTheirFlags: -h of a subcommand lists its own
// settings and not serve's; a flag of serve is refused by export.
func TestSubcommandsListOnlyTheirFlags(t *testing.T) {
	for _, tc := range []struct {
		cmd        string
		has, lacks []string
	}{
		{"serve", []string{"-addr", "-max-cost", "-database-url", "-memory-limit"}, []string{"-entities", "-format"}},
		{"export", []string{"-format", "-base-iri", "-database-url", "-data-dir"}, []string{"-addr", "-rate-limit", "-seed", "-entities"}},
		{"generate", []string{"-entities", "-graph-seed", "-database-url"}, []string{"-addr", "-base-iri"}},
		{"migrate", []string{"-database-url", "-log-level"}, []string{"-addr", "-seed"}},
	} {
		var out bytes.Buffer
		c, _ := findCommand(tc.cmd)
		writeHelp(&out, c)
		for _, f := range tc.has {
			if !strings.Contains(out.String(), "  -"+f+"\n") && !strings.Contains(out.String(), "  -"+f+" (") {
				t.Errorf("%s -h lacks %s:\n%s", tc.cmd, f, out.String())
			}
		}
		for _, f := range tc.lacks {
			if strings.Contains(out.String(), "  -"+f+"\n") || strings.Contains(out.String(), "  -"+f+" (") {
				t.Errorf("%s -h lists %s", tc.cmd, f)
			}
		}
	}
	if _, _, err := parseConfig("export", []string{"--addr", ":1"}, env(nil)); err == nil || !strings.Contains(err.Error(), "-addr") {
		t.Errorf("export --addr: %v, want an error naming the flag", err)
	}
	// A variable of serve's is not read by other commands: a bad one does
	// not stop them.
	if c, _, err := parseConfig("migrate", nil, env(map[string]string{"PARTNERGRAPH_RATE_LIMIT": "lots"})); err != nil || c.RateLimit.Rate != 20 {
		t.Errorf("migrate with a bad PARTNERGRAPH_RATE_LIMIT: %v, rate %v", err, c.RateLimit.Rate)
	}
	if c, _, err := parseConfig("generate", []string{"--entities", "10", "--graph-seed", "3"}, env(nil)); err != nil || c.GenEntities != 10 || c.GraphSeed != 3 || c.GenLinks != 5_000_000 {
		t.Errorf("generate flags: %+v, %v", c, err)
	}
	if c, _, err := parseConfig("serve", []string{"--db-statement-timeout", "0"}, env(map[string]string{"PARTNERGRAPH_REQUEST_TIMEOUT": "5s"})); err != nil || c.StatementTimeout != 0 || c.RequestTimeout != 5*time.Second {
		t.Errorf("statement timeout off: %+v, %v", c, err)
	}
}
