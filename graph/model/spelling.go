package model

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// The enums PartnerKind and RelationType are read through these functions
// rather than by a plain cast, so that the British spellings of earlier
// releases (deprecated in the schema, accepted for one release) reach the
// resolvers as today's values. See kb.PartnerKind.Canonical.

// MarshalPartnerKind writes a partner kind.
func MarshalPartnerKind(k kb.PartnerKind) graphql.Marshaler {
	return graphql.MarshalString(string(k.Canonical()))
}

// UnmarshalPartnerKind reads a partner kind in either spelling. The schema
// has already checked that v is one of the enum's values.
func UnmarshalPartnerKind(v any) (kb.PartnerKind, error) {
	s, err := graphql.UnmarshalString(v)
	return kb.PartnerKind(s).Canonical(), err
}

// MarshalRelationType writes a relation type.
func MarshalRelationType(t kb.RelationType) graphql.Marshaler {
	return graphql.MarshalString(string(t.Canonical()))
}

// UnmarshalRelationType reads a relation type in either spelling.
func UnmarshalRelationType(v any) (kb.RelationType, error) {
	s, err := graphql.UnmarshalString(v)
	return kb.RelationType(s).Canonical(), err
}
