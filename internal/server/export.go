package server

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/partnergraph/partnergraph/internal/export"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// exportWriter gives each write to the client a deadline of its own, so
// that a client that stops reading is cut off after ExportWriteTimeout
// rather than holding its export slot and database connection for the
// whole ExportTimeout; and it counts what reached the client, so that an
// error before the first byte can still become an error response.
type exportWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	n       int64
}

func (e *exportWriter) Write(p []byte) (int, error) {
	_ = e.rc.SetWriteDeadline(time.Now().Add(e.timeout))
	n, err := e.ResponseWriter.Write(p)
	e.n += int64(n)
	return n, err
}

// exportHandler serves GET /export?format=csv|jsonld|graphml|json with the
// filters of export.ParseFilter. The export streams straight to the client
// (it is not behind the request timeout's buffer); it may run for
// ExportTimeout, and each write may block for ExportWriteTimeout. Beyond
// MaxExports running at once, or MaxExportsPerAddress from one client
// address, it answers 429. A bad format or filter is a 400 naming the
// parameter.
func (s *Server) exportHandler(st *store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeRefusal(w, refusal{Code: CodeBadUserInput, Status: http.StatusMethodNotAllowed, Message: "use GET"})
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
		if !errors.As(err, &v) {
			v = &kb.ValidationError{Message: err.Error()}
		}
		writeRefusal(w, refusalOf(r.Context(), s.cfg.Logger, v))
	})
}

// takeExportSlot reserves an export slot for r's client address and the
// server; it returns the release function, or the refusal when either is
// full.
func (s *Server) takeExportSlot(r *http.Request) (func(), *refusal) {
	addr := clientAddr(r)
	s.exportsMu.Lock()
	if s.exportsBy[addr] >= s.cfg.MaxExportsPerAddress {
		s.exportsMu.Unlock()
		return nil, &refusal{Code: CodeLimitExceeded, RetryAfter: 30, Message: "too many exports from one address at once (the limit is " +
			strconv.Itoa(s.cfg.MaxExportsPerAddress) + ", PARTNERGRAPH_MAX_EXPORTS_PER_ADDRESS); wait for the running one to finish"}
	}
	s.exportsBy[addr]++
	s.exportsMu.Unlock()
	release := func() {
		s.exportsMu.Lock()
		if s.exportsBy[addr]--; s.exportsBy[addr] <= 0 {
			delete(s.exportsBy, addr)
		}
		s.exportsMu.Unlock()
	}
	select {
	case s.exports <- struct{}{}:
		return func() { <-s.exports; release() }, nil
	default:
		release()
		return nil, &refusal{Code: CodeLimitExceeded, RetryAfter: 30,
			Message: "too many exports are running at once (" + strconv.Itoa(cap(s.exports)) + ", PARTNERGRAPH_MAX_EXPORTS); try again shortly"}
	}
}

func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, st *store.Store, opts export.Options) {
	if s.cfg.ExportStore != nil {
		st = s.cfg.ExportStore
	}
	if r.Method == http.MethodGet {
		release, ref := s.takeExportSlot(r)
		if ref != nil {
			writeRefusal(w, *ref)
			return
		}
		defer release()
	}
	h := w.Header()
	h.Set("Content-Type", opts.Format.ContentType())
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": opts.Format.FileName()}))
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	// The server's write timeout fits API requests, not a large download:
	// each write gets a deadline of its own instead.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ExportTimeout)
	defer cancel()
	cw := &exportWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: s.cfg.ExportWriteTimeout}
	err := export.Write(ctx, st, opts, cw)
	if err == nil {
		return
	}
	if r.Context().Err() != nil {
		// The client went away: logged as the GraphQL path logs it.
		if clientGone(r.Context()) {
			s.cfg.Logger.InfoContext(ctx, cancelledMessage, "request_id", RequestID(ctx), "code", CodeCancelled,
				"format", opts.Format, "written", cw.n, "err", err)
		}
		return
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// Cut off: the deferred release frees the slot, the rolled-back
		// transaction its connection, and the abort the TCP connection.
		s.cfg.Logger.WarnContext(ctx, "export cut off: the client reads too slowly", "request_id", RequestID(ctx),
			"format", opts.Format, "written", cw.n, "write_timeout", s.cfg.ExportWriteTimeout)
		panic(http.ErrAbortHandler)
	}
	if cw.n == 0 {
		// Nothing sent yet: the headers can still say what happened.
		h.Del("Content-Disposition")
		writeRefusal(w, refusalOf(ctx, s.cfg.Logger, fmt.Errorf("export %s: %w", opts.Format, err)))
		return
	}
	s.cfg.Logger.ErrorContext(ctx, "export failed", "request_id", RequestID(ctx), "format", opts.Format, "written", cw.n, "err", err)
	// Mid-stream there is no status left to change: cut the connection so
	// that the client sees a broken download, not a short one.
	panic(http.ErrAbortHandler)
}
