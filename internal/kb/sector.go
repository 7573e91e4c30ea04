package kb

import "slices"

// SectorMix is which sectors take part in a partnership, derived from the
// sectors of its member partners.
type SectorMix struct {
	Counts  map[Sector]int
	Present []Sector // in canonical order
	Missing []Sector // in canonical order
}

// Full reports whether all three sectors take part: a full
// public-social-private partnership.
func (m SectorMix) Full() bool { return len(m.Missing) == 0 }

// MixOf derives the sector mix from member counts per sector.
func MixOf(counts map[Sector]int) SectorMix {
	m := SectorMix{Counts: map[Sector]int{}, Present: []Sector{}, Missing: []Sector{}}
	for _, s := range Sectors {
		n := counts[s]
		m.Counts[s] = n
		if n > 0 {
			m.Present = append(m.Present, s)
		} else {
			m.Missing = append(m.Missing, s)
		}
	}
	return m
}

// The sector mix of a cooperative is that of the partners around it, taken
// together: the members of the partnerships formed around it (FORMED_AROUND,
// then MEMBER_OF) or around a project that supports or funds it (one of
// CooperativeProjectsIn: a cooperative founded within a project rests on
// the project's partnership), the partners linked to it by one of
// CooperativePartnersIn (they founded, run, support or fund it), and the
// partners it points at by one of CooperativePartnersOut (the workshops whose
// participants it employs). A cooperative "rests on a full
// public-social-private partnership" when these span all three sectors.
var (
	CooperativePartnersIn  = []RelationType{RelFounded, RelRuns, RelSupports, RelFunds}
	CooperativePartnersOut = []RelationType{RelEmploysParticipantsOf}
	CooperativeProjectsIn  = []RelationType{RelSupports, RelFunds}
)

// MixFilter is a condition on a sector mix; the zero value holds for any.
type MixFilter struct {
	Full     *bool    // all three sectors take part (true) or not (false)
	Includes []Sector // each of these takes part
	Missing  []Sector // none of these takes part
}

// Validate checks the sectors named; it returns a *ValidationError naming
// field.
func (f MixFilter) Validate(field string) error {
	for _, s := range append(slices.Clone(f.Includes), f.Missing...) {
		if !s.Valid() {
			return Invalid(field, "unknown sector %q", s)
		}
	}
	return nil
}

// Empty reports whether f holds for any mix.
func (f MixFilter) Empty() bool {
	return f.Full == nil && len(f.Includes) == 0 && len(f.Missing) == 0
}

// Match reports whether m meets f. The store evaluates the same rule in
// SQL; this is its definition.
func (f MixFilter) Match(m SectorMix) bool {
	if f.Full != nil && m.Full() != *f.Full {
		return false
	}
	for _, s := range f.Includes {
		if m.Counts[s] == 0 {
			return false
		}
	}
	for _, s := range f.Missing {
		if m.Counts[s] > 0 {
			return false
		}
	}
	return true
}

// The partners behind a good practice are the partners that demonstrate it
// themselves and the partners behind one of its cases (the entries that
// DEMONSTRATE it): those linked to the case by one of PracticeCaseBackersIn
// pointing at the case (they founded, lead, run, fund, support or organised
// it, or are a member or partner of it), and those the case points at by
// one of PracticeCaseBackersOut (a cooperative employs participants of the
// partner's workshop).
var (
	PracticeCaseBackersIn = []RelationType{
		RelFounded, RelLeads, RelRuns, RelFunds, RelSupports, RelOrganized, RelMemberOf, RelPartnerIn,
	}
	PracticeCaseBackersOut = []RelationType{RelEmploysParticipantsOf}
)
