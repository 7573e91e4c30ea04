package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// mixCountCase is a filter of sector mixes alone and the same condition
// written by hand on s, an entity's set of sectors.
type mixCountCase struct {
	f    store.Filter
	cond string
}

// mixCountCases are the filters the counters of migration 00053 sum:
// each field of a mix, their combinations, and and/or/not of them.
func mixCountCases() []mixCountCase {
	yes, no := true, false
	pub, soc, pri := kb.SectorPublic, kb.SectorSocial, kb.SectorPrivate
	mix := func(m kb.MixFilter) store.Filter { return store.Filter{SectorMix: m} }
	const full = `s @> '{PRIVATE,PUBLIC,SOCIAL}'`
	return []mixCountCase{
		{mix(kb.MixFilter{Full: &yes}), full},
		{mix(kb.MixFilter{Full: &no}), `NOT ` + full},
		{mix(kb.MixFilter{Includes: []kb.Sector{pri}}), `'PRIVATE' = ANY(s)`},
		{mix(kb.MixFilter{Includes: []kb.Sector{pub, soc}}), `'PUBLIC' = ANY(s) AND 'SOCIAL' = ANY(s)`},
		{mix(kb.MixFilter{Missing: []kb.Sector{pub}}), `NOT 'PUBLIC' = ANY(s)`},
		{mix(kb.MixFilter{Missing: []kb.Sector{pub, pri}}), `NOT 'PUBLIC' = ANY(s) AND NOT 'PRIVATE' = ANY(s)`},
		{mix(kb.MixFilter{Includes: []kb.Sector{soc}, Missing: []kb.Sector{pri}}), `'SOCIAL' = ANY(s) AND NOT 'PRIVATE' = ANY(s)`},
		{mix(kb.MixFilter{Full: &yes, Includes: []kb.Sector{pub}}), full},
		{mix(kb.MixFilter{Full: &no, Missing: []kb.Sector{soc}}), `NOT 'SOCIAL' = ANY(s)`},
		{mix(kb.MixFilter{Full: &yes, Missing: []kb.Sector{soc}}), `false`},
		{store.Filter{Not: &store.Filter{SectorMix: kb.MixFilter{Includes: []kb.Sector{pri}}}}, `NOT 'PRIVATE' = ANY(s)`},
		{store.Filter{Not: &store.Filter{Not: &store.Filter{SectorMix: kb.MixFilter{Full: &yes}}}}, full},
		{store.Filter{And: []store.Filter{mix(kb.MixFilter{Full: &no}), mix(kb.MixFilter{Includes: []kb.Sector{pub}})}},
			`NOT ` + full + ` AND 'PUBLIC' = ANY(s)`},
		{store.Filter{Or: []store.Filter{mix(kb.MixFilter{Full: &yes}), mix(kb.MixFilter{Missing: []kb.Sector{soc, pri}})}},
			`(` + full + ` OR NOT (s && '{SOCIAL,PRIVATE}'))`},
		{store.Filter{SectorMix: kb.MixFilter{Includes: []kb.Sector{soc}},
			Or:  []store.Filter{mix(kb.MixFilter{Includes: []kb.Sector{pub}}), {Not: &store.Filter{SectorMix: kb.MixFilter{Missing: []kb.Sector{pri}}}}},
			Not: &store.Filter{SectorMix: kb.MixFilter{Full: &yes}}},
			`'SOCIAL' = ANY(s) AND ('PUBLIC' = ANY(s) OR 'PRIVATE' = ANY(s)) AND NOT ` + full},
		{store.Filter{SectorMix: kb.MixFilter{Includes: []kb.Sector{pub}}, Or: []store.Filter{}}, `false`},
		{store.Filter{SectorMix: kb.MixFilter{Includes: []kb.Sector{pub}}, Not: &store.Filter{Or: []store.Filter{}}}, `'PUBLIC' = ANY(s)`},
	}
}

