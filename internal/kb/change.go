package kb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// StatusOp is a change of publication status.
type StatusOp string

// The status changes.
const (
	OpPublish   StatusOp = "publish"   // DRAFT → PUBLISHED
	OpUnpublish StatusOp = "unpublish" // PUBLISHED → DRAFT
	OpArchive   StatusOp = "archive"   // DRAFT or PUBLISHED → ARCHIVED
	OpRestore   StatusOp = "restore"   // ARCHIVED → DRAFT
)

var transitions = map[StatusOp]struct {
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
func Transition(from PublicationStatus, op StatusOp) (PublicationStatus, error) {
	t, ok := transitions[op]
	if !ok {
		return "", Invalid("operation", "unknown status change %q", op)
	}
	for _, f := range t.from {
		if f == from {
			return t.to, nil
		}
	}
	return "", Invalid("publicationStatus", "cannot %s an entry that is %s", op, from)
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

// dateFields are the JSON names of the date fields of entities and links.
// The API writes them "2006-01-02"; kb.Date reads RFC 3339.
var dateFields = map[string]bool{"startsOn": true, "endsOn": true, "foundedOn": true, "publishedOn": true}

// inputNames maps the names of the API's input fields to the JSON names of
// the domain types where they differ.
var inputNames = map[Kind]map[string]string{
	KindCooperative: {"status": "coopStatus"},
}

// commonFields are the fields every entity has, outside its attributes.
var commonFields = map[string]bool{"key": true, "name": true, "summary": true}

// EntityFromFields builds an entity of kind from the flat fields of a create
// input (name, summary, key and the attributes of its kind). Unknown fields
// are a *ValidationError; the entity is not validated beyond its shape.
func EntityFromFields(kind Kind, fields map[string]any) (*Entity, error) {
	if !kind.Valid() {
		return nil, Invalid("kind", "unknown entity kind %q", kind)
	}
	doc := map[string]any{"kind": string(kind), attrField(kind): map[string]any{}}
	if err := mergeFields(kind, doc, fields); err != nil {
		return nil, err
	}
	var e Entity
	if err := decodeStrict(doc, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// PatchEntity returns a copy of e with the flat fields of an update input
// applied as a JSON merge patch (RFC 7396): an omitted field is unchanged,
// a null clears it. The id, kind, status, version and citations of e carry
// over. The result is not validated.
func PatchEntity(e *Entity, fields map[string]any) (*Entity, error) {
	doc, err := toMap(e)
	if err != nil {
		return nil, err
	}
	attrs := attrField(e.Kind)
	if _, ok := doc[attrs].(map[string]any); !ok {
		doc[attrs] = map[string]any{}
	}
	if err := mergeFields(e.Kind, doc, fields); err != nil {
		return nil, err
	}
	var out Entity
	if err := decodeStrict(doc, &out); err != nil {
		return nil, err
	}
	out.ID, out.Version, out.CreatedAt, out.UpdatedAt, out.CreatedBy, out.UpdatedBy =
		e.ID, e.Version, e.CreatedAt, e.UpdatedAt, e.CreatedBy, e.UpdatedBy
	out.Citations = e.Citations
	return &out, nil
}

// mergeFields merges flat input fields into the entity document doc.
func mergeFields(kind Kind, doc map[string]any, fields map[string]any) error {
	attrs := doc[attrField(kind)].(map[string]any)
	for name, v := range fields {
		if n, ok := inputNames[kind][name]; ok {
			name = n
		}
		if s, ok := v.(string); ok && dateFields[name] && len(s) == len("2006-01-02") {
			v = s + "T00:00:00Z"
		}
		target := attrs
		if commonFields[name] {
			target = doc
		}
		if v == nil {
			delete(target, name)
		} else {
			target[name] = v
		}
	}
	return nil
}

// PatchLink returns a copy of l with the fields of an update input (role,
// note, startsOn, endsOn, confidence) applied as a JSON merge patch. The
// ends, type and citations carry over.
func PatchLink(l *Link, fields map[string]any) (*Link, error) {
	doc, err := toMap(l)
	if err != nil {
		return nil, err
	}
	for name, v := range fields {
		switch name {
		case "role", "note", "startsOn", "endsOn", "confidence":
		default:
			return nil, Invalid(name, "a link's %s cannot be changed; unlink and link again", name)
		}
		if s, ok := v.(string); ok && dateFields[name] && len(s) == len("2006-01-02") {
			v = s + "T00:00:00Z"
		}
		if v == nil {
			delete(doc, name)
		} else {
			doc[name] = v
		}
	}
	var out Link
	if err := decodeStrict(doc, &out); err != nil {
		return nil, err
	}
	out.ID, out.FromID, out.ToID, out.Version, out.CreatedAt, out.CreatedBy = l.ID, l.FromID, l.ToID, l.Version, l.CreatedAt, l.CreatedBy
	out.Citations = l.Citations
	return &out, nil
}

func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// decodeStrict decodes doc into v, refusing unknown fields.
func decodeStrict(doc map[string]any, v any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return Invalid("", "cannot encode the input: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if ok := asTypeError(err, &te); ok {
			return Invalid(te.Field, "has the wrong type: %s", te.Value)
		}
		return Invalid("", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	t, ok := errors.AsType[*json.UnmarshalTypeError](err)
	if ok {
		*te = t
	}
	return ok
}

// String returns a short human description of e for messages.
func (e *Entity) String() string { return fmt.Sprintf("%s %q", e.Kind.TypeName(), e.Name) }
