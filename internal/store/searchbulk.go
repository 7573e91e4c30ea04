package store

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/textsearch"
)

// BuildSearchIndex computes the search documents of the entities that have
// none, as Reindex(ctx, false) does, and returns how many it indexed and
// how long it took. When search_doc is empty (a database just loaded by
// BulkLoad: `partnergraph generate`), it builds the index in bulk, in one
// transaction that holds search_doc locked: the text indexes are dropped,
// the documents are computed by GOMAXPROCS workers and streamed in entity
// order through one COPY, the indexes are built once over them, and the
// vocabulary is the set of the published documents' terms, kept in Go and
// written by COPY. Updating two GIN indexes and the vocabulary's trigger
// row by row, in batches of 2,000, took 7 min 39 s of a generate at 1M
// (docs/search.md, "Index build").
func (s *Store) BuildSearchIndex(ctx context.Context) (int, time.Duration, error) {
	start := time.Now()
	n, bulk, err := s.bulkIndex(ctx)
	if err != nil {
		return n, time.Since(start), fmt.Errorf("build search index: %w", err)
	}
	if !bulk {
		n, _, err = s.Reindex(ctx, false)
		return n, time.Since(start), err
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE search_doc, search_term`); err != nil {
		return n, time.Since(start), fmt.Errorf("build search index: analyze: %w", translate(err))
	}
	return n, time.Since(start), nil
}

// bulkIndex is BuildSearchIndex's bulk path; it reports false, having done
// nothing, when search_doc holds a document.
func (s *Store) bulkIndex(ctx context.Context) (int, bool, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, false, translate(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	// Writers of entities wait for the lock (their documents are written
	// in their transactions), so none is written meanwhile; the entities
	// are read on other connections, which never touch search_doc.
	for _, sql := range []string{`SET LOCAL maintenance_work_mem = '512MB'`,
		`LOCK TABLE search_doc, search_term IN ACCESS EXCLUSIVE MODE`} {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return 0, false, translate(err)
		}
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM search_doc)`).Scan(&exists); err != nil {
		return 0, false, translate(err)
	}
	if exists {
		return 0, false, nil
	}
	rebuild, err := dropIndexesOf(ctx, tx, []string{"search_doc"})
	if err != nil {
		return 0, false, err
	}
	// The vocabulary is written below, whole.
	if _, err := tx.Exec(ctx, `ALTER TABLE search_doc DISABLE TRIGGER search_doc_to_search_term`); err != nil {
		return 0, false, translate(err)
	}
	n, vocab, err := s.copyDocs(ctx, tx)
	if err != nil {
		return 0, false, err
	}
	for _, sql := range rebuild {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return 0, false, fmt.Errorf("%s: %w", sql, translate(err))
		}
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE search_doc ENABLE TRIGGER search_doc_to_search_term`); err != nil {
		return 0, false, translate(err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM search_term`); err != nil {
		return 0, false, translate(err)
	}
	terms := make([]string, 0, len(vocab))
	for t := range vocab {
		terms = append(terms, t)
	}
	sort.Strings(terms)
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"search_term"}, []string{"term"},
		pgx.CopyFromSlice(len(terms), func(i int) ([]any, error) { return []any{terms[i]}, nil })); err != nil {
		return 0, false, fmt.Errorf("vocabulary: %w", translate(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, translate(err)
	}
	s.committed(ctx)
	return n, true, nil
}

// docBatch is one batch of entities and, once computed, the COPY text of
// their documents and the terms of the published ones.
type docBatch struct {
	es    []*kb.Entity
	text  []byte
	terms []string
	done  chan struct{}
}

// copyDocs writes the documents of every entity into search_doc through
// one COPY in text format (pgx has no binary encoding of tsvector), in
// entity order, and returns how many it wrote and the terms of the
// published ones.
func (s *Store) copyDocs(ctx context.Context, tx pgx.Tx) (int, map[string]bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reads := make(chan []*kb.Entity, 2)
	var readErr error
	go func() {
		defer close(reads)
		readErr = s.readBatches(ctx, true, reads)
	}()
	// The batches in entity order, each computed by a worker.
	jobs := make(chan *docBatch, runtime.GOMAXPROCS(0))
	ordered := make(chan *docBatch, 2*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ix := textsearch.NewIndexer()
			for b := range jobs {
				b.text, b.terms = docLines(ix, b.es)
				close(b.done)
			}
		}()
	}
	go func() {
		defer close(ordered)
		defer close(jobs)
		for es := range reads {
			b := &docBatch{es: es, done: make(chan struct{})}
			select {
			case jobs <- b:
			case <-ctx.Done():
				return
			}
			select {
			case ordered <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	pr, pw := io.Pipe()
	vocab := map[string]bool{}
	n := 0
	go func() {
		w := bufio.NewWriterSize(pw, 1<<20)
		for b := range ordered {
			select {
			case <-b.done:
			case <-ctx.Done():
				pw.CloseWithError(ctx.Err())
				return
			}
			if _, err := w.Write(b.text); err != nil {
				pw.CloseWithError(err)
				return
			}
			for _, t := range b.terms {
				vocab[t] = true
			}
			n += len(b.es)
		}
		wg.Wait()
		if err := w.Flush(); err != nil {
			pw.CloseWithError(err)
			return
		}
		if readErr != nil {
			pw.CloseWithError(readErr)
			return
		}
		pw.Close()
	}()
	_, err := tx.Conn().PgConn().CopyFrom(ctx, pr,
		`COPY search_doc (entity_id, vec, name_vec, name_words, kind, status, country, version) FROM STDIN`)
	if err != nil {
		cancel()
		pr.CloseWithError(err)
		return 0, nil, fmt.Errorf("copy search documents: %w", translate(err))
	}
	return n, vocab, nil
}

// docLines returns the COPY text lines of the documents of es and the
// distinct terms of the published ones.
func docLines(ix *textsearch.Indexer, es []*kb.Entity) ([]byte, []string) {
	var b strings.Builder
	seen := map[string]bool{}
	var terms []string
	for _, e := range es {
		d := ix.Index(textsearch.Fields(e))
		b.WriteString(strconv.FormatInt(e.ID, 10))
		for _, f := range []string{d.Vector, d.NameVector, strconv.Itoa(d.NameWords), string(e.Kind), statusOf(e)} {
			b.WriteByte('\t')
			copyEscape(&b, f)
		}
		b.WriteByte('\t')
		copyEscape(&b, e.Country())
		b.WriteByte('\t')
		b.WriteString(strconv.Itoa(docVersion))
		b.WriteByte('\n')
		if statusOf(e) == string(kb.StatusPublished) {
			for _, t := range d.Terms {
				if !seen[t] {
					seen[t] = true
					terms = append(terms, t)
				}
			}
		}
	}
	return []byte(b.String()), terms
}

// copyEscape writes s as a field of COPY's text format.
func copyEscape(b *strings.Builder, s string) {
	if !strings.ContainsAny(s, "\\\t\n\r") {
		b.WriteString(s)
		return
	}
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		default:
			b.WriteRune(r)
		}
	}
}
