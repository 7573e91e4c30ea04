package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/partnergraph/partnergraph/internal/textsearch"
)

// A search reads its candidates and its bounded count from the text
// index, which for words that many documents hold together builds a
// bitmap of all of them before the first candidate comes out: "warsztat
// terapii", held by 160,000 documents at 1M, cost 76 ms of bitmap for
// 300 candidates. Where the words are that common, a probe finds the
// candidates faster by reading rows: it tests the query on the rows of a
// few windows of the table spread over its length, and stops as soon as
// it has found enough (300 at a density of 16 % take 1,900 rows, 1.5 ms).
// When the probe comes back short, the index is read as before, in the
// same statement. Which of the two a set is read by depends on the
// statistics only (how common each word is, see searchStats), never on
// the page asked for, so that the pages of one search come from the same
// candidates (docs/search.md, "How search runs").

// Probe bounds.
const (
	// probeWindows is how many windows of the table a probe reads, spread
	// evenly: the generated graph, like any table filled kind by kind,
	// holds a word's documents in stretches, and one window at the start
	// would see only the kind stored first.
	probeWindows = 16
	// probeMaxRows is the most rows a probe reads: testing a query on a
	// row costs about 0.8 µs at 1M, so a probe that comes back short
	// wastes at most about 13 ms before the index is read.
	probeMaxRows = 16000
	// probeMargin is how many times the expected number of matches a
	// probe plans to read for what it needs.
	probeMargin = 2
	// ownMargin is probeMargin for the entities whose name or attributes
	// hold the words: the statistics count a word wherever it is, and a
	// name or an attribute holds it in about a third of those documents
	// ("warsztat terapii" at 1M: 177 such matches in the rows where 620
	// were expected of the word anywhere).
	ownMargin = 3 * probeMargin
	// searchStatsTTL is how long the statistics of search_doc are kept.
	searchStatsTTL = 5 * time.Minute
)

// searchStats are PostgreSQL's statistics of search_doc: the size of the
// table and the share of documents that hold each of its most common
// terms (ANALYZE's most_common_elems of vec; a term not among them is
// held by fewer documents than the least common that is).
type searchStats struct {
	at     time.Time
	pages  int64
	tuples float64
	freq   map[string]float64
}

// searchStatsCache holds the statistics a Store last read.
type searchStatsCache struct {
	mu    sync.Mutex
	stats *searchStats
	// always makes every set of at least one row probed, for the tests
	// that compare the probe with the index on small tables; sample
	// makes every set read from the sample index first.
	always, sample bool
}

// stats returns the statistics of search_doc, read at most every
// searchStatsTTL.
func (s *Store) searchStats(ctx context.Context) (*searchStats, error) {
	c := &s.probe
	c.mu.Lock()
	st := c.stats
	c.mu.Unlock()
	if st != nil && time.Since(st.at) < searchStatsTTL {
		return st, nil
	}
	st = &searchStats{at: time.Now(), freq: map[string]float64{}}
	var elems []string
	var freqs []float64
	err := s.read(ctx).QueryRow(ctx, `SELECT c.relpages::bigint, c.reltuples::float8,
			coalesce(s.most_common_elems::text::text[], '{}'), coalesce(s.most_common_elem_freqs::float8[], '{}')
		FROM pg_class c LEFT JOIN pg_stats s
			ON s.schemaname = current_schema() AND s.tablename = 'search_doc' AND s.attname = 'vec'
		WHERE c.oid = 'search_doc'::regclass`).Scan(&st.pages, &st.tuples, &elems, &freqs)
	if err != nil {
		return nil, fmt.Errorf("search statistics: %w", translate(err))
	}
	for i, e := range elems {
		if i < len(freqs) {
			st.freq[e] = freqs[i]
		}
	}
	c.mu.Lock()
	c.stats = st
	c.mu.Unlock()
	return st, nil
}

// density estimates the share of documents that match every group of q:
// each word matches as often as its most common form (a document holds
// every form of its words), a phrase as its rarest word, and the groups
// together as often as the rarest of them. That is the most they can,
// when they always go together; the words people search together mostly
// do ("warsztat terapii", "spółdzielnia socjalna": 16 % and 9 % of the
// generated graph, where the product of their shares says 3 %), and an
// estimate too high costs at most one probe that comes back short.
func (st *searchStats) density(q textsearch.Query) float64 {
	rarest := 1.0
	for _, g := range q.Groups {
		gd := 1.0
		for _, w := range g.Words {
			wd := 0.0
			for _, t := range w.Terms() {
				wd = max(wd, st.freq[t])
			}
			gd = min(gd, wd)
		}
		rarest = min(rarest, gd)
	}
	return rarest
}

