package kb

import (
	"errors"
	"testing"
)

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"Spółdzielnia Socjalna „Równe Szanse”", "spoldzielnia-socjalna-rowne-szanse"},
		{"  Łężeczki -- 2026!", "lezeczki-2026"},
		{"„”", "fallback"},
	} {
		if got := Slug(tc.name, "fallback"); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestTransition(t *testing.T) {
	for _, tc := range []struct {
		from PublicationStatus
		op   StatusOp
		want PublicationStatus
	}{
		{StatusDraft, OpPublish, StatusPublished},
		{StatusPublished, OpUnpublish, StatusDraft},
		{StatusPublished, OpArchive, StatusArchived},
		{StatusArchived, OpRestore, StatusDraft},
		{StatusArchived, OpPublish, ""},
		{StatusDraft, OpRestore, ""},
	} {
		got, err := Transition(tc.from, tc.op)
		if got != tc.want || (tc.want == "") != IsValidation(err) {
			t.Errorf("%s from %s: got %q, %v; want %q", tc.op, tc.from, got, err, tc.want)
		}
	}
}

func TestPatchEntityOmittedKeepsNullClears(t *testing.T) {
	e := &Entity{ID: 7, Key: "k", Kind: KindCooperative, Name: "Coop", Status: StatusPublished, Version: 3,
		Citations:   []Citation{{SourceID: 1, SourceKey: "s"}},
		Cooperative: &Cooperative{CoopStatus: CoopRegistered, Place: Place{City: "Gębice", Country: "PL"}, Website: "https://x.pl"}}
	got, err := PatchEntity(e, map[string]any{"website": nil, "status": "OPERATING", "foundedOn": "2024-05-01", "summary": "s"})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Cooperative
	if got.ID != 7 || got.Version != 3 || got.Name != "Coop" || got.Summary != "s" || got.Status != StatusPublished ||
		c.City != "Gębice" || c.Website != "" || c.CoopStatus != CoopOperating || c.FoundedOn == nil ||
		c.FoundedOn.Format("2006-01-02") != "2024-05-01" || len(got.Citations) != 1 {
		t.Errorf("patched: %+v %+v", got, c)
	}
	if e.Cooperative.Website != "https://x.pl" {
		t.Error("the patch changed the original")
	}
	if _, err := PatchEntity(e, map[string]any{"colour": "red"}); !IsValidation(err) {
		t.Errorf("unknown field: %v, want a validation error", err)
	}
}

func TestViewerRequire(t *testing.T) {
	if err := Anonymous.Require(RoleReader); err == nil || !isErr(err, ErrUnauthenticated) {
		t.Errorf("anonymous: %v", err)
	}
	if err := (Viewer{Name: "r", Role: RoleReader}).Require(RoleEditor); !isErr(err, ErrForbidden) {
		t.Errorf("reader: %v", err)
	}
	if err := (Viewer{Name: "a", Role: RoleAdmin}).Require(RoleEditor); err != nil {
		t.Errorf("admin: %v", err)
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }
