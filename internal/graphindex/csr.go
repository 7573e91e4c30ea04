package graphindex

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"unsafe"

	"github.com/partnergraph/partnergraph/internal/budget"
	"github.com/partnergraph/partnergraph/internal/graphalg"
	"github.com/partnergraph/partnergraph/internal/store"
)

// csr is the adjacency of the whole graph in compressed sparse rows.
// Entities are numbered densely in id order; each link is held twice, once
// from each end, as the other end's number and a byte of metadata. Links
// added after the build live in extra; links removed are marked dead in
// place (or dropped from extra), so that nothing moves while walks read.
type csr struct {
	ids   []int32 // dense number → entity id (below maxEntityID)
	dense []int32 // entity id → dense number + 1; 0: none
	node  []uint8 // kind code | status code << 4; 0: gone
	off   []uint32
	other []int32
	meta  []uint8
	extra map[int32][]half
	links int // live links

	// What a walk's answer shows (docs/traversal.md, "Answering from the
	// index"): each half link's id, each link's role (by link id), each
	// entity's name.
	// Each row holds its outgoing halves first, ordered by the other end
	// (outOff[i+1]-outOff[i] of them), so that a link is found from its
	// source by binary search; only they hold the link's id.
	outOff   []uint32 // per entity: where its outgoing halves' ids start in lid
	lid      []uint32 // per outgoing half of the rows: the link's id; 0: not held
	roleOf   []uint8  // link id → role code; roleNotHeld for a role not held
	roles    []string // role code → role; code 0 is ""
	roleCode map[string]uint8
	names    []byte   // the entities' names, one after another, in dense order
	nameLen  []uint8  // per entity: its name's length in names (a longer one is in renamed)
	nameAt   []uint32 // per nameBlock entities: where the first one's name starts in names
	renamed  map[int32]heldName
}

// heldName is a name changed since the build.
type heldName struct {
	name string
	held bool
}

// half is one end's view of a link added after the build.
type half struct {
	other int32
	meta  uint8
	id    uint32
}

// Markers of what the index does not hold: an answer that needs it is
// read from PostgreSQL.
const (
	roleNotHeld = 0xff // more than 254 distinct roles
	maxLinkID   = 1 << 28
)

// Metadata of a half link: the relation type's code in the low bits.
const (
	typeMask = 0x1f
	outgoing = 0x40 // the link points away from this end
	dead     = 0x80 // removed since the build
)

// Node metadata.
const (
	kindMask    = 0x0f
	statusShift = 4
)

// maxEntityID bounds the ids the dense table maps (4 bytes per id): a
// database whose ids went far beyond its row count is walked in SQL.
const maxEntityID = 1 << 28

var errTooSparse = errors.New("entity ids too large for the dense table")

// builder receives the snapshot (store.StreamGraph) and builds the csr in
// place: every array is allocated once at its final size, from the sizes
// and the links' ends the snapshot gives first, and each row is written
// straight into its slot. Beside the csr it holds only two cursors per
// entity while the links are placed.
type builder struct {
	g       *csr
	out, in []uint32 // per entity: the next outgoing and incoming half of its row
}

func newBuilder() *builder {
	return &builder{g: &csr{extra: map[int32][]half{}, roles: []string{""}, roleCode: map[string]uint8{"": 0},
		renamed: map[int32]heldName{}}}
}

// Entities implements store.GraphSink.
func (b *builder) Entities(n, maxID, nameBytes int64) error {
	if maxID >= maxEntityID {
		return errTooSparse
	}
	g := b.g
	g.dense = make([]int32, maxID+1)
	g.ids = make([]int32, 0, n)
	g.node = make([]uint8, 0, n)
	g.nameLen = make([]uint8, 0, n)
	g.nameAt = make([]uint32, 0, n/nameBlock+1)
	g.names = make([]byte, 0, min(nameBytes, math.MaxUint32))
	return nil
}

