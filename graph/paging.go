package graph

import (
	"slices"

	"github.com/partnergraph/partnergraph/graph/model"
)

// window is what a connection reads for its Relay paging arguments, by the
// connection spec's pagination algorithm (docs/api.md, "Pagination"): of
// the items after `after` and before `before` (each when given), the first
// n read forwards, or the last n read backwards from the `before` end;
// with `first` and `last` both, the last keep of the first n.
type window struct {
	pageArgs
	n        int
	backward bool
	keep     int // -1: all that were read
}

// blank treats an empty cursor as an absent one: clients generated with
// zero values for optional arguments (genqlient) send `after: ""`.
func blank(s *string) *string {
	if s != nil && *s == "" {
		return nil
	}
	return s
}

// pageWindow checks the Relay paging arguments and returns the window to
// read; def is the page size when neither first nor last is given.
func pageWindow(pa pageArgs, def int) (window, error) {
	pa.after, pa.before = blank(pa.after), blank(pa.before)
	first, err := pageSize("first", pa.first)
	if err != nil {
		return window{}, err
	}
	last, err := pageSize("last", pa.last)
	if err != nil {
		return window{}, err
	}
	w := window{pageArgs: pa, keep: -1}
	switch {
	case pa.first != nil:
		w.n = first
		if pa.last != nil {
			w.keep = last
		}
	case pa.last != nil:
		w.n, w.backward = last, true
	case pa.before != nil && pa.after == nil:
		w.n, w.backward = def, true
	default:
		w.n = def
	}
	return w, nil
}

// bounds returns the cursor the read starts from and the one it stops
// at, each with the name of its argument for errors.
func (w window) bounds() (from *string, fromField string, until *string, untilField string) {
	if w.backward {
		return w.before, "before", w.after, "after"
	}
	return w.after, "after", w.before, "before"
}

// cut makes the page of the rows read (in reading order, up to n+1 of
// them): in the list's order, with its page info, as the spec's
// HasNextPage and HasPreviousPage say: reading forwards (`first`), a next
// page when a row beyond the page was read, a previous page when it starts
// after a cursor (an item there is known to exist); backwards (`last`),
// the other way round.
func cut[T any](w window, rows []T) ([]T, *model.PageInfo) {
	more := len(rows) > w.n
	if more {
		rows = rows[:w.n]
	}
	pi := &model.PageInfo{}
	if w.backward {
		rows = slices.Clone(rows)
		slices.Reverse(rows)
		pi.HasPreviousPage, pi.HasNextPage = more, w.before != nil
	} else {
		pi.HasNextPage, pi.HasPreviousPage = more, w.after != nil
	}
	return trim(w, rows, pi), pi
}

// trim applies `last` to a page read with `first` (both given): the last
// keep items, with a previous page when it dropped any.
func trim[T any](w window, rows []T, pi *model.PageInfo) []T {
	if w.keep >= 0 && len(rows) > w.keep {
		rows = rows[len(rows)-w.keep:]
		pi.HasPreviousPage = true
	}
	return rows
}
