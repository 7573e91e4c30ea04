package store

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/textsearch"
)

// indexEntity writes the search document of entity id and adds its terms to
// the vocabulary, in tx: the index changes with the entity or not at all.
func indexEntity(ctx context.Context, tx pgx.Tx, id int64, e *kb.Entity) error {
	d := textsearch.Index(textsearch.Fields(e))
	_, err := tx.Exec(ctx, `INSERT INTO search_doc (entity_id, vec, name_vec, name_words, kind, status, country)
		VALUES ($1, $2::tsvector, $3::tsvector, $4, $5, $6, $7)
		ON CONFLICT (entity_id) DO UPDATE SET vec = $2::tsvector, name_vec = $3::tsvector, name_words = $4,
			kind = $5, status = $6, country = $7`,
		id, d.Vector, d.NameVector, d.NameWords, string(e.Kind), statusOf(e), countryOf(e))
	if err != nil {
		return fmt.Errorf("index entity %d: %w", id, translate(err))
	}
	// Sorted terms take row locks in one order, so concurrent writers
	// adding the same new terms wait for each other instead of deadlocking.
	_, err = tx.Exec(ctx, `INSERT INTO search_term (term) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, d.Terms)
	if err != nil {
		return fmt.Errorf("index terms of entity %d: %w", id, translate(err))
	}
	return nil
}

// statusOf is the publication status e is stored with: DRAFT when unset,
// as the entity table's default.
func statusOf(e *kb.Entity) string {
	if e.Status == "" {
		return string(kb.StatusDraft)
	}
	return string(e.Status)
}

func countryOf(e *kb.Entity) string {
	switch {
	case e.Partner != nil:
		return e.Partner.Country
	case e.Cooperative != nil:
		return e.Cooperative.Country
	case e.ForeignExample != nil:
		return e.ForeignExample.Country
	case e.Event != nil:
		return e.Event.Country
	}
	return ""
}

// reindexBatch is how many entities Reindex reads and writes at a time.
const reindexBatch = 2000

// Reindex computes the search documents of entities: all of them when all
// is set, else only those that have none (entities written before the
// search migration). It reads batches in id order while GOMAXPROCS workers
// compute and write the previous ones, each batch its own transaction, and
// returns how many entities it indexed and how long it took.
func (s *Store) Reindex(ctx context.Context, all bool) (int, time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		n       atomic.Int64
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { first = err; cancel() })
	}
	batches := make(chan []*kb.Entity, 2)
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for es := range batches {
				if err := s.writeDocs(ctx, es); err != nil {
					fail(err)
					continue
				}
				n.Add(int64(len(es)))
			}
		}()
	}
	err := s.readBatches(ctx, all, batches)
	close(batches)
	wg.Wait()
	if err != nil {
		fail(err)
	}
	if first != nil {
		return int(n.Load()), time.Since(start), fmt.Errorf("reindex: %w", first)
	}
	if n.Load() > 0 {
		if _, err := s.pool.Exec(ctx, `ANALYZE search_doc, search_term`); err != nil {
			return int(n.Load()), time.Since(start), fmt.Errorf("reindex: analyze: %w", translate(err))
		}
	}
	return int(n.Load()), time.Since(start), nil
}

// readBatches sends the entities to index to out in batches, in id order.
func (s *Store) readBatches(ctx context.Context, all bool, out chan<- []*kb.Entity) error {
	missing := `AND NOT EXISTS (SELECT 1 FROM search_doc d WHERE d.entity_id = e.id)`
	if all {
		missing = ""
	}
	after := int64(0)
	for {
		rows, err := s.pool.Query(ctx, `SELECT `+entityColumns+` FROM entity_full e
			WHERE e.id > $1 `+missing+` ORDER BY e.id LIMIT $2`, after, reindexBatch)
		if err != nil {
			return translate(err)
		}
		var es []*kb.Entity
		for rows.Next() {
			e, err := scanEntity(rows)
			if err != nil {
				rows.Close()
				return err
			}
			es = append(es, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return translate(err)
		}
		if len(es) == 0 {
			return nil
		}
		select {
		case out <- es:
		case <-ctx.Done():
			return ctx.Err()
		}
		after = es[len(es)-1].ID
	}
}

// writeDocs indexes a batch of entities in one transaction with three
// statements, whatever the batch size.
func (s *Store) writeDocs(ctx context.Context, es []*kb.Entity) error {
	ids := make([]int64, len(es))
	vecs := make([]string, len(es))
	names := make([]string, len(es))
	nameWords := make([]int32, len(es))
	kinds := make([]string, len(es))
	statuses := make([]string, len(es))
	countries := make([]string, len(es))
	termSet := map[string]struct{}{}
	for i, e := range es {
		d := textsearch.Index(textsearch.Fields(e))
		ids[i], vecs[i], names[i], nameWords[i] = e.ID, d.Vector, d.NameVector, int32(d.NameWords)
		kinds[i], statuses[i], countries[i] = string(e.Kind), statusOf(e), countryOf(e)
		for _, t := range d.Terms {
			termSet[t] = struct{}{}
		}
	}
	terms := make([]string, 0, len(termSet))
	for t := range termSet {
		terms = append(terms, t)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO search_doc (entity_id, vec, name_vec, name_words, kind, status, country)
			SELECT i, v::tsvector, n::tsvector, w, k, s, c
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[]) AS x(i, v, n, w, k, s, c)
			ON CONFLICT (entity_id) DO UPDATE SET vec = excluded.vec, name_vec = excluded.name_vec,
				name_words = excluded.name_words, kind = excluded.kind, status = excluded.status, country = excluded.country`,
			ids, vecs, names, nameWords, kinds, statuses, countries)
		if err != nil {
			return translate(err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO search_term (term) SELECT t FROM unnest($1::text[]) t ORDER BY t ON CONFLICT DO NOTHING`, terms)
		return translate(err)
	})
}

// SearchRequest asks for one page of a ranked search.
type SearchRequest struct {
	Query   string    // as the user typed it; see textsearch.Parse
	Kinds   []kb.Kind // only entities of these kinds; all when empty
	Country string    // only entities in this country (ISO 3166-1 alpha-2)
	Offset  int       // skip this many hits
	Limit   int       // at most this many hits
}

// SearchHit is one entity found by a search, with its score and the
// excerpt of the field that matched.
type SearchHit struct {
	Entity  *kb.Entity
	Score   float64
	Snippet textsearch.Snippet
}

// SearchPage is one page of search hits, best first.
type SearchPage struct {
	Hits    []SearchHit
	HasNext bool
}

// Ranking weights of ts_rank for the weights {D, C, B, A}: a name counts
// five times a summary, a summary twice a description.
const rankWeights = `'{0.05, 0.1, 0.2, 1.0}'`

// compiled is a query ready for SQL: the tsquery of all groups, and each
// group's own.
type compiled struct {
	all    string
	groups []string
	words  int // how many words the query has
}

// parse parses a query; it returns a *kb.ValidationError on "query" when
// the query cannot be searched.
func parse(query string) (textsearch.Query, error) {
	return textsearch.Parse("query", query)
}

// compile turns q into SQL tsqueries as it stands.
func compile(q textsearch.Query) compiled {
	return compiled{all: q.TSQuery(), groups: q.GroupTSQueries(), words: len(q.Words())}
}

// correct sets the corrections of the words of q that are long enough and
// match no term of the vocabulary, neither as a whole nor as a prefix. It
// reports whether it corrected any word. Searches call it only when q as
// typed finds nothing, so that a query without typos costs no lookups.
func (s *Store) correct(ctx context.Context, q textsearch.Query) (bool, error) {
	var fuzzy []*textsearch.Word
	for _, w := range q.Words() {
		if w.Fuzzy() {
			fuzzy = append(fuzzy, w)
		}
	}
	if len(fuzzy) == 0 {
		return false, nil
	}
	// Which words match a term, in one round trip.
	known := make([]bool, len(fuzzy))
	b := &pgx.Batch{}
	for i, w := range fuzzy {
		b.Queue(`SELECT EXISTS (SELECT 1 FROM search_term WHERE term = ANY($1) OR term LIKE $2)`,
			w.Lexemes, likeEscape(w.Folded)+"%").QueryRow(func(row pgx.Row) error { return row.Scan(&known[i]) })
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return false, fmt.Errorf("search: %w", translate(err))
	}
	// The nearest terms of the unknown words, in a second round trip.
	b = &pgx.Batch{}
	for i, w := range fuzzy {
		if known[i] {
			continue
		}
		for _, l := range w.Lexemes[:min(2, len(w.Lexemes))] { // the word and its Polish stem
			b.Queue(`SELECT term FROM search_term ORDER BY term <-> $1 LIMIT 8`, l).Query(func(rows pgx.Rows) error {
				terms, err := pgx.CollectRows(rows, pgx.RowTo[string])
				w.Correct(terms)
				return err
			})
		}
	}
	if b.Len() == 0 {
		return false, nil
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return false, fmt.Errorf("search: %w", translate(err))
	}
	for _, w := range fuzzy {
		if len(w.Corrections) > 0 {
			return true, nil
		}
	}
	return false, nil
}

func (r SearchRequest) where(b *builder, vis Visibility) {
	b.cond("d.status = ANY(?)", vis.statuses())
	if len(r.Kinds) > 0 {
		b.cond("d.kind = ANY(?)", strs(r.Kinds))
	}
	if r.Country != "" {
		b.cond("d.country = upper(?)", r.Country)
	}
}

// Search runs a ranked search over every entity visible under vis: every
// word of the query must match, in any inflected form, with up to two
// letters wrong in words of five or more; a quoted phrase must match word
// after word. Names weigh most, then summaries, then descriptions. It
// returns a *kb.ValidationError naming "query" for a query that holds no
// word or is too long.
func (s *Store) Search(ctx context.Context, vis Visibility, r SearchRequest) (*SearchPage, error) {
	q, err := parse(r.Query)
	if err != nil {
		return nil, err
	}
	page, err := s.searchPage(ctx, vis, r, q)
	if err != nil || len(page.Hits) > 0 {
		return page, err
	}
	// Nothing found as typed: let every word match as a prefix and correct
	// typos, unless the query as typed finds something and this page is
	// past its end.
	if r.Offset > 0 {
		if n, err := s.count(ctx, vis, r, compile(q)); err != nil || n > 0 {
			return page, err
		}
	}
	widened := q.Widen()
	if ok, err := s.correct(ctx, q); err != nil || !ok && !widened {
		return page, err
	}
	return s.searchPage(ctx, vis, r, q)
}

// candidates is how many entities matching by name, and how many matching
// anywhere, a search ranks at most (more when a page reaches further). A
// word found in most entities would otherwise have every one of them read
// and scored for one page; with the cap, a query that matches more ranks
// all names that match first and a sample of the other matches, in index
// order. totalCount stays exact.
const candidates = 2000

// searchPage reads one page of hits of q.
func (s *Store) searchPage(ctx context.Context, vis Visibility, r SearchRequest, q textsearch.Query) (*SearchPage, error) {
	c := compile(q)
	b := &builder{}
	qAll := b.arg(c.all)
	r.where(b, vis)
	where := strings.Join(b.where, " AND ")
	limit := b.arg(max(candidates, r.Offset+r.Limit+1))
	// The score: ts_rank over all fields (weighted, divided by 1 + the log
	// of the document's length so that long texts do not win by mentioning
	// everything), plus the share of the query's groups found in the name,
	// plus, when the name holds all of them, how much of the name they
	// cover: "stowarzyszenie na rzecz spoldzielni socjalnych" puts the
	// association before an article whose longer title holds those words.
	var named string
	if len(c.groups) == 1 {
		named = "(d.name_vec @@ " + qAll + "::tsquery)::int"
	} else {
		named = "(SELECT count(*) FILTER (WHERE d.name_vec @@ g) FROM unnest(" + b.arg(c.groups) + "::tsquery[]) g)"
	}
	// The candidates come from materialised CTEs so that the planner plans
	// them without the LIMIT, by the text indexes (with a LIMIT in sight it
	// walks the primary key and tests every row); the CTE scans still stop
	// after the first rows the LIMITs take.
	sql := fmt.Sprintf(`WITH by_name AS MATERIALIZED (
			SELECT d.entity_id, d.vec, d.name_vec, d.name_words FROM search_doc d
			WHERE d.name_vec @@ %[1]s::tsquery AND %[6]s),
		elsewhere AS MATERIALIZED (
			SELECT d.entity_id, d.vec, d.name_vec, d.name_words FROM search_doc d
			WHERE d.vec @@ %[1]s::tsquery AND NOT d.name_vec @@ %[1]s::tsquery AND %[6]s),
		cand AS ((SELECT * FROM by_name LIMIT %[9]s) UNION ALL (SELECT * FROM elsewhere LIMIT %[9]s))
		SELECT d.entity_id, score
		FROM cand d,
		LATERAL (SELECT %[2]s AS named) n,
		LATERAL (SELECT ts_rank(%[3]s::float4[], d.vec, %[1]s::tsquery, 1)
			+ n.named::float8 / %[4]d
			+ CASE WHEN n.named = %[4]d THEN 0.5 * least(1.0, %[5]d::float8 / greatest(d.name_words, 1)) ELSE 0 END AS score) s
		ORDER BY score DESC, d.entity_id
		LIMIT %[7]s OFFSET %[8]s`, qAll, named, rankWeights, len(c.groups), c.words,
		where, b.arg(r.Limit+1), b.arg(r.Offset), limit)
	var ids []int64
	var scores []float64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// JIT compilation costs tens of milliseconds and gains nothing on a few
		// thousand rows; the estimates of the candidate scans, made without
		// their LIMIT, would turn it on at a million entities.
		// Planned for each query's own terms (plan_cache_mode auto, which
		// plans an unnamed statement with its arguments; the pool's default
		// would force a generic plan): a generic plan does not know
		// whether a term is in ten entities or in half of them.
		if _, err := tx.Exec(ctx, `SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'auto', true)`); err != nil {
			return translate(err)
		}
		rows, err := tx.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, b.args...)...)
		if err != nil {
			return translate(err)
		}
		var id int64
		var score float64
		_, err = pgx.ForEachRow(rows, []any{&id, &score}, func() error {
			ids, scores = append(ids, id), append(scores, score)
			return nil
		})
		return translate(err)
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	page := &SearchPage{HasNext: len(ids) > r.Limit}
	if page.HasNext {
		ids = ids[:r.Limit]
	}
	if len(ids) == 0 {
		return page, nil
	}
	es, err := s.EntitiesByID(ctx, vis, ids)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	for i, e := range es {
		if e == nil { // changed between the two reads
			continue
		}
		page.Hits = append(page.Hits, SearchHit{Entity: e, Score: scores[i], Snippet: q.Snippet(textsearch.Fields(e))})
	}
	return page, nil
}

// CountSearch returns how many entities a search finds, across all pages.
func (s *Store) CountSearch(ctx context.Context, vis Visibility, r SearchRequest) (int, error) {
	q, err := parse(r.Query)
	if err != nil {
		return 0, err
	}
	n, err := s.count(ctx, vis, r, compile(q))
	if err != nil || n > 0 {
		return n, err
	}
	widened := q.Widen()
	if ok, err := s.correct(ctx, q); err != nil || !ok && !widened {
		return 0, err
	}
	return s.count(ctx, vis, r, compile(q))
}

func (s *Store) count(ctx context.Context, vis Visibility, r SearchRequest, c compiled) (int, error) {
	b := &builder{}
	b.cond("d.vec @@ ?::tsquery", c.all)
	r.where(b, vis)
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM search_doc d WHERE `+
		strings.Join(b.where, " AND "), b.args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count search: %w", translate(err))
	}
	return n, nil
}

