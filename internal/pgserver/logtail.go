package pgserver

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// tailLines is how many of the last output lines go into error messages.
const tailLines = 20

// logWriter receives a child process's output: it copies it to a file,
// logs each line at debug level and keeps the last lines for error messages.
type logWriter struct {
	file   io.Writer // may be nil
	logger *slog.Logger
	source string // "postgres" or "initdb", logged with each line

	mu      sync.Mutex
	partial []byte   // an unfinished last line
	tail    []string // the last tailLines complete lines
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.file != nil {
		// A full disk must not stop the server: its output is only a log.
		_, _ = w.file.Write(p)
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

// line records one complete line; w.mu is held.
func (w *logWriter) line(s string) {
	w.logger.LogAttrs(context.Background(), slog.LevelDebug, s, slog.String("source", w.source))
	w.tail = append(w.tail, s)
	if len(w.tail) > tailLines {
		w.tail = w.tail[len(w.tail)-tailLines:]
	}
}

// Tail returns the last lines written, an unfinished one included, as one
// indented block, or "" if there were none.
func (w *logWriter) Tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := w.tail
	if len(w.partial) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(w.partial))
	}
	if len(lines) == 0 {
		return ""
	}
	return "\n\t" + strings.Join(lines, "\n\t")
}
