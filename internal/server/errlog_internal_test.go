package server

import (
	"errors"
	"log/slog"
	"testing"
)

func TestDescribeWritesTheAttrsAsKeyValuePairs(t *testing.T) {
	for _, tc := range []struct {
		attrs []any
		want  string
	}{
		{nil, "request stopped"},
		{[]any{"limit", "PARTNERGRAPH_MAX_ROWS"}, "request stopped: limit=PARTNERGRAPH_MAX_ROWS"},
		{[]any{"limit", "PARTNERGRAPH_MAX_ROWS", slog.Int("rows", 3), "err", errors.New("boom")}, "request stopped: limit=PARTNERGRAPH_MAX_ROWS rows=3 err=boom"},
	} {
		if got := describe("request stopped", tc.attrs); got != tc.want {
			t.Errorf("describe(%v) = %q; want %q", tc.attrs, got, tc.want)
		}
	}
}
