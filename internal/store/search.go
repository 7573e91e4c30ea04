package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/textsearch"
)

// docVersion is the version of the rules of package textsearch that
// search documents are computed with. Raise it when a change of those
// rules changes documents: store.Migrate then recomputes the older ones.
// Version 1 (migration 00010) indexes the entity's kind and place with
// the weight of its name and the concepts of words. Version 2 (issue 17)
// adds to a good practice's document the labels of its topics in every
// language (kb.GoodPractice.TopicLabels): only practices' documents
// change, so the documents of version 1 of the other kinds stay: a
// document is up to date when its version is docVersion, or at least 1
// for another kind than a practice (Store.outdated).
const docVersion = 2

// indexEntity writes the search document of entity id in tx: the index
// changes with the entity or not at all. The vocabulary follows by the
// trigger of migration 00010, in the same transaction.
func indexEntity(ctx context.Context, tx pgx.Tx, id int64, e *kb.Entity) error {
	if e.GoodPractice != nil {
		labels, err := practiceTopicLabels(ctx, tx, []int64{id})
		if err != nil {
			return err
		}
		x, gp := *e, *e.GoodPractice
		gp.TopicLabels = labels[id]
		x.GoodPractice = &gp
		e = &x
	}
	d := textsearch.Index(textsearch.Fields(e))
	_, err := tx.Exec(ctx, `INSERT INTO search_doc (entity_id, vec, name_vec, name_words, kind, status, country, version)
		VALUES ($1, $2::tsvector, $3::tsvector, $4, $5, $6, $7, $8)
		ON CONFLICT (entity_id) DO UPDATE SET vec = $2::tsvector, name_vec = $3::tsvector, name_words = $4,
			kind = $5, status = $6, country = $7, version = $8`,
		id, d.Vector, d.NameVector, d.NameWords, string(e.Kind), statusOf(e), e.Country(), docVersion)
	if err != nil {
		return fmt.Errorf("index entity %d: %w", id, translate(err))
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

// reindexBatch is how many entities Reindex reads and writes at a time.
const reindexBatch = 2000

// Reindex computes the search documents of entities: all of them when all
// is set, else only those that have none (entities written before the
// search migration) or one of an older docVersion. It reads batches in id
// order while GOMAXPROCS workers compute and write the previous ones, each
// batch its own transaction, then counts the vocabulary afresh, and
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
		if err := s.countVocabulary(ctx); err != nil {
			return int(n.Load()), time.Since(start), fmt.Errorf("reindex: %w", err)
		}
		if _, err := s.pool.Exec(ctx, `ANALYZE search_doc, search_term`); err != nil {
			return int(n.Load()), time.Since(start), fmt.Errorf("reindex: analyze: %w", translate(err))
		}
	}
	return int(n.Load()), time.Since(start), nil
}

// countVocabulary computes the vocabulary afresh from the published search
// documents, after bulk writes that left it alone (and to settle what
// concurrent removals may have kept: see migration 00010). The table lock makes
// writers that commit meanwhile wait, so that their counts are neither
// lost nor counted twice.
func (s *Store) countVocabulary(ctx context.Context) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `LOCK TABLE search_term IN EXCLUSIVE MODE`)
		if err == nil {
			_, err = tx.Exec(ctx, `DELETE FROM search_term`)
		}
		if err == nil {
			_, err = tx.Exec(ctx, `INSERT INTO search_term (term)
				SELECT DISTINCT l FROM search_doc d, unnest(tsvector_to_array(d.vec)) l
				WHERE d.status = 'PUBLISHED'`)
		}
		if err != nil {
			return fmt.Errorf("count vocabulary: %w", translate(err))
		}
		return nil
	})
}

// readBatches sends the entities to index to out in batches, in id order.
// Without all, the entities to index are found first (outdated), and the
// batches read by their ids.
func (s *Store) readBatches(ctx context.Context, all bool, out chan<- []*kb.Entity) error {
	var ids []int64
	if !all {
		var err error
		if ids, err = s.outdated(ctx); err != nil {
			return err
		}
	}
	after := int64(0)
	for {
		var (
			rows pgx.Rows
			err  error
		)
		if all {
			rows, err = s.pool.Query(ctx, `SELECT `+entityColumns+` FROM entity_full e
				WHERE e.id > $1 ORDER BY e.id LIMIT $2`, after, reindexBatch)
		} else {
			if len(ids) == 0 {
				return nil
			}
			batch := ids[:min(len(ids), reindexBatch)]
			ids = ids[len(batch):]
			rows, err = s.pool.Query(ctx, `SELECT `+entityColumns+` FROM entity_full e
				WHERE e.id = ANY($1::bigint[]) ORDER BY e.id`, batch)
		}
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
			if all {
				return nil
			}
			continue // a batch of entities deleted meanwhile
		}
		// The documents hold the translations (textsearch.Fields).
		if err := fillTexts(ctx, s.pool, es); err != nil {
			return err
		}
		if err := fillTopicLabels(ctx, s.pool, es); err != nil {
			return err
		}
		select {
		case out <- es:
		case <-ctx.Done():
			return ctx.Err()
		}
		after = es[len(es)-1].ID
	}
}