// Entity implements store.GraphSink.
func (b *builder) Entity(id int64, kind, status uint8, name []byte) {
	g := b.g
	if id <= 0 || id >= maxEntityID {
		return // Entities refused the snapshot
	}
	for int64(len(g.dense)) <= id {
		g.dense = append(g.dense, 0)
	}
	g.dense[id] = int32(len(g.ids)) + 1
	g.ids = append(g.ids, int32(id))
	g.node = append(g.node, kind|status<<statusShift)
	g.appendName(int32(len(g.ids)-1), name, true)
}

// rows allocates the row offsets once every entity is read.
func (b *builder) rows() {
	if b.g.off == nil {
		n := len(b.g.ids)
		b.g.off, b.g.outOff = make([]uint32, n+1), make([]uint32, n+1)
	}
}

// Ends implements store.GraphSink: it counts the degrees.
func (b *builder) Ends(from, to int64) error {
	b.rows()
	g := b.g
	f, okf := g.lookup(from)
	t, okt := g.lookup(to)
	if !okf || !okt {
		return fmt.Errorf("link %d-%d: %w", from, to, errTooSparse)
	}
	g.off[f+1]++
	g.off[t+1]++
	g.outOff[f+1]++
	g.links++
	return nil
}

var errTooMany = errors.New("too many links for the index")

// Links implements store.GraphSink: it allocates the rows at their final
// size and points the cursors at each row's first outgoing and incoming
// half.
func (b *builder) Links(maxLink int64) error {
	b.rows()
	g := b.g
	n := len(g.ids)
	if 2*int64(g.links) > math.MaxUint32 {
		return errTooMany
	}
	for i := 1; i <= n; i++ {
		g.off[i] += g.off[i-1]
		g.outOff[i] += g.outOff[i-1]
	}
	g.other = make([]int32, 2*g.links)
	g.meta = make([]uint8, 2*g.links)
	g.lid = make([]uint32, g.links)
	g.roleOf = make([]uint8, min(maxLink, maxLinkID-1)+1)
	b.out, b.in = make([]uint32, n), make([]uint32, n)
	for i := range n {
		b.out[i], b.in[i] = g.off[i], g.off[i]+g.outOff[i+1]-g.outOff[i]
	}
	return nil
}

var errMoved = errors.New("the links changed between the two reads of the snapshot")

// Link implements store.GraphSink: it writes the link's two halves, its
// id and its role in their slots.
func (b *builder) Link(id, from, to int64, typ uint8, role []byte) error {
	g := b.g
	f, okf := g.lookup(from)
	t, okt := g.lookup(to)
	if !okf || !okt {
		return fmt.Errorf("link %d-%d: %w", from, to, errTooSparse)
	}
	p, q := b.out[f], b.in[t]
	if p >= g.off[f]+g.outOff[f+1]-g.outOff[f] || q >= g.off[t+1] {
		return errMoved
	}
	b.out[f], b.in[t] = p+1, q+1
	g.other[p], g.meta[p], g.lid[g.outOff[f]+p-g.off[f]] = t, typ|outgoing, g.setRole(id, role)
	g.other[q], g.meta[q] = f, typ
	return nil
}

// build checks that every slot was filled, drops the cursors and orders
// each row's outgoing halves by the other end, in place.
func (b *builder) build() (*csr, error) {
	b.rows()
	g := b.g
	for i := range b.out {
		if b.out[i] != g.off[i]+g.outOff[i+1]-g.outOff[i] || b.in[i] != g.off[i+1] {
			return nil, errMoved
		}
	}
	b.out, b.in = nil, nil
	if len(g.names) < cap(g.names) {
		g.names = fit(g.names) // names left out beyond 4 GB
	}
	for i := range len(g.ids) {
		if o := g.off[i]; g.outOff[i+1]-g.outOff[i] > 1 {
			sort.Sort(outRow{g, o, g.outOff[i], int(g.outOff[i+1] - g.outOff[i])})
		}
	}
	return g, nil
}

// nameBlock is how many entities share an offset into the names arena:
// each has the length of its name (a byte), and the offset of the block's
// first, so that the offsets take 1.1 bytes an entity rather than 4 (3 MB
// less at 1M), for at most 31 additions per name read.
const nameBlock = 32

