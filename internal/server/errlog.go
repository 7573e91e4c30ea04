package server

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// requestErrors collects the errors of one GraphQL request that the
// operators must hear of (INTERNAL, UNAVAILABLE, a limit of the second
// wall), so that the access log writes one line for the request however
// many fields failed: a list of 100 items that each fail the same way is
// one line, not 100.
type requestErrors struct {
	codes map[string]int
	first string // the first error's text, for the log only
	level slog.Level
}

// collectErrors makes the presenter collect the request's errors into r
// instead of logging each one; the access log writes them (logErrors).
func (r *reqInfo) collectErrors() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = &requestErrors{codes: map[string]int{}, level: slog.LevelInfo} // raised by the errors reported
}

// reportError logs an error of the request in ctx, or collects it when the
// request collects its errors.
func reportError(ctx context.Context, log *slog.Logger, level slog.Level, code, msg string, attrs ...any) {
	if info, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		info.mu.Lock()
		e := info.errs
		if e != nil {
			e.codes[code]++
			if e.first == "" {
				e.first = describe(msg, attrs)
			}
			e.level = max(e.level, level)
		}
		info.mu.Unlock()
		if e != nil {
			return
		}
	}
	log.Log(ctx, level, msg, append([]any{"request_id", RequestID(ctx)}, attrs...)...)
}

// logErrors writes the one line of a request's collected errors: the
// request ID, the operation, how many errors of which codes, and the
// first error's text.
func (r *reqInfo) logErrors(ctx context.Context, log *slog.Logger, requestID string) {
	r.mu.Lock()
	e, op := r.errs, r.operation
	r.mu.Unlock()
	if e == nil || len(e.codes) == 0 {
		return
	}
	codes := make([]string, 0, len(e.codes))
	total := 0
	for c, n := range e.codes {
		codes = append(codes, fmt.Sprintf("%s=%d", c, n))
		total += n
	}
	slices.Sort(codes)
	log.LogAttrs(ctx, e.level, "request failed", slog.String("request_id", requestID), slog.String("operation", op),
		slog.Int("errors", total), slog.String("codes", strings.Join(codes, ",")), slog.String("first", e.first))
}

// describe writes msg and slog's key-value attrs as one line for the log's
// "first" field: "request stopped: limit=PARTNERGRAPH_MAX_ROWS".
func describe(msg string, attrs []any) string {
	r := slog.NewRecord(time.Time{}, 0, "", 0)
	r.Add(attrs...)
	var b strings.Builder
	b.WriteString(msg)
	sep := ": "
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(sep)
		b.WriteString(a.String())
		sep = " "
		return true
	})
	return b.String()
}
