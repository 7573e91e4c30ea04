package graph

import (
	"fmt"

	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// The filter inputs of the root lists map onto store.Filter, one function
// per input; and/or/not map recursively onto filters of the same kind, and
// rootFilter checks the bounds of their nesting before any SQL is built.

// rootFilter converts the filter argument of a root list with conv and
// checks the shape of its and/or/not (store.CheckFilterShape).
func rootFilter[T any](in *T, conv func(string, *T) (store.Filter, error)) (store.Filter, error) {
	f, err := conv("filter", in)
	if err != nil {
		return f, err
	}
	return f, store.CheckFilterShape("filter", f)
}

// compose converts the and/or/not of a filter input named field into out.
// The nesting is bounded while converting, so that a deep input is refused
// before it is walked in full.
func compose[T any](field string, out *store.Filter, and, or []*T, not *T, conv func(string, *T) (store.Filter, error)) error {
	if depth(field) > store.MaxFilterDepth {
		return kb.Invalid(field, "and/or/not nest more than %d deep", store.MaxFilterDepth)
	}
	for i, g := range and {
		f, err := conv(fmt.Sprintf("%s.and[%d]", field, i), g)
		if err != nil {
			return err
		}
		out.And = append(out.And, f)
	}
	if or != nil {
		out.Or = make([]store.Filter, 0, len(or))
		for i, g := range or {
			f, err := conv(fmt.Sprintf("%s.or[%d]", field, i), g)
			if err != nil {
				return err
			}
			out.Or = append(out.Or, f)
		}
	}
	if not != nil {
		f, err := conv(field+".not", not)
		if err != nil {
			return err
		}
		out.Not = &f
	}
	return nil
}

// depth is how deep and/or/not nest at the filter input named field
// ("filter.and[0].not": 2).
func depth(field string) int {
	n := 0
	for i := range len(field) {
		if field[i] == '.' {
			n++
		}
	}
	return n
}

func partnerFilter(field string, in *model.PartnerFilter) (store.Filter, error) {
	f := store.Filter{Kind: kb.KindPartner}
	if in == nil {
		return f, nil
	}
	f.Name, f.Sectors, f.PartnerKinds = deref(in.Name), in.Sector, in.Kind
	f.Country, f.Region, f.City = deref(in.Country), deref(in.Region), deref(in.City)
	f.CreatedSince, f.UpdatedSince = in.CreatedSince, in.UpdatedSince
	if err := mapFilter(field, &f, in.Near, in.Within); err != nil {
		return f, err
	}
	return f, compose(field, &f, in.And, in.Or, in.Not, partnerFilter)
}

func cooperativeFilter(field string, in *model.CooperativeFilter) (store.Filter, error) {
	f := store.Filter{Kind: kb.KindCooperative}
	if in == nil {
		return f, nil
	}
	f.Name, f.CoopStatuses, f.Activities = deref(in.Name), in.Status, in.Activity
	f.Country, f.Region, f.City = deref(in.Country), deref(in.Region), deref(in.City)
	f.CreatedSince, f.UpdatedSince = in.CreatedSince, in.UpdatedSince
	if err := mapFilter(field, &f, in.Near, in.Within); err != nil {
		return f, err
	}
	var err error
	if f.SectorMix, err = mixFilter(field+".sectorMix", in.SectorMix); err != nil {
		return f, err
	}
	return f, compose(field, &f, in.And, in.Or, in.Not, cooperativeFilter)
}

func partnershipFilter(field string, in *model.PartnershipFilter) (store.Filter, error) {
	f := store.Filter{Kind: kb.KindPartnership}
	if in == nil {
		return f, nil
	}
	f.Name = deref(in.Name)
	f.CreatedSince, f.UpdatedSince = in.CreatedSince, in.UpdatedSince
	var err error
	if f.SectorMix, err = mixFilter(field+".sectorMix", in.SectorMix); err != nil {
		return f, err
	}
	return f, compose(field, &f, in.And, in.Or, in.Not, partnershipFilter)
}

func goodPracticeFilter(field string, in *model.GoodPracticeFilter) (store.Filter, error) {
	f := store.Filter{Kind: kb.KindGoodPractice}
	if in == nil {
		return f, nil
	}
	f.Name, f.Topics = deref(in.Name), in.Topic
	f.PracticeCountries, f.PracticeSectors = in.Country, in.PartnerSector
	for i, c := range in.Country {
		if !countryCode(c) {
			return f, kb.Invalid(fmt.Sprintf("%s.country[%d]", field, i), "%q is not an ISO 3166-1 alpha-2 code such as PL or SE", c)
		}
	}
	f.CreatedSince, f.UpdatedSince = in.CreatedSince, in.UpdatedSince
	return f, compose(field, &f, in.And, in.Or, in.Not, goodPracticeFilter)
}

func foreignExampleFilter(field string, in *model.ForeignExampleFilter) (store.Filter, error) {
	f := store.Filter{Kind: kb.KindForeignExample}
	if in == nil {
		return f, nil
	}
	f.Name, f.Country, f.City = deref(in.Name), deref(in.Country), deref(in.City)
	f.CreatedSince, f.UpdatedSince = in.CreatedSince, in.UpdatedSince
	if err := mapFilter(field, &f, in.Near, in.Within); err != nil {
		return f, err
	}
	return f, compose(field, &f, in.And, in.Or, in.Not, foreignExampleFilter)
}

func projectFilter(field string, in *model.ProjectFilter) (store.Filter, error) {
	f := store.Filter{Kind: kb.KindProject}
	if in == nil {
		return f, nil
	}
	f.Name = deref(in.Name)
	f.CreatedSince, f.UpdatedSince = in.CreatedSince, in.UpdatedSince
	return f, compose(field, &f, in.And, in.Or, in.Not, projectFilter)
}

func eventFilter(field string, in *model.EventFilter) (store.Filter, error) {
	f := store.Filter{Kind: kb.KindEvent}
	if in == nil {
		return f, nil
	}
	f.Name, f.EventKinds, f.EventStatuses, f.Country = deref(in.Name), in.Kind, in.Status, deref(in.Country)
	f.CreatedSince, f.UpdatedSince = in.CreatedSince, in.UpdatedSince
	f.StartsAfter, f.StartsBefore = in.StartsAfter, in.StartsBefore
	if err := mapFilter(field, &f, in.Near, in.Within); err != nil {
		return f, err
	}
	return f, compose(field, &f, in.And, in.Or, in.Not, eventFilter)
}

func personFilter(field string, in *model.PersonFilter) (store.Filter, error) {
	f := store.Filter{Kind: kb.KindPerson}
	if in == nil {
		return f, nil
	}
	f.Name = deref(in.Name)
	f.CreatedSince, f.UpdatedSince = in.CreatedSince, in.UpdatedSince
	return f, compose(field, &f, in.And, in.Or, in.Not, personFilter)
}

func sourceFilter(field string, in *model.SourceFilter) (store.Filter, error) {
	f := store.Filter{Kind: kb.KindSource}
	if in == nil {
		return f, nil
	}
	f.Name, f.SourceKinds, f.Language = deref(in.Name), in.Kind, deref(in.Language)
	f.CreatedSince, f.UpdatedSince = in.CreatedSince, in.UpdatedSince
	return f, compose(field, &f, in.And, in.Or, in.Not, sourceFilter)
}

// countryCode reports whether c is two ASCII letters, the form of an ISO
// 3166-1 alpha-2 code, in either case (the filters compare in upper case).
func countryCode(c string) bool {
	if len(c) != 2 {
		return false
	}
	for i := range 2 {
		if b := c[i] | 0x20; b < 'a' || b > 'z' {
			return false
		}
	}
	return true
}
