package kb

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DatePrecision says how much of a date is known: the year only, the month,
// or the day.
type DatePrecision string

// The precisions of a FuzzyDate, coarsest first.
const (
	PrecisionYear  DatePrecision = "YEAR"
	PrecisionMonth DatePrecision = "MONTH"
	PrecisionDay   DatePrecision = "DAY"
)

// DatePoint is one calendar date with unknown parts, as EDTF writes it:
// "2019", "2019-09", "2019-09-17", or with an unknown year "XXXX-09" and
// "XXXX-09-17". Month and Day are 0 when unknown; HasYear is false when the
// year is unknown (Year is then 0).
type DatePoint struct {
	HasYear bool
	Year    int
	Month   int
	Day     int
}

// FuzzyDate is a date as precise as the source knows it, or an interval of
// two such dates: the subset of the Extended Date/Time Format (EDTF,
// Library of Congress; ISO 8601-2) level 1 that the articles of the
// knowledge base need. A single date is Start with End nil; an interval
// "a/b" has both. Both ends of an interval either know their year or do
// not. docs/api.md ("Dates") describes the forms and how they sort and
// filter.
//
// It is hand-written rather than taken from a library: the Go EDTF parsers
// cover all three levels and map an unknown year to the widest possible
// range of years, where this knowledge base needs "17 September, year
// unknown" to sort by its month and day; the subset is small and
// FuzzParseFuzzyDate checks it.
type FuzzyDate struct {
	Start DatePoint
	End   *DatePoint
}

// ParseFuzzyDate parses an EDTF date of the supported subset: YYYY,
// YYYY-MM, YYYY-MM-DD, XXXX-MM, XXXX-MM-DD, and an interval of two of them
// "a/b" whose ends both know their year or both do not, in order. An error
// is a *ValidationError on field.
func ParseFuzzyDate(field, s string) (FuzzyDate, error) {
	start, end, interval := strings.Cut(s, "/")
	a, err := parsePoint(start)
	if err != nil {
		return FuzzyDate{}, Invalid(field, "%q is not an EDTF date (YYYY, YYYY-MM, YYYY-MM-DD, XXXX-MM-DD or a/b): %v", s, err)
	}
	d := FuzzyDate{Start: a}
	if !interval {
		return d, nil
	}
	b, err := parsePoint(end)
	if err != nil {
		return FuzzyDate{}, Invalid(field, "%q is not an EDTF interval: its end %v", s, err)
	}
	if a.HasYear != b.HasYear {
		return FuzzyDate{}, Invalid(field, "%q: both ends of an interval must know their year, or neither", s)
	}
	if !a.HasYear && (a.Month == 0 || b.Month == 0) {
		return FuzzyDate{}, Invalid(field, "%q: an interval with an unknown year needs the month of both ends", s)
	}
	// An end may be coarser than its start ("2019-06-01/2019": from June
	// to the end of that year): the interval is empty only when it starts
	// after its end's last possible day.
	if a.first().After(b.last()) {
		return FuzzyDate{}, Invalid(field, "%q: the interval ends before it starts (an interval with an unknown year may not cross the new year)", s)
	}
	d.End = &b
	return d, nil
}

// MustFuzzyDate parses s and panics on error: for literals in tests and
// reference data that are known to be valid.
func MustFuzzyDate(s string) FuzzyDate {
	d, err := ParseFuzzyDate("date", s)
	if err != nil {
		panic(err)
	}
	return d
}

// parsePoint parses one EDTF date of the subset.
func parsePoint(s string) (DatePoint, error) {
	parts := strings.Split(s, "-")
	if len(parts) > 3 || len(parts[0]) != 4 {
		return DatePoint{}, fmt.Errorf("%q: want a four-digit year or XXXX, then -MM and -DD", s)
	}
	var p DatePoint
	if parts[0] != "XXXX" {
		y, err := digits(parts[0], 4)
		if err != nil {
			return DatePoint{}, fmt.Errorf("year %q: %w", parts[0], err)
		}
		p.HasYear, p.Year = true, y
	} else if len(parts) == 1 {
		return DatePoint{}, fmt.Errorf("%q: a date with an unknown year needs its month", s)
	}
	if len(parts) > 1 {
		m, err := digits(parts[1], 2)
		if err != nil || m < 1 || m > 12 {
			return DatePoint{}, fmt.Errorf("month %q: want 01 to 12", parts[1])
		}
		p.Month = m
	}
	if len(parts) > 2 {
		d, err := digits(parts[2], 2)
		if err != nil || d < 1 || d > p.daysInMonth() {
			return DatePoint{}, fmt.Errorf("day %q: want 01 to %02d", parts[2], p.daysInMonth())
		}
		p.Day = d
	}
	return p, nil
}

// digits parses exactly n ASCII digits.
func digits(s string, n int) (int, error) {
	if len(s) != n {
		return 0, fmt.Errorf("want %d digits", n)
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("want %d digits", n)
		}
	}
	return strconv.Atoi(s)
}