// A query too common for the index to be cheap and too rare for a probe
// ("stowarzyszenie na rzecz" at 1M: 6 % of the documents, 61,622 matches,
// 12 ms of bitmap; a probe would read 60,000 rows) reads its sets from
// the sample index first (migration 00054): the text index of the
// documents of every sampleEvery-th entity by id, whose bitmap is that
// share of the whole's. The ids are spread over every kind and every
// stretch of the table, so the sample's matches are a sample of all the
// matches. As with a probe, a set the sample does not fill is read from
// the whole index, in the same statement.
const (
	// sampleEvery is the share of the documents the sample holds: those
	// of the entities whose id it divides (samplePredicate, which must
	// be the index's own predicate for the planner to use it).
	sampleEvery     = 8
	samplePredicate = "d.entity_id % 8 = 0"
)

// probePlan is where a probe reads: windows of blocks of search_doc,
// [from, to) each, or the sample index. Neither: the set is read from
// the index only.
type probePlan struct {
	windows [][2]int64
	sample  bool
}

// plan returns where to probe for need rows of a query of the given
// density, reading margin times the rows expected to hold them: nowhere
// when that exceeds probeMaxRows or half the table (a small table's index
// is cheap to read), and then the sample index when it is expected to
// hold margin times need matches.
func (st *searchStats) plan(density float64, need, margin int, always bool) probePlan {
	if st.pages <= 0 || st.tuples <= 0 {
		return probePlan{}
	}
	rows := float64(margin*need) / density
	if always {
		rows = st.tuples
	} else if density <= 0 || rows > probeMaxRows || rows > st.tuples/2 {
		// The sample, where it is expected to hold margin times need.
		return probePlan{sample: density*st.tuples/sampleEvery >= float64(margin*need)}
	}
	perPage := st.tuples / float64(st.pages)
	blocks := int64(math.Ceil(rows / perPage))
	n := min(int64(probeWindows), max(1, blocks))
	size := max(1, (blocks+n-1)/n)
	var p probePlan
	for i := range n {
		from := i * st.pages / n
		to := min(from+size, (i+1)*st.pages/n)
		if always {
			to = (i + 1) * st.pages / n
		}
		if to > from {
			p.windows = append(p.windows, [2]int64{from, to})
		}
	}
	return p
}

// probeFor returns the probe plan of a set of need rows matching q, with
// the given margin (probeMargin, or ownMargin for matches in names and
// attributes).
func (s *Store) probeFor(ctx context.Context, q textsearch.Query, need, margin int) (probePlan, error) {
	st, err := s.searchStats(ctx)
	if err != nil {
		return probePlan{}, err
	}
	s.probe.mu.Lock()
	always, sample := s.probe.always, s.probe.sample
	s.probe.mu.Unlock()
	if sample {
		return probePlan{sample: true}, nil
	}
	return st.plan(st.density(q), need, margin, always), nil
}

// probedSet returns the CTEs that define name as up to limit rows of
// search_doc d (columns cols) that match the condition cond (which reads
// d.vec through the tsquery argument tsq) and where: by plan's windows
// when it has any and they hold limit such rows, else by the text index.
// limit is an SQL expression.
func probedSet(name, cols, tsq, cond, where, limit string, plan probePlan) string {
	indexed := fmt.Sprintf(`SELECT %s FROM search_doc d WHERE d.vec @@ %s::tsquery AND %s AND %s`, cols, tsq, cond, where)
	var probe string
	switch {
	case plan.sample:
		probe = indexed + " AND " + samplePredicate
	case len(plan.windows) > 0:
		// ts_match_vq is @@ as a function, which no index answers: the
		// probe reads its windows' rows (TID range scans) and stops at
		// the limit.
		parts := make([]string, len(plan.windows))
		for i, w := range plan.windows {
			parts[i] = fmt.Sprintf(`(SELECT %s FROM search_doc d WHERE d.ctid >= '(%d,0)'::tid AND d.ctid < '(%d,0)'::tid
			AND ts_match_vq(d.vec, %s::tsquery) AND %s AND %s)`, cols, w[0], w[1], tsq, cond, where)
		}
		probe = strings.Join(parts, " UNION ALL ")
	default:
		return fmt.Sprintf(`%s AS MATERIALIZED (%s)`, name, indexed)
	}
	// The index is read only when the probe came back short (a one-time
	// filter on a value the planner cannot know).
	return fmt.Sprintf(`%[1]s_probe AS MATERIALIZED (SELECT * FROM (%[2]s) p LIMIT %[3]s),
		%[1]s AS MATERIALIZED (SELECT * FROM %[1]s_probe WHERE (SELECT count(*) FROM %[1]s_probe) >= %[3]s
			UNION ALL (%[4]s AND (SELECT count(*) FROM %[1]s_probe) < %[3]s))`,
		name, probe, limit, indexed)
}
