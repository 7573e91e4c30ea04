package loader

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/vektah/gqlparser/v2/ast"
)

// Ahead remembers, for each operation and each entity it reads by ID at its
// root (node(id: ...)), what the fields right under that entity asked the
// level loader the last times the operation ran, so that the next run asks
// the same together with the entity's own row: one wait of the loaders
// (DefaultWait) and one round trip less a request. A cooperative's page
// read its row, then the pages of its founders, workshops and partnerships
// and its indicators, each level after the one before; with what the last
// runs asked remembered, the first level goes with the row (docs/scaling.md,
// "Round trips").
//
// The questions are remembered per operation text, variables (but those
// of the root field's own arguments, the entity's ID: a page's size is a
// variable the fields' questions depend on, the ID is not), root field and
// kind, so that one client's variables never make another's requests ask
// more. What is asked ahead is only a question put early: its answer
// waits in the request's loaders for the field that asks it, and one that
// no field asks is dropped with the loaders. A question no run has asked
// for aheadStale runs is forgotten. One Ahead serves a server's requests;
// it holds at most max roots' questions.
type Ahead struct {
	mu      sync.Mutex
	max     int
	entries map[aheadKey]*aheadEntry
	// asked counts the questions asked ahead, used those a field then
	// asked too (metrics: the rest were dropped unread).
	asked, used atomic.Int64
}

// DefaultAheadEntries is how many operations' questions an Ahead of the
// server remembers: past it, one is forgotten for each new one.
const DefaultAheadEntries = 4096

// aheadStale is after how many runs of its operation a question that none
// of them asked is no longer asked ahead; maxAheadAsks caps the questions
// remembered for one root.
const (
	aheadStale   = 8
	maxAheadAsks = 32
)

// aheadKey names one entity, or one list's page, read at the root of one
// operation: the operation's text, name and variables (but an entity's
// ID), the root field's path (its alias), the entities' kind (an ID says
// it before the entity is read) and whether the reader sees drafts.
type aheadKey struct {
	op     [sha256.Size]byte
	path   string
	kind   kb.Kind
	drafts bool // staff, whose lists hold drafts too
}

// aheadEntry is what the fields under one root asked.
type aheadEntry struct {
	runs uint64 // how many runs have asked ahead
	asks []aheadAsk
	ids  []int64 // of a root list: the ids of its last run's page
}

// aheadAsk is one question of the level loader: its group, how to register
// the group with a request's loaders (again: a page of links is a group of
// its spec), and the last run that asked it.
type aheadAsk struct {
	group    string
	again    func(*Loaders) string
	lastSeen uint64
}

// NewAhead returns an Ahead that remembers at most max operations' questions
// (DefaultAheadEntries when max ≤ 0).
func NewAhead(max int) *Ahead {
	if max <= 0 {
		max = DefaultAheadEntries
	}
	return &Ahead{max: max, entries: map[aheadKey]*aheadEntry{}}
}

// Asked returns how many questions have been asked ahead, and how many of
// them a field then asked too.
func (a *Ahead) Asked() (asked, used int64) { return a.asked.Load(), a.used.Load() }

// aheadRoot is an entity, or a list's page of entities, read at the root
// of the request: where its questions are remembered, and the ids whose
// questions are remembered.
type aheadRoot struct {
	key aheadKey
	ids map[int64]bool
	run uint64
}

// WithAhead returns l remembering and asking its roots' questions in a
// (none when a is nil).
func (l *Loaders) WithAhead(a *Ahead) *Loaders {
	l.ahead = a
	return l
}

// AskAhead is called by a root field of ctx that reads the entity id of
// kind: it asks the level loader, in the same wait as the entity's own
// row, what the fields under it asked the last runs of the operation, and
// remembers what they ask in this one. It does nothing below the root,
// or without an Ahead.
func (l *Loaders) AskAhead(ctx context.Context, kind kb.Kind, id int64) {
	key, ok := l.aheadKeyOf(ctx, kind, true)
	if !ok {
		return
	}
	run, asks, _ := l.ahead.begin(key)
	l.setRoot(aheadRoot{key: key, ids: map[int64]bool{id: true}, run: run})
	l.askFor(ctx, asks, id)
}