// querier is what the brute-force count reads through: the pool, or a
// transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// bruteMixCount counts the entities of kind that vis sees and whose kept
// set of sectors (none without a row) meets cond, one entity at a time.
func bruteMixCount(t *testing.T, q querier, kind kb.Kind, vis store.Visibility, cond string) int {
	t.Helper()
	table, col := "partnership_mix", "published"
	if kind == kb.KindCooperative {
		table = "cooperative_mix"
	}
	statuses := []string{"PUBLISHED"}
	if vis.Drafts {
		col = "every"
		statuses = append(statuses, "DRAFT", "ARCHIVED")
	}
	var n int
	if err := q.QueryRow(context.Background(), `SELECT count(*) FROM entity e
		CROSS JOIN LATERAL (SELECT coalesce((SELECT m.`+col+` FROM `+table+` m WHERE m.id = e.id), '{}') AS s) x
		WHERE e.kind = $1 AND e.status = ANY($2) AND `+cond, string(kind), statuses).Scan(&n); err != nil {
		t.Fatalf("brute-force count %s %s: %v", kind, cond, err)
	}
	return n
}

// checkMixCounts compares, for partnerships and cooperatives, readers and
// staff, the count of each filter of mixes (summed from the counters) with
// the brute-force count and with the count of the same filter walked row
// by row; and the counters with a recount of the kept sets and their
// entities' statuses.
func checkMixCounts(t *testing.T, st *store.Store, pool *pgxpool.Pool, after string) {
	t.Helper()
	ctx := context.Background()
	for _, kind := range []kb.Kind{kb.KindPartnership, kb.KindCooperative} {
		for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
			for _, c := range mixCountCases() {
				f := c.f
				f.Kind = kind
				if _, _, routed := store.MixCountSQL(vis, f); !routed {
					t.Fatalf("%+v is not summed from the counters", f)
				}
				want := bruteMixCount(t, pool, kind, vis, c.cond)
				checkCountOf(t, st, vis, f, want, after)
				if all, err := st.CountEntities(ctx, vis, f); err != nil || all != want {
					t.Fatalf("after %s: exact count of %s %s (drafts %v) = %d, %v; want %d", after, kind, c.cond, vis.Drafts, all, err, want)
				}
				rowwise := f
				rowwise.CreatedSince = &epoch // not of mixes alone: counted row by row
				if n, err := st.CountEntities(ctx, vis, rowwise); err != nil || n != want {
					t.Fatalf("after %s: row by row %s %s (drafts %v) = %d, %v; want %d", after, kind, c.cond, vis.Drafts, n, err, want)
				}
			}
		}
	}
	if diff := mixCountDiff(t, pool); diff != 0 {
		t.Fatalf("after %s: %d combinations of mix_count differ from a recount", after, diff)
	}
}

// mixCountDiff returns how many combinations of the counters (with their
// changes not yet folded) differ from a recount of the kept sets under
// their entities' statuses.
func mixCountDiff(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var diff int
	if err := pool.QueryRow(context.Background(), `
		WITH counted AS (
			SELECT kind, status, published, every, sum(n) AS n FROM (TABLE mix_count UNION ALL TABLE mix_count_delta) c
			GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0),
		recounted AS (
			SELECT e.kind, e.status, m.published, m.every, count(*) AS n FROM partnership_mix m JOIN entity e ON e.id = m.id GROUP BY 1, 2, 3, 4
			UNION ALL
			SELECT e.kind, e.status, m.published, m.every, count(*) FROM cooperative_mix m JOIN entity e ON e.id = m.id GROUP BY 1, 2, 3, 4)
		SELECT count(*) FROM ((TABLE counted EXCEPT TABLE recounted) UNION ALL (TABLE recounted EXCEPT TABLE counted)) x`).Scan(&diff); err != nil {
		t.Fatal(err)
	}
	return diff
}

// eraseStep makes a person, links it to a cooperative (a founder, of no
// sector) and erases it, which rewrites its links.
func (w *mixWorld) eraseStep() string {
	w.t.Helper()
	ctx := context.Background()
	coops := w.of(kb.KindCooperative)
	if len(coops) == 0 {
		return "erase (none)"
	}
	w.n++
	p, err := w.st.CreateEntity(ctx, "test", &kb.Entity{Kind: kb.KindPerson, Name: fmt.Sprintf("Osoba %03d", w.n), Person: &kb.Person{}})
	if err != nil {
		w.t.Fatalf("create person: %v", err)
	}
	if _, err := w.st.CreateLink(ctx, "test", &kb.Link{FromID: p.ID, ToID: pickOne(w.rng, coops), Type: kb.RelFounded, Note: "osobiście"}); err != nil {
		w.t.Fatalf("link person: %v", err)
	}
	if _, err := w.st.ErasePerson(ctx, "test", p.ID); err != nil {
		w.t.Fatalf("erase: %v", err)
	}
	return "erase"
}

