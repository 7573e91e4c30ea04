// Package seed holds the reference data set of partnergraph: the entities,
// links and indicators named by the source articles, each citing the article
// it comes from. The data lives in reference.json, embedded in the binary.
package seed

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/partnergraph/partnergraph/internal/kb"
)

//go:embed reference.json
var referenceJSON []byte

// Reference returns the embedded reference data set, decoded and validated.
// Each call returns a fresh copy that the caller may change. It returns an
// error only if the embedded file is broken, which the package tests rule out.
func Reference() (*kb.Dataset, error) {
	d, err := Parse(bytes.NewReader(referenceJSON))
	if err != nil {
		return nil, fmt.Errorf("reference data set: %w", err)
	}
	return d, nil
}

// Parse decodes a data set from r and validates it (kb.Dataset.Validate). Unknown fields and
// trailing data are errors; so is any record that Validate rejects.
func Parse(r io.Reader) (*kb.Dataset, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var d kb.Dataset
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decode data set: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode data set: unexpected data after the top-level object")
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}
