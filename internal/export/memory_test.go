package export_test

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/export"
)

// synthesize fills an empty migrated database with n published entities
// of every kind in turn, three links per entity and one citation per
// entity: a graph with the shape, not the realism, of the real one (the
// generator of issue 3 item 6 makes the realistic one). Plain SQL through
// the pool: it is test scaffolding, and generate_series is far faster
// than loading a data set.
func synthesize(tb testing.TB, pool *pgxpool.Pool, n int) {
	tb.Helper()
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO entity (kind, key, name, sort_name, summary, status, created_by, updated_by)
		SELECT (ARRAY['PARTNER','COOPERATIVE','PARTNERSHIP','GOOD_PRACTICE','FOREIGN_EXAMPLE','PROJECT','EVENT','PERSON','SOURCE'])[1 + i % 9],
			'syn-' || i, 'Spółdzielnia Socjalna „Równe Szanse” nr ' || i, 'spoldzielnia socjalna rowne szanse nr ' || i,
			'Opis przypadku: współpraca sektorów publicznego, społecznego i prywatnego w Gębicach i Łężeczkach.',
			'PUBLISHED', 'bench', 'bench'
		FROM generate_series(1, $1) i`,
		`INSERT INTO partner (id, sector, partner_kind, legal_form, country, region, city)
		SELECT id, (ARRAY['PUBLIC','SOCIAL','PRIVATE'])[1 + id % 3], 'ASSOCIATION', 'stowarzyszenie', 'PL', 'wielkopolskie', 'Poznań'
		FROM entity WHERE kind = 'PARTNER'`,
		`INSERT INTO cooperative (id, coop_status, activities, country, city)
		SELECT id, 'OPERATING', '{CERAMICS,CAFE}', 'PL', 'Gębice' FROM entity WHERE kind = 'COOPERATIVE'`,
		`INSERT INTO partnership (id) SELECT id FROM entity WHERE kind = 'PARTNERSHIP'`,
		`INSERT INTO good_practice (id, description, topics) SELECT id, 'Jak pozyskać partnera biznesowego', '{Współpraca z biznesem}'
		FROM entity WHERE kind = 'GOOD_PRACTICE'`,
		`INSERT INTO foreign_example (id, country, city, model) SELECT id, 'SE', 'Stockholm', 'social arbetskooperativ'
		FROM entity WHERE kind = 'FOREIGN_EXAMPLE'`,
		`INSERT INTO project (id) SELECT id FROM entity WHERE kind = 'PROJECT'`,
		`INSERT INTO event (id, event_kind, event_status, country, city) SELECT id, 'STUDY_VISIT', 'HELD', 'SE', 'Rimbo'
		FROM entity WHERE kind = 'EVENT'`,
		`INSERT INTO person (id, public_role) SELECT id, 'prezeska' FROM entity WHERE kind = 'PERSON'`,
		`INSERT INTO source (id, source_kind, publisher, language) SELECT id, 'ARTICLE', 'Stowarzyszenie', 'pl'
		FROM entity WHERE kind = 'SOURCE'`,
		`INSERT INTO link (from_id, to_id, type, role, created_by, updated_by)
		SELECT e.id, (e.id + k * 37) % $1 + 1, (ARRAY['SUPPORTS','MEMBER_OF','PARTNER_IN'])[k], 'LEADER', 'bench', 'bench'
		FROM generate_series(1, $1) e(id), generate_series(1, 3) k`,
		`INSERT INTO citation (entity_id, source_id, locator, quote)
		SELECT id, 8, 'akapit ' || id % 7, 'cytat' FROM entity`,
		`INSERT INTO citation (link_id, source_id, locator) SELECT id, 17, 'akapit 1' FROM link WHERE id % 10 = 0`,
		`ANALYZE`,
	} {
		args := []any{}
		if containsParam(sql) {
			args = append(args, n)
		}
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			tb.Fatalf("synthesize %d entities: %v\n%s", n, err, sql)
		}
	}
}

func containsParam(sql string) bool {
	for i := 0; i+1 < len(sql); i++ {
		if sql[i] == '$' && sql[i+1] == '1' {
			return true
		}
	}
	return false
}

// heapUse is what heapPeak measures of one export, in bytes.
type heapUse struct {
	// live is the peak of the heap that survives a garbage collection,
	// forced every few MiB of output, above the heap before the export:
	// what the export holds on to.
	live uint64
	// heap is the peak of the heap in use between those collections,
	// garbage included, above the heap before the export.
	heap uint64
	// total is the peak of the whole heap after those collections, the
	// store's pool and the test's graph included.
	total uint64
	// allocated is the bytes allocated during the export.
	allocated uint64
	// written is the size of the export.
	written int64
}

// probe is the writer an export writes to in the memory measurements:
// it discards the bytes and, every `every` bytes (64 KiB: each flush of
// the export's buffer), samples the heap and then collects garbage and
// samples what is left.
type probe struct {
	every, written, next int64
	base                 uint64
	use                  heapUse
}

func (p *probe) Write(b []byte) (int, error) {
	p.written += int64(len(b))
	if p.written >= p.next {
		p.next += p.every
		p.sample()
	}
	return len(b), nil
}

func (p *probe) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapAlloc > p.base {
		p.use.heap = max(p.use.heap, m.HeapAlloc-p.base)
	}
	runtime.GC()
	runtime.ReadMemStats(&m)
	p.use.total = max(p.use.total, m.HeapAlloc)
	if m.HeapAlloc > p.base {
		p.use.live = max(p.use.live, m.HeapAlloc-p.base)
	}
}

// heapPeak runs export, which writes to w, and measures its heap.
func heapPeak(export func(w io.Writer) error) (heapUse, error) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	p := &probe{every: 64 << 10, next: 64 << 10, base: before.HeapAlloc}
	err := export(p)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	p.use.allocated = after.TotalAlloc - before.TotalAlloc
	p.use.written = p.written
	return p.use, err
}

// BenchmarkExportMemory exports synthetic graphs of 20,000 and 200,000
// entities (three links and one citation each) in every format and
// reports the peak heap that survives a collection (forced every 64 KiB
// of output) above the heap before the export (held-MiB) and in all
// (live-heap-MiB), the bytes allocated (alloc-MiB) and written
// (written-MiB) per export. A streaming export keeps the heap flat while
// allocations and output grow with the graph. docs/benchmarks.md quotes it:
//
//	go test -run '^$' -bench ExportMemory -benchtime 1x ./internal/export/
func BenchmarkExportMemory(b *testing.B) {
	for _, n := range []int{20_000, 200_000} {
		st, pool := open(b, "migrated")
		synthesize(b, pool, n)
		for _, f := range export.Formats {
			b.Run(fmt.Sprintf("%s/%d", f, n), func(b *testing.B) {
				var use heapUse
				for b.Loop() {
					u, err := heapPeak(func(w io.Writer) error {
						return export.Write(context.Background(), st, export.Options{Format: f}, w)
					})
					if err != nil {
						b.Fatal(err)
					}
					use = heapUse{max(use.live, u.live), max(use.heap, u.heap), max(use.total, u.total), u.allocated, u.written}
				}
				b.ReportMetric(float64(use.live)/(1<<20), "held-MiB")
				b.ReportMetric(float64(use.total)/(1<<20), "live-heap-MiB")
				b.ReportMetric(float64(use.allocated)/(1<<20), "alloc-MiB")
				b.ReportMetric(float64(use.written)/(1<<20), "written-MiB")
			})
		}
	}
}

// TestExportMemoryStaysFlat pins the streaming: what an export holds on to
// must not grow with the graph.
func TestExportMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two synthetic graphs")
	}
	peaks := map[int]uint64{}
	for _, n := range []int{1_000, 10_000} {
		st, pool := open(t, "migrated")
		synthesize(t, pool, n)
		// JSON-LD allocates the most per record; GraphML is plain text.
		for _, f := range []export.Format{export.JSONLD, export.GraphML} {
			u, err := heapPeak(func(w io.Writer) error {
				return export.Write(t.Context(), st, export.Options{Format: f}, w)
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s, %d entities, %.1f MiB written: peak live heap %.2f MiB, peak heap %.1f MiB, allocated %.1f MiB",
				f, n, float64(u.written)/(1<<20), float64(u.live)/(1<<20), float64(u.heap)/(1<<20), float64(u.allocated)/(1<<20))
			peaks[n] = max(peaks[n], u.live)
		}
	}
	// The live heap of a streaming export is a few buffers: allow 1 MiB of
	// growth for ten times the graph, where a whole-graph slice would take
	// tens of MiB.
	if peaks[10_000] > peaks[1_000]+1<<20 {
		t.Errorf("peak live heap grew from %d to %d bytes for 10× the entities, want it flat", peaks[1_000], peaks[10_000])
	}
}