// AskAheadList is AskAhead for a root list field of ctx, of entities of
// kind. It returns, when the last run of the operation (with the same
// variables) read a page whose entities' fields asked questions, the
// function that reads the list: it runs its reads (the page, its count)
// at once, without the loaders' wait, in one pipeline with those
// questions asked for the entities of that page, and leaves their answers
// in the loaders for the fields that ask them. Else nil: the caller reads
// as without an Ahead. Either way it then says which entities the page
// holds (ListRead).
func (l *Loaders) AskAheadList(ctx context.Context, kind kb.Kind) func(reads ...func(context.Context) error) []error {
	key, ok := l.aheadKeyOf(ctx, kind, false)
	if !ok {
		return nil
	}
	run, asks, ids := l.ahead.begin(key)
	l.setRoot(aheadRoot{key: key, ids: idSet(ids), run: run})
	if len(asks) == 0 || len(ids) == 0 {
		return nil
	}
	var keys []levelKey
	for _, id := range ids {
		for _, q := range asks {
			if group := q.again(l); group != "" {
				keys = append(keys, levelKey{group, id})
			}
		}
	}
	return func(reads ...func(context.Context) error) []error {
		out, errs, readErrs := l.fetchLevelWith(ctx, keys, reads)
		l.markAskedAhead(keys, errs)
		for i, k := range keys {
			if errs == nil || errs[i] == nil {
				l.level.Prime(k, out[i])
			}
		}
		return readErrs
	}
}

// ListRead says which entities the page of the root list field of ctx
// holds: the next run asks ahead for them, and the questions the fields
// under them ask in this one are remembered.
func (l *Loaders) ListRead(ctx context.Context, ids []int64) {
	if l.ahead == nil || !graphql.HasOperationContext(ctx) {
		return
	}
	fc := graphql.GetFieldContext(ctx)
	if !atRoot(fc) {
		return
	}
	path := fc.Path().String()
	l.mu.Lock()
	r, ok := l.roots[path]
	if ok {
		r.ids = idSet(ids)
		l.roots[path] = r
	}
	l.mu.Unlock()
	if !ok {
		return
	}
	a := l.ahead
	a.mu.Lock()
	if e := a.entries[r.key]; e != nil {
		e.ids = slices.Clone(ids)
	}
	a.mu.Unlock()
}

// aheadKeyOf returns the key of the root field of ctx reading entities of
// kind; with byID, the variables of the field's own arguments (the
// entity's ID) are left out. False below the root, or without an Ahead.
func (l *Loaders) aheadKeyOf(ctx context.Context, kind kb.Kind, byID bool) (aheadKey, bool) {
	if l.ahead == nil || !graphql.HasOperationContext(ctx) {
		return aheadKey{}, false
	}
	fc := graphql.GetFieldContext(ctx)
	if !atRoot(fc) {
		return aheadKey{}, false
	}
	op := graphql.GetOperationContext(ctx)
	h := sha256.New()
	h.Write([]byte(op.OperationName))
	h.Write([]byte{0})
	h.Write([]byte(op.RawQuery))
	h.Write([]byte{0})
	if len(op.Variables) > 0 {
		own := map[string]bool{}
		if byID {
			for _, arg := range fc.Field.Arguments {
				variablesOf(arg.Value, own)
			}
		}
		vars := make(map[string]any, len(op.Variables))
		for name, v := range op.Variables {
			if !own[name] {
				vars[name] = v
			}
		}
		// Maps are written with their keys in order.
		if err := json.NewEncoder(h).Encode(vars); err != nil {
			return aheadKey{}, false
		}
	}
	key := aheadKey{path: fc.Path().String(), kind: kind, drafts: l.vis.Drafts}
	h.Sum(key.op[:0])
	return key, true
}

// begin counts a run of the root key and returns its number, the
// questions to ask ahead (forgetting the stale ones) and, for a list, the
// ids of the last run's page.
func (a *Ahead) begin(key aheadKey) (uint64, []aheadAsk, []int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entries[key]
	if e == nil {
		if len(a.entries) >= a.max {
			for k := range a.entries { // any one
				delete(a.entries, k)
				break
			}
		}
		e = &aheadEntry{}
		a.entries[key] = e
	}
	e.runs++
	run := e.runs
	e.asks = slices.DeleteFunc(e.asks, func(q aheadAsk) bool { return run-q.lastSeen > aheadStale })
	return run, slices.Clone(e.asks), slices.Clone(e.ids)
}