// appendName appends the name of node i, the last (held false: not
// held; a name of more than 255 bytes is held in renamed).
func (g *csr) appendName(i int32, name []byte, held bool) {
	if i%nameBlock == 0 {
		g.nameAt = append(g.nameAt, uint32(len(g.names)))
	}
	switch {
	case !held || len(g.names)+len(name) > math.MaxUint32:
		g.renamed[i] = heldName{}
		name = nil
	case len(name) > math.MaxUint8:
		g.renamed[i] = heldName{string(name), true}
		name = nil
	}
	g.names = append(g.names, name...)
	g.nameLen = append(g.nameLen, uint8(len(name)))
}

// name returns the name of node i, and false when it is not held.
func (g *csr) name(i int32) (string, bool) {
	if len(g.renamed) > 0 {
		if r, ok := g.renamed[i]; ok {
			return r.name, r.held
		}
	}
	n := uint32(g.nameLen[i])
	if n == 0 {
		return "", true
	}
	o := g.nameAt[i/nameBlock]
	for _, l := range g.nameLen[i-i%nameBlock : i] {
		o += uint32(l)
	}
	// The arena's bytes are never written again once appended (a rename
	// goes to renamed, a rebuild makes a new arena), so the name can
	// share them: a string per node of a walk's answer was 7 % of the
	// server's CPU for a neighbourhood of 500 (copies from all over 41 MB).
	return unsafe.String(&g.names[o], n), true
}

// setRole sets the role of link id and returns the id as the halves hold
// it (0: not held).
func (g *csr) setRole(id int64, role []byte) uint32 {
	if id <= 0 || id >= maxLinkID {
		return 0
	}
	for int64(len(g.roleOf)) <= id {
		g.roleOf = append(g.roleOf, 0)
	}
	c, ok := g.roleCode[string(role)]
	if !ok {
		if len(g.roles) < roleNotHeld {
			c = uint8(len(g.roles))
			g.roles = append(g.roles, string(role))
			g.roleCode[string(role)] = c
		} else {
			c = roleNotHeld
		}
	}
	g.roleOf[id] = c
	return uint32(id)
}

// linkHead returns the id and role of the live link from f of type typ
// to t, and false when the index does not hold them.
func (g *csr) linkHead(f, t int32, typ uint8) (uint32, string, bool) {
	id := g.linkID(f, t, typ|outgoing, 0)
	if id == 0 || int(id) >= len(g.roleOf) {
		return 0, "", false
	}
	c := g.roleOf[id]
	if c == roleNotHeld {
		return 0, "", false
	}
	return id, g.roles[c], true
}

