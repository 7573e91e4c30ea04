package model

import (
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// Translation is the GraphQL Translation type.
type Translation struct {
	Field     kb.TextField
	Lang      string
	Text      string
	Machine   bool
	Place     int
	UpdatedBy *string
	UpdatedAt *time.Time
}

// TranslationsFrom maps an entry's translations, those into l only when l
// is not "".
func TranslationsFrom(ts []kb.Translation, l string) []*Translation {
	out := make([]*Translation, 0, len(ts))
	for _, t := range ts {
		if l != "" && t.Lang != l {
			continue
		}
		out = append(out, &Translation{Field: t.Field, Lang: t.Lang, Text: t.Text, Machine: t.Machine, Place: t.Place,
			UpdatedBy: Str(t.By), UpdatedAt: t.At})
	}
	return out
}
