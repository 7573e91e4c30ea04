package kb

import (
	"fmt"
	"strings"
)

// transitions are the changes of publication status: the operations
// publish, unpublish, archive and restore.
var transitions = map[Operation]struct {
	from []PublicationStatus
	to   PublicationStatus
}{
	OpPublish:   {[]PublicationStatus{StatusDraft}, StatusPublished},
	OpUnpublish: {[]PublicationStatus{StatusPublished}, StatusDraft},
	OpArchive:   {[]PublicationStatus{StatusDraft, StatusPublished}, StatusArchived},
	OpRestore:   {[]PublicationStatus{StatusArchived}, StatusDraft},
}

// Transition returns the status that op leads to from status from. It
// returns a *ValidationError when op does not apply to from: an archived
// entry is restored before it is published again.
func Transition(from PublicationStatus, op Operation) (PublicationStatus, error) {
	t, ok := transitions[op]
	if !ok {
		return "", Invalid("operation", "unknown status change %q", op)
	}
	for _, f := range t.from {
		if f == from {
			return t.to, nil
		}
	}
	return "", Invalid("publicationStatus", "cannot %s an entry that is %s", strings.ToLower(string(op)), from)
}

// Slug derives a key from a name: folded to lower case without diacritics
// ("Spółdzielnia Socjalna „Równe Szanse”" → "spoldzielnia-socjalna-rowne-szanse"),
// runs of other characters turned into one '-', at most 80 characters. A
// name with no letters or digits gives fallback.
func Slug(name, fallback string) string {
	var b strings.Builder
	dash := false
	for _, r := range Fold(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			if b.Len() >= 80 {
				break
			}
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return fallback
	}
	return b.String()
}

// String returns a short human description of e for messages.
func (e *Entity) String() string { return fmt.Sprintf("%s %q", e.Kind.TypeName(), e.Name) }
