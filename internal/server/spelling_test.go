package server_test

import (
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
)

// TestEarlierSpellingsAreAcceptedAndNeverReturned checks the US spelling of
// the four enum values renamed in this release: the deprecated British
// spellings still work in inputs (filters, link types, new links), and
// every answer uses today's spelling.
func TestEarlierSpellingsAreAcceptedAndNeverReturned(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	type partners struct {
		Partners struct {
			Nodes []struct {
				Name string `json:"name"`
				Kind string `json:"partnerKind"`
			} `json:"nodes"`
		} `json:"partners"`
	}
	var us, uk partners
	a.query(`{ partners(filter: {kind: [REGIONAL_CENTER]}) { nodes { name partnerKind } } }`, nil, &us)
	a.query(`{ partners(filter: {kind: [REGIONAL_CENTRE]}) { nodes { name partnerKind } } }`, nil, &uk)
	if len(us.Partners.Nodes) == 0 || len(us.Partners.Nodes) != len(uk.Partners.Nodes) {
		t.Fatalf("regional centres: %v by the US spelling, %v by the British one; want the same, at least ROPS", us, uk)
	}
	for _, p := range uk.Partners.Nodes {
		if p.Kind != "REGIONAL_CENTER" {
			t.Errorf("%s answered as %s, want REGIONAL_CENTER", p.Name, p.Kind)
		}
	}

	type links struct {
		EntityByKey struct {
			Links struct {
				Nodes []struct {
					Type string `json:"type"`
				} `json:"nodes"`
			} `json:"links"`
		} `json:"entityByKey"`
	}
	var organized links
	a.query(`{ entityByKey(key: "iii-wielkopolskie-forum-wtz") { links(types: [ORGANISED]) { nodes { type } } } }`, nil, &organized)
	if len(organized.EntityByKey.Links.Nodes) == 0 {
		t.Fatal("the forum has no ORGANISED link, want the council's")
	}
	for _, l := range organized.EntityByKey.Links.Nodes {
		if l.Type != "ORGANIZED" {
			t.Errorf("link type %s, want ORGANIZED", l.Type)
		}
	}

	editor := a.newToken("editor", kb.RoleEditor)
	var made struct {
		Link struct {
			Type string `json:"type"`
		} `json:"link"`
	}
	a.mustAs(editor, `mutation($from: ID!, $to: ID!) { link(input: {from: $from, to: $to, type: RECOGNISED_IN}) { type } }`,
		map[string]any{
			"from": a.idOf(editor, "model-aktywizacji-zawodowej-uczestnikow-wtz"),
			"to":   a.idOf(editor, "artykul-warsztaty-wymiany-doswiadczen-w-szwecji"),
		}, &made)
	if made.Link.Type != "RECOGNIZED_IN" {
		t.Errorf("new link typed %s, want RECOGNIZED_IN", made.Link.Type)
	}

	// The schema says which spellings are deprecated.
	var schema struct {
		Type struct {
			EnumValues []struct {
				Name         string `json:"name"`
				IsDeprecated bool   `json:"isDeprecated"`
			} `json:"enumValues"`
		} `json:"__type"`
	}
	a.query(`{ __type(name: "RelationType") { enumValues(includeDeprecated: true) { name isDeprecated } } }`, nil, &schema)
	deprecated := map[string]bool{}
	for _, v := range schema.Type.EnumValues {
		deprecated[v.Name] = v.IsDeprecated
	}
	if !deprecated["ORGANISED"] || !deprecated["RECOGNISED_IN"] || deprecated["ORGANIZED"] || deprecated["RECOGNIZED_IN"] {
		t.Errorf("deprecated relation types %v, want exactly the British spellings", deprecated)
	}
}