// outdated returns, in id order, the entities whose search document is of
// an older docVersion (upToDate), found through the index of migration
// 00051 (a range of it a kind), and those that have none (written before
// the search migration, or by a bulk load: BuildSearchIndex), found by
// one anti-join of the two primary keys (2.1 s at 1M under load). Walking
// every entity 2,000 at a time with a probe of its document took 1 min
// 37 s at 1M.
func (s *Store) outdated(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.entity_id FROM search_doc d
			WHERE d.kind = 'GOOD_PRACTICE' AND d.version < $1
		UNION
		SELECT d.entity_id FROM search_doc d WHERE d.kind = ANY($2::text[]) AND d.version < 1
		UNION
		SELECT e.id FROM entity e WHERE NOT EXISTS (SELECT 1 FROM search_doc d WHERE d.entity_id = e.id)
		ORDER BY 1`, docVersion, strs(kb.Kinds))
	if err != nil {
		return nil, translate(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, translate(err)
	}
	return ids, nil
}

// writeDocs indexes a batch of entities in one transaction with two
// statements, whatever the batch size. It leaves the vocabulary alone
// (Reindex counts it at the end): the trigger that keeps it would update
// the rows of common terms once per entity.
func (s *Store) writeDocs(ctx context.Context, es []*kb.Entity) error {
	ids := make([]int64, len(es))
	vecs := make([]string, len(es))
	names := make([]string, len(es))
	nameWords := make([]int32, len(es))
	kinds := make([]string, len(es))
	statuses := make([]string, len(es))
	countries := make([]string, len(es))
	ix := textsearch.NewIndexer()
	for i, e := range es {
		d := ix.Index(textsearch.Fields(e))
		ids[i], vecs[i], names[i], nameWords[i] = e.ID, d.Vector, d.NameVector, int32(d.NameWords)
		kinds[i], statuses[i], countries[i] = string(e.Kind), statusOf(e), e.Country()
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('partnergraph.search_bulk', 'on', true)`); err != nil {
			return translate(err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO search_doc (entity_id, vec, name_vec, name_words, kind, status, country, version)
			SELECT i, v::tsvector, n::tsvector, w, k, s, c, $8
			FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[]) AS x(i, v, n, w, k, s, c)
			ON CONFLICT (entity_id) DO UPDATE SET vec = excluded.vec, name_vec = excluded.name_vec,
				name_words = excluded.name_words, kind = excluded.kind, status = excluded.status, country = excluded.country,
				version = excluded.version`,
			ids, vecs, names, nameWords, kinds, statuses, countries, docVersion)
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
	// Count asks Search to count the hits too, in the statement of the
	// page: it then reads the text index once for both (SearchPage.Counted).
	Count bool
}

// SearchHit is one entity found by a search, with its score and the
// excerpt of the field that matched.
type SearchHit struct {
	Entity  *kb.Entity
	Score   float64
	Snippet textsearch.Snippet
	// Missing are the words of the query (as typed) this hit does not
	// match: empty unless the page is Partial.
	Missing []string
}

// SearchPage is one page of search hits, best first.
type SearchPage struct {
	Hits    []SearchHit
	HasNext bool
	// Partial is set when no entity matches every word of the query: the
	// hits are those that match the most of them.
	Partial bool
	// Unmatched are the words of the query (as typed) that no entity
	// visible to the reader matches.
	Unmatched []string
	// Counted is set when the request asked for the count and the page's
	// statement could give it: Total and TotalExact are then what
	// CountSearch returns. A page of partial matches, or one past the
	// end of the hits, is not counted; CountSearch counts it.
	Counted    bool
	Total      int
	TotalExact bool
}

// Ranking weights of ts_rank for the weights {D, C, B, A}: a name or an
// attribute counts five times a summary, a summary twice a description.
const rankWeights = `'{0.05, 0.1, 0.2, 1.0}'`

// compiled is a query ready for SQL.
type compiled struct {
	all    string   // every group must match
	any    string   // any group matches
	rank   string   // any group matches, every term named (for ts_rank)
	own    string   // every group must match in the name or an attribute
	groups []string // each group's own
	owns   []string // each group's own, in the name or an attribute
	words  int      // how many words the query has
}

// parse parses a query; it returns a *kb.ValidationError on "query" when
// the query cannot be searched.
func parse(query string) (textsearch.Query, error) {
	return textsearch.Parse("query", query)
}

// compile turns q into SQL tsqueries as it stands.
func compile(q textsearch.Query) compiled {
	return compiled{all: q.TSQuery(), any: q.AnyTSQuery(), rank: q.RankTSQuery(), own: q.OwnTSQuery(),
		groups: q.GroupTSQueries(), owns: q.OwnGroupTSQueries(), words: len(q.Words())}
}

// vocabularyKnown records, for the words of a query long enough to be
// corrected (textsearch.Word.Fuzzy), whether the vocabulary holds one of
// their forms or a term that starts with them: correct's test of which
// words need a correction. complete reads it beside the completions, so
// that a query that finds nothing as typed is corrected without a round
// trip for the test (docs/search.md, "Round trips").
type vocabularyKnown map[*textsearch.Word]bool

// correct sets the corrections of the words of q that are long enough and
// match no term of the vocabulary, neither as a whole nor as a prefix. It
// reports whether it corrected any word. Searches call it only when q as
// typed finds nothing, so that a query without typos costs no lookups.
// The vocabulary holds the terms of published entries only (migration
// 00010): what a correction offers says nothing about drafts. Which
// words match a term is taken from known where complete read it, else
// read here, in a round trip of its own.
func (s *Store) correct(ctx context.Context, q textsearch.Query, known vocabularyKnown) (bool, error) {
	fuzzy := fuzzyWords(q)
	if len(fuzzy) == 0 {
		return false, nil
	}
	if err := s.readKnown(ctx, fuzzy, known); err != nil {
		return false, err
	}
	// The nearest terms of the unknown words, in a second round trip.
	b := &pgx.Batch{}
	queueNearest(b, fuzzy, known)
	if b.Len() == 0 {
		return false, nil
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return false, fmt.Errorf("search: %w", translate(err))
	}
	return corrected(fuzzy), nil
}

// fuzzyWords returns the words of q long enough to be corrected.
func fuzzyWords(q textsearch.Query) []*textsearch.Word {
	var fuzzy []*textsearch.Word
	for _, w := range q.Words() {
		if w.Fuzzy() {
			fuzzy = append(fuzzy, w)
		}
	}
	return fuzzy
}

// readKnown reads into known, in one round trip, whether the vocabulary
// holds a form of each of the words, or a term they start, where known
// does not say yet.
func (s *Store) readKnown(ctx context.Context, words []*textsearch.Word, known vocabularyKnown) error {
	b := &pgx.Batch{}
	knownSQL := `SELECT EXISTS (SELECT 1 FROM search_term WHERE term = ANY($1) OR term LIKE $2)`
	if s.serverPlans {
		knownSQL = `SELECT search_term_known($1, $2)` // planned once per server session (migration 00037)
	}
	for _, w := range words {
		if _, ok := known[w]; ok {
			continue
		}
		b.Queue(knownSQL, w.Lexemes, likeEscape(w.Folded)+"%").QueryRow(func(row pgx.Row) error {
			var k bool
			err := row.Scan(&k)
			known[w] = k
			return err
		})
	}
	if b.Len() == 0 {
		return nil
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("search: %w", translate(err))
	}
	return nil
}

// queueNearest queues the reads of the vocabulary's terms nearest to each
// of words that known says the vocabulary does not hold, each setting the
// word's corrections.
func queueNearest(b *pgx.Batch, words []*textsearch.Word, known vocabularyKnown) {
	for _, w := range words {
		if k, ok := known[w]; !ok || k {
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
}

// corrected reports whether any of words has a correction.
func corrected(words []*textsearch.Word) bool {
	for _, w := range words {
		if len(w.Corrections) > 0 {
			return true
		}
	}
	return false
}

// widenAndCorrect widens q (textsearch.Query.Widen), completes the words
// that then match as prefixes and corrects the words the vocabulary does
// not hold, and reports whether it widened and whether it corrected any
// word: what a search whose query as typed found nothing does before it
// asks again. Where complete has already read which words the
// vocabulary holds (known), the completions and the nearest terms are
// read in one round trip, else the test and the completions in one and
// the nearest terms in a second.
func (s *Store) widenAndCorrect(ctx context.Context, vis Visibility, q textsearch.Query, known vocabularyKnown) (widened, fixed bool, err error) {
	widened = q.Widen()
	fuzzy := fuzzyWords(q)
	all := true
	for _, w := range fuzzy {
		_, ok := known[w]
		all = all && ok
	}
	if !all {
		if err := s.complete(ctx, vis, q, known); err != nil {
			return false, false, err
		}
		c, err := s.correct(ctx, q, known)
		return widened, c, err
	}
	nearest := &pgx.Batch{}
	queueNearest(nearest, fuzzy, known)
	c := completionOf(vis, q, known)
	var rs []rangeRead
	if c != nil {
		rs = c.reads()
	}
	if err := s.vocabularyRangesBatch(ctx, rs, nearest); err != nil {
		return false, false, fmt.Errorf("search: %w", err)
	}
	if c != nil {
		c.apply(q, known)
	}
	return widened, corrected(fuzzy), nil
}

// complete gives the words of q that match as a prefix the terms of the
// vocabulary they start (textsearch.Word.Complete), in one round trip:
// the text index answers a few named terms far faster than a prefix,
// which it collects into a bitmap of every document under it. Only for
// readers of published entries: the vocabulary holds the terms of
// published documents only, so that a reader who sees drafts keeps the
// prefix match, which reaches the drafts' terms too.
//
// It also prunes the words of q (prune) in the same round trip: the
// terms a word completes to all start with the word, so the vocabulary's
// ranges that prune reads for them all lie in the range of the word's own
// HolderPrefixes, which is read beside the completions (wideRange terms
// at most) and cut here as prune would read it. Where that range holds
// more, prune reads what it needs afterwards, in a round trip of its own.
//
// And it records in known, in the same round trip, which words long
// enough to be corrected the vocabulary holds (vocabularyKnown), when
// known is not nil.
func (s *Store) complete(ctx context.Context, vis Visibility, q textsearch.Query, known vocabularyKnown) error {
	c := completionOf(vis, q, known)
	if c == nil {
		return nil
	}
	if err := s.vocabularyRangesBatch(ctx, c.reads(), nil); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	c.apply(q, known)
	return nil
}

// completion is what complete reads of the vocabulary for a query, and
// what it read.
type completion struct {
	words                    []*textsearch.Word // those that need completion
	prefixes, wide, holderAt []string
	terms, ranges, holders   [][]string
	// The words whose known-ness is read, the prefix of each read (its
	// first term tells whether a term starts with it, or is it), and
	// for each word the indexes of its reads: the first tests the
	// folded word as a prefix, the others its forms that do not start
	// with it, as themselves.
	knownWords  []*textsearch.Word
	knownAt     []string
	knownReads  [][]int
	knownRanges [][]string
}

// completionOf returns what complete reads for q, nil when it reads
// nothing: for a reader of drafts, or when no word of q needs
// completion (the test of known words is then left to correct).
func completionOf(vis Visibility, q textsearch.Query, known vocabularyKnown) *completion {
	if vis.Drafts {
		return nil
	}
	c := &completion{}
	for _, w := range q.Words() {
		if w.NeedsCompletion() {
			c.words, c.prefixes = append(c.words, w), append(c.prefixes, w.Folded)
			c.wide = append(c.wide, textsearch.HolderPrefixes(w.Folded)[0])
		}
	}
	if len(c.words) == 0 {
		return nil
	}
	_, c.holderAt = pruneWork(q)
	if known != nil {
		for _, w := range fuzzyWords(q) {
			if _, ok := known[w]; ok {
				continue
			}
			reads := []int{len(c.knownAt)}
			c.knownAt = append(c.knownAt, w.Folded)
			for _, l := range w.Lexemes {
				if !strings.HasPrefix(l, w.Folded) {
					reads = append(reads, len(c.knownAt))
					c.knownAt = append(c.knownAt, l)
				}
			}
			c.knownWords, c.knownReads = append(c.knownWords, w), append(c.knownReads, reads)
		}
	}
	return c
}

// reads returns the vocabulary's ranges c reads.
func (c *completion) reads() []rangeRead {
	return []rangeRead{
		{c.prefixes, textsearch.MaxCompletions + 1, &c.terms},
		{c.wide, wideRange + 1, &c.ranges},
		{c.holderAt, pruneRange + 1, &c.holders},
		{c.knownAt, 1, &c.knownRanges},
	}
}

// apply gives the words of q what c read: their completions, their
// pruning where the ranges read suffice, and which words the vocabulary
// holds, into known.
func (c *completion) apply(q textsearch.Query, known vocabularyKnown) {
	for i, w := range c.knownWords {
		k := false
		for j, r := range c.knownReads[i] {
			got := c.knownRanges[r]
			// A term starts with the folded word (term LIKE word%), or is
			// one of its forms (term = ANY(forms)); the range of a form
			// starts with the form itself when the vocabulary holds it.
			k = k || (j == 0 && len(got) > 0) || (j > 0 && len(got) > 0 && got[0] == c.knownAt[r])
		}
		known[w] = k
	}
	for i, w := range c.words {
		w.Complete(c.terms[i])
	}
	// What prune would read, from the ranges read.
	byPrefix := map[string][]string{}
	complete := map[string]bool{}
	for i, p := range c.holderAt {
		byPrefix[p], complete[p] = c.holders[i], len(c.holders[i]) <= pruneRange
	}
	pruned, need := pruneWork(q)
	for _, p := range need {
		if _, ok := byPrefix[p]; ok {
			continue
		}
		found := false
		for i, r := range c.ranges {
			if len(r) <= wideRange && strings.HasPrefix(p, c.wide[i]) {
				byPrefix[p] = subRange(r, p, pruneRange+1)
				complete[p], found = len(byPrefix[p]) <= pruneRange, true
				break
			}
		}
		if !found {
			return // prune reads the vocabulary itself
		}
	}
	for _, w := range pruned {
		w.Prune(byPrefix, complete)
	}
}

// wideRange is how many terms of the vocabulary complete reads at most
// under a word's HolderPrefixes (1,172 terms in all at 1M).
const wideRange = 512

// subRange returns the first n terms of r (sorted, as the vocabulary's
// B-tree in collation C) that start with p: what vocabularyRanges returns
// for p and limit n when r holds every term under a prefix of p.
func subRange(r []string, p string, n int) []string {
	i, _ := slices.BinarySearch(r, p)
	out := []string{}
	for ; i < len(r) && len(out) < n && strings.HasPrefix(r[i], p); i++ {
		out = append(out, r[i])
	}
	return out
}

// rangeRead asks vocabularyRanges(prefixes, limit) into out.
type rangeRead struct {
	prefixes []string
	limit    int
	out      *[][]string
}

// vocabularyRangesBatch makes the reads rs, in one statement
// (vocabularyRangesSQL) where the pool keeps prepared statements, else in
// one round trip where reads go to a pool; and the statements of extra
// (nil: none) in the same round trip where reads go to a pool, else
// after them, on the primary. A read of no prefix reads nothing.
func (s *Store) vocabularyRangesBatch(ctx context.Context, rs []rangeRead, extra *pgx.Batch) error {
	rs, keep := s.vocabularyKept(ctx, rs)
	if err := s.readVocabularyRanges(ctx, rs, extra); err != nil {
		return err
	}
	keep()
	return nil
}

// vocabularyKept gives the reads rs what the store keeps of them
// (CacheVocabulary), for a read that needs to see only the changes its
// instance has heard of (HeardSuffices), and returns the reads of what it
// does not keep, and the function that, once those are read, gives rs
// their answers and keeps them. The answers are shared: never modified.
func (s *Store) vocabularyKept(ctx context.Context, rs []rangeRead) ([]rangeRead, func()) {
	c := s.vocabulary
	if c == nil || !s.HeardSuffices(ctx) {
		return rs, func() {}
	}
	gen := c.generation()
	key := func(prefix string, limit int) string { return prefix + "\x00" + strconv.Itoa(limit) }
	var misses []rangeRead
	var finish []func()
	for _, r := range rs {
		if len(r.prefixes) == 0 {
			continue
		}
		out := make([][]string, len(r.prefixes))
		var at []int
		var prefixes []string
		for i, p := range r.prefixes {
			if v, ok := c.lookup(key(p, r.limit)); ok {
				out[i] = v.([]string)
			} else {
				at, prefixes = append(at, i), append(prefixes, p)
			}
		}
		*r.out = out
		if len(at) == 0 {
			continue
		}
		got := new([][]string)
		misses = append(misses, rangeRead{prefixes, r.limit, got})
		finish = append(finish, func() {
			for j, i := range at {
				out[i] = (*got)[j]
				c.keepIf(gen, key(prefixes[j], r.limit), (*got)[j])
			}
		})
	}
	return misses, func() {
		for _, f := range finish {
			f()
		}
	}
}

// readVocabularyRanges is vocabularyRangesBatch without what the store
// keeps.
func (s *Store) readVocabularyRanges(ctx context.Context, rs []rangeRead, extra *pgx.Batch) error {
	// Each statement with what reads its rows.
	type statement struct {
		sql  string
		args []any
		read func(pgx.Rows) error
	}
	var sts []statement
	collect := func(prefixes []string, out func([][]string)) func(pgx.Rows) error {
		return func(rows pgx.Rows) error {
			got, err := pgx.CollectRows(rows, pgx.RowTo[[]string])
			if err != nil {
				return err
			}
			if len(got) != len(prefixes) {
				return fmt.Errorf("vocabulary: %d ranges for %d prefixes", len(got), len(prefixes))
			}
			out(got)
			return nil
		}
	}
	if !s.serverPlans {
		var prefixes []string
		var limits []int32
		for _, r := range rs {
			prefixes = append(prefixes, r.prefixes...)
			for range r.prefixes {
				limits = append(limits, int32(r.limit))
			}
		}
		if len(prefixes) > 0 {
			sts = append(sts, statement{vocabularyRangesSQL, []any{prefixes, limits}, collect(prefixes, func(out [][]string) {
				for _, r := range rs {
					if len(r.prefixes) > 0 {
						*r.out, out = out[:len(r.prefixes):len(r.prefixes)], out[len(r.prefixes):]
					}
				}
			})})
		}
	} else {
		for _, r := range rs {
			if len(r.prefixes) > 0 {
				sts = append(sts, statement{vocabularyFunctionSQL, []any{r.prefixes, r.limit}, collect(r.prefixes, func(out [][]string) { *r.out = out })})
			}
		}
	}
	if p, ok := s.read(ctx).(batchQuerier); ok {
		batch := &pgx.Batch{}
		for _, st := range sts {
			batch.Queue(st.sql, st.args...).Query(st.read)
		}
		if extra != nil {
			batch.QueuedQueries = append(batch.QueuedQueries, extra.QueuedQueries...)
		}
		if batch.Len() == 0 {
			return nil
		}
		return translate(p.SendBatch(ctx, batch).Close())
	}
	// Elsewhere (a pipeline of Together, a transaction) one statement
	// after the other, and extra on the primary.
	for _, st := range sts {
		rows, err := s.read(ctx).Query(ctx, st.sql, st.args...)
		if err != nil {
			return translate(err)
		}
		err = st.read(rows)
		rows.Close()
		if err != nil {
			return translate(err)
		}
		if err := rows.Err(); err != nil {
			return translate(err)
		}
	}
	if extra != nil && extra.Len() > 0 {
		return translate(s.pool.SendBatch(ctx, extra).Close())
	}
	return nil
}

// vocabularyRangesSQL reads, for each prefix, the first terms of the
// vocabulary that start with it, as many as its limit (the arguments
// prefixes and limits, of the same length): a range of the vocabulary's
// B-tree (collation C), from the prefix up to the prefix followed by the
// last code point. The reads of a search's completions, their holders
// and the ranges prune reads are one statement instead of a pipeline of
// three. Behind PgBouncer
// every statement costs it a message each way (docs/scaling.md, "Round
// trips"). The function of the server-side plans (search_term_completions,
// migration 00037) takes one limit, so they keep the pipeline.
const vocabularyRangesSQL = `SELECT array(SELECT term FROM search_term
			WHERE term >= p AND term < p || chr(1114111) ORDER BY term LIMIT l)
		FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS x(p, l, i) ORDER BY i`

// completions returns, for each prefix, the terms of the vocabulary
// (published documents only) that start with it, at most
// textsearch.MaxCompletions+1 of them: more than MaxCompletions means
// "too many to name".
func (s *Store) completions(ctx context.Context, prefixes []string) ([][]string, error) {
	return s.vocabularyRanges(ctx, prefixes, textsearch.MaxCompletions+1)
}

// vocabularyRanges returns, for each prefix, the first limit terms of the
// vocabulary that start with it, in one statement (none for what the
// store keeps, CacheVocabulary).
func (s *Store) vocabularyRanges(ctx context.Context, prefixes []string, limit int) ([][]string, error) {
	var out [][]string
	if err := s.vocabularyRangesBatch(ctx, []rangeRead{{prefixes, limit, &out}}, nil); err != nil {
		return nil, err
	}
	return out, nil
}

// vocabularyFunctionSQL is vocabularyRangesSQL with one limit (the
// arguments prefixes and limit) through the function whose plan the
// server session keeps (migration 00037), for a pool that keeps no
// prepared statements.
const vocabularyFunctionSQL = `SELECT terms FROM search_term_completions($1, $2) ORDER BY i`

// readWithoutJIT runs fn on where reads of ctx go, in a read-only
// transaction with JIT compilation off and plan_cache_mode auto. A search
// statement holds scans that it plans for the whole table and runs only
// when a probe comes back short, or cuts early: their estimated cost
// crosses jit_above_cost, and compiling the statement's expressions then
// costs more than running it (the probed count of "spółdzielnia socjalna"
// at 1M: 283-472 ms with JIT, 25 ms without). plan_cache_mode auto plans
// an unnamed statement for its arguments (the pool's default forces a
// generic plan, which does not know whether a term is in ten entities or
// in half of them).
func (s *Store) readWithoutJIT(ctx context.Context, fn func(q querier) error) error {
	b, ok := s.read(ctx).(interface {
		BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
	})
	if !ok {
		return fn(s.read(ctx))
	}
	// One round trip for both: a statement without arguments goes by the
	// simple protocol, which takes several. Behind PgBouncer every round
	// trip costs it, the API and PostgreSQL a message each way.
	tx, err := b.BeginTx(ctx, pgx.TxOptions{BeginQuery: `BEGIN READ ONLY;
		SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'auto', true)`})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only: nothing to keep
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// withoutJIT is what readWithoutJIT's transaction sets, for readOnce.
const withoutJIT = `SELECT set_config('transaction_read_only', 'on', true),
	set_config('jit', 'off', true), set_config('plan_cache_mode', 'auto', true)`

// withoutJITGeneric is withoutJIT for a page's prepared statement, which
// keeps its generic plan (pagePlans).
const withoutJITGeneric = `SELECT set_config('transaction_read_only', 'on', true),
	set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true)`

// readOnce runs the statement of a search page (rows of an entity id, a
// score, a count and the entity's kind) as readWithoutJIT does, read-only, with JIT off,
// but in one round trip instead of three: the settings and the statement
// go in one pipeline (one implicit transaction, ended by its Sync). The
// statement is an unnamed one, which plan_cache_mode auto plans for its
// arguments, unless generic is set (below). At 16 clients on two
// cores, every round trip costs the server, PostgreSQL and the scheduler
// their share of a search's CPU (docs/search.md, "Round trips"). Where
// reads do not go to a pool (a replica, a transaction), it runs through
// readWithoutJIT.
//
// With generic set, where the pool keeps prepared statements, the
// statement is one of the connection's prepared statements and keeps its
// generic plan (pagePlans, searchplan.go).
//
// before, if not nil, is a statement of one row sent ahead of the page in
// the same pipeline (which words of a partial search match nothing);
// after are statements sent after it (the entities of the hits its last
// run found, searchAhead), which a read outside a pool does not send.
func (s *Store) readOnce(ctx context.Context, sql string, args []any, generic bool, before *rowRead, after []afterRead,
	row func(id int64, score float64, n int64, kind kb.Kind)) error {
	p, retry, ok := s.pipelinePool(ctx)
	if !ok {
		return s.readWithoutJIT(ctx, func(q querier) error {
			if before != nil {
				if err := q.QueryRow(ctx, before.sql, before.args...).Scan(before.dest...); err != nil {
					return translate(err)
				}
			}
			rows, err := q.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
			if err != nil {
				return translate(err)
			}
			var id, n int64
			var score float64
			var kind string
			_, err = pgx.ForEachRow(rows, []any{&id, &score, &n, &kind}, func() error {
				row(id, score, n, kb.Kind(kind))
				return nil
			})
			return translate(err)
		})
	}
	return s.pipelineOn(ctx, p, retry, sql, args, generic, before, after, func(_ *pgx.Conn, result *pgconn.Result) error {
		return readHits(result, row)
	})
}

// readHits hands row the rows of readOnce's result.
func readHits(result *pgconn.Result, row func(id int64, score float64, n int64, kind kb.Kind)) error {
	// ExecParams in a pgconn batch sends no Describe, so the results carry
	// no field descriptions for pgx's type map to decode by: the columns
	// are read from their binary widths (tried: TypeMap().Scan by the
	// descriptions finds none).
	for _, r := range result.Rows {
		if len(r) != 4 || len(r[0]) != 8 || len(r[1]) != 8 {
			return fmt.Errorf("search: a row of %d columns, not bigint, float8, a count and a kind", len(r))
		}
		// The count is a bigint, or the integer 0 when not counted.
		var n int64
		switch len(r[2]) {
		case 8:
			n = int64(binary.BigEndian.Uint64(r[2]))
		case 4:
			n = int64(int32(binary.BigEndian.Uint32(r[2])))
		default:
			return fmt.Errorf("search: a count of %d bytes", len(r[2]))
		}
		// A text in binary is its bytes.
		row(int64(binary.BigEndian.Uint64(r[0])), math.Float64frombits(binary.BigEndian.Uint64(r[1])), n, kb.Kind(r[3]))
	}
	return nil
}

// rowRead is a statement of one row, planned for its arguments, and
// where its columns (of the types oids) are scanned to.
type rowRead struct {
	sql  string
	args []any
	oids []uint32
	dest []any
}

// scan scans the binary row r of rr's statement into rr's destinations.
func (rr *rowRead) scan(conn *pgx.Conn, rows [][][]byte) error {
	if len(rows) != 1 || len(rows[0]) != len(rr.dest) {
		return fmt.Errorf("search: %d rows, not one of %d columns", len(rows), len(rr.dest))
	}
	for i, v := range rows[0] {
		if err := conn.TypeMap().Scan(rr.oids[i], pgx.BinaryFormatCode, v, rr.dest[i]); err != nil {
			return fmt.Errorf("search: column %d: %w", i, err)
		}
	}
	return nil
}

// pipelineWithoutJIT runs sql with args on conn as readOnce describes: the
// settings of withoutJIT (withoutJITGeneric with generic, where the pool
// keeps prepared statements), before (if not nil, scanned into its
// destinations) and the statement in one pipeline, one round trip and
// one implicit transaction. It returns the statement's result, its rows
// in binary and without field descriptions. The statements after, if any,
// follow the page in the pipeline, each prepared on conn once and read by
// its own read.
func (s *Store) pipelineWithoutJIT(ctx context.Context, conn *pgx.Conn, sql string, args []any, generic bool, before *rowRead,
	after []afterRead) (*pgconn.Result, error) {
	var sd, settings *pgconn.StatementDescription
	var err error
	if generic && !s.serverPlans {
		if sd, err = s.pagePlans.prepare(ctx, conn, sql); err != nil {
			return nil, translate(err)
		}
		// The settings too, under a name of their own (no round trip once
		// prepared).
		if settings, err = conn.Prepare(ctx, "search_settings", withoutJITGeneric); err != nil {
			return nil, translate(err)
		}
	}
	build := func(sd *pgconn.StatementDescription, args []any) (*pgx.ExtendedQueryBuilder, error) {
		var eqb pgx.ExtendedQueryBuilder
		return &eqb, eqb.Build(conn.TypeMap(), sd, args)
	}
	eqb, err := build(sd, args)
	if err != nil {
		return nil, err
	}
	// The statements, as the tracer sees them.
	traced := []struct {
		sql  string
		args []any
	}{{withoutJIT, nil}}
	batch := &pgconn.Batch{}
	// Results in binary, as pgx reads them: the scores are the float8s
	// PostgreSQL computed, whatever extra_float_digits says.
	binary := []int16{pgx.BinaryFormatCode}
	if sd != nil {
		batch.ExecStatement(settings, nil, nil, nil)
	} else {
		batch.ExecParams(withoutJIT, nil, nil, nil, nil)
	}
	if before != nil {
		beqb, err := build(nil, withoutMode(before.args))
		if err != nil {
			return nil, err
		}
		batch.ExecParams(before.sql, beqb.ParamValues, nil, beqb.ParamFormats, binary)
		traced = append(traced, struct {
			sql  string
			args []any
		}{before.sql, withoutMode(before.args)})
	}
	if sd != nil {
		// With its description, so that no Describe is sent for it (nor
		// its RowDescription back): readHits reads the columns by their
		// widths.
		batch.ExecStatement(sd, eqb.ParamValues, eqb.ParamFormats, binary)
	} else {
		batch.ExecParams(sql, eqb.ParamValues, nil, eqb.ParamFormats, binary)
	}
	traced = append(traced, struct {
		sql  string
		args []any
	}{sql, args})
	front := len(traced) // the results read whole; after's follow
	for _, a := range after {
		// Prepared under a name of its own (pgx names it by its text): no
		// round trip once the connection has it.
		asd, err := conn.Prepare(ctx, a.sql, a.sql)
		if err != nil {
			return nil, translate(err)
		}
		aeqb, err := build(asd, a.args)
		if err != nil {
			return nil, err
		}
		batch.ExecStatement(asd, aeqb.ParamValues, aeqb.ParamFormats, aeqb.ResultFormats)
		traced = append(traced, struct {
			sql  string
			args []any
		}{a.sql, a.args})
	}
	// The pool's tracer, if it follows batches, sees the pipeline as one.
	bt, _ := conn.Config().Tracer.(pgx.BatchTracer)
	if bt != nil {
		pb := &pgx.Batch{}
		for _, q := range traced {
			pb.Queue(q.sql, q.args...)
		}
		ctx = bt.TraceBatchStart(ctx, conn, pgx.TraceBatchStartData{Batch: pb})
	}
	results, err := readPipeline(conn, conn.PgConn().ExecBatch(ctx, batch), front, after)
	if bt != nil {
		for i, q := range traced {
			d := pgx.TraceBatchQueryData{SQL: q.sql, Args: q.args, Err: err}
			if i < len(results) {
				d.CommandTag = results[i].CommandTag
			}
			bt.TraceBatchQuery(ctx, conn, d)
		}
		bt.TraceBatchEnd(ctx, conn, pgx.TraceBatchEndData{Err: err})
	}
	if err != nil {
		return nil, translate(err)
	}
	if len(results) != front {
		return nil, fmt.Errorf("search: %d results of a pipeline of %d", len(results), front)
	}
	if before != nil {
		if err := before.scan(conn, results[1].Rows); err != nil {
			return nil, err
		}
	}
	return results[front-1], nil
}

// readPipeline reads mrr's results: the first front whole, each of the
// others (as many as after) by its read, as pgx rows. It reads every
// result to its end, and returns the first error.
func readPipeline(conn *pgx.Conn, mrr *pgconn.MultiResultReader, front int, after []afterRead) ([]*pgconn.Result, error) {
	var results []*pgconn.Result
	var first error
	for i := 0; mrr.NextResult(); i++ {
		if i < front || i-front >= len(after) {
			r := mrr.ResultReader().Read()
			results = append(results, r)
			if first == nil {
				first = r.Err
			}
			continue
		}
		rows := pgx.RowsFromResultReader(conn.TypeMap(), mrr.ResultReader())
		err := after[i-front].read(rows)
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if first == nil && err != nil {
			first = err
		}
	}
	if err := mrr.Close(); first == nil {
		first = err
	}
	return results, first
}

// readRowOnce runs sql, a statement of one row, read-only with JIT off
// and planned for its arguments, in one round trip as readOnce does
// (not three: BEGIN with the settings, the statement, COMMIT), and scans
// its columns, of the types oids, into dest. args may start with an exec
// mode (customPlan), which only a read outside a pool uses.
func (s *Store) readRowOnce(ctx context.Context, sql string, args []any, oids []uint32, dest ...any) error {
	p, retry, ok := s.pipelinePool(ctx)
	if !ok {
		return s.readWithoutJIT(ctx, func(q querier) error { return q.QueryRow(ctx, sql, args...).Scan(dest...) })
	}
	args = withoutMode(args)
	return s.pipelineOn(ctx, p, retry, sql, args, false, nil, nil, func(conn *pgx.Conn, result *pgconn.Result) error {
		return (&rowRead{sql, args, oids, dest}).scan(conn, result.Rows)
	})
}

// pipelinePool returns the pool on which a read of ctx runs the one
// round trip of readOnce and readRowOnce, with retry, which returns the
// pool to run it on again when it failed there with err (nil: none): the
// primary's; a replica's in rotation, the primary when the replica went
// away (onReplica.fallBack, which takes it out of rotation); the primary
// for a replica-routed read that no replica can take yet, a replica when
// the primary is lost (onPrimary.standIn). Elsewhere (a transaction, a
// pipeline of Together) it returns false.
func (s *Store) pipelinePool(ctx context.Context) (*pgxpool.Pool, func(error) *pgxpool.Pool, bool) {
	switch q := s.read(ctx).(type) {
	case *pgxpool.Pool:
		return q, func(error) *pgxpool.Pool { return nil }, true
	case onReplica:
		q.r.reads.Add(1)
		return q.r.pool, func(err error) *pgxpool.Pool {
			if q.fallBack(ctx, err) {
				return s.pool
			}
			return nil
		}, true
	case onPrimary:
		return s.pool, func(err error) *pgxpool.Pool {
			if r := q.standIn(ctx, err); r != nil {
				return r.pool
			}
			return nil
		}, true
	}
	return nil, nil, false
}

// pipelineOn runs pipelineWithoutJIT on a connection of p and hands its
// result to read while it holds the connection (whose type map decodes
// it); when the pipeline failed and retry names another pool (p's
// database went away), it runs it again there. The result is read whole
// before read sees it: nothing of a failed run has reached the caller.
func (s *Store) pipelineOn(ctx context.Context, p *pgxpool.Pool, retry func(error) *pgxpool.Pool, sql string, args []any, generic bool,
	before *rowRead, after []afterRead, read func(*pgx.Conn, *pgconn.Result) error) error {
	// run reports whether the pipeline failed, and the error.
	run := func(p *pgxpool.Pool) (bool, error) {
		c, err := p.Acquire(ctx)
		if err != nil {
			return true, translate(err)
		}
		defer c.Release()
		result, err := s.pipelineWithoutJIT(ctx, c.Conn(), sql, args, generic, before, after)
		if err != nil {
			return true, err
		}
		return false, read(c.Conn(), result)
	}
	failed, err := run(p)
	if failed {
		if other := retry(err); other != nil {
			_, err = run(other)
		}
	}
	return err
}

// withoutMode returns args without the exec mode customPlan may have put
// first, which only a read outside a pool uses.
func withoutMode(args []any) []any {
	if len(args) > 0 {
		if _, mode := args[0].(pgx.QueryExecMode); mode {
			return args[1:]
		}
	}
	return args
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

// Search runs a ranked search over every entity visible under vis. Every
// word of the query matches in any inflected form and through the
// concepts of textsearch (a country by any of its names); a quoted phrase
// must match word after word. Matches in the name or the entity's own
// attributes (kind, place) weigh most, then summaries, then descriptions.
// When nothing matches as typed, every word may match as a prefix and
// words unknown to the vocabulary are corrected (up to two letters);
// when still nothing matches every word, the page holds the entities that
// match the most words (Partial), and says which words matched nothing.
// It returns a *kb.ValidationError naming "query" for a query that holds
// no word or is too long.
func (s *Store) Search(ctx context.Context, vis Visibility, r SearchRequest) (*SearchPage, error) {
	q, err := parse(r.Query)
	if err != nil {
		return nil, err
	}
	known := vocabularyKnown{}
	if err := s.complete(ctx, vis, q, known); err != nil {
		return nil, err
	}
	page, err := s.searchPage(ctx, vis, r, q, false, nil)
	if err != nil || len(page.Hits) > 0 {
		return page, err
	}
	// Nothing found as typed: let every word match as a prefix and correct
	// typos, unless the query as typed finds something and this page is
	// past its end.
	if r.Offset > 0 {
		if n, _, err := s.count(ctx, vis, r, q, false); err != nil || n > 0 {
			return page, err
		}
	}
	widened, corrected, err := s.widenAndCorrect(ctx, vis, q, known)
	if err != nil {
		return nil, err
	}
	if corrected || widened {
		if page, err = s.searchPage(ctx, vis, r, q, false, nil); err != nil || len(page.Hits) > 0 {
			return page, err
		}
		if r.Offset > 0 {
			if n, _, err := s.count(ctx, vis, r, q, false); err != nil || n > 0 {
				return page, err
			}
		}
	}
	// Nothing matches every word: which words match nothing, and the
	// entities that match the most, in one round trip (where no word
	// matches anything, the page reads no candidate).
	if err := s.prune(ctx, vis, q); err != nil {
		return nil, err
	}
	var found []bool
	partial, err := s.searchPage(ctx, vis, r, q, true, s.unmatchedRead(vis, r, q, &found))
	if err != nil {
		return nil, err
	}
	unmatched := []string{}
	for i, ok := range found {
		if !ok {
			unmatched = append(unmatched, q.Groups[i].Text)
		}
	}
	if len(unmatched) == len(q.Groups) {
		// No word matches anything: none of the pages holds a hit.
		page.Unmatched = unmatched
		if r.Count {
			page.Counted, page.Total, page.TotalExact = true, 0, true
		}
		return page, nil
	}
	partial.Unmatched = unmatched
	return partial, nil
}

// unmatchedRead returns the statement that reads, into found, whether
// each group of q (pruned) matches an entity visible under vis and kept
// by r's filters: one row, an array of one boolean a group.
func (s *Store) unmatchedRead(vis Visibility, r SearchRequest, q textsearch.Query, found *[]bool) *rowRead {
	c := compile(q)
	b := &builder{}
	r.where(b, vis)
	where := strings.Join(b.where, " AND ")
	exists := make([]string, len(c.groups))
	for i, g := range c.groups {
		exists[i] = fmt.Sprintf(`EXISTS (SELECT 1 FROM search_doc d WHERE d.vec @@ %s::tsquery AND %s)`, b.arg(g), where)
	}
	return &rowRead{sql: `SELECT ARRAY[` + strings.Join(exists, ", ") + `]`, args: customPlan(b.args),
		oids: []uint32{pgtype.BoolArrayOID}, dest: []any{found}}
}

// customPlan returns args to be sent with the simple protocol when they
// can be (see storable), so that PostgreSQL plans the statement for them:
// the pool's generic plans do not know whether a term is in ten entities
// or in half of them, and read an index where a scan would stop at once.
func customPlan(args []any) []any {
	if !storable(args) {
		return args
	}
	return append([]any{pgx.QueryExecModeSimpleProtocol}, args...)
}

// candidates is how many entities a search ranks at most from each of
// its candidate sets (more when a page reaches further): the entities
// whose name or attributes hold every word, and the entities that hold
// them anywhere, the second read only when the first does not fill the
// page. A set of more matches is cut in index order, so a page of a word
// that a quarter of a million entities hold costs what a page of a rare
// word costs; the ranking is exact for sets below the cut and a ranking
// of a sample above it (docs/search.md, "How search runs").
const candidates = 300

// searchPage reads one page of hits of q: of the entities that match every
// group of q, or with partial, of those that match any, the most first.
//
// before, if not nil, is read in the same round trip, ahead of the page.
func (s *Store) searchPage(ctx context.Context, vis Visibility, r SearchRequest, q textsearch.Query, partial bool, before *rowRead) (*SearchPage, error) {
	if err := s.prune(ctx, vis, q); err != nil {
		return nil, err
	}
	if !partial && q.Unheld() {
		// A word that no published document holds (a typo, before its
		// correction): no match, and no statement to learn it.
		page := &SearchPage{}
		if r.Count && r.Offset == 0 {
			page.Counted, page.TotalExact = true, true
		}
		return page, nil
	}
	c := compile(q)
	b := &builder{}
	// ts_rank reads every term of the query (RankTSQuery), the matches
	// only the terms prune kept, which match the same documents.
	qRank := b.arg(c.rank)
	r.where(b, vis)
	where := strings.Join(b.where, " AND ")
	need := r.Offset + r.Limit + 1
	limit := b.arg(max(candidates, need)) + "::int"
	n := len(c.groups)
	// The score: how many groups match (each one missing costs 3, more
	// than the rest can add), ts_rank over all fields (weighted, divided
	// by 1 + the log of the document's length so that long texts do not
	// win by mentioning everything), the share of groups found in the
	// name or the attributes, and when they hold all of them 1 more plus
	// how much of the name the query covers: "stowarzyszenie na rzecz
	// spoldzielni socjalnych" puts the association before an article
	// whose longer title holds those words. A hit whose name or
	// attributes hold every word thus scores above 2, any other below.
	//
	// How many groups match (in the name and attributes, own, and
	// anywhere, cover) is a sum of one test a group, each group its own
	// argument: a subquery over an array of them was a subplan, run twice
	// a candidate (the score reads own twice), 300 times a page.
	own := matchCount(b, c.owns)
	cover := strconv.Itoa(n)
	if partial && n > 1 {
		cover = matchCount(b, c.groups)
	}
	// The candidate sets come from materialised CTEs so that the planner
	// plans them without the LIMIT, by the text index (with a LIMIT in
	// sight it may scan the table in order and test every row); the CTE
	// scans still stop after the first rows the LIMITs take, and the
	// second set is not read at all when the first fills the page.
	// The candidates carry what the score reads, so that they are not
	// joined back to search_doc (whose size the planner would then plan
	// for); those of a full match are read by their positions, a TID
	// scan of at most 2 × limit rows (candidateSets).
	const cols = "d.entity_id, d.vec, d.name_words, d.kind"
	var sets string
	total := "0"
	counted := r.Count
	if !partial {
		// Either set may be probed (searchprobe.go), by the same plan: the
		// statistics do not tell names from texts. The count, when asked
		// for, reads the same matches (candidateSets).
		plan, err := s.probeFor(ctx, q, max(candidates, need), ownMargin)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		sets = candidateSets(b, b.arg(c.all), b.arg(c.own), where, limit, need, plan)
		if counted {
			total = "(SELECT n FROM total)"
		}
	} else {
		// The entities that match all groups but one, for each group, then
		// those that match any: the best covers come first without ranking
		// every entity that holds one common word.
		var ctes, parts []string
		if n > 2 && n <= 6 {
			for i := range q.Groups {
				rest := slices.Delete(slices.Clone(c.groups), i, i+1)
				ctes = append(ctes, fmt.Sprintf(`but%d AS MATERIALIZED (SELECT %s FROM search_doc d
					WHERE d.vec @@ %s::tsquery AND %s)`, i, cols, b.arg(strings.Join(rest, " & ")), where))
				parts = append(parts, fmt.Sprintf(`(SELECT * FROM but%d LIMIT %s)`, i, limit))
			}
		}
		ctes = append(ctes, fmt.Sprintf(`anyof AS MATERIALIZED (SELECT %s FROM search_doc d WHERE d.vec @@ %s::tsquery AND %s)`, cols, b.arg(c.any), where))
		if len(parts) == 0 {
			parts = append(parts, `(SELECT * FROM anyof LIMIT 0)`)
		}
		// Those that match any group are read only when the others do not
		// fill the page, or for the count: the entities that match any
		// group, up to the bound, as CountSearch counts a partial search,
		// read from the same matches (one reading of the text index for
		// both, and no second search for the count).
		sets = fmt.Sprintf(`%[1]s,
			buts AS (SELECT DISTINCT ON (entity_id) * FROM (%[2]s) x),
			cand AS (SELECT DISTINCT ON (entity_id) * FROM (SELECT * FROM buts UNION ALL
				(SELECT * FROM anyof LIMIT CASE WHEN (SELECT count(*) FROM buts) >= %[3]d THEN 0 ELSE %[4]s END)) y)`,
			strings.Join(ctes, ",\n"), strings.Join(parts, " UNION ALL "), need, limit)
		if counted {
			sets += fmt.Sprintf(`,
			total AS (SELECT count(*) AS n FROM (SELECT 1 FROM anyof LIMIT %d) x)`, CountBound+1)
			total = "(SELECT n FROM total)"
		}
	}
	// Each candidate's rank and counts are computed once, in a
	// materialised CTE (scored): inlined, the score's two references to
	// own evaluated it twice. The score adds them up as before, in the
	// same order and types, so that it is the same float8.
	sql := fmt.Sprintf(`WITH %[1]s,
		scored AS MATERIALIZED (SELECT d.entity_id, d.name_words, d.kind,
			ts_rank(%[4]s::float4[], d.vec, %[5]s::tsquery, 1) AS rank, %[2]s AS own, %[3]s AS cover FROM cand d)
		SELECT d.entity_id, score, %[10]s, d.kind
		FROM scored d,
		LATERAL (SELECT d.rank
			+ d.own::float8 / %[6]d - 3 * (%[6]d - d.cover)
			+ CASE WHEN d.own = %[6]d THEN 1 + 0.5 * least(1.0, %[7]d::float8 / greatest(d.name_words, 1)) ELSE 0 END AS score) s
		ORDER BY score DESC, d.entity_id
		LIMIT %[8]s OFFSET %[9]s`, sets, own, cover, rankWeights, qRank, n, c.words,
		b.arg(r.Limit+1), b.arg(r.Offset), total)
	var ids []int64
	var scores []float64
	var kinds []kb.Kind
	var n64 int64
	// JIT off, and planned once per connection for a page of full
	// matches (searchplan.go), for the query's own terms for a page of
	// partial ones: see readWithoutJIT.
	// The hits of this page's last run, read with it (searchAhead), where
	// the pool keeps prepared statements: a PgBouncer older than 1.21 in
	// transaction mode (serverPlans) has none that the next transaction's
	// server connection is sure to hold, and the statements after the page
	// are decoded by their descriptions.
	var ahead *hitsRead
	var after []afterRead
	key, remembered := searchAheadKey(sql, b.args, vis)
	remembered = remembered && !s.serverPlans
	if remembered {
		if last, ok := s.searchAhead.last(key); ok {
			ahead = &hitsRead{ids: last.ids}
			after = ahead.reads(ctx, s, vis, last.kinds)
		}
	}
	err := s.readOnce(ctx, sql, b.args, !partial, before, after, func(id int64, score float64, n int64, kind kb.Kind) {
		ids, scores, kinds, n64 = append(ids, id), append(scores, score), append(kinds, kind), n
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	page := &SearchPage{HasNext: len(ids) > r.Limit, Partial: partial}
	// A page with hits carries the count; an empty first page means no
	// candidate, hence no match at all. An empty page further on says
	// nothing of the count (it is read with the first row).
	if counted && (len(ids) > 0 || r.Offset == 0) {
		page.Counted, page.Total, page.TotalExact = true, int(n64), n64 <= CountBound
		if n64 > CountBound {
			page.Total = CountBound
		}
	}
	if page.HasNext {
		ids = ids[:r.Limit]
	}
	if len(ids) == 0 {
		return page, nil
	}
	// The entities, and their translations, from which the snippet may
	// come (the document holds them), read by the statement of the hits'
	// kinds only (entitiesOfKinds).
	// So may it from a topic's label in another language, read with them
	// when the page holds practices.
	pageKinds := map[kb.Kind]bool{}
	for _, k := range kinds[:len(ids)] {
		pageKinds[k] = true
	}
	if remembered {
		s.searchAhead.remember(key, ids, pageKinds)
	}
	var es []*kb.Entity
	var texts map[int64]kb.Texts
	var topicLabels map[int64]map[string][]string
	if ahead.complete() {
		s.searchAhead.asked.Add(1)
	}
	if ahead.complete() && slices.Equal(ahead.ids, ids) {
		s.searchAhead.used.Add(1)
		es, texts, topicLabels = ahead.es, ahead.texts, ahead.topicLabels
	} else if es, texts, topicLabels, err = s.entitiesWithTexts(ctx, vis, ids, pageKinds); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	m := q.Matcher() // one for the page: its texts share most words
	for i, e := range es {
		if e == nil { // changed between the two reads
			continue
		}
		withTexts := *e
		withTexts.Translations = texts[e.ID].Translations
		if e.GoodPractice != nil {
			gp := *e.GoodPractice
			gp.TopicLabels = topicLabels[e.ID]
			withTexts.GoodPractice = &gp
		}
		fs := textsearch.Fields(&withTexts)
		h := SearchHit{Entity: e, Score: scores[i], Snippet: m.Snippet(fs), Missing: []string{}}
		if partial {
			h.Missing = m.Missing(fs)
		}
		page.Hits = append(page.Hits, h)
	}
	return page, nil
}

// matchCount returns the SQL of how many of the tsqueries groups the
// document d.vec matches (an int), each group an argument of b.
func matchCount(b *builder, groups []string) string {
	tests := make([]string, len(groups))
	for i, g := range groups {
		tests[i] = "(d.vec @@ " + b.arg(g) + "::tsquery)::int"
	}
	if len(tests) == 1 {
		return tests[0]
	}
	return "(" + strings.Join(tests, " + ") + ")"
}

// entitiesWithTexts returns EntitiesByID(ids), the texts (readTexts) of
// ids and, when kinds (the kinds of the ids) holds practices, the topic
// labels of the practices among them (topicLabelsOf), read in one round
// trip where reads go to a pool or a replica-routed database (a batch:
// the statements are prepared statements of its connections; the
// entities' reads the branches of kinds only, entitiesOfKinds), else one
// after the other.
func (s *Store) entitiesWithTexts(ctx context.Context, vis Visibility, ids []int64, kinds map[kb.Kind]bool) (
	[]*kb.Entity, map[int64]kb.Texts, map[int64]map[string][]string, error) {
	labels := kinds[kb.KindGoodPractice]
	q := s.read(ctx)
	p, ok := q.(batchQuerier)
	if !ok {
		es, err := s.EntitiesByID(ctx, vis, ids)
		if err != nil {
			return nil, nil, nil, err
		}
		texts, err := readTexts(ctx, q, ids, vis.statuses(), true, s.serverPlans)
		if err != nil || !labels {
			return es, texts, nil, err
		}
		topicLabels, err := topicLabelsOf(ctx, q, es)
		return es, texts, topicLabels, err
	}
	var h hits
	b := &pgx.Batch{}
	for _, r := range h.reads(ctx, s, vis, ids, kinds) {
		b.Queue(r.sql, r.args...).Query(r.read)
	}
	if err := p.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, nil, translate(err)
	}
	return h.es, h.texts, h.topicLabels, nil
}

// candidateSets returns the CTEs of a search's candidates, cand (at most
// 2 × limit rows of search_doc d: the first limit matches whose name or
// attributes hold every word, then, only when those are fewer than need,
// the first limit of the others) and total, the count of the matches up to
// CountBound+1, read only when the statement selects it. tsqAll and tsqOwn
// are the arguments of the query matched anywhere and in names and
// attributes; where filters search_doc d; limit is an SQL expression.
//
// The three read one set of matches, m_index: the matches of tsqAll in the
// text index, which ignores weights, so that its bitmap is also the one of
// tsqOwn, and each match is tested once for tsqOwn. A count beside the page
// built that bitmap a second time: at 1M, 28 ms for "spółdzielnia socjalna
// poznań", 7 ms for "fundacja" (docs/search.md). m_index holds only each
// match's position (ctid) and whether its name holds the words, so that a
// set that reads far into it stays small; the candidates are read by
// their positions at the end. With a probe plan, each of the three first
// reads the probe's windows (m_probe), and m_index only when the windows
// hold too few for it (searchprobe.go); with the sample, m_probe is the
// sample index's matches.
//
// The probe's windows are arguments (their first and last positions, b's
// arguments), read by one TID range scan run once a window: sixteen
// scans in the statement's text cost PostgreSQL their start (their quals
// and projections compiled) at every execution, and made a text, hence a
// prepared statement, of every set of windows.
func candidateSets(b *builder, tsqAll, tsqOwn, where, limit string, need int, plan probePlan) string {
	bound := strconv.Itoa(CountBound + 1)
	matches := fmt.Sprintf(`SELECT d.ctid, d.vec @@ %[2]s::tsquery AS own FROM search_doc d
			WHERE d.vec @@ %[1]s::tsquery AND %[3]s`, tsqAll, tsqOwn, where)
	sets := `m_index AS MATERIALIZED (` + matches + `)`
	if len(plan.windows) == 0 && !plan.sample {
		sets += fmt.Sprintf(`,
		own AS (SELECT ctid FROM m_index WHERE own LIMIT %[1]s),
		anywhere AS (SELECT ctid FROM m_index WHERE NOT own LIMIT %[1]s),
		total AS (SELECT count(*) AS n FROM (SELECT 1 FROM m_index LIMIT %[2]s) x)`, limit, bound)
	} else {
		// The sample index's matches, in its order (searchprobe.go): the
		// same query as m_index, on the sample's documents.
		windows := matches + " AND " + samplePredicate
		if !plan.sample {
			// ts_match_vq is @@ as a function, which no index answers:
			// the probe reads its windows' rows (a TID range scan a
			// window, in the windows' order: a nested loop over them) and
			// stops when its readers have what they need. The scan is a
			// subquery of its own (OFFSET 0), so that its range is a qual
			// of the scan and not a join condition, which no TID range
			// scan takes. The filters (status, kind, country) are tested
			// on its matches only, above it: in the scan's qual they made
			// PostgreSQL decode every row of the windows up to its
			// status, past the document's other vector, where a row that
			// does not match needs only its vec.
			from, to := make([]string, len(plan.windows)), make([]string, len(plan.windows))
			for i, w := range plan.windows {
				from[i], to[i] = fmt.Sprintf("(%d,0)", w[0]), fmt.Sprintf("(%d,0)", w[1])
			}
			windows = fmt.Sprintf(`SELECT d.ctid, d.own FROM unnest(%[1]s::text[], %[2]s::text[]) w(first, last),
			LATERAL (SELECT d.ctid, d.vec @@ %[4]s::tsquery AS own, d.status, d.kind, d.country FROM search_doc d
				WHERE d.ctid >= w.first::tid AND d.ctid < w.last::tid AND ts_match_vq(d.vec, %[3]s::tsquery) OFFSET 0) d
			WHERE %[5]s`,
				b.arg(from), b.arg(to), tsqAll, tsqOwn, where)
		}
		// Each set is the probe's when the probe fills it, else the
		// index's (a one-time filter on a value the planner cannot know).
		probed := func(name, cond, lim string) string {
			return fmt.Sprintf(`%[1]s_probe AS MATERIALIZED (SELECT ctid FROM m_probe WHERE %[2]s LIMIT %[3]s),
		%[1]s AS (SELECT ctid FROM %[1]s_probe WHERE (SELECT count(*) FROM %[1]s_probe) >= %[3]s
			UNION ALL (SELECT ctid FROM m_index WHERE %[2]s AND (SELECT count(*) FROM %[1]s_probe) < %[3]s LIMIT %[3]s))`, name, cond, lim)
		}
		// The count reads the probe's matches where they are: a CTE of
		// its own stored the 1,001 rows a second time.
		sets += fmt.Sprintf(`,
		m_probe AS MATERIALIZED (%[1]s),
		%[2]s,
		%[3]s,
		total AS (SELECT CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM m_probe LIMIT %[4]s) p) >= %[4]s THEN %[4]s
			ELSE (SELECT count(*) FROM (SELECT 1 FROM m_index LIMIT %[4]s) x) END AS n)`,
			windows, probed("own", "own", limit), probed("anywhere", "NOT own", limit), bound)
	}
	// The candidates: every set is materialised (each is read twice), so
	// that the planner plans m_index for the whole index, not for a LIMIT.
	return sets + fmt.Sprintf(`,
		picked AS (SELECT ctid FROM own UNION ALL
			(SELECT ctid FROM anywhere LIMIT CASE WHEN (SELECT count(*) FROM own) >= %[2]d THEN 0 ELSE %[1]s END)),
		cand AS (SELECT d.entity_id, d.vec, d.name_words, d.kind FROM search_doc d WHERE d.ctid = ANY (ARRAY(SELECT ctid FROM picked)))`,
		limit, need)
}

// CountBound is how many hits a search counts at most: past it, counting
// every hit of a word that most entities hold would cost more than the
// page. A count that reaches it is a lower bound, reported as inexact.
const CountBound = 1000

// CountSearch returns how many entities a search finds, across all pages,
// and whether that is exact: it counts at most CountBound+1 hits, and a
// count past CountBound is returned as CountBound, inexact (at least so
// many). It follows Search: prefixes and corrections when nothing matches
// as typed, then the entities that match any word.
func (s *Store) CountSearch(ctx context.Context, vis Visibility, r SearchRequest) (int, bool, error) {
	q, err := parse(r.Query)
	if err != nil {
		return 0, false, err
	}
	known := vocabularyKnown{}
	if err := s.complete(ctx, vis, q, known); err != nil {
		return 0, false, err
	}
	n, exact, err := s.count(ctx, vis, r, q, false)
	if err != nil || n > 0 {
		return n, exact, err
	}
	widened, corrected, err := s.widenAndCorrect(ctx, vis, q, known)
	if err != nil {
		return 0, false, err
	}
	if corrected || widened {
		if n, exact, err = s.count(ctx, vis, r, q, false); err != nil || n > 0 {
			return n, exact, err
		}
	}
	if len(q.Groups) == 1 {
		return 0, true, nil
	}
	return s.count(ctx, vis, r, q, true)
}

// count counts the entities that match every group of q (with anyGroup,
// any group), up to CountBound.
func (s *Store) count(ctx context.Context, vis Visibility, r SearchRequest, q textsearch.Query, anyGroup bool) (int, bool, error) {
	if err := s.prune(ctx, vis, q); err != nil {
		return 0, false, err
	}
	if !anyGroup && q.Unheld() {
		return 0, true, nil
	}
	tsq := compile(q).all
	if anyGroup {
		tsq = compile(q).any
	}
	sql, args, err := s.countSQL(ctx, vis, r, q, tsq)
	if err != nil {
		return 0, false, err
	}
	var n int
	err = s.readRowOnce(ctx, sql, args, []uint32{pgtype.Int8OID}, &n)
	if err != nil {
		return 0, false, fmt.Errorf("count search: %w", translate(err))
	}
	if n > CountBound {
		return CountBound, false, nil
	}
	return n, true, nil
}

// countSQL returns the statement of count and its arguments.
func (s *Store) countSQL(ctx context.Context, vis Visibility, r SearchRequest, q textsearch.Query, tsq string) (string, []any, error) {
	b := &builder{}
	qArg := b.arg(tsq)
	r.where(b, vis)
	bound := strconv.Itoa(CountBound + 1)
	plan, err := s.probeFor(ctx, q, CountBound+1, probeMargin)
	if err != nil {
		return "", nil, fmt.Errorf("count search: %w", err)
	}
	// Planned for its terms without the LIMIT in sight (see searchPage):
	// a scan of the table for a term most entities hold, the text index
	// for a rare one; either stops at the bound. A probe (searchprobe.go)
	// stops at it sooner where the words are common.
	return `WITH ` + probedSet("m", "1", qArg, "true", strings.Join(b.where, " AND "), bound, plan) +
		` SELECT count(*) FROM (SELECT 1 FROM m LIMIT ` + bound + `) x`, customPlan(b.args), nil
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

// suggestCandidates is how many names with a later word that starts with
// the prefix Suggest sorts at most (see Suggest).
const suggestCandidates = 100

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
	// Names that start with the prefix, by a range of the folded names'
	// B-tree; then names with words that start with the words of the
	// prefix. A short word before the last ("w gni") is a whole word: as
	// a prefix it would match most names' words.
	quote := func(w string) string {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(w, `\`, `\\`), `'`, `''`) + "'"
	}
	parts := make([]string, len(words))
	var prefixed []int
	for i, w := range words {
		parts[i] = quote(w)
		if i == len(words)-1 || utf8.RuneCountInString(w) >= 3 {
			parts[i] += ":*"
			prefixed = append(prefixed, i)
		}
	}
	// For readers of published entries, a prefix becomes the terms of the
	// vocabulary that start with it when they are few (as in Search): the
	// index answers named terms without collecting every name under the
	// prefix first ("gniez" at 1M: 12,353 names). A word that no
	// published name holds leaves the names that start with the prefix.
	later := true
	// named: the prefixed words replaced by the terms they complete to.
	named := make([]bool, len(words))
	if !vis.Drafts && len(prefixed) > 0 {
		prefixes := make([]string, len(prefixed))
		for j, i := range prefixed {
			prefixes[j] = words[i]
		}
		terms, err := s.completions(ctx, prefixes)
		if err != nil {
			return nil, fmt.Errorf("suggest: %w", err)
		}
		for j, i := range prefixed {
			switch ts := terms[j]; {
			case len(ts) == 0: // no published name has such a word
				later = false
			case len(ts) <= textsearch.MaxCompletions:
				terms := make([]string, len(ts))
				for k, t := range ts {
					terms[k] = quote(t)
				}
				parts[i], named[i] = "("+strings.Join(terms, " | ")+")", true
			}
		}
	}
	b := &builder{}
	startsArg, statuses, lim := b.arg(starts), b.arg(vis.statuses()), b.arg(limit)
	// The names that start with the prefix: a range of the folded names'
	// B-tree (collation C), from the prefix up to the prefix followed by
	// the last code point, which a generic plan reads as one whatever the
	// prefix; the LIKE keeps to the names that start with it.
	from := b.arg(strings.Join(words, " "))
	kindCond := func(col string) string {
		if len(kinds) == 0 {
			return ""
		}
		return " AND " + col + " = ANY(" + b.arg(strs(kinds)) + ")"
	}
	first := fmt.Sprintf(`SELECT e.id, e.kind, e.name, e.sort_name FROM entity e
		WHERE (e.sort_name COLLATE "C") >= %[5]s AND (e.sort_name COLLATE "C") < %[5]s || chr(1114111)
			AND (e.sort_name COLLATE "C") LIKE %[1]s AND e.status = ANY(%[2]s)%[3]s
		ORDER BY e.sort_name COLLATE "C", e.id LIMIT %[4]s`, startsArg, statuses, kindCond("e.kind"), lim, from)
	if !later {
		return s.suggestions(ctx, `SELECT id, kind, name FROM (`+first+`) a`, b.args)
	}
	// One statement for both (one round trip): the names with a later
	// word are read only when those that start with the prefix do not
	// fill the list (a one-time filter on their count). Their matches
	// come from a materialised CTE, by the GIN index: with the LIMIT in
	// sight the planner walks the names in order and tests each. At most
	// suggestCandidates of them, in index order, are sorted: a prefix of
	// a word that thousands of names hold ("gniez" in every name „…” w
	// Gnieźnie) costs what a rare one costs, and such a list is
	// alphabetical among the first matches found rather than among all.
	//
	// A word that keeps its prefix (more terms start with it than are
	// named: "g" in "ceramika g", "so" in "sp so") is tested on the
	// matches of the others, not looked up in the index, which collects
	// every name of every term under the prefix into a bitmap before it
	// intersects anything ("ceramika g" at 1M: 24.9 → 1.0 ms). Where every word
	// keeps its prefix, the index reads them all. A name matches the
	// words together as it matches each: every word is a group of its own.
	var indexed, tested []string
	for i, p := range parts {
		if slices.Contains(prefixed, i) && !named[i] {
			tested = append(tested, p)
		} else {
			indexed = append(indexed, p)
		}
	}
	if len(indexed) == 0 {
		indexed, tested = tested, nil
	}
	match := "d.name_vec @@ " + b.arg(strings.Join(indexed, " & ")) + "::tsquery"
	if len(tested) > 0 {
		// ts_match_vq is @@ as a function, which no index answers.
		match += " AND ts_match_vq(d.name_vec, " + b.arg(strings.Join(tested, " & ")) + "::tsquery)"
	}
	//
	// Where the names of a sample (every 64th or 8th entity by id,
	// migration 00055, as the search's sample of migration 00054) hold
	// the suggestCandidates, they are taken from its index, whose bitmap
	// is that share of the whole's: two words that many names hold
	// together ("socjalna ra" at 1M: 14,689 names) cost 8.8 ms of bitmap
	// in the whole index, "w" alone 480,000 names. The sparser sample is
	// read first, then the other, then the whole index, each only when
	// the one before holds fewer (a one-time filter on its count).
	gate, kindFilter := "(SELECT count(*) FROM a) < "+lim, kindCond("d.kind")
	ctes := make([]string, 0, len(nameSamples)+1)
	branches := make([]string, 0, len(nameSamples)+1)
	var short []string // the samples read before, each holding fewer
	for i, pred := range nameSamples {
		name := "s" + strconv.Itoa(i)
		ctes = append(ctes, fmt.Sprintf(`%s AS MATERIALIZED (SELECT d.entity_id FROM search_doc d
			WHERE %s AND d.status = ANY(%s)%s AND %s)`, name, match, statuses, kindFilter, pred))
		held := fmt.Sprintf("(SELECT count(*) FROM (SELECT 1 FROM %s LIMIT %d) x)", name, suggestCandidates)
		branches = append(branches, fmt.Sprintf(`(SELECT entity_id FROM %s WHERE %s AND %s >= %d LIMIT %d)`,
			name, strings.Join(append([]string{gate}, short...), " AND "), held, suggestCandidates, suggestCandidates))
		short = append(short, fmt.Sprintf("%s < %d", held, suggestCandidates))
	}
	ctes = append(ctes, fmt.Sprintf(`m AS MATERIALIZED (SELECT d.entity_id FROM search_doc d
			WHERE %s AND d.status = ANY(%s)%s)`, match, statuses, kindFilter))
	branches = append(branches, fmt.Sprintf(`(SELECT entity_id FROM m WHERE %s LIMIT %d)`,
		strings.Join(append([]string{gate}, short...), " AND "), suggestCandidates))
	return s.suggestions(ctx, fmt.Sprintf(`WITH a AS MATERIALIZED (%[1]s),
		%[2]s,
		c AS (%[3]s)
		SELECT id, kind, name FROM (
			SELECT 0 AS part, id, kind, name, sort_name FROM a
			UNION ALL
			(SELECT 1, e.id, e.kind, e.name, e.sort_name FROM c JOIN entity e ON e.id = c.entity_id
				WHERE (e.sort_name COLLATE "C") NOT LIKE %[4]s
				ORDER BY e.sort_name COLLATE "C", e.id LIMIT %[5]s - (SELECT count(*) FROM a))) x
		ORDER BY part, sort_name COLLATE "C", id`,
		first, strings.Join(ctes, ",\n\t\t"), strings.Join(branches, "\n\t\t\tUNION ALL "), startsArg, lim), b.args)
}

