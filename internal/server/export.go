package server

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/partnergraph/partnergraph/internal/export"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// countingWriter remembers whether anything reached the client, so that
// an error before the first byte can still become an error response.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// exportHandler serves GET /export?format=csv|jsonld|graphml|json with the
// filters of export.ParseFilter. The export streams straight to the client
// (it is not behind the request timeout's buffer); it may run for
// ExportTimeout; beyond MaxExports running at once it answers 429. A bad
// format or filter is a 400 naming the parameter.
func (s *Server) exportHandler(st *store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, CodeBadUserInput, "", "use GET")
			return
		}
		q := r.URL.Query()
		format, err := export.ParseFormat(q.Get("format"))
		if err == nil {
			var f store.ExportFilter
			f, err = export.ParseFilter(q, "format")
			if err == nil {
				s.serveExport(w, r, st, export.Options{Format: format, Filter: f, BaseIRI: s.cfg.BaseIRI})
				return
			}
		}
		var v *kb.ValidationError
		if errors.As(err, &v) {
			writeError(w, http.StatusBadRequest, CodeBadUserInput, v.Field, v.Error())
			return
		}
		writeError(w, http.StatusBadRequest, CodeBadUserInput, "", err.Error())
	})
}

func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, st *store.Store, opts export.Options) {
	if r.Method == http.MethodGet {
		select {
		case s.exports <- struct{}{}:
			defer func() { <-s.exports }()
		default:
			w.Header().Set("Retry-After", "30")
			writeError(w, http.StatusTooManyRequests, CodeLimitExceeded, "",
				"too many exports are running at once ("+strconv.Itoa(cap(s.exports))+"); try again shortly")
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", opts.Format.ContentType())
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": opts.Format.FileName()}))
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	// The server's write timeout fits API requests, not a large download.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.ExportTimeout))
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ExportTimeout)
	defer cancel()
	cw := &countingWriter{ResponseWriter: w}
	err := export.Write(ctx, st, opts, cw)
	if err == nil {
		return
	}
	if r.Context().Err() != nil {
		return // the client went away
	}
	s.cfg.Logger.ErrorContext(ctx, "export failed", "request_id", RequestID(ctx), "format", opts.Format, "written", cw.n, "err", err)
	if cw.n == 0 {
		// Nothing sent yet: the headers can still say what happened.
		h.Del("Content-Disposition")
		if errors.Is(err, kb.ErrUnavailable) {
			writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "", "the database is unavailable; try again later")
			return
		}
		writeError(w, http.StatusInternalServerError, CodeInternal, "", "internal error; request ID "+RequestID(ctx))
		return
	}
	// Mid-stream there is no status left to change: cut the connection so
	// that the client sees a broken download, not a short one.
	panic(http.ErrAbortHandler)
}

// writeError writes one error in the shape of GraphQL errors, so clients
// read the API's and the export's errors alike.
func writeError(w http.ResponseWriter, status int, code, field, msg string) {
	ext := map[string]string{"code": code}
	if field != "" {
		ext["field"] = field
	}
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{"message": msg, "extensions": ext}}})
}
