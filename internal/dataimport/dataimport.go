// Package dataimport imports a data set (the JSON shape of the reference
// data and of the export: {entities, links, indicators} keyed by stable
// keys) into the store: it validates every record first, against the file
// and the keys already in the database, reports every bad record by its
// position and reason, and then writes all of it in one transaction, or
// nothing.
package dataimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// Problem is one bad record.
type Problem struct {
	// Record names the record by position and key: "entities[3] (key x)".
	Record string
	// Field is the field at fault, if one is.
	Field string
	// Message says what is wrong.
	Message string
}

func (p Problem) String() string {
	s := p.Record
	if p.Field != "" {
		s += ": " + p.Field
	}
	return s + ": " + p.Message
}

// Report is what an import did or would do.
type Report struct {
	// Written is true when the data set was committed.
	Written bool
	DryRun  bool
	// Problems lists every bad record; an import with problems writes nothing.
	Problems []Problem
	store.ApplyReport
}

// Decode reads a data set without validating it. Unknown fields and data
// after the object are errors, reported as a Problem of the record "file".
func Decode(r io.Reader) (*kb.Dataset, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var d kb.Dataset
	if err := dec.Decode(&d); err != nil {
		return nil, kb.Invalid("", "the file is not a data set: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, kb.Invalid("", "the file is not a data set: unexpected data after the top-level object")
	}
	return &d, nil
}

// DecodeValue is Decode for a value already parsed from JSON (the
// importDataset mutation's argument).
func DecodeValue(v any) (*kb.Dataset, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, kb.Invalid("dataset", "cannot read the data set: %v", err)
	}
	return Decode(bytes.NewReader(b))
}

// Run validates d against itself and the database and, if every record is
// good, writes it by actor, in one transaction; with dryRun it rolls that
// transaction back. Bad records are reported in the Report, not as an
// error; the error is for failures of the database.
func Run(ctx context.Context, st *store.Store, actor string, d *kb.Dataset, dryRun bool) (*Report, error) {
	rep := &Report{DryRun: dryRun}
	existing, err := st.KeyKinds(ctx)
	if err != nil {
		return nil, err
	}
	if err := d.ValidateAgainst(existing); err != nil {
		rep.Problems = problems(err)
		return rep, nil
	}
	apply := st.ApplyDataset
	if dryRun {
		apply = st.TryDataset
	}
	ar, err := apply(ctx, actor, *d)
	if err != nil {
		if kb.IsValidation(err) || errors.Is(err, kb.ErrConflict) {
			rep.Problems = problems(err)
			return rep, nil
		}
		return nil, err
	}
	rep.ApplyReport = ar
	rep.Written = !dryRun
	return rep, nil
}

// problems splits the joined error of seed's validation into one Problem
// per record. Each error reads "record: field: message" around a
// *kb.ValidationError.
func problems(err error) []Problem {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]Problem, 0, len(errs))
	for _, e := range errs {
		p := Problem{Message: e.Error()}
		var v *kb.ValidationError
		if errors.As(e, &v) {
			p.Field, p.Message = v.Field, v.Message
			p.Record = strings.TrimSuffix(strings.TrimSuffix(e.Error(), v.Error()), ": ")
			if p.Record == "" && strings.Contains(p.Field, "]") {
				// The store names the record in the field: "entities[3] (key x).name".
				if i := strings.LastIndex(p.Field, ")"); i >= 0 {
					p.Record, p.Field = p.Field[:i+1], strings.TrimPrefix(p.Field[i+1:], ".")
				}
			}
		}
		if p.Record == "" {
			p.Record = "data set"
		}
		out = append(out, p)
	}
	return out
}

// Summary is a one-line account of a report for the command line.
func (r *Report) Summary() string {
	verb := "imported"
	switch {
	case len(r.Problems) > 0:
		return fmt.Sprintf("nothing written: %d bad record(s)", len(r.Problems))
	case r.DryRun:
		verb = "would import (dry run, nothing written)"
	}
	return fmt.Sprintf("%s: entities %d created, %d updated, %d unchanged; links %d created, %d updated, %d unchanged; indicators %d created, %d updated",
		verb, r.EntitiesCreated, r.EntitiesUpdated, r.EntitiesUnchanged, r.LinksCreated, r.LinksUpdated, r.LinksUnchanged,
		r.IndicatorsCreated, r.IndicatorsUpdated)
}
