package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/partnergraph/partnergraph/graph"
	"github.com/partnergraph/partnergraph/migrations"
	"github.com/vektah/gqlparser/v2/ast"
)

// buildVersion describes this binary: what `partnergraph version` prints.
type buildVersion struct {
	Version    string // the module's version; "(devel)" for a build from a work tree
	Commit     string // vcs.revision; empty when the build carried no VCS information
	CommitTime string
	Modified   bool // the work tree had changes
	Go         string
	Platform   string
	SchemaHash string // sha256 of the embedded schema files, by name and content
	SchemaN    int    // how many files
	Migration  int    // the number of the newest embedded migration
	MigName    string
}

// readVersion reads the binary's build information (runtime/debug: the
// module version and, with VCS stamping, the commit), the schema files
// embedded in package graph and the migrations embedded in package
// migrations.
func readVersion() (buildVersion, error) {
	v := buildVersion{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.CommitTime = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	v.SchemaHash, v.SchemaN = schemaHash(graph.NewExecutableSchema(graph.Config{}).Schema())
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return v, fmt.Errorf("read the embedded migrations: %w", err)
	}
	for _, name := range names {
		num, _, _ := strings.Cut(path.Base(name), "_")
		if n, err := strconv.Atoi(num); err == nil && n > v.Migration {
			v.Migration, v.MigName = n, name
		}
	}
	return v, nil
}

// schemaHash hashes the schema files the server was generated from (gqlgen
// embeds them; each definition knows its file): their names and contents,
// in the order of their names. Two binaries with the same hash serve the
// same schema, comments included.
func schemaHash(s *ast.Schema) (string, int) {
	files := map[string]string{}
	add := func(p *ast.Position) {
		if p != nil && p.Src != nil && !p.Src.BuiltIn {
			files[p.Src.Name] = p.Src.Input
		}
	}
	for _, d := range s.Types {
		add(d.Position)
		for _, f := range d.Fields {
			add(f.Position)
		}
		for _, e := range d.EnumValues {
			add(e.Position)
		}
	}
	for _, d := range s.Directives {
		add(d.Position)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, name := range names {
		fmt.Fprintf(h, "%s\x00%d\x00%s", path.Base(name), len(files[name]), files[name])
	}
	return hex.EncodeToString(h.Sum(nil)), len(names)
}

// writeVersion prints v.
func writeVersion(w io.Writer, v buildVersion) {
	commit := "unknown (built without VCS information: go build -buildvcs=true in a git work tree stamps it)"
	if v.Commit != "" {
		commit = v.Commit
		if v.Modified {
			commit += " (modified)"
		}
		if v.CommitTime != "" {
			commit += ", " + v.CommitTime
		}
	}
	fmt.Fprintf(w, "partnergraph %s\ncommit:     %s\ngo:         %s %s\nschema:     sha256:%s (%d files)\nmigrations: %d (%s)\n",
		v.Version, commit, v.Go, v.Platform, v.SchemaHash, v.SchemaN, v.Migration, v.MigName)
}
