package store

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/partnergraph/partnergraph/internal/kb"
)

// searchAhead remembers, for each search page statement run with its
// arguments (the query's terms, the filters, the window) and visibility,
// the hits its last run found, so that the next run of the same page reads
// their entities, texts and topic labels in the page's own pipeline
// instead of a round trip after it (docs/search.md, "Round trips"). A page
// asked again is most often the page it was: the front page's search box,
// a link shared, the bench's queries. The hits read ahead are used only
// when the page holds exactly them, in their order; else they are dropped
// and the hits read after the page, as without it. Its zero value is
// ready; it holds at most maxSearchAhead pages.
type searchAhead struct {
	mu    sync.Mutex
	pages map[[sha256.Size]byte]aheadPage
	// asked counts the pages whose hits were read ahead, used those the
	// page then held (metrics: the rest were read again after it).
	asked, used atomic.Int64
}

// maxSearchAhead bounds the pages a server remembers: past it, one is
// forgotten for each new one.
const maxSearchAhead = 4096

// aheadPage is the hits of a page's last run and their kinds.
type aheadPage struct {
	ids   []int64
	kinds map[kb.Kind]bool
}

// searchAheadKey names the page statement sql run with args for vis.
func searchAheadKey(sql string, args []any, vis Visibility) ([sha256.Size]byte, bool) {
	h := sha256.New()
	h.Write([]byte(sql))
	h.Write([]byte{0})
	if vis.Drafts {
		h.Write([]byte{1})
	}
	if err := json.NewEncoder(h).Encode(args); err != nil {
		return [sha256.Size]byte{}, false
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key, true
}

// last returns the hits of the last run of the page key.
func (a *searchAhead) last(key [sha256.Size]byte) (aheadPage, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pages[key]
	return p, ok
}

// remember keeps the hits ids (of kinds) of the page key's run.
func (a *searchAhead) remember(key [sha256.Size]byte, ids []int64, kinds map[kb.Kind]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p, ok := a.pages[key]; ok && slices.Equal(p.ids, ids) {
		return
	}
	if a.pages == nil {
		a.pages = map[[sha256.Size]byte]aheadPage{}
	}
	if _, ok := a.pages[key]; !ok && len(a.pages) >= maxSearchAhead {
		for k := range a.pages { // any one
			delete(a.pages, k)
			break
		}
	}
	a.pages[key] = aheadPage{ids: slices.Clone(ids), kinds: kinds}
}

// SearchAhead returns how many search pages have had their hits read
// ahead with them, and in how many the page held exactly those hits.
func (s *Store) SearchAhead() (asked, used int64) {
	if s == nil || s.searchAhead == nil {
		return 0, 0
	}
	return s.searchAhead.asked.Load(), s.searchAhead.used.Load()
}

// afterRead is a statement and what reads its rows: one of a batch, or
// one sent after a search page in its pipeline.
type afterRead struct {
	sql  string
	args []any
	read func(pgx.Rows) error
}

// hits is what the statements of entitiesWithTexts read: the entities of
// a page's hits in their order, their texts, and the topic labels of the
// practices among them.
type hits struct {
	es          []*kb.Entity
	texts       map[int64]kb.Texts
	topicLabels map[int64]map[string][]string
}

// reads returns the statements that read into h the entities ids, of
// kinds: as one batch (entitiesWithTexts) or after a page (hitsRead).
func (h *hits) reads(ctx context.Context, s *Store, vis Visibility, ids []int64, kinds map[kb.Kind]bool) []afterRead {
	entities := entityRowsSQL
	if !s.serverPlans {
		entities = entitiesOfKinds(kinds)
	}
	out := []afterRead{
		{entities, []any{ids, vis.statuses()}, func(rows pgx.Rows) (err error) {
			h.es, err = entitiesInOrder(ctx, vis, rows, ids)
			return err
		}},
		{textsSQL(s.serverPlans), []any{ids, vis.statuses()}, func(rows pgx.Rows) (err error) {
			h.texts, err = collectTexts(ctx, rows, len(ids), true)
			return err
		}},
	}
	if kinds[kb.KindGoodPractice] {
		out = append(out, afterRead{practiceTopicLabelsSQL, []any{ids}, func(rows pgx.Rows) (err error) {
			h.topicLabels, err = collectTopicLabels(rows)
			return err
		}})
	}
	return out
}

// hitsRead is the hits of a page remembered (searchAhead), read after the
// page in its pipeline.
type hitsRead struct {
	hits
	ids []int64
	// read counts the statements read in the pipeline's last run; all of
	// them when it equals want.
	read, want int
}

// complete reports whether every statement of h was read.
func (h *hitsRead) complete() bool { return h != nil && h.want > 0 && h.read == h.want }

// reads returns the statements of h (hits.reads), counting those read.
func (h *hitsRead) reads(ctx context.Context, s *Store, vis Visibility, kinds map[kb.Kind]bool) []afterRead {
	out := h.hits.reads(ctx, s, vis, h.ids, kinds)
	h.want = len(out)
	for i := range out {
		read := out[i].read
		out[i].read = func(rows pgx.Rows) error {
			if i == 0 { // a run begins (again, after a failed one)
				h.read = 0
			}
			if err := read(rows); err != nil {
				return err
			}
			h.read++
			return nil
		}
	}
	return out
}
