package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// writeDataset writes the data-set shape of internal/seed/reference.json:
// {"entities": [...], "links": [...], "indicators": [...], "topics": [...]}, each record in
// kb's JSON form, referring to entities by key. seed.Parse reads it back.
func writeDataset(ctx context.Context, sn *store.Snapshot, _ Options, w *bufio.Writer) error {
	var werr error
	put := func(s string) {
		if werr == nil {
			_, werr = w.WriteString(s)
		}
	}
	// section writes one array of the object, each item indented as in
	// reference.json, as the stream hands it over.
	section := func(name string, last bool, stream func(func(v any) error) error) error {
		put("  \"" + name + "\": [")
		first := true
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // names and quotes keep their „&” as written
		enc.SetIndent("    ", "  ")
		err := stream(func(v any) error {
			buf.Reset()
			if err := enc.Encode(v); err != nil {
				return err
			}
			b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
			if first {
				put("\n    ")
				first = false
			} else {
				put(",\n    ")
			}
			if werr == nil {
				_, werr = w.Write(b)
			}
			return werr
		})
		if err != nil {
			return err
		}
		if !first {
			put("\n  ")
		}
		if last {
			put("]\n")
		} else {
			put("],\n")
		}
		return werr
	}
	put("{\n")
	err := section("entities", false, func(emit func(any) error) error {
		return sn.Entities(ctx, "", func(e *kb.Entity) error { return emit(e) })
	})
	if err != nil {
		return err
	}
	err = section("links", false, func(emit func(any) error) error {
		return sn.Links(ctx, func(l *kb.Link) error { return emit(l) })
	})
	if err != nil {
		return err
	}
	err = section("indicators", false, func(emit func(any) error) error {
		return sn.Indicators(ctx, func(in *kb.Indicator) error { return emit(in) })
	})
	if err != nil {
		return err
	}
	// The vocabulary's terms the exported practices carry, with their
	// slugs and labels in every language (migration 00026).
	err = section("topics", true, func(emit func(any) error) error {
		ts, err := sn.Topics(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if err := emit(t.Record()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	put("}\n")
	return werr
}
