package kb

import (
	"errors"
	"testing"
)

func TestParseFuzzyDate(t *testing.T) {
	for _, c := range []struct {
		in, prec, earliest, latest, sort string
		yearKnown                        bool
	}{
		{"2019", "YEAR", "2019-01-01", "2019-12-31", "2019-00-00", true},
		{"2019-02", "MONTH", "2019-02-01", "2019-02-28", "2019-02-00", true},
		{"2020-02-29", "DAY", "2020-02-29", "2020-02-29", "2020-02-29", true},
		{"XXXX-09-17", "DAY", "", "", "XXXX-09-17", false},
		{"XXXX-02-29", "DAY", "", "", "XXXX-02-29", false},
		{"XXXX-09", "MONTH", "", "", "XXXX-09-00", false},
		{"2019-09-17/2019-09-19", "DAY", "2019-09-17", "2019-09-19", "2019-09-17", true},
		{"2019-09/2019-10-02", "MONTH", "2019-09-01", "2019-10-02", "2019-09-00", true},
		{"XXXX-09/XXXX-09-19", "MONTH", "", "", "XXXX-09-00", false},
		{"XXXX-09-17/XXXX-09-19", "DAY", "", "", "XXXX-09-17", false},
	} {
		d, err := ParseFuzzyDate("when", c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		day := func(p *Date) string {
			if p == nil {
				return ""
			}
			return p.Format("2006-01-02")
		}
		if d.String() != c.in || string(d.Precision()) != c.prec || day(d.Earliest()) != c.earliest ||
			day(d.Latest()) != c.latest || d.SortKey() != c.sort || d.YearKnown() != c.yearKnown {
			t.Errorf("%s: got %s %s %s..%s sort %s known %v", c.in, d, d.Precision(), day(d.Earliest()), day(d.Latest()), d.SortKey(), d.YearKnown())
		}
	}
}

func TestParseFuzzyDateRefuses(t *testing.T) {
	for _, in := range []string{
		"", "19", "2019-13", "2019-00", "2019-02-29", "2019-09-31", "XXXX", "XXXX-09-32", "2019-9-1",
		"2019-09-17/2019-09-16", "2019/XXXX-09", "XXXX-12-30/XXXX-01-02", "XXXX-09/XXXX",
		"2019-09-17T10:00", "2019~", "2019-09-17/", "/2019", "..", "2019/2020/2021", "２０１９",
	} {
		_, err := ParseFuzzyDate("when", in)
		var v *ValidationError
		if !errors.As(err, &v) || v.Field != "when" {
			t.Errorf("%q: %v, want a validation error on when", in, err)
		}
	}
}

func TestFuzzyDateXSD(t *testing.T) {
	for in, want := range map[string]string{
		"2019-09-17": "2019-09-17 xsd:date", "2019-09": "2019-09 xsd:gYearMonth", "2019": "2019 xsd:gYear",
		"XXXX-09-17": "--09-17 xsd:gMonthDay", "XXXX-09": "--09 xsd:gMonth",
	} {
		v, typ := MustFuzzyDate(in).Start.XSD()
		if v+" "+typ != want {
			t.Errorf("%s: %s %s, want %s", in, v, typ, want)
		}
	}
}

// FuzzParseFuzzyDate: any text either parses to a date whose EDTF string
// parses back to the same date, with earliest <= latest, or fails with a
// *ValidationError; never a panic.
func FuzzParseFuzzyDate(f *testing.F) {
	for _, s := range []string{"2019", "2019-09", "2019-09-17", "XXXX-09-17", "XXXX-09/XXXX-09-19", "2019-09-17/2019-09-19", "XXXX", "2019-02-29", "/", "9999-12-31/9999-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseFuzzyDate("when", s)
		if err != nil {
			var v *ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("%q: error %T %v, want a *ValidationError", s, err, err)
			}
			return
		}
		again, err := ParseFuzzyDate("when", d.String())
		if err != nil || again.String() != d.String() {
			t.Fatalf("%q: round trip of %q: %v %v", s, d, again, err)
		}
		if e, l := d.Earliest(), d.Latest(); (e == nil) != (l == nil) || (e != nil && l.Before(*e)) {
			t.Fatalf("%q: earliest %v, latest %v", s, e, l)
		}
		if d.End != nil && d.Start.first().After(d.End.last()) {
			t.Fatalf("%q: the interval starts after its end's last day", s)
		}
	})
}

// TestLowestSortKeyMatchesEarliest: a sort key is at least the lowest key
// of a day exactly when its date's first possible day is on or after the
// day, and at most the day's text exactly when that first day is on or
// before it, for every precision around the edges of months and years.
func TestLowestSortKeyMatchesEarliest(t *testing.T) {
	var dates []FuzzyDate
	for _, s := range []string{"2018", "2019", "2020", "2019-01", "2019-08", "2019-09", "2019-12", "2019-01-01", "2019-08-31", "2019-09-01", "2019-09-02", "2019-12-31", "2020-01-01"} {
		dates = append(dates, MustFuzzyDate(s))
	}
	for _, day := range []string{"2019-01-01", "2019-01-02", "2019-08-31", "2019-09-01", "2019-09-02", "2019-12-31", "2020-01-01"} {
		d := MustFuzzyDate(day).Earliest()
		for _, f := range dates {
			after := !f.Earliest().Before(*d)
			before := !f.Earliest().After(*d)
			if (f.SortKey() >= LowestSortKey(*d)) != after || (f.SortKey() <= d.Format("2006-01-02")) != before {
				t.Errorf("%s against %s: key %s, lowest %s; on or after %v, on or before %v", f, day, f.SortKey(), LowestSortKey(*d), after, before)
			}
		}
	}
}
