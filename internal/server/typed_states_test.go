package server_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// stateFields selects every field of a revision state (RecordState).
const stateFields = `__typename
  ... on EntityRecord { key kind name summary status sources { source locator quote }
    partner { sector partnerKind legalForm country region city website registrationNumber }
    cooperative { coopStatus activities country region city foundedOn website registrationNumber }
    partnership { startsOn endsOn }
    goodPractice { description topics targetGroup resourcesNeeded evidence difficulties lessons transferPotential recognition }
    foreignExample { country region city model targetGroup lessonsForPoland homeAnalogue website }
    project { startsOn endsOn funding website }
    event { eventKind eventStatus startsOn endsOn country region city venue }
    person { publicRole email phone }
    source { sourceKind publisher publishedOn url language } }
  ... on LinkRecord { from to type role note startsOn endsOn sources { source locator quote } confidence }
  ... on IndicatorRecord { cooperativeKey indicator value unit asOf note citation { source locator quote } }`

// TestRecordTypesHoldEveryFieldOfTheDataSet fails when the data-set file
// (kb's JSON) has a field that the GraphQL record types, or their inputs,
// lack: a revision state would lose it and importDataset could not take it.
func TestRecordTypesHoldEveryFieldOfTheDataSet(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	var got struct {
		Schema struct {
			Types []struct {
				Name        string
				Fields      []struct{ Name string }
				InputFields []struct{ Name string }
			}
		} `json:"__schema"`
	}
	a.query(`{ __schema { types { name fields { name } inputFields { name } } } }`, nil, &got)
	fields := map[string][]string{}
	for _, ty := range got.Schema.Types {
		for _, f := range ty.Fields {
			fields[ty.Name] = append(fields[ty.Name], f.Name)
		}
		for _, f := range ty.InputFields {
			fields[ty.Name] = append(fields[ty.Name], f.Name)
		}
	}
	for record, v := range map[string]any{
		"EntityRecord": kb.Entity{}, "PartnerRecord": kb.Partner{}, "CooperativeRecord": kb.Cooperative{},
		"PartnershipRecord": kb.Partnership{}, "GoodPracticeRecord": kb.GoodPractice{}, "ForeignExampleRecord": kb.ForeignExample{},
		"ProjectRecord": kb.Project{}, "EventRecord": kb.Event{}, "PersonRecord": kb.Person{}, "SourceRecord": kb.Source{},
		"LinkRecord": kb.Link{}, "IndicatorRecord": kb.Indicator{}, "CitationRecord": kb.Citation{},
	} {
		for _, name := range jsonNames(reflect.TypeOf(v)) {
			for _, ty := range []string{record, record + "Input"} {
				name := name
				if renamed := indicatorOutputNames[name]; ty == "IndicatorRecord" && renamed != "" {
					name = renamed
				}
				if !slices.Contains(fields[ty], name) {
					t.Errorf("%s has no field %s, which the data set's %T holds", ty, name, v)
				}
			}
		}
	}
}

// indicatorOutputNames are the three fields IndicatorRecord names otherwise
// than the file (schema/dataset.graphqls says why).
var indicatorOutputNames = map[string]string{"entity": "entityKey", "cooperative": "cooperativeKey", "name": "indicator"}