// idSet returns the set of ids.
func idSet(ids []int64) map[int64]bool {
	set := make(map[int64]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set
}

// setRoot records a root of the request, whose fields' questions are
// remembered.
func (l *Loaders) setRoot(r aheadRoot) {
	l.mu.Lock()
	if l.roots == nil {
		l.roots = map[string]aheadRoot{}
	}
	l.roots[r.key.path] = r
	l.mu.Unlock()
	l.rooted.Store(true)
}

// askFor asks the level loader the questions asks of entity id, ahead,
// marking them asked ahead under one lock.
func (l *Loaders) askFor(ctx context.Context, asks []aheadAsk, id int64) {
	var keys []levelKey
	for _, q := range asks {
		if group := q.again(l); group != "" {
			keys = append(keys, levelKey{group, id})
		}
	}
	if len(keys) == 0 {
		return
	}
	l.markAskedAhead(keys, nil)
	for _, k := range keys {
		l.level.Loader.LoadThunk(ctx, k)
	}
}

// markAskedAhead marks keys asked ahead, but those whose answer failed
// (errs[i] not nil: the field that asks the question asks it again), and
// counts them.
func (l *Loaders) markAskedAhead(keys []levelKey, errs []error) {
	n := 0
	l.mu.Lock()
	if l.askedAhead == nil {
		l.askedAhead = map[levelKey]bool{}
	}
	for i, k := range keys {
		if errs == nil || errs[i] == nil {
			l.askedAhead[k] = true
			n++
		}
	}
	l.mu.Unlock()
	l.ahead.asked.Add(int64(n))
}

// record remembers the question group (registered anew by again) asked
// of entity id by the field of ctx, when that field is right under a root
// that asked ahead for id.
func (l *Loaders) record(ctx context.Context, group string, again func(*Loaders) string, id int64) {
	if l.ahead == nil || again == nil || !l.rooted.Load() {
		return
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Parent == nil {
		return
	}
	// Right under the root (node(id:)), or under an entity of a root
	// list's nodes.
	root := fc.Parent
	if item := fc.Parent; item.Index != nil && item.Parent != nil && item.Parent.Field.Field != nil && item.Parent.Field.Name == "nodes" {
		root = item.Parent.Parent
	}
	if !atRoot(root) {
		return
	}
	l.mu.Lock()
	r, ok := l.roots[root.Path().String()]
	ok = ok && r.ids[id]
	if ok && l.askedAhead[levelKey{group, id}] {
		delete(l.askedAhead, levelKey{group, id}) // counted once
		l.ahead.used.Add(1)
	}
	l.mu.Unlock()
	if !ok {
		return
	}
	a := l.ahead
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.entries[r.key]
	if e == nil { // forgotten meanwhile
		return
	}
	if i := slices.IndexFunc(e.asks, func(q aheadAsk) bool { return q.group == group }); i >= 0 {
		e.asks[i].lastSeen = max(e.asks[i].lastSeen, r.run)
		return
	}
	if len(e.asks) < maxAheadAsks {
		e.asks = append(e.asks, aheadAsk{group: group, again: again, lastSeen: r.run})
	}
}

// atRoot reports whether fc is the context of a field of the operation's
// root: above it only the operation's own context (no field, no index).
func atRoot(fc *graphql.FieldContext) bool {
	if fc == nil || fc.Field.Field == nil {
		return false
	}
	for p := fc.Parent; p != nil; p = p.Parent {
		if p.Field.Field != nil || p.Index != nil {
			return false
		}
	}
	return true
}

// variablesOf adds to names the variables v refers to, at any depth.
func variablesOf(v *ast.Value, names map[string]bool) {
	if v == nil {
		return
	}
	if v.Kind == ast.Variable {
		names[v.Raw] = true
	}
	for _, c := range v.Children {
		variablesOf(c.Value, names)
	}
}