// TestMixCountsFollowEveryWrite is a property test of migration 00053:
// after random creates and deletes of partnerships, cooperatives, partners
// and projects, links made and removed of every type that changes a mix
// (MEMBER_OF, FORMED_AROUND, FOUNDED, RUNS, SUPPORTS, FUNDS,
// EMPLOYS_PARTICIPANTS_OF, a project's path), publication changes, sector
// changes and erasures, the count of every filter of sector mixes alone,
// summed from the counters, is the brute-force count, for readers and
// staff, before the changes are folded and after.
func TestMixCountsFollowEveryWrite(t *testing.T) {
	st, pool := open(t)
	load(t, st, small())
	ctx := context.Background()
	w := newMixWorld(t, st, rand.New(rand.NewPCG(53, 53)))
	for range 3 {
		for _, k := range []kb.Kind{kb.KindPartner, kb.KindPartner, kb.KindPartner, kb.KindPartnership, kb.KindPartnership, kb.KindCooperative, kb.KindCooperative, kb.KindProject} {
			w.create(k)
		}
	}
	for range 20 {
		w.link(kb.KindPartner, kb.RelMemberOf, kb.KindPartnership)
	}
	for range 30 {
		w.linkAroundCooperative()
	}
	checkMixCounts(t, st, pool, "the start")
	for i := range 100 {
		var did string
		if w.rng.IntN(15) == 0 {
			did = w.eraseStep()
		} else if w.rng.IntN(3) == 0 {
			w.linkAroundCooperative()
			did = "link around a cooperative"
		} else {
			did = w.step()
		}
		if i%5 == 4 {
			checkMixCounts(t, st, pool, fmt.Sprintf("step %d (%s), not folded", i, did))
			if _, err := st.FoldCounts(ctx); err != nil {
				t.Fatal(err)
			}
			checkMixCounts(t, st, pool, fmt.Sprintf("step %d (%s), folded", i, did))
		}
	}
}