// outgoingAt returns the position of the first of node i's outgoing halves
// (built, not extra) to other, and the end of its outgoing halves.
func (g *csr) outgoingAt(i, other int32) (uint32, uint32) {
	if int(i) >= len(g.off)-1 {
		return 0, 0
	}
	lo, end := g.off[i], g.off[i]+g.outOff[i+1]-g.outOff[i]
	hi := end
	for lo < hi {
		mid := lo + (hi-lo)/2
		if g.other[mid] < other {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, end
}

// linkID returns the id of node i's live outgoing half to other with meta
// m (of link id want, any when 0), 0 when there is none or it is not held.
func (g *csr) linkID(i, other int32, m uint8, want uint32) uint32 {
	p, end := g.outgoingAt(i, other)
	for ; p < end && g.other[p] == other; p++ {
		if id := g.lid[g.outOff[i]+p-g.off[i]]; g.meta[p] == m && (want == 0 || id == want) {
			return id
		}
	}
	for _, h := range g.extra[i] {
		if h.other == other && h.meta == m && (want == 0 || h.id == want) {
			return h.id
		}
	}
	return 0
}

// fit returns s in an array of its length when that is much smaller than
// its capacity.
func fit[T any](s []T) []T {
	if cap(s)-len(s) < len(s)/32 {
		return s
	}
	return append(make([]T, 0, len(s)), s...)
}

// outRow sorts the outgoing halves of a row by the other end.
type outRow struct {
	g        *csr
	off, lid uint32
	n        int
}

func (r outRow) Len() int { return r.n }
func (r outRow) Less(a, b int) bool {
	return r.g.other[r.off+uint32(a)] < r.g.other[r.off+uint32(b)]
}
func (r outRow) Swap(a, b int) {
	g, i, j := r.g, r.off+uint32(a), r.off+uint32(b)
	g.other[i], g.other[j] = g.other[j], g.other[i]
	g.meta[i], g.meta[j] = g.meta[j], g.meta[i]
	k, l := r.lid+uint32(a), r.lid+uint32(b)
	g.lid[k], g.lid[l] = g.lid[l], g.lid[k]
}

// lookup returns the dense number of an entity id.
func (g *csr) lookup(id int64) (int32, bool) {
	if id <= 0 || id >= int64(len(g.dense)) || g.dense[id] == 0 {
		return 0, false
	}
	return g.dense[id] - 1, true
}

// bytes estimates the memory the index holds.
func (g *csr) bytes() int64 {
	n := int64(cap(g.ids))*4 + int64(cap(g.dense))*4 + int64(cap(g.node)) + int64(cap(g.off))*4 +
		int64(cap(g.other))*4 + int64(cap(g.meta)) +
		int64(cap(g.outOff))*4 + int64(cap(g.lid))*4 + int64(cap(g.roleOf)) + int64(cap(g.names)) + int64(cap(g.nameLen)) + int64(cap(g.nameAt))*4
	for _, hs := range g.extra {
		n += int64(cap(hs))*int64(unsafe.Sizeof(half{})) + 16
	}
	return n
}

// visible says whether node i exists and a reader with drafts (or without)
// may see it.
func (g *csr) visible(i int32, drafts bool) bool {
	st := g.node[i] >> statusShift
	if drafts {
		return st != 0
	}
	return st == publishedCode
}

// publishedCode is store.StatusCode(kb.StatusPublished), as a constant
// for the hot loop (TestCodesAreTheStores checks it).
const publishedCode = 2

// apply applies one logged change and reports whether it changed the
// graph's shape (not only a name or a role). It returns errReload when the
// change needs a rebuild.
func (g *csr) apply(c store.GraphChange) (bool, error) {
	switch {
	case c.Reload:
		return true, errReload
	case c.Entity != 0:
		i, ok := g.lookup(c.Entity)
		if !ok {
			if c.Kind == 0 {
				return false, nil // created and deleted: nothing to do
			}
			if c.Entity >= maxEntityID {
				return true, errReload
			}
			for int64(len(g.dense)) <= c.Entity {
				g.dense = append(g.dense, 0)
			}
			i = int32(len(g.ids))
			g.dense[c.Entity] = i + 1
			g.ids = append(g.ids, int32(c.Entity))
			g.node = append(g.node, 0)
			// Its name goes to renamed, not the arena, which is built
			// at its final size: an append would copy it whole.
			g.appendName(i, nil, true)
			g.renamed[i] = heldName{c.Name, c.HasName}
		}
		shape := g.node[i] != c.Kind|c.Status<<statusShift
		g.node[i] = c.Kind | c.Status<<statusShift
		if c.Kind != 0 {
			if n, ok := g.name(i); ok != c.HasName || n != c.Name {
				g.renamed[i] = heldName{c.Name, c.HasName}
			}
		}
		return shape, nil
	default:
		f, okf := g.lookup(c.From)
		t, okt := g.lookup(c.To)
		if !okf || !okt {
			return true, errReload // a link to an entity never logged: the log is not what it should be
		}
		if c.Present {
			id := g.setRole(c.LinkID, []byte(c.Role))
			if id != 0 && g.linkID(f, t, c.Type|outgoing, id) != 0 {
				return false, nil // there already: its role changed
			}
			g.extra[f] = append(g.extra[f], half{t, c.Type | outgoing, id})
			g.extra[t] = append(g.extra[t], half{f, c.Type, id})
			g.links++
			return true, nil
		}
		id := uint32(0)
		if c.LinkID > 0 && c.LinkID < maxLinkID {
			id = uint32(c.LinkID)
		}
		if g.remove(f, t, c.Type|outgoing, id) && g.remove(t, f, c.Type, id) {
			g.links--
		}
		return true, nil
	}
}

// remove drops the half link of node i to other with meta m, of link id
// (any link of those ends and type when the id is 0 or not held: a link
// created and deleted anew in one transaction is told apart by its id,
// whatever order the log gives their rows).
func (g *csr) remove(i, other int32, m uint8, id uint32) bool {
	if int(i) < len(g.off)-1 {
		for p := g.off[i]; p < g.off[i+1]; p++ {
			if g.other[p] == other && g.meta[p] == m && (id == 0 || m&outgoing == 0 || g.lid[g.outOff[i]+p-g.off[i]] == 0 ||
				g.lid[g.outOff[i]+p-g.off[i]] == id) {
				g.meta[p] |= dead
				return true
			}
		}
	}
	hs := g.extra[i]
	for k, h := range hs {
		if h.other == other && h.meta == m && (id == 0 || h.id == 0 || h.id == id) {
			g.extra[i] = append(hs[:k:k], hs[k+1:]...)
			if len(g.extra[i]) == 0 {
				delete(g.extra, i)
			}
			return true
		}
	}
	return false
}

var errReload = errors.New("the graph changed too much to apply: rebuild")

// walk is the graphalg.Graph of one walk over the csr: nodes are dense
// numbers, and a hop is followed when its type is in rel and the other
// end is visible and of a kind in kinds (or one of ends).
type walk struct {
	g      *csr
	drafts bool
	rel    uint32 // bit per relation code; all set for any
	kinds  uint16 // bit per kind code; all set for any
	ends   [2]int32
}

// follows says whether a walk may step onto node o.
func (w *walk) follows(o int32) bool {
	if !w.g.visible(o, w.drafts) {
		return false
	}
	return w.kinds&(1<<(w.g.node[o]&kindMask)) != 0 || o == w.ends[0] || o == w.ends[1]
}

// Hops implements graphalg.Graph.
func (w *walk) Hops(ctx context.Context, nodes []int64, _ int, fn func(int64, graphalg.Hop) bool) error {
	// A level of a walk is a few thousand hops at most: a request that
	// yields to other clients' pauses between levels (docs/api.md, "Fair
	// turns").
	budget.Yield(ctx)
	g := w.g
	base := int32(len(g.off) - 1)
	for _, n := range nodes {
		i := int32(n)
		if i < base {
			for p := g.off[i]; p < g.off[i+1]; p++ {
				m := g.meta[p]
				if m&dead != 0 || w.rel&(1<<(m&typeMask)) == 0 {
					continue
				}
				if o := g.other[p]; w.follows(o) &&
					!fn(n, graphalg.Hop{Other: int64(o), Type: int32(m & typeMask), Outgoing: m&outgoing != 0}) {
					return nil
				}
			}
		}
		for _, h := range g.extra[i] {
			if w.rel&(1<<(h.meta&typeMask)) != 0 && w.follows(h.other) &&
				!fn(n, graphalg.Hop{Other: int64(h.other), Type: int32(h.meta & typeMask), Outgoing: h.meta&outgoing != 0}) {
				return nil
			}
		}
	}
	return ctx.Err()
}

// degree counts the links of node i that w follows to visible nodes of
// any kind.
func (w *walk) degree(i int32) int {
	g := w.g
	d := 0
	if i < int32(len(g.off)-1) {
		for p := g.off[i]; p < g.off[i+1]; p++ {
			m := g.meta[p]
			if m&dead == 0 && w.rel&(1<<(m&typeMask)) != 0 && g.visible(g.other[p], w.drafts) {
				d++
			}
		}
	}
	for _, h := range g.extra[i] {
		if w.rel&(1<<(h.meta&typeMask)) != 0 && g.visible(h.other, w.drafts) {
			d++
		}
	}
	return d
}