// jsonNames returns the JSON field names of struct type t, embedded
// structs' included, as encoding/json writes them.
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			out = append(out, jsonNames(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

func TestRevisionStatesAndImportsAreTyped(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	tok := a.newToken("anna", kb.RoleEditor)

	// An import of an entry, a link and an indicator, in the typed input.
	ds := map[string]any{
		"entities": []any{map[string]any{"key": "typed-coop", "kind": "COOPERATIVE", "name": "Typed", "sources": []any{},
			"cooperative": map[string]any{"coopStatus": "REGISTERED", "activities": []string{"CATERING"}, "city": "Gębice", "foundedOn": "2020-05-04"}}},
		"links":      []any{map[string]any{"from": "wtz-gebice", "to": "typed-coop", "type": "SUPPORTS", "confidence": 0.5}},
		"indicators": []any{map[string]any{"cooperative": "typed-coop", "name": "MEMBERS", "value": 7, "asOf": "2026-01-31"}},
	}
	var rep struct {
		R struct {
			Written  bool
			Problems []struct{ Record, Message string }
		} `json:"importDataset"`
	}
	a.mustAs(tok, `mutation($d: DatasetInput!) { importDataset(dataset: $d) { written problems { record message } } }`, map[string]any{"d": ds}, &rep)
	if !rep.R.Written || len(rep.R.Problems) > 0 {
		t.Fatalf("import: %+v", rep.R)
	}

	type state struct {
		Typename    string `json:"__typename"`
		Key, Kind   string
		From, To    string
		Type        string
		Confidence  *float64
		Indicator   string
		Value       float64
		AsOf        *string
		Cooperative json.RawMessage
		Sources     []struct{ Source string }
	}
	var got struct {
		E struct {
			History struct {
				Nodes []struct {
					Operation     string
					Before, After *state
				}
			}
			Links struct {
				Nodes []struct {
					History struct {
						Nodes []struct{ After *state }
					}
				}
			}
		} `json:"entityByKey"`
	}
	a.mustAs(tok, `{ entityByKey(key: "typed-coop") { ... on Cooperative {
		history(first: 5) { nodes { operation before { `+stateFields+` } after { `+stateFields+` } } }
		links(first: 2) { nodes { history(first: 2) { nodes { after { `+stateFields+` } } } } } } } }`, nil, &got)
	var entity, indicator *state
	for _, n := range got.E.History.Nodes {
		switch n.Operation {
		case "CREATE":
			entity = n.After
		case "INDICATOR_CREATE":
			indicator = n.After
		}
	}
	var coop struct {
		CoopStatus string
		Activities []string
		FoundedOn  string
	}
	if entity == nil || entity.Typename != "EntityRecord" || entity.Key != "typed-coop" || entity.Kind != "COOPERATIVE" ||
		json.Unmarshal(entity.Cooperative, &coop) != nil || coop.CoopStatus != "REGISTERED" ||
		!slices.Equal(coop.Activities, []string{"CATERING"}) || coop.FoundedOn != "2020-05-04" || entity.Sources == nil {
		t.Errorf("the creation's state: %+v %+v", entity, coop)
	}
	if indicator == nil || indicator.Typename != "IndicatorRecord" || indicator.Indicator != "MEMBERS" || indicator.Value != 7 ||
		indicator.AsOf == nil || *indicator.AsOf != "2026-01-31" {
		t.Errorf("the indicator's state: %+v", indicator)
	}
	if len(got.E.Links.Nodes) != 1 || len(got.E.Links.Nodes[0].History.Nodes) == 0 {
		t.Fatalf("links: %+v", got.E.Links)
	}
	l := got.E.Links.Nodes[0].History.Nodes[0].After
	if l == nil || l.Typename != "LinkRecord" || l.From != "wtz-gebice" || l.To != "typed-coop" || l.Type != "SUPPORTS" ||
		l.Confidence == nil || *l.Confidence != 0.5 {
		t.Errorf("the link's state: %+v", l)
	}

	// What the types refuse, before anything runs.
	for _, tc := range []struct {
		name string
		d    map[string]any
	}{
		{"unknown field", map[string]any{"entities": []any{map[string]any{"key": "x", "kind": "PROJECT", "name": "x", "colour": "red"}}}},
		{"unknown kind", map[string]any{"entities": []any{map[string]any{"key": "x", "kind": "PLANET", "name": "x"}}}},
		{"date with a time", map[string]any{"links": []any{map[string]any{"from": "a", "to": "b", "type": "SUPPORTS", "startsOn": "2026-01-31T00:00:00Z"}}}},
		{"value not a number", map[string]any{"indicators": []any{map[string]any{"cooperative": "c", "name": "MEMBERS", "value": "many"}}}},
	} {
		e := a.failAs(tok, `mutation($d: DatasetInput!) { importDataset(dataset: $d) { written } }`, map[string]any{"d": tc.d})
		if e.Extensions["code"] != server.CodeBadUserInput {
			t.Errorf("%s: got %v (%s), want BAD_USER_INPUT", tc.name, e.Extensions["code"], e.Message)
		}
	}
}
