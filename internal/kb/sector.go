package kb

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