// daysInMonth is the length of the point's month; with an unknown year,
// February has 29 days (the day may be a leap day).
func (p DatePoint) daysInMonth() int {
	y := p.Year
	if !p.HasYear {
		y = 2000 // a leap year
	}
	return time.Date(y, time.Month(p.Month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// String writes the point in EDTF.
func (p DatePoint) String() string {
	var b strings.Builder
	if p.HasYear {
		fmt.Fprintf(&b, "%04d", p.Year)
	} else {
		b.WriteString("XXXX")
	}
	if p.Month > 0 {
		fmt.Fprintf(&b, "-%02d", p.Month)
	}
	if p.Day > 0 {
		fmt.Fprintf(&b, "-%02d", p.Day)
	}
	return b.String()
}

// Precision is DAY, MONTH or YEAR: the finest part that is known.
func (p DatePoint) Precision() DatePrecision {
	switch {
	case p.Day > 0:
		return PrecisionDay
	case p.Month > 0:
		return PrecisionMonth
	}
	return PrecisionYear
}

// first is the first day the point can be, in year 2000 when the year is
// unknown (only the month and day then compare).
func (p DatePoint) first() time.Time {
	y, m, d := p.Year, p.Month, p.Day
	if !p.HasYear {
		y = 2000
	}
	if m == 0 {
		m = 1
	}
	if d == 0 {
		d = 1
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
}

// last is the last day the point can be, like first.
func (p DatePoint) last() time.Time {
	switch {
	case p.Day > 0:
		return p.first()
	case p.Month > 0:
		return p.first().AddDate(0, 1, -1)
	}
	return p.first().AddDate(1, 0, -1)
}

// Earliest is the first day the point can be, or nil when its year is
// unknown.
func (p DatePoint) Earliest() *Date {
	if !p.HasYear {
		return nil
	}
	t := p.first()
	return &t
}

// Latest is the last day the point can be, or nil when its year is unknown.
func (p DatePoint) Latest() *Date {
	if !p.HasYear {
		return nil
	}
	t := p.last()
	return &t
}

// String writes the date in EDTF: "XXXX-09-17", "2019-09-17/2019-09-19".
func (d FuzzyDate) String() string {
	if d.End == nil {
		return d.Start.String()
	}
	return d.Start.String() + "/" + d.End.String()
}

// YearKnown reports whether the year is known.
func (d FuzzyDate) YearKnown() bool { return d.Start.HasYear }

// Precision is the coarser precision of the two ends of an interval, or
// that of the single date.
func (d FuzzyDate) Precision() DatePrecision {
	p := d.Start.Precision()
	if d.End != nil && rank(d.End.Precision()) < rank(p) {
		p = d.End.Precision()
	}
	return p
}

func rank(p DatePrecision) int {
	switch p {
	case PrecisionDay:
		return 2
	case PrecisionMonth:
		return 1
	}
	return 0
}

// Earliest is the first day the date can be, or nil when the year is
// unknown.
func (d FuzzyDate) Earliest() *Date { return d.Start.Earliest() }

// Latest is the last day the date (or the interval's end) can be, or nil
// when the year is unknown.
func (d FuzzyDate) Latest() *Date {
	if d.End != nil {
		return d.End.Latest()
	}
	return d.Start.Latest()
}

// SortKey orders dates by what is known of them, as text: a known year
// sorts by its first possible day ("2019-09-17"), an unknown year after
// every known one, by month and day ("XXXX-09-17"); a month or year
// without its day sorts before the days it holds ("2019-09" < "2019-09-01"
// is written "2019-09-00"). Stored in event.when_sort (migration 00015).
func (d FuzzyDate) SortKey() string {
	p := d.Start
	y := "XXXX"
	if p.HasYear {
		y = fmt.Sprintf("%04d", p.Year)
	}
	return fmt.Sprintf("%s-%02d-%02d", y, p.Month, p.Day)
}

// LowestSortKey is the lowest sort key whose first possible day is on or
// after day: "2019-00-00" for 1 January 2019 (the year 2019 starts then),
// "2019-09-00" for 1 September, else the day itself.
func LowestSortKey(day Date) string {
	switch {
	case day.Month() == time.January && day.Day() == 1:
		return fmt.Sprintf("%04d-00-00", day.Year())
	case day.Day() == 1:
		return fmt.Sprintf("%04d-%02d-00", day.Year(), int(day.Month()))
	}
	return day.Format("2006-01-02")
}

// MarshalJSON writes the date as its EDTF string, as the import format and
// the data-set export hold it.
func (d FuzzyDate) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads an EDTF string.
func (d *FuzzyDate) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a date is an EDTF string: %w", err)
	}
	v, err := ParseFuzzyDate("date", s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// XSD writes the point as the XML Schema type that fits its precision, for
// JSON-LD: xsd:date, xsd:gYearMonth or xsd:gYear with a known year;
// xsd:gMonthDay ("--09-17") or xsd:gMonth ("--09") without one.
func (p DatePoint) XSD() (value, typ string) {
	switch {
	case p.HasYear && p.Day > 0:
		return p.String(), "xsd:date"
	case p.HasYear && p.Month > 0:
		return p.String(), "xsd:gYearMonth"
	case p.HasYear:
		return p.String(), "xsd:gYear"
	case p.Day > 0:
		return fmt.Sprintf("--%02d-%02d", p.Month, p.Day), "xsd:gMonthDay"
	}
	return fmt.Sprintf("--%02d", p.Month), "xsd:gMonth"
}