// TestMixCountsInAnOpenTransaction: inside a transaction that has written
// (a partnership and a cooperative created, members and founders linked
// and unlinked, statuses and a sector changed, entities deleted) and not
// committed, the counters' statement counts what the transaction sees,
// while other sessions count what was committed; after the commit, they
// count the writes.
func TestMixCountsInAnOpenTransaction(t *testing.T) {
	st, pool := open(t)
	load(t, st, small())
	ctx := context.Background()
	w := &mixWorld{t: t, st: st, rng: rand.New(rand.NewPCG(7, 53)), kinds: map[int64]kb.Kind{}}
	for range 4 {
		for _, k := range []kb.Kind{kb.KindPartner, kb.KindPartner, kb.KindPartner, kb.KindPartnership, kb.KindCooperative, kb.KindProject} {
			w.create(k)
		}
	}
	for range 16 {
		w.link(kb.KindPartner, kb.RelMemberOf, kb.KindPartnership)
		w.linkAroundCooperative()
	}
	if _, err := st.FoldCounts(ctx); err != nil {
		t.Fatal(err)
	}
	// What each filter counts for each kind and visibility, committed.
	type key struct {
		kind kb.Kind
		vis  store.Visibility
		i    int
	}
	committed := func() map[key]int {
		out := map[key]int{}
		for _, kind := range []kb.Kind{kb.KindPartnership, kb.KindCooperative} {
			for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
				for i, c := range mixCountCases() {
					out[key{kind, vis, i}] = bruteMixCount(t, pool, kind, vis, c.cond)
				}
			}
		}
		return out
	}
	before := committed()
	check := func(tx pgx.Tx, after string) {
		t.Helper()
		for _, kind := range []kb.Kind{kb.KindPartnership, kb.KindCooperative} {
			for _, vis := range []store.Visibility{store.Public, {Drafts: true}} {
				for i, c := range mixCountCases() {
					f := c.f
					f.Kind = kind
					sql, args, _ := store.MixCountSQL(vis, f)
					var inside int
					if err := tx.QueryRow(ctx, sql, args...).Scan(&inside); err != nil {
						t.Fatal(err)
					}
					if want := bruteMixCount(t, tx, kind, vis, c.cond); inside != want {
						t.Fatalf("after %s, inside: %s %s (drafts %v) = %d, want %d", after, kind, c.cond, vis.Drafts, inside, want)
					}
					if n, err := st.CountEntities(ctx, vis, f); err != nil || n != before[key{kind, vis, i}] {
						t.Fatalf("after %s, outside: %s %s (drafts %v) = %d, %v; want the committed %d", after, kind, c.cond, vis.Drafts, n, err, before[key{kind, vis, i}])
					}
				}
			}
		}
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after the commit, a no-op
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	newEntity := func(kind kb.Kind, status, table, cols, vals string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO entity (kind, key, name, sort_name, summary, status, created_by, updated_by)
			VALUES ($1, $2, $2, $2, '', $3, 'test', 'test') RETURNING id`, string(kind), fmt.Sprintf("tx-%d", w.rng.Int()), status).Scan(&id); err != nil {
			t.Fatal(err)
		}
		exec(`INSERT INTO `+table+` (id`+cols+`) VALUES ($1`+vals+`)`, append([]any{id}, args...)...)
		return id
	}
	link := func(from int64, typ kb.RelationType, to int64) {
		t.Helper()
		exec(`INSERT INTO link (from_id, to_id, type, created_by, updated_by) VALUES ($1, $2, $3, 'test', 'test')`, from, to, string(typ))
	}
	partners := w.of(kb.KindPartner)
	ps := newEntity(kb.KindPartnership, "PUBLISHED", "partnership", "", "")
	coop := newEntity(kb.KindCooperative, "DRAFT", "cooperative", ", coop_status", ", $2", string(kb.CoopOperating))
	check(tx, "creating a partnership and a cooperative")
	for _, p := range partners[:6] {
		link(p, kb.RelMemberOf, ps)
	}
	check(tx, "members of the new partnership")
	link(ps, kb.RelFormedAround, coop)
	link(partners[6], kb.RelFounded, coop)
	check(tx, "the new cooperative's partnership and founder")
	exec(`UPDATE entity SET status = 'PUBLISHED' WHERE id = $1`, coop)
	exec(`UPDATE entity SET status = 'ARCHIVED' WHERE id = $1`, ps)
	check(tx, "the cooperative published, the partnership archived")
	exec(`UPDATE entity SET status = CASE status WHEN 'PUBLISHED' THEN 'DRAFT' ELSE 'PUBLISHED' END WHERE id = ANY($1)`, partners[:4])
	check(tx, "members unpublished and published")
	exec(`UPDATE partner SET sector = CASE sector WHEN 'PUBLIC' THEN 'PRIVATE' ELSE 'PUBLIC' END WHERE id = ANY($1)`, partners[2:5])
	check(tx, "members' sectors")
	exec(`DELETE FROM link WHERE type = 'MEMBER_OF' AND from_id = ANY($1)`, partners[1:3])
	check(tx, "members unlinked")
	exec(`DELETE FROM entity WHERE id = ANY($1)`, append(w.of(kb.KindPartnership)[:2], w.of(kb.KindCooperative)[:2]...))
	check(tx, "partnerships and cooperatives deleted")
	exec(`DELETE FROM entity WHERE id = $1`, partners[0])
	check(tx, "a partner deleted")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	before = committed()
	for _, fold := range []bool{false, true} {
		if fold {
			if _, err := st.FoldCounts(ctx); err != nil {
				t.Fatal(err)
			}
		}
		checkMixCounts(t, st, pool, fmt.Sprintf("the commit (folded %v)", fold))
	}
}

// TestBulkLoadLeavesMixCountsRebuilt: a bulk load (generate, import),
// whose triggers stand aside, leaves the counters of sector mixes what
// mix_count_rebuild makes of its sets, and the counts of every filter of
// mixes the brute-force ones; so does a second load appended to it.
func TestBulkLoadLeavesMixCountsRebuilt(t *testing.T) {
	st, pool := open(t)
	ctx := context.Background()
	snapshot := func() string {
		t.Helper()
		var s string
		if err := pool.QueryRow(ctx, `SELECT coalesce(string_agg(format('%s %s %s %s %s', kind, status, published, every, n), E'\n' ORDER BY 1), '')
			FROM (SELECT kind, status, published, every, sum(n) AS n FROM (TABLE mix_count UNION ALL TABLE mix_count_delta) c
			GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0) x`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for seed, size := range map[uint64][2]int{1: {3000, 12000}, 2: {1000, 4000}} {
		g, err := synth.New(seed, size[0], size[1])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.BulkLoad(ctx, "generate", g, nil); err != nil {
			t.Fatal(err)
		}
		loaded := snapshot()
		if _, err := pool.Exec(ctx, `SELECT mix_count_rebuild()`); err != nil {
			t.Fatal(err)
		}
		if rebuilt := snapshot(); loaded != rebuilt || !strings.Contains(loaded, "PARTNERSHIP") || !strings.Contains(loaded, "COOPERATIVE") {
			t.Fatalf("after loading seed %d the counters are\n%s\nrebuilt\n%s", seed, loaded, rebuilt)
		}
		checkMixCounts(t, st, pool, fmt.Sprintf("the load of seed %d", seed))
	}
}

// sqlLog records the statements a pool sends.
type sqlLog struct {
	mu  sync.Mutex
	sql []string
}

func (l *sqlLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	l.sql = append(l.sql, d.SQL)
	l.mu.Unlock()
	return ctx
}

func (l *sqlLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *sqlLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.sql
	l.sql = nil
	return out
}

// TestMixCountIsSummedFromCounters: the count of a filter of sector mixes
// alone, composed or not, is one statement on the counters of migration
// 00053, whatever its bound, and reads no entity's set; a filter of mixes
// and anything else still counts the entities.
func TestMixCountIsSummedFromCounters(t *testing.T) {
	ctx := context.Background()
	log := &sqlLog{}
	st, _ := open(t, func(pc *pgxpool.Config) { pc.ConnConfig.Tracer = log })
	load(t, st, small())
	yes := true
	full := kb.MixFilter{Full: &yes}
	for _, kind := range []kb.Kind{kb.KindPartnership, kb.KindCooperative} {
		for _, f := range []store.Filter{
			{Kind: kind, SectorMix: full},
			{Kind: kind, Not: &store.Filter{SectorMix: full}},
			{Kind: kind, Or: []store.Filter{{SectorMix: full}, {SectorMix: kb.MixFilter{Missing: []kb.Sector{kb.SectorPublic}}}}},
		} {
			for _, bound := range []int{0, 1, 1000} {
				log.take()
				if _, err := st.CountEntitiesUpTo(ctx, store.Public, f, bound); err != nil {
					t.Fatal(err)
				}
				sent := log.take()
				if len(sent) != 1 || !strings.Contains(sent[0], "mix_count") ||
					strings.Contains(sent[0], "partnership_mix") || strings.Contains(sent[0], "cooperative_mix") {
					t.Errorf("count of %+v up to %d sent %q; want one statement on mix_count", f, bound, sent)
				}
			}
		}
		f := store.Filter{Kind: kind, Name: "mix", SectorMix: full}
		log.take()
		if _, err := st.CountEntitiesUpTo(ctx, store.Public, f, 1000); err != nil {
			t.Fatal(err)
		}
		if sent := strings.Join(log.take(), "\n"); strings.Contains(sent, "mix_count") {
			t.Errorf("count of %+v, not of mixes alone, was summed from the counters: %q", f, sent)
		}
	}
	if _, _, routed := store.MixCountSQL(store.Public, store.Filter{SectorMix: full}); routed {
		t.Errorf("a filter of mixes of every kind is summed from the counters of two")
	}
}
