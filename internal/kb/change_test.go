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
		op   Operation
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
