package kb

import (
	"errors"
	"fmt"
)

// Dataset is a set of entries identified by stable keys: the reference
// data, an import, an export. Links, citations and indicators refer to
// entities by key. Its JSON shape is the data set's file format.
type Dataset struct {
	Entities   []Entity    `json:"entities"`
	Links      []Link      `json:"links"`
	Indicators []Indicator `json:"indicators"`
	// Topics are terms of the topic vocabulary (migration 00026) with
	// their labels: a practice that names one by a label or its slug
	// carries it. Optional; a topic a practice names that is not here is
	// made from its label.
	Topics []TopicRecord `json:"topics,omitempty"`
}

// Validate checks every record and returns nil or an error that joins one
// error per problem (errors.Join), each naming the record by its position and
// key, e.g. "entities[3] (key wtz-gebice): partner.sector: ...". Errors from
// the domain rules wrap a *ValidationError, so IsValidation holds.
//
// It checks each entity, link and indicator against kb's rules; that entity
// keys are present and unique; that every link, citation and indicator refers
// to an existing key; that citations point at SOURCE entities; that each
// link's kinds obey CheckLink; that no (from, to, type) link repeats; and
// that indicators refer to COOPERATIVE entities and do not repeat (same
// cooperative, name and date). Validate fills kb's defaults (an empty
// publication status becomes DRAFT) and changes nothing else.
func (d *Dataset) Validate() error { return d.ValidateAgainst(nil) }

// ValidateAgainst is Validate for a data set that may also refer to the
// entities existing (key to kind) already holds, as an import into a
// database does. A record that gives an existing key a different kind is
// an error.
func (d *Dataset) ValidateAgainst(existing map[string]Kind) error {
	var errs []error
	fail := func(record, field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %w", record, Invalid(field, format, args...)))
	}

	// Entities first, so that references below may point forwards.
	kinds := make(map[string]Kind, len(d.Entities)+len(existing))
	for k, kind := range existing {
		kinds[k] = kind
	}
	firstAt := make(map[string]int, len(d.Entities))
	for i := range d.Entities {
		e := &d.Entities[i]
		rec := entityRecord(i, e.Key)
		if err := e.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rec, err))
		}
		if e.Key == "" {
			fail(rec, "key", "must not be empty")
			continue
		}
		if j, dup := firstAt[e.Key]; dup {
			fail(rec, "key", "duplicates the key of entities[%d]", j)
			continue
		}
		firstAt[e.Key] = i
		if k, ok := existing[e.Key]; ok && k != e.Kind {
			fail(rec, "kind", "key %q is a %s in the database, not a %s", e.Key, k.TypeName(), e.Kind.TypeName())
		}
		kinds[e.Key] = e.Kind
	}
	checkCitation := func(rec, field string, c Citation) {
		switch k, ok := kinds[c.SourceKey]; {
		case c.SourceKey == "":
			fail(rec, field+".source", "must name a source")
		case !ok:
			fail(rec, field+".source", "no entity with key %q", c.SourceKey)
		case k != KindSource:
			fail(rec, field+".source", "%q is a %s, not a Source", c.SourceKey, k.TypeName())
		}
	}
	for i, e := range d.Entities {
		for j, c := range e.Citations {
			checkCitation(entityRecord(i, e.Key), fmt.Sprintf("sources[%d]", j), c)
		}
	}

	ref := func(rec, field, key string) (Kind, bool) {
		k, ok := kinds[key]
		switch {
		case key == "":
			fail(rec, field, "must name an entity")
		case !ok:
			fail(rec, field, "no entity with key %q", key)
		}
		return k, ok
	}

	type triple struct {
		from, to string
		typ      RelationType
	}
	seenLink := make(map[triple]int, len(d.Links))
	for i := range d.Links {
		l := &d.Links[i]
		rec := fmt.Sprintf("links[%d] (%s)", i, l)
		if err := ValidateLink(l); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rec, err))
		}
		from, fromOK := ref(rec, "from", l.FromKey)
		to, toOK := ref(rec, "to", l.ToKey)
		if fromOK && toOK && l.Type.Valid() {
			if err := CheckLink(l.Type, from, to); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", rec, err))
			}
		}
		k := triple{l.FromKey, l.ToKey, l.Type}
		if j, dup := seenLink[k]; dup {
			fail(rec, "type", "duplicates links[%d]", j)
		} else {
			seenLink[k] = i
		}
		for j, c := range l.Citations {
			checkCitation(rec, fmt.Sprintf("sources[%d]", j), c)
		}
	}

	type measure struct {
		coop, name, asOf string
	}
	seenInd := make(map[measure]int, len(d.Indicators))
	for i := range d.Indicators {
		in := &d.Indicators[i]
		rec := fmt.Sprintf("indicators[%d] (%s %s)", i, in.Subject(), in.Name)
		if err := ValidateIndicator(in); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rec, err))
		}
		if k, ok := ref(rec, in.SubjectField(), in.Subject()); ok {
			if err := CheckIndicatorKind(in, k); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", rec, err))
			}
		}
		m := measure{in.Subject(), string(in.Name), ""}
		if in.AsOf != nil {
			m.asOf = in.AsOf.Format("2006-01-02")
		}
		if j, dup := seenInd[m]; dup {
			fail(rec, "name", "duplicates indicators[%d] (same entry, name and date)", j)
		} else {
			seenInd[m] = i
		}
		if in.Citation != nil {
			checkCitation(rec, "citation", *in.Citation)
		}
	}
	seenSlug := make(map[string]int, len(d.Topics))
	for i := range d.Topics {
		tr := &d.Topics[i]
		rec := fmt.Sprintf("topics[%d] (%s)", i, tr.Slug)
		if err := tr.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rec, err))
		}
		if j, dup := seenSlug[tr.Slug]; dup {
			fail(rec, "slug", "duplicates topics[%d]", j)
		} else {
			seenSlug[tr.Slug] = i
		}
	}
	return errors.Join(errs...)
}

func entityRecord(i int, key string) string {
	if key == "" {
		return fmt.Sprintf("entities[%d] (no key)", i)
	}
	return fmt.Sprintf("entities[%d] (key %s)", i, key)
}
