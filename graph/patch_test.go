package graph

import (
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// An update input keeps what it omits, clears what it sets to null and
// sets the rest; the API's `status` of a cooperative is kb's CoopStatus;
// the entry it was applied to does not change.
func TestUpdatePatchOmittedKeepsNullClears(t *testing.T) {
	founded := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	cur := &kb.Entity{ID: 7, Key: "k", Kind: kb.KindCooperative, Name: "Coop", Status: kb.StatusPublished, Version: 3,
		Citations:   []kb.Citation{{SourceID: 1, SourceKey: "s"}},
		Cooperative: &kb.Cooperative{CoopStatus: kb.CoopRegistered, Place: kb.Place{City: "Gębice", Country: "PL"}, Website: "https://x.pl"}}
	operating, summary := kb.CoopOperating, "s"
	p, err := cooperativePatch(model.UpdateCooperativeInput{
		Website:   graphql.OmittableOf[*string](nil),
		Status:    graphql.OmittableOf(&operating),
		FoundedOn: graphql.OmittableOf(&founded),
		Summary:   graphql.OmittableOf(&summary),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.apply(cur)
	if err != nil {
		t.Fatal(err)
	}
	c := got.Cooperative
	if got.ID != 7 || got.Version != 3 || got.Name != "Coop" || got.Summary != "s" || got.Status != kb.StatusPublished ||
		c.City != "Gębice" || c.Website != "" || c.CoopStatus != kb.CoopOperating || c.FoundedOn == nil ||
		!c.FoundedOn.Equal(founded) || len(got.Citations) != 1 {
		t.Errorf("patched: %+v %+v", got, c)
	}
	if cur.Cooperative.Website != "https://x.pl" || cur.Cooperative.CoopStatus != kb.CoopRegistered || cur.Summary != "" {
		t.Error("the patch changed the entry it was applied to")
	}

	// A required field cannot be cleared; an empty list of sources clears
	// them, an omitted one keeps them.
	p, err = cooperativePatch(model.UpdateCooperativeInput{Status: graphql.OmittableOf[*kb.CooperativeStatus](nil)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.apply(cur); !kb.IsValidation(err) {
		t.Errorf("clearing the status: %v, want a validation error", err)
	}
	p, err = cooperativePatch(model.UpdateCooperativeInput{Sources: graphql.OmittableOf([]*model.CitationInput{})})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.apply(cur); err != nil || got.Citations != nil {
		t.Errorf("sources []: %v %v, want none", got.Citations, err)
	}
}

// A link's update changes its properties and keeps its ends and type.
func TestLinkPatch(t *testing.T) {
	conf := 0.9
	cur := &kb.Link{ID: 3, FromID: 1, ToID: 2, Type: kb.RelFounded, Role: "LEADER", Note: "n"}
	change, err := linkPatch(model.UpdateLinkInput{Note: graphql.OmittableOf[*string](nil), Confidence: graphql.OmittableOf(&conf)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := change(cur)
	if err != nil || got.Note != "" || got.Role != "LEADER" || got.Confidence == nil || *got.Confidence != 0.9 ||
		got.FromID != 1 || got.ToID != 2 || got.Type != kb.RelFounded || cur.Note != "n" {
		t.Errorf("patched link: %+v %v", got, err)
	}
}