// Suggestion is a name that starts with, or has a word that starts with,
// the typed prefix.
type Suggestion struct {
	ID   int64
	Kind kb.Kind
	Name string
}

// MaxSuggestions caps the limit of Suggest.
const MaxSuggestions = 50

// Suggest returns up to limit names of entities visible under vis that
// start with prefix, or whose words start with the words of prefix,
// ignoring case and diacritics: names that start with the whole prefix
// first, each group in alphabetical order of the folded name. It returns a
// *kb.ValidationError naming "prefix" when the prefix holds no letter or
// digit.
func (s *Store) Suggest(ctx context.Context, vis Visibility, prefix string, kinds []kb.Kind, limit int) ([]Suggestion, error) {
	words := textsearch.Words(prefix)
	if len(words) == 0 {
		return nil, kb.Invalid("prefix", "holds no letter or digit")
	}
	if len(words) > textsearch.MaxQueryWords {
		return nil, kb.Invalid("prefix", "has %d words, at most %d", len(words), textsearch.MaxQueryWords)
	}
	starts := likeEscape(strings.Join(words, " ")) + "%"
	filter := func(b *builder) {
		b.cond("e.status = ANY(?)", vis.statuses())
		if len(kinds) > 0 {
			b.cond("e.kind = ANY(?)", strs(kinds))
		}
	}
	// Names that start with the prefix, in index order.
	b := &builder{}
	b.cond(`(e.sort_name COLLATE "C") LIKE ?`, starts)
	filter(b)
	out, err := s.suggestions(ctx, fmt.Sprintf(`SELECT e.id, e.kind, e.name FROM entity e
		WHERE %s ORDER BY e.sort_name COLLATE "C", e.id LIMIT %s`, strings.Join(b.where, " AND "), b.arg(limit)), b.args)
	if err != nil || len(out) == limit {
		return out, err
	}
	// Then names with words that start with the words of the prefix.
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(w, `\`, `\\`), `'`, `''`) + "':*"
	}
	// The matches come from a materialised CTE, by the GIN index: with the
	// LIMIT in sight the planner walks the names in order and tests each.
	b = &builder{}
	b.cond("d.name_vec @@ ?::tsquery", strings.Join(parts, " & "))
	b.cond("d.status = ANY(?)", vis.statuses())
	if len(kinds) > 0 {
		b.cond("d.kind = ANY(?)", strs(kinds))
	}
	more, err := s.suggestions(ctx, fmt.Sprintf(`WITH m AS MATERIALIZED (SELECT d.entity_id FROM search_doc d WHERE %s)
		SELECT e.id, e.kind, e.name FROM m JOIN entity e ON e.id = m.entity_id
		WHERE (e.sort_name COLLATE "C") NOT LIKE %s
		ORDER BY e.sort_name COLLATE "C", e.id LIMIT %s`,
		strings.Join(b.where, " AND "), b.arg(starts), b.arg(limit-len(out))), b.args)
	return append(out, more...), err
}

func (s *Store) suggestions(ctx context.Context, sql string, args []any) ([]Suggestion, error) {
	// Planned with the prefix in sight (the simple protocol sends the
	// arguments in the statement), never from the pool's generic plans,
	// which cannot bound an index range by a pattern they do not know.
	if storable(args) {
		args = append([]any{pgx.QueryExecModeSimpleProtocol}, args...)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("suggest: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Suggestion, error) {
		var sg Suggestion
		err := row.Scan(&sg.ID, &sg.Kind, &sg.Name)
		return sg, err
	})
	if err != nil {
		return nil, fmt.Errorf("suggest: %w", translate(err))
	}
	return out, nil
}