// nameSamples are the predicates of the names' sample indexes (migration
// 00055), the sparsest first: each must be its index's own predicate for
// the planner to read it.
var nameSamples = []string{"d.entity_id % 64 = 0", samplePredicate}

func (s *Store) suggestions(ctx context.Context, sql string, args []any) ([]Suggestion, error) {
	// A prepared statement, whose generic plan the pool keeps: the
	// prefix's range is in the statement, not derived from a pattern
	// (which a generic plan cannot bound an index range by), and the
	// later words are read by the GIN index of the names whatever they
	// are. Planning it for each prefix cost more than running it.
	rows, err := s.read(ctx).Query(ctx, sql, args...)
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

// pruneRange is how many vocabulary terms prune reads at most under one
// prefix: a term whose range holds more keeps its place in the query.
const pruneRange = 256

// prune leaves out of the tsqueries of q's words the terms they need not
// name (textsearch.Word.Prune): a query word then costs the text index one
// posting list, or a few, instead of one per form ("spółdzielnia socjalna
// poznań" at 1M: docs/search.md). It reads, in one round trip, the
// vocabulary's terms in the range of each term's HolderPrefixes. Only for
// readers of published entries, as complete: the vocabulary holds the
// terms of published documents, so a reader of drafts keeps every term.
// Words already pruned for the same terms are not read again.
func (s *Store) prune(ctx context.Context, vis Visibility, q textsearch.Query) error {
	if vis.Drafts {
		return nil
	}
	words, prefixes := pruneWork(q)
	if len(words) == 0 {
		return nil
	}
	holders := map[string][]string{}
	complete := map[string]bool{}
	if len(prefixes) > 0 {
		terms, err := s.vocabularyRanges(ctx, prefixes, pruneRange+1)
		if err != nil {
			return fmt.Errorf("search: %w", err)
		}
		for i, p := range prefixes {
			holders[p], complete[p] = terms[i], len(terms[i]) <= pruneRange
		}
	}
	for _, w := range words {
		w.Prune(holders, complete)
	}
	return nil
}

// pruneWork returns the words of q that prune has not pruned for their
// terms yet, and the prefixes of the vocabulary's ranges it reads for them.
func pruneWork(q textsearch.Query) ([]*textsearch.Word, []string) {
	var words []*textsearch.Word
	var prefixes []string
	seen := map[string]bool{}
	for _, w := range q.Words() {
		if w.Pruned() {
			continue
		}
		words = append(words, w)
		for _, t := range w.Terms() {
			for _, p := range textsearch.HolderPrefixes(t) {
				if !seen[p] {
					seen[p] = true
					prefixes = append(prefixes, p)
				}
			}
		}
	}
	return words, prefixes
}
