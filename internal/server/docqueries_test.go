package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// docExample is a graphql block of README.md or docs/*.md, with the lines
// its answer must hold: the expect comment under it.
var docExample = regexp.MustCompile("(?s)```graphql\n(.*?)```\n(<!-- expect( as EDITOR)?\n(.*?)\n-->)?")

// TestDocQueries runs the example queries of README.md and docs/*.md
// against the reference data: each must succeed, and its answer must hold
// every line of the expect comment that follows it (`expect as EDITOR`:
// run with an editor's token, for the staff examples). A graphql block
// without one fails the test: write down what the example shows.
func TestDocQueries(t *testing.T) {
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"../../README.md"}, files...)
	a := newAPI(t, "reference", server.Config{})
	// Examples with variables get the entities they are about.
	vars := map[string]any{}
	for name, key := range map[string]string{"from": "coompanion", "to": "wtz-gebice", "id": "spoldzielnia-socjalna-rowne-szanse", "person": "malwina-pokrywka"} {
		vars[name] = idOf(a, key)
	}
	examples := map[string]int{}
	var editor string
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(f, "../../")
		for i, m := range docExample.FindAllStringSubmatch(string(text), -1) {
			query, expect := m[1], m[4]
			examples[name]++
			where := fmt.Sprintf("%s example %d", name, i+1)
			if m[2] == "" {
				t.Errorf("%s has no <!-- expect ... --> comment under it:\n%s", where, query)
				continue
			}
			var v map[string]any
			if strings.Contains(query, "$") {
				v = map[string]any{}
				for name, id := range vars {
					if strings.Contains(query, "$"+name+":") {
						v[name] = id
					}
				}
			}
			var res response
			if m[3] != "" {
				if editor == "" {
					editor = a.newToken("doc examples", kb.RoleEditor)
				}
				_, res = a.postAs(editor, query, v)
			} else {
				_, res = a.post(query, v)
			}
			if len(res.Errors) > 0 {
				t.Errorf("%s failed: %+v\n%s", where, res.Errors, query)
				continue
			}
			for _, w := range strings.Split(expect, "\n") {
				if !strings.Contains(string(res.Data), w) {
					t.Errorf("%s: the answer lacks %s:\n%.400s", where, w, res.Data)
				}
			}
		}
	}
	// The README opens with a handful of queries; the reference pages hold
	// more.
	if examples["README.md"] < 5 || examples["README.md"] > 8 || examples["docs/api.md"] < 5 || examples["docs/search.md"] < 2 {
		t.Errorf("examples per file: %v; want 5 to 8 in README.md, at least 5 in docs/api.md and 2 in docs/search.md", examples)
	}
}
