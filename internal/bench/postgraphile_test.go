package bench_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/bench"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/relay"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
)

// TestPostGraphileEquivalence runs PostGraphile v4 (scripts/postgraphile),
// PostGraphile v5 (scripts/postgraphile5) and partnergraph over one copy of
// the reference data, asks each peer each operation of its queries
// (bench.Peers) for several arguments, and checks that the data of the
// answers, normalised into the same shape, is the same as partnergraph's.
// A peer runs where its tools are: v4 needs node and npm, v5 only npm (it
// brings its own Node 22); the test is skipped where neither can run.
func TestPostGraphileEquivalence(t *testing.T) {
	var peers []peer
	for _, p := range []struct {
		name, script string
		tools        []string
	}{{"v4", "postgraphile", []string{"node", "npm"}}, {"v5", "postgraphile5", []string{"npm"}}} {
		missing := ""
		for _, tool := range p.tools {
			if _, err := exec.LookPath(tool); err != nil {
				missing = tool
			}
		}
		if missing != "" {
			t.Logf("%s is not on PATH: PostGraphile %s cannot run", missing, p.name)
			continue
		}
		peers = append(peers, peer{name: p.name, script: p.script})
	}
	if len(peers) == 0 {
		t.Skip("neither PostGraphile v4 nor v5 can run here")
	}
	ctx := t.Context()
	db := pgtest.NewDB(t, storetest.Reference.Name)
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// Both start (and, the first time, install) at once.
	done := make(chan struct{}, len(peers))
	for i := range peers {
		go func() {
			defer func() { done <- struct{}{} }()
			peers[i].url, peers[i].err = startPostGraphile(t, peers[i].script, db)
		}()
	}
	for range peers {
		<-done
	}
	for _, p := range peers {
		if p.err != nil {
			t.Fatalf("PostGraphile %s: %v", p.name, p.err)
		}
	}

	// The arguments: every cooperative and some entities of other kinds
	// (whatever their status), every sector, and the page.
	var all, coops []bench.Ref
	rows, err := pool.Query(ctx, `SELECT kind, id FROM entity ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r bench.Ref
		if err := rows.Scan(&r.Kind, &r.ID); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
		if r.Kind == kb.KindCooperative {
			coops = append(coops, r)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	args := map[string][]bench.Args{"page": {{}}}
	for _, s := range kb.Sectors {
		args["partners"] = append(args["partners"], bench.Args{Sector: s})
	}
	for _, c := range coops {
		args["cooperative"] = append(args["cooperative"], bench.Args{A: c})
	}
	for i := 0; i < len(all); i += 5 {
		args["cooperative"] = append(args["cooperative"], bench.Args{A: all[i]})
	}

	t.Run("reference", func(t *testing.T) { compare(t, pool, peers, args, nil) })

	// No partnership of the reference data is formed around its
	// cooperative: form each one around each cooperative, so that the
	// members (in link order) and their sector mix are compared too.
	tag, err := pool.Exec(ctx, `INSERT INTO link (from_id, to_id, type, created_by, updated_by)
		SELECT p.id, c.id, 'FORMED_AROUND', 'test', 'test' FROM entity p, entity c
		WHERE p.kind = 'PARTNERSHIP' AND c.kind = 'COOPERATIVE' ON CONFLICT DO NOTHING`)
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() == 0 {
		t.Fatal("formed no partnership around a cooperative")
	}
	// The partners behind a practice of the reference data are 4 at most:
	// let every partner support the cases of the practice with the most
	// cases, so that its partners are more than a page of them.
	tag, err = pool.Exec(ctx, `INSERT INTO link (from_id, to_id, type, created_by, updated_by)
		SELECT p.id, l.from_id, 'SUPPORTS', 'test', 'test' FROM entity p, link l
		WHERE p.kind = 'PARTNER' AND l.type = 'DEMONSTRATES' AND p.id <> l.from_id AND l.to_id = (
			SELECT to_id FROM link WHERE type = 'DEMONSTRATES' GROUP BY to_id ORDER BY count(*) DESC, to_id LIMIT 1)
		ON CONFLICT DO NOTHING`)
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() < 10 {
		t.Fatalf("made %d partners supporters of cases; want at least 10", tag.RowsAffected())
	}
	t.Run("formed around", func(t *testing.T) { compare(t, pool, peers, args, nil) })

	// The reference data publishes everything: hide a practice, a case of
	// a practice, a member of a partnership and a founder, none of them a
	// cooperative, so that the visibility rules are compared too.
	tag, err = pool.Exec(ctx, `UPDATE entity SET status = 'DRAFT' WHERE kind <> 'COOPERATIVE' AND id IN (
		(SELECT id FROM entity WHERE kind = 'GOOD_PRACTICE' ORDER BY sort_name, id LIMIT 1),
		(SELECT from_id FROM link WHERE type = 'DEMONSTRATES' ORDER BY id DESC LIMIT 1),
		(SELECT from_id FROM link WHERE type = 'MEMBER_OF' ORDER BY id LIMIT 1),
		(SELECT from_id FROM link WHERE type = 'FOUNDED' ORDER BY id LIMIT 1))`)
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() < 3 {
		t.Fatalf("hid %d entities; want at least 3", tag.RowsAffected())
	}
	// PostGraphile cannot filter a nested connection by the status of the
	// entity at the other end of a link: the totalCount of a practice's
	// cases counts hidden ones, and its first 3 may hold one. The front
	// page with nested pages is compared without the practices that have
	// a hidden case; the others, and the count of practices, must match.
	rows, err = pool.Query(ctx, `SELECT DISTINCT l.to_id FROM link l JOIN entity c ON c.id = l.from_id
		WHERE l.type = 'DEMONSTRATES' AND c.status <> 'PUBLISHED'`)
	if err != nil {
		t.Fatal(err)
	}
	withHiddenCase := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		withHiddenCase[id] = true
	}
	if err := rows.Err(); err != nil || len(withHiddenCase) == 0 {
		t.Fatalf("practices with a hidden case: %v, %v", withHiddenCase, err)
	}
	t.Run("hidden", func(t *testing.T) { compare(t, pool, peers, args, withHiddenCase) })
}

// isEmpty reports whether the normalised answer v holds nothing.
func isEmpty(v any) bool {
	if np, ok := v.(nestedPage); ok {
		return len(np.Practices) == 0
	}
	r := reflect.ValueOf(v)
	return r.IsNil() || r.Kind() == reflect.Slice && r.Len() == 0
}

// without returns p without the practices in skip.
func (p nestedPage) without(skip map[int64]bool) nestedPage {
	out := nestedPage{Total: p.Total, Practices: []nestedPractice{}}
	for _, x := range p.Practices {
		if !skip[x.ID] {
			out.Practices = append(out.Practices, x)
		}
	}
	return out
}

// peer is a PostGraphile under test: its name in bench.Peers, the script
// that runs it, and, once started, its endpoint or why it did not start.
type peer struct {
	name, script string
	url          string
	err          error
}

// compare asks partnergraph, served afresh over pool (so that nothing is
// cached from before), and each of peers every operation of its queries
// with each of its args, and fails t where the normalised data of a peer's
// answer differs from partnergraph's.
// The practices in skip are left out of the front page with nested pages
// on both sides.
func compare(t *testing.T, pool *pgxpool.Pool, peers []peer, args map[string][]bench.Args, skip map[int64]bool) {
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) { compareOne(t, pool, p, args, skip) })
	}
}

func compareOne(t *testing.T, pool *pgxpool.Pool, p peer, args map[string][]bench.Args, skip map[int64]bool) {
	ctx := t.Context()
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, store.New(pool)).Handler())
	defer srv.Close()
	client := &http.Client{Timeout: 20 * time.Second}
	// An operation whose every answer is empty proves nothing.
	empty := map[string]int{}
	defer func() {
		for name, n := range empty {
			if n == len(args[name]) {
				t.Errorf("%s: all %d of partnergraph's answers are empty", name, n)
			}
		}
	}()
	for name, pq := range bench.Peers[p.name].Queries {
		op, err := bench.OpNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		norm := normalisers[name]
		if norm.server == nil {
			t.Fatalf("no normalisation of %s", name)
		}
		if len(args[name]) == 0 {
			t.Fatalf("no arguments for %s", name)
		}
		for _, a := range args[name] {
			var fromServer, fromPeer json.RawMessage
			if err := bench.Post(ctx, client, srv.URL+"/graphql", "", op.Query, op.Vars(a), &fromServer); err != nil {
				t.Fatalf("%s %+v: partnergraph: %v", name, a, err)
			}
			if err := bench.Post(ctx, client, p.url, "", pq.Query, pq.Vars(a), &fromPeer); err != nil {
				t.Fatalf("%s %+v: PostGraphile %s: %v", name, a, p.name, err)
			}
			want, err := norm.server(fromServer)
			if err != nil {
				t.Fatalf("%s %+v: partnergraph's answer: %v", name, a, err)
			}
			got, err := norm.peer(fromPeer)
			if err != nil {
				t.Fatalf("%s %+v: PostGraphile %s's answer: %v", name, a, p.name, err)
			}
			if np, ok := want.(nestedPage); ok {
				want = np.without(skip)
				got = got.(nestedPage).without(skip)
			}
			if !reflect.DeepEqual(got, want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("%s %+v: PostGraphile %s's data differs from partnergraph's\nPostGraphile: %s\npartnergraph: %s", name, a, p.name, g, w)
			}
			if isEmpty(want) {
				empty[name]++
			}
		}
	}
}

// startPostGraphile runs scripts/<script> on the database at db with one
// worker and returns its GraphQL endpoint once it answers, or why it did
// not start. It is called from several goroutines at once, so it reports
// rather than failing t; t's cleanup stops it.
func startPostGraphile(t *testing.T, script, db string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	path, err := filepath.Abs("../../scripts/" + script)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(path, "--port", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db, "PARTNERGRAPH_PEER_WORKERS=1")
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	// Its own process group, so that the cluster's workers end with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d/graphql", port)
	// The first run installs PostGraphile (and for v5 Node) with npm, about
	// a minute on a busy 2-core machine; later ones start in a few seconds.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		err := bench.Post(ctx, http.DefaultClient, url, "", `{ __typename }`, nil, nil)
		cancel()
		if err == nil {
			return url, nil
		}
		select {
		case <-exited:
			return "", fmt.Errorf("scripts/%s exited: %s", script, log.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no answer at %s: %w\n%s", url, err, log.String())
		}
	}
}

// syncBuffer is a buffer a process's output and a reader share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The normalised shapes: what a client of either server would show.
type (
	entity struct {
		ID   int64
		Kind string
		Name string
	}
	partner struct {
		ID                 int64
		Name, Sector, City string
	}
	// The front page with nested pages: counts, and the first few of
	// each list.
	nestedPage struct {
		Total     int
		Practices []nestedPractice
	}
	nestedPractice struct {
		ID           int64
		Name         string
		CaseCount    int
		Cases        []typedName // the first 3, in link order
		PartnerCount int
		Partners     []namedSector // the first 5, in order of name
	}
	typedName   struct{ Type, Name string }
	namedSector struct{ Name, Sector string }
	coop        struct {
		ID                 int64
		Name, Status, City string
	}
	sectorPartner struct {
		ID                              int64
		Name, Sector, PartnerKind, City string
		Cooperatives                    []coop // in link order, outgoing first
	}
	member struct {
		Role, Sector string
		Member       entity
	}
	partnership struct {
		ID      int64
		Name    string
		Members []member // in link order
		Counts  map[string]int
		IsFull  bool
	}
	indicator struct {
		Name  string
		Value float64
		Unit  string
		AsOf  string
	}
	cooperative struct {
		ID                          int64
		Name, Summary, Status, City string
		FoundedOn                   string
		Activities                  []string
		Founders                    []entity
		Workshops                   []partner
		Partnerships                []partnership
		Indicators                  []indicator // by date, undated first
	}
)

type normaliser struct {
	server, peer func(json.RawMessage) (any, error)
}

var normalisers = map[string]normaliser{
	"page":        {server: serverNestedPage, peer: peerNestedPage},
	"partners":    {server: serverPartners, peer: peerPartners},
	"cooperative": {server: serverCooperative, peer: peerCooperative},
}

// --- partnergraph's answers ---

type pgEntity struct {
	ID     string  `json:"id"`
	Kind   string  `json:"kind"`
	Name   string  `json:"name"`
	Sector *string `json:"sector"`
	City   *string `json:"city"`
	Status *string `json:"status"`
}

func rowID(global string) int64 {
	_, id, err := relay.ParseEntityID(global)
	if err != nil {
		return -1
	}
	return id
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func serverPartners(raw json.RawMessage) (any, error) {
	var d struct {
		Partners struct {
			Nodes []struct {
				pgEntity
				PartnerKind  string         `json:"partnerKind"`
				Cooperatives conn[pgEntity] `json:"cooperatives"`
			} `json:"nodes"`
		} `json:"partners"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	out := []sectorPartner{}
	for _, n := range d.Partners.Nodes {
		p := sectorPartner{ID: rowID(n.ID), Name: n.Name, Sector: str(n.Sector), PartnerKind: n.PartnerKind, City: str(n.City), Cooperatives: []coop{}}
		for _, c := range n.Cooperatives {
			p.Cooperatives = append(p.Cooperatives, coop{rowID(c.ID), c.Name, str(c.Status), str(c.City)})
		}
		out = append(out, p)
	}
	return out, nil
}

func serverCooperative(raw json.RawMessage) (any, error) {
	var d struct {
		Node *struct {
			pgEntity
			Summary      string         `json:"summary"`
			Activities   []string       `json:"activities"`
			FoundedOn    *string        `json:"foundedOn"`
			Founders     conn[pgEntity] `json:"founders"`
			Workshops    conn[pgEntity] `json:"workshops"`
			Partnerships conn[struct {
				pgEntity
				Members conn[struct {
					Role   *string  `json:"role"`
					Sector *string  `json:"sector"`
					Member pgEntity `json:"member"`
				}] `json:"members"`
				SectorMix struct {
					Counts []struct {
						Sector string `json:"sector"`
						Count  int    `json:"count"`
					} `json:"counts"`
					IsFull bool `json:"isFull"`
				} `json:"sectorMix"`
			}] `json:"partnerships"`
			Indicators []struct {
				Name  string  `json:"name"`
				Value float64 `json:"value"`
				Unit  *string `json:"unit"`
				AsOf  *string `json:"asOf"`
			} `json:"indicators"`
		} `json:"node"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	n := d.Node
	if n == nil || n.ID == "" { // hidden, missing, or not a cooperative
		return (*cooperative)(nil), nil
	}
	c := &cooperative{ID: rowID(n.ID), Name: n.Name, Summary: n.Summary, Status: str(n.Status), City: str(n.City),
		FoundedOn: str(n.FoundedOn), Activities: n.Activities, Founders: []entity{}, Workshops: []partner{},
		Partnerships: []partnership{}, Indicators: []indicator{}}
	for _, f := range n.Founders {
		c.Founders = append(c.Founders, entity{rowID(f.ID), f.Kind, f.Name})
	}
	for _, w := range n.Workshops {
		c.Workshops = append(c.Workshops, partner{ID: rowID(w.ID), Name: w.Name, City: str(w.City)})
	}
	for _, p := range n.Partnerships {
		ps := partnership{ID: rowID(p.ID), Name: p.Name, Members: []member{}, Counts: map[string]int{}, IsFull: p.SectorMix.IsFull}
		for _, m := range p.Members {
			ps.Members = append(ps.Members, member{str(m.Role), str(m.Sector), entity{rowID(m.Member.ID), m.Member.Kind, m.Member.Name}})
		}
		for _, k := range p.SectorMix.Counts {
			ps.Counts[k.Sector] = k.Count
		}
		c.Partnerships = append(c.Partnerships, ps)
	}
	for _, in := range n.Indicators {
		c.Indicators = append(c.Indicators, indicator{in.Name, in.Value, str(in.Unit), str(in.AsOf)})
	}
	return c, nil
}

func serverNestedPage(raw json.RawMessage) (any, error) {
	var d struct {
		GoodPractices struct {
			TotalCount int `json:"totalCount"`
			Nodes      []struct {
				ID    string `json:"id"`
				Name  string `json:"name"`
				Cases struct {
					TotalCount int `json:"totalCount"`
					Nodes      []struct {
						Typename string `json:"__typename"`
						Name     string `json:"name"`
					} `json:"nodes"`
				} `json:"cases"`
				Partners struct {
					TotalCount int `json:"totalCount"`
					Nodes      []struct {
						Name   string `json:"name"`
						Sector string `json:"sector"`
					} `json:"nodes"`
				} `json:"partners"`
			} `json:"nodes"`
		} `json:"goodPractices"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	out := nestedPage{Total: d.GoodPractices.TotalCount, Practices: []nestedPractice{}}
	for _, n := range d.GoodPractices.Nodes {
		p := nestedPractice{ID: rowID(n.ID), Name: n.Name, CaseCount: n.Cases.TotalCount, Cases: []typedName{},
			PartnerCount: n.Partners.TotalCount, Partners: []namedSector{}}
		for _, c := range n.Cases.Nodes {
			p.Cases = append(p.Cases, typedName{c.Typename, c.Name})
		}
		for _, x := range n.Partners.Nodes {
			p.Partners = append(p.Partners, namedSector{x.Name, x.Sector})
		}
		out.Practices = append(out.Practices, p)
	}
	return out, nil
}

// conn reads a connection of partnergraph's answer as the slice of its
// nodes.
type conn[T any] []T

func (c *conn[T]) UnmarshalJSON(b []byte) error {
	var v struct {
		Nodes []T `json:"nodes"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = v.Nodes
	return nil
}

// --- PostGraphile's answers ---

// pgNode is an entity as the PostGraphile queries ask for it, with the
// attributes of its kind and, under aliases, its links.
type pgNode struct {
	ID              string  `json:"id"`
	Kind            string  `json:"kind"`
	Name            string  `json:"name"`
	SortName        string  `json:"sortName"`
	Status          string  `json:"status"`
	PartnerByID     *pgAttr `json:"partnerById"`
	CooperativeByID *pgAttr `json:"cooperativeById"`
	// Links holds every aliased connection of links, by alias.
	Links map[string]pgLinks `json:"-"`
}

type pgAttr struct {
	Sector     string   `json:"sector"`
	City       string   `json:"city"`
	CoopStatus string   `json:"coopStatus"`
	Activities []string `json:"activities"`
	FoundedOn  *string  `json:"foundedOn"`
}

type pgLinks struct {
	Nodes []pgLink `json:"nodes"`
}

type pgLink struct {
	ID    string  `json:"id"`
	Type  string  `json:"type"` // asked for where a connection holds several types
	Role  string  `json:"role"`
	Other *pgNode `json:"other"`
}

func (n *pgNode) UnmarshalJSON(b []byte) error {
	type plain pgNode
	if err := json.Unmarshal(b, (*plain)(n)); err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	n.Links = map[string]pgLinks{}
	for k, v := range fields {
		if strings.HasPrefix(k, "in_") || strings.HasPrefix(k, "out_") || slices.Contains([]string{"cases", "behind", "founders", "workshops", "partnerships", "members"}, k) {
			var l pgLinks
			if err := json.Unmarshal(v, &l); err != nil {
				return err
			}
			n.Links[k] = l
		}
	}
	return nil
}

func id64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func published(n *pgNode) bool { return n != nil && n.Status == string(kb.StatusPublished) }

// others returns the visible other ends of the links under the aliases
// with the given prefix (or of the one alias), of kind (any if ""), of one
// of types if the links carry their type, distinct, in link order.
func others(n *pgNode, alias, kind string, types ...kb.RelationType) []*pgNode {
	type hop struct {
		link  int64
		other *pgNode
	}
	var hops []hop
	for k, ls := range n.Links {
		if k != alias && !(strings.HasSuffix(alias, "_") && strings.HasPrefix(k, alias)) {
			continue
		}
		for _, l := range ls.Nodes {
			if l.Type != "" && !slices.Contains(types, kb.RelationType(l.Type)) {
				continue
			}
			if published(l.Other) && (kind == "" || l.Other.Kind == kind) {
				hops = append(hops, hop{id64(l.ID), l.Other})
			}
		}
	}
	slices.SortFunc(hops, func(a, b hop) int { return cmp.Compare(a.link, b.link) })
	var out []*pgNode
	for _, h := range hops {
		if !slices.ContainsFunc(out, func(o *pgNode) bool { return o.ID == h.other.ID }) {
			out = append(out, h.other)
		}
	}
	return out
}

func attr(n *pgNode) pgAttr {
	for _, a := range []*pgAttr{n.PartnerByID, n.CooperativeByID} {
		if a != nil {
			return *a
		}
	}
	return pgAttr{}
}

// withNode decodes raw into a pgNode and into extra, which holds the fields
// of the node that pgNode does not (pgNode's UnmarshalJSON would shadow
// them if extra embedded it).
func withNode(raw json.RawMessage, extra any) (*pgNode, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var n pgNode
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, err
	}
	return &n, json.Unmarshal(raw, extra)
}

// partnersBehind returns the visible partners behind the cases of practice
// n, the ends of its links under alias: the cases that are partners and
// the partners linked to a case by one of bench.PracticePartnersIn or
// PracticePartnersOut; distinct, in order of name.
func partnersBehind(n *pgNode, alias string) []partner {
	var behind []*pgNode
	for _, c := range others(n, alias, "") {
		behind = append(behind, c)
		behind = append(behind, others(c, "in_", "", bench.PracticePartnersIn...)...)
		behind = append(behind, others(c, "out_", "", bench.PracticePartnersOut...)...)
	}
	slices.SortFunc(behind, func(a, b *pgNode) int {
		return cmp.Or(cmp.Compare(a.SortName, b.SortName), cmp.Compare(id64(a.ID), id64(b.ID)))
	})
	var out []partner
	for _, b := range behind {
		x := partner{id64(b.ID), b.Name, attr(b).Sector, attr(b).City}
		if b.Kind == string(kb.KindPartner) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func peerNestedPage(raw json.RawMessage) (any, error) {
	var d struct {
		Practices struct {
			TotalCount int               `json:"totalCount"`
			Nodes      []json.RawMessage `json:"nodes"`
		} `json:"practices"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	out := nestedPage{Total: d.Practices.TotalCount, Practices: []nestedPractice{}}
	for _, raw := range d.Practices.Nodes {
		var x struct {
			Cases struct {
				TotalCount int `json:"totalCount"`
			} `json:"cases"`
		}
		n, err := withNode(raw, &x)
		if err != nil {
			return nil, err
		}
		p := nestedPractice{ID: id64(n.ID), Name: n.Name, CaseCount: x.Cases.TotalCount, Cases: []typedName{}, Partners: []namedSector{}}
		for _, c := range others(n, "cases", "") {
			p.Cases = append(p.Cases, typedName{kb.Kind(c.Kind).TypeName(), c.Name})
		}
		partners := partnersBehind(n, "behind")
		p.PartnerCount = len(partners)
		for _, x := range partners[:min(5, len(partners))] {
			p.Partners = append(p.Partners, namedSector{x.Name, x.Sector})
		}
		out.Practices = append(out.Practices, p)
	}
	return out, nil
}

func peerPartners(raw json.RawMessage) (any, error) {
	var d struct {
		AllEntityFulls struct {
			Nodes []struct {
				ID          string  `json:"id"`
				Name        string  `json:"name"`
				Sector      string  `json:"sector"`
				PartnerKind string  `json:"partnerKind"`
				City        string  `json:"city"`
				EntityByID  *pgNode `json:"entityById"`
			} `json:"nodes"`
		} `json:"allEntityFulls"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	out := []sectorPartner{}
	for _, n := range d.AllEntityFulls.Nodes {
		p := sectorPartner{ID: id64(n.ID), Name: n.Name, Sector: n.Sector, PartnerKind: n.PartnerKind, City: n.City, Cooperatives: []coop{}}
		cs := others(n.EntityByID, "out_", string(kb.KindCooperative))
		for _, c := range others(n.EntityByID, "in_", string(kb.KindCooperative)) {
			if !slices.Contains(cs, c) && !slices.ContainsFunc(cs, func(o *pgNode) bool { return o.ID == c.ID }) {
				cs = append(cs, c)
			}
		}
		for _, c := range cs {
			p.Cooperatives = append(p.Cooperatives, coop{id64(c.ID), c.Name, attr(c).CoopStatus, attr(c).City})
		}
		out = append(out, p)
	}
	return out, nil
}

func peerCooperative(raw json.RawMessage) (any, error) {
	var d struct {
		EntityByID json.RawMessage `json:"entityById"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	var x struct {
		Summary    string `json:"summary"`
		Indicators struct {
			Nodes []struct {
				Name  string  `json:"name"`
				Value string  `json:"value"` // numeric, as a BigFloat string
				Unit  string  `json:"unit"`
				AsOf  *string `json:"asOf"`
			} `json:"nodes"`
		} `json:"indicatorsByCooperativeId"`
	}
	n, err := withNode(d.EntityByID, &x)
	if err != nil {
		return nil, err
	}
	if n == nil || !published(n) || n.Kind != string(kb.KindCooperative) {
		return (*cooperative)(nil), nil
	}
	a := attr(n)
	c := &cooperative{ID: id64(n.ID), Name: n.Name, Summary: x.Summary, Status: a.CoopStatus, City: a.City,
		FoundedOn: str(a.FoundedOn), Activities: a.Activities, Founders: []entity{}, Workshops: []partner{},
		Partnerships: []partnership{}, Indicators: []indicator{}}
	for _, f := range others(n, "founders", "") {
		c.Founders = append(c.Founders, entity{id64(f.ID), f.Kind, f.Name})
	}
	for _, w := range others(n, "workshops", string(kb.KindPartner)) {
		c.Workshops = append(c.Workshops, partner{ID: id64(w.ID), Name: w.Name, City: attr(w).City})
	}
	for _, p := range others(n, "partnerships", string(kb.KindPartnership)) {
		ps := partnership{ID: id64(p.ID), Name: p.Name, Members: []member{}, Counts: map[string]int{}}
		counted := map[string]bool{}
		for _, l := range p.Links["members"].Nodes {
			m := l.Other
			if !published(m) {
				continue
			}
			role := ""
			if kb.MemberRole(l.Role).Valid() {
				role = l.Role
			}
			sector := ""
			if m.PartnerByID != nil {
				sector = m.PartnerByID.Sector
				if !counted[m.ID] {
					counted[m.ID] = true
					ps.Counts[sector]++
				}
			}
			ps.Members = append(ps.Members, member{role, sector, entity{id64(m.ID), m.Kind, m.Name}})
		}
		for _, s := range kb.Sectors {
			ps.Counts[string(s)] += 0
		}
		ps.IsFull = true
		for _, s := range kb.Sectors {
			ps.IsFull = ps.IsFull && ps.Counts[string(s)] > 0
		}
		c.Partnerships = append(c.Partnerships, ps)
	}
	for _, in := range x.Indicators.Nodes {
		v, err := strconv.ParseFloat(in.Value, 64)
		if err != nil {
			return nil, err
		}
		c.Indicators = append(c.Indicators, indicator{in.Name, v, in.Unit, str(in.AsOf)})
	}
	// PostgreSQL sorts undated values last; partnergraph first.
	slices.SortStableFunc(c.Indicators, func(a, b indicator) int {
		return cmp.Compare(dated(a), dated(b))
	})
	return c, nil
}

func dated(in indicator) int {
	if in.AsOf == "" {
		return 0
	}
	return 1
}
