package kb

// Earlier releases spelled four enum values the British way. The API now
// uses US spelling throughout (as GraphQL's ecosystem mostly does); for one
// release the old spellings are still read everywhere a value comes in: in
// GraphQL inputs (where the schema marks them deprecated), in import files
// and in revisions written before the rename. They are never written.
// CHANGELOG.md records the rename.

// legacyPartnerKinds maps the spellings of earlier releases to today's.
var legacyPartnerKinds = map[PartnerKind]PartnerKind{
	"REGIONAL_CENTRE": PartnerRegionalCenter,
	"SUPPORT_CENTRE":  PartnerSupportCenter,
}

// legacyRelationTypes maps the spellings of earlier releases to today's.
var legacyRelationTypes = map[RelationType]RelationType{
	"ORGANISED":     RelOrganized,
	"RECOGNISED_IN": RelRecognizedIn,
}

// Canonical returns k in today's spelling: a spelling of an earlier release
// becomes the value that replaced it, anything else is returned unchanged
// (and still checked by Valid).
func (k PartnerKind) Canonical() PartnerKind {
	if c, ok := legacyPartnerKinds[k]; ok {
		return c
	}
	return k
}

// Canonical returns t in today's spelling, as PartnerKind.Canonical does.
func (t RelationType) Canonical() RelationType {
	if c, ok := legacyRelationTypes[t]; ok {
		return c
	}
	return t
}

// UnmarshalText reads a partner kind in either spelling, so that import
// files and revisions written before the rename still load.
func (k *PartnerKind) UnmarshalText(b []byte) error {
	*k = PartnerKind(b).Canonical()
	return nil
}

// UnmarshalText reads a relation type in either spelling, as
// PartnerKind.UnmarshalText does.
func (t *RelationType) UnmarshalText(b []byte) error {
	*t = RelationType(b).Canonical()
	return nil
}
