package graphindex

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"github.com/partnergraph/partnergraph/internal/graphalg"
	"github.com/partnergraph/partnergraph/internal/store"
)

// csr is the adjacency of the whole graph in compressed sparse rows.
// Entities are numbered densely in id order; each link is held twice, once
// from each end, as the other end's number and a byte of metadata. Links
// added after the build live in extra; links removed are marked dead in
// place (or dropped from extra), so that nothing moves while walks read.
type csr struct {
	ids   []int64 // dense number → entity id
	dense []int32 // entity id → dense number + 1; 0: none
	node  []uint8 // kind code | status code << 4; 0: gone
	off   []uint32
	other []int32
	meta  []uint8
	extra map[int32][]half
	links int // live links
}

// half is one end's view of a link added after the build.
type half struct {
	other int32
	meta  uint8
}

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

// builder receives the snapshot and builds the csr.
type builder struct {
	g        *csr
	from, to []int32
	typ      []uint8
}

func newBuilder() *builder { return &builder{g: &csr{extra: map[int32][]half{}}} }

// Entity implements store.GraphSink.
func (b *builder) Entity(id int64, kind, status uint8) {
	g := b.g
	if id <= 0 || id >= maxEntityID {
		return // refused in Link and at the end
	}
	for int64(len(g.dense)) <= id {
		g.dense = append(g.dense, 0)
	}
	g.dense[id] = int32(len(g.ids)) + 1
	g.ids = append(g.ids, id)
	g.node = append(g.node, kind|status<<statusShift)
}

// Link implements store.GraphSink.
func (b *builder) Link(from, to int64, typ uint8) error {
	f, okf := b.g.lookup(from)
	t, okt := b.g.lookup(to)
	if !okf || !okt {
		return fmt.Errorf("link %d-%d: %w", from, to, errTooSparse)
	}
	b.from, b.to, b.typ = append(b.from, f), append(b.to, t), append(b.typ, typ)
	return nil
}

// build turns the links read into rows.
func (b *builder) build() *csr {
	g := b.g
	n := len(g.ids)
	g.off = make([]uint32, n+1)
	for i := range b.from {
		g.off[b.from[i]+1]++
		g.off[b.to[i]+1]++
	}
	for i := 1; i <= n; i++ {
		g.off[i] += g.off[i-1]
	}
	g.other = make([]int32, 2*len(b.from))
	g.meta = make([]uint8, 2*len(b.from))
	pos := make([]uint32, n)
	copy(pos, g.off[:n])
	for i := range b.from {
		f, t := b.from[i], b.to[i]
		g.other[pos[f]], g.meta[pos[f]] = t, b.typ[i]|outgoing
		pos[f]++
		g.other[pos[t]], g.meta[pos[t]] = f, b.typ[i]
		pos[t]++
	}
	g.links = len(b.from)
	b.from, b.to, b.typ = nil, nil, nil
	return g
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
	n := int64(cap(g.ids))*8 + int64(cap(g.dense))*4 + int64(cap(g.node)) + int64(cap(g.off))*4 +
		int64(cap(g.other))*4 + int64(cap(g.meta))
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

// apply applies one logged change. It returns errReload when the change
// needs a rebuild.
func (g *csr) apply(c store.GraphChange) error {
	switch {
	case c.Reload:
		return errReload
	case c.Entity != 0:
		i, ok := g.lookup(c.Entity)
		if !ok {
			if c.Kind == 0 {
				return nil // created and deleted: nothing to do
			}
			if c.Entity >= maxEntityID {
				return errReload
			}
			for int64(len(g.dense)) <= c.Entity {
				g.dense = append(g.dense, 0)
			}
			i = int32(len(g.ids))
			g.dense[c.Entity] = i + 1
			g.ids = append(g.ids, c.Entity)
			g.node = append(g.node, 0)
		}
		g.node[i] = c.Kind | c.Status<<statusShift
		return nil
	default:
		f, okf := g.lookup(c.From)
		t, okt := g.lookup(c.To)
		if !okf || !okt {
			return errReload // a link to an entity never logged: the log is not what it should be
		}
		if c.Present {
			g.extra[f] = append(g.extra[f], half{t, c.Type | outgoing})
			g.extra[t] = append(g.extra[t], half{f, c.Type})
			g.links++
			return nil
		}
		if g.remove(f, t, c.Type|outgoing) && g.remove(t, f, c.Type) {
			g.links--
		}
		return nil
	}
}

// remove drops the half link of node i to other with meta m.
func (g *csr) remove(i, other int32, m uint8) bool {
	if int(i) < len(g.off)-1 {
		for p := g.off[i]; p < g.off[i+1]; p++ {
			if g.other[p] == other && g.meta[p] == m {
				g.meta[p] |= dead
				return true
			}
		}
	}
	hs := g.extra[i]
	for k, h := range hs {
		if h.other == other && h.meta == m {
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
