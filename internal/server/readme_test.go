package server_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/server"
)

// TestREADMEQueries runs the example queries of README.md against the
// reference data: they must succeed and say what the README says.
func TestREADMEQueries(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	// What each example's answer must contain, in README order.
	want := [][]string{
		{`"isFull":true`, `"Konimpex Sp. z o.o.","sector":"PRIVATE"`, `"sector":"PUBLIC"`, `"role":"LEADER","sector":"SOCIAL"`},
		{"Coompanion", "Franstorps Verkstäder", "Ateljé Inuti", "Kooperativet Industrihuset", "Roslagens Ekonomiska Förening", "Kooperativet KOS", "Kooperativet Glöden"},
		{"Równe Szanse", `"activities":["CERAMICS"]`, `"name":"JOBS_PLANNED","value":8`, `"name":"WTZ_JOBS_PLANNED","value":5`},
		{`"totalCount":6`, `"recognizedIn":{"nodes":[{"name":"Krajowy Program`, `"cases":{"totalCount":`},
		{`"label":"employs participants of","direction":"OUTGOING"`, `"label":"founded by","direction":"INCOMING"`},
		{`"length":3`, `{"name":"Coompanion"},{"name":"Warsztaty Wymiany Doświadczeń w Szwecji"}`, `"type":"VISITED","direction":"INCOMING","label":"visited on"`},
		{`"truncated":false`, `"name":"Konimpex Sp. z o.o."`, `"type":"FOUNDED","direction":"INCOMING","role":"inicjator"`},
		{`"sectorMix":{"counts":[{"sector":"PUBLIC","count":1},{"sector":"SOCIAL","count":2},{"sector":"PRIVATE","count":1}]}`,
			`"partnerships":{"totalCount":0}`, `"groups":[{"key":["SOCIAL"],"count":4}`, `"mostConnected":[{"node":{"name":"Innowacyjny model`},
		{`"type":"EMPLOYS_PARTICIPANTS_OF","label":"employs participants of","inverseLabel":"participants employed by"`},
		{`"field":"summary"`, `\u003cmark\u003eceramikę\u003c/mark\u003e`, `"name":"Spółdzielnia Socjalna „Równe Szanse”"`},
		{`"name":"Kooperativet Glöden"`, `"name":"Kooperativet Industrihuset"`, `"name":"Kooperativet KOS"`},
	}
	if len(blocks) != len(want) {
		t.Fatalf("README has %d graphql examples, this test knows %d: update both together", len(blocks), len(want))
	}
	a := newAPI(t, "reference", server.Config{})
	// Examples with variables get the entities they are about.
	vars := map[string]any{}
	for name, key := range map[string]string{"from": "coompanion", "to": "wtz-gebice", "id": "spoldzielnia-socjalna-rowne-szanse"} {
		vars[name] = idOf(a, key)
	}
	for i, b := range blocks {
		var v map[string]any
		if strings.Contains(b[1], "$") {
			v = map[string]any{}
			for name, id := range vars {
				if strings.Contains(b[1], "$"+name+":") {
					v[name] = id
				}
			}
		}
		_, res := a.post(b[1], v)
		if len(res.Errors) > 0 {
			t.Errorf("example %d failed: %+v\n%s", i+1, res.Errors, b[1])
			continue
		}
		for _, w := range want[i] {
			if !strings.Contains(string(res.Data), w) {
				t.Errorf("example %d: the answer lacks %s:\n%.400s", i+1, w, res.Data)
			}
		}
	}
}
