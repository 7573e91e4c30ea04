// Package bench drives the representative mix of partnergraph (Mix) at a
// chosen concurrency against several targets in one run, and reports
// throughput and latency percentiles per operation and target:
//
//   - the server, over HTTP and GraphQL, as a client sees it;
//   - the ceiling: the same SQL the server issues, through the store and
//     pgx, with no HTTP or GraphQL in between;
//   - the peers: PostGraphile v4 and v5 over the same database, asked the
//     equivalent nested queries (postgraphile.go).
//
// Each operation runs on every target in turn before the next operation,
// so that the targets meet the same state of the database's caches.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// Target is what the clients of a run send their requests to.
type Target interface {
	// Name names the target in the report: "partnergraph", "ceiling", or a
	// peer's label ("PostGraphile v4", "PostGraphile v5").
	Name() string
	// Supports reports whether the target has an equivalent of op.
	Supports(op Op) bool
	// Do makes one request of op with the arguments a, as client c.
	Do(ctx context.Context, op Op, c *Client, a Args) error
}

// Server is partnergraph over HTTP.
type Server struct {
	URL   string // the GraphQL endpoint
	Token string // an editor token, for the staff operations
	HTTP  *http.Client
	// NoCache asks for fresh answers (Cache-Control: no-cache), so that
	// every request is executed rather than answered from the server's
	// response cache.
	NoCache bool
}

// Name implements Target.
func (s *Server) Name() string { return "partnergraph" }

// Supports implements Target: the staff operations need a token.
func (s *Server) Supports(op Op) bool { return !op.Staff || s.Token != "" }

// Do implements Target. For the link operation it alternates the link with
// the unlink of the link the client made before.
func (s *Server) Do(ctx context.Context, op Op, c *Client, a Args) error {
	if op.Staff && c.Linked != "" {
		id := c.Linked
		c.Linked = ""
		return post(ctx, s.HTTP, s.URL, s.Token, false, unlinkQuery, map[string]any{"id": id}, nil)
	}
	if op.Staff {
		var out struct {
			Link struct {
				ID string `json:"id"`
			} `json:"link"`
		}
		err := post(ctx, s.HTTP, s.URL, s.Token, false, op.Query, op.Vars(a), &out)
		c.Linked = out.Link.ID
		return err
	}
	return post(ctx, s.HTTP, s.URL, "", s.NoCache, op.Query, op.Vars(a), nil)
}

// Ceiling is the same SQL through pgx, without HTTP or GraphQL.
type Ceiling struct {
	Store *store.Store
}

// Name implements Target.
func (t *Ceiling) Name() string { return "ceiling" }

// Supports implements Target.
func (t *Ceiling) Supports(op Op) bool { return op.Ceiling != nil }

// Do implements Target.
func (t *Ceiling) Do(ctx context.Context, op Op, c *Client, a Args) error {
	return op.Ceiling(ctx, t.Store, c, a)
}

// Config is a benchmark run.
type Config struct {
	Targets  []Target
	Ops      []Op
	Clients  int           // concurrent clients
	Duration time.Duration // per operation and target
	Warmup   time.Duration // per operation and target, not measured
	Seed     uint64        // of the random choices
	Sample   *Sample
	// ServerPID, when not 0, is the process whose resident memory is
	// sampled while the server target runs.
	ServerPID int
	// Rate, when above 0, makes each run an open loop: requests arrive at
	// Rate a second in all, at random (Poisson) times drawn from Seed,
	// whatever the answers take, and each is served by the first of the
	// Clients that is free and timed from when it was due, so that a
	// request that waited for a client counts its wait (no coordinated
	// omission). A closed loop (0) keeps each client sending its next
	// request when its last is answered: past saturation its latency is
	// the queue the clients make themselves.
	Rate float64
}

// Result is what one operation measured on one target.
type Result struct {
	Op, Target         string
	Requests, Errors   int
	P50, P95, P99, Max time.Duration
	Throughput         float64 // requests per second
	FirstError         string
	PeakRSS            int64 // bytes; 0 when not sampled
}

// Run runs each operation of cfg on each target that supports it, at
// cfg.Clients concurrent clients for cfg.Duration after a warm-up. progress,
// if not nil, is called with each result as it is measured.
func Run(ctx context.Context, cfg Config, progress func(Result)) ([]Result, error) {
	if cfg.Clients < 1 || cfg.Duration <= 0 {
		return nil, errors.New("bench: clients and duration must be positive")
	}
	var out []Result
	for _, op := range cfg.Ops {
		for _, t := range cfg.Targets {
			if !t.Supports(op) {
				continue
			}
			if cfg.Warmup > 0 {
				run(ctx, cfg, t, op, cfg.Warmup, 0)
			}
			pid := 0
			if _, ok := t.(*Server); ok {
				pid = cfg.ServerPID
			}
			r := run(ctx, cfg, t, op, cfg.Duration, pid)
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			out = append(out, r)
			if progress != nil {
				progress(r)
			}
		}
	}
	return out, nil
}

func run(ctx context.Context, cfg Config, t Target, op Op, d time.Duration, pid int) Result {
	if cfg.Rate > 0 {
		return runOpen(ctx, cfg, t, op, d, pid)
	}
	// Requests in flight at the deadline run to their end: a write cut
	// halfway would leave the client not knowing what it made.
	deadline := time.Now().Add(d)
	res := Result{Op: op.Name, Target: t.Name()}
	stopRSS := sampleRSS(pid, &res.PeakRSS)
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for i := range cfg.Clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
			c := &Client{Index: i, Of: cfg.Clients, Actor: fmt.Sprintf("bench-%d", i)}
			var mine []time.Duration
			errs, first := 0, ""
			for ctx.Err() == nil && time.Now().Before(deadline) {
				a := op.Draw(r, cfg.Sample, c)
				begin := time.Now()
				err := t.Do(ctx, op, c, a)
				mine = append(mine, time.Since(begin))
				if err != nil {
					errs++
					if first == "" {
						first = err.Error()
					}
				}
			}
			// A link left behind by the end of the run is removed, unmeasured.
			if c.Linked != "" || c.LinkID != 0 {
				_ = t.Do(context.WithoutCancel(ctx), op, c, Args{})
			}
			mu.Lock()
			lat = append(lat, mine...)
			res.Errors += errs
			if res.FirstError == "" {
				res.FirstError = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopRSS()
	res.summarize(lat, elapsed)
	return res
}

// runOpen is run as an open loop at cfg.Rate requests a second (Config.Rate).
func runOpen(ctx context.Context, cfg Config, t Target, op Op, d time.Duration, pid int) Result {
	type client struct {
		c    *Client
		r    *rand.Rand
		lat  []time.Duration
		errs int
		err  string
	}
	res := Result{Op: op.Name, Target: t.Name()}
	stopRSS := sampleRSS(pid, &res.PeakRSS)
	all := make([]*client, cfg.Clients)
	free := make(chan *client, cfg.Clients)
	for i := range all {
		all[i] = &client{
			c: &Client{Index: i, Of: cfg.Clients, Actor: fmt.Sprintf("bench-%d", i)},
			r: rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
		}
		free <- all[i]
	}
	arrivals := rand.New(rand.NewPCG(cfg.Seed, math.MaxUint64))
	gap := func() time.Duration { return time.Duration(arrivals.ExpFloat64() / cfg.Rate * float64(time.Second)) }
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
loop:
	for due := start.Add(gap()); due.Before(deadline); due = due.Add(gap()) {
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				break loop
			case <-time.After(wait):
			}
		}
		var c *client
		select {
		case <-ctx.Done():
			break loop
		case c = <-free:
		}
		wg.Go(func() {
			defer func() { free <- c }()
			err := t.Do(ctx, op, c.c, op.Draw(c.r, cfg.Sample, c.c))
			c.lat = append(c.lat, time.Since(due))
			if err != nil {
				c.errs++
				if c.err == "" {
					c.err = err.Error()
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var lat []time.Duration
	for _, c := range all {
		// A link left behind by the end of the run is removed, unmeasured.
		if c.c.Linked != "" || c.c.LinkID != 0 {
			_ = t.Do(context.WithoutCancel(ctx), op, c.c, Args{})
		}
		lat = append(lat, c.lat...)
		res.Errors += c.errs
		if res.FirstError == "" {
			res.FirstError = c.err
		}
	}
	stopRSS()
	res.summarize(lat, elapsed)
	return res
}

// summarize sets r's count, percentiles and throughput from the latencies
// lat measured over elapsed (it sorts lat).
func (r *Result) summarize(lat []time.Duration, elapsed time.Duration) {
	slices.Sort(lat)
	r.Requests = len(lat)
	if n := len(lat); n > 0 {
		q := func(p float64) time.Duration { return lat[min(n-1, int(p*float64(n)))] }
		r.P50, r.P95, r.P99, r.Max = q(0.50), q(0.95), q(0.99), lat[n-1]
		r.Throughput = float64(n) / elapsed.Seconds()
	}
}

// sampleRSS samples the resident memory of process pid every 100 ms into
// *peak until the returned function is called; it does nothing for pid 0.
func sampleRSS(pid int, peak *int64) (stop func()) {
	if pid == 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss, err := RSS(pid); err == nil && rss > *peak {
				*peak = rss
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// RSS returns the resident memory of process pid in bytes (Linux).
func RSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kB, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kB * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// Post sends one GraphQL request, with token as a bearer token when not
// empty, and decodes its data into out (if not nil). A response with
// errors is an error.
func Post(ctx context.Context, client *http.Client, url, token, query string, vars map[string]any, out any) error {
	return post(ctx, client, url, token, false, query, vars, out)
}

type forwardedKey struct{}

// ForwardedFor returns ctx with a client address that the requests posted
// with it name in X-Forwarded-For: behind a server that trusts the load
// tool's address as a proxy (PARTNERGRAPH_TRUSTED_PROXIES), each address
// is a client of its own for the rate limits.
func ForwardedFor(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, forwardedKey{}, addr)
}

// PostExecuted is Post with Cache-Control: no-cache, so that the server
// executes the request instead of answering it from its response cache.
func PostExecuted(ctx context.Context, client *http.Client, url, token, query string, vars map[string]any, out any) error {
	return post(ctx, client, url, token, true, query, vars, out)
}

func post(ctx context.Context, client *http.Client, url, token string, noCache bool, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if noCache {
		req.Header.Set("Cache-Control", "no-cache")
	}
	if addr, ok := ctx.Value(forwardedKey{}).(string); ok {
		req.Header.Set("X-Forwarded-For", addr)
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	// A load generator shares the machine with what it measures: it does
	// not decode an answer it does not need that has no errors.
	if out == nil && res.StatusCode == http.StatusOK && !bytes.Contains(raw, []byte(`"errors"`)) {
		return nil
	}
	var r struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("HTTP %d: %.200s", res.StatusCode, raw)
	}
	if len(r.Errors) > 0 {
		return errors.New(r.Errors[0].Message)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %.200s", res.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

// NewHTTPClient returns a client that keeps a connection per benchmark
// client open.
func NewHTTPClient(clients int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}, Timeout: 60 * time.Second}
}

// LoadSample draws up to n published entities of every kind, and n
// cooperatives and n partners, at random from the database.
func LoadSample(ctx context.Context, pool *pgxpool.Pool, n int) (*Sample, error) {
	var s Sample
	for _, q := range []struct {
		kind string
		dst  *[]Ref
	}{{"", &s.All}, {string(kb.KindCooperative), &s.Cooperatives}, {string(kb.KindPartner), &s.Partners}} {
		rows, err := pool.Query(ctx, `SELECT kind, id FROM entity
			WHERE status = 'PUBLISHED' AND ($1 = '' OR kind = $1) ORDER BY random() LIMIT $2`, q.kind, n)
		if err != nil {
			return nil, fmt.Errorf("bench: sample: %w", err)
		}
		for rows.Next() {
			var r Ref
			if err := rows.Scan(&r.Kind, &r.ID); err != nil {
				rows.Close()
				return nil, fmt.Errorf("bench: sample: %w", err)
			}
			*q.dst = append(*q.dst, r)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("bench: sample: %w", err)
		}
		if len(*q.dst) == 0 {
			return nil, fmt.Errorf("bench: sample: the database has no published %s entities", strings.ToLower(q.kind))
		}
	}
	if err := s.loadPairs(ctx, pool); err != nil {
		return nil, fmt.Errorf("bench: sample: %w", err)
	}
	return &s, nil
}

// loadPairs pairs each sampled partner with up to 4 sampled entities it may
// support and is not yet linked to.
func (s *Sample) loadPairs(ctx context.Context, pool *pgxpool.Pool) error {
	var targets []Ref
	for _, r := range s.All {
		if r.Kind == kb.KindCooperative || r.Kind == kb.KindProject || r.Kind == kb.KindPartner {
			targets = append(targets, r)
		}
	}
	targets = append(targets, s.Cooperatives...)
	if len(targets) == 0 {
		return nil
	}
	from := make([]int64, len(s.Partners))
	for i, p := range s.Partners {
		from[i] = p.ID
	}
	linked := map[[2]int64]bool{}
	rows, err := pool.Query(ctx, `SELECT from_id, to_id FROM link WHERE type = 'SUPPORTS' AND from_id = ANY($1)`, from)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k [2]int64
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return err
		}
		linked[k] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range s.Partners {
		for _, j := range r.Perm(len(targets))[:min(4, len(targets))] {
			t := targets[j]
			k := [2]int64{p.ID, t.ID}
			if t.ID != p.ID && !linked[k] {
				linked[k] = true
				s.Pairs = append(s.Pairs, [2]Ref{p, t})
			}
		}
	}
	return nil
}

// SearchQueries are one- to three-word queries as people type them: no
// diacritics, inflected, a typo, a Swedish name, a phrase, and the common
// words that match a quarter of the generated graph (issue 12); they match
// names of the generated graph (internal/synth) and of the reference data.
var SearchQueries = []string{
	"spoldzielnia", "spółdzielni socjalnej", "fundacja", "warsztat terapii", "warsztatow gebice",
	"stowarzyszenie poznan", "gmina gniezno", "kooperativet gloden", "ateljé", "ekonomiska forening",
	"ceramika", "spoldzielnia socjalna razem", "pomocy spolecznej", "stowarzyszenie na rzecz", "fundacja ekonomii",
	"aktywizacja zawodowa", "partnerstwo", "swiebodzinie", "stowarzyszenei", "kooperativet",
	"spółdzielnia", "spoldzielnia socjalna", `"spółdzielnia socjalna"`, "spoldzelnia", "warsztat terapii zajęciowej",
}

// PeerQuery is an operation's equivalent in the peer: a GraphQL request
// that returns the same data.
type PeerQuery struct {
	Query string
	Vars  func(a Args) map[string]any
}

// Peer is another GraphQL server over the same database, asked the
// equivalent queries.
type Peer struct {
	Label   string // its name in the report
	URL     string
	HTTP    *http.Client
	Queries map[string]PeerQuery // by operation name
}

// Name implements Target.
func (p *Peer) Name() string { return p.Label }

// Supports implements Target.
func (p *Peer) Supports(op Op) bool { _, ok := p.Queries[op.Name]; return ok }

// Do implements Target.
func (p *Peer) Do(ctx context.Context, op Op, _ *Client, a Args) error {
	q := p.Queries[op.Name]
	return Post(ctx, p.HTTP, p.URL, "", q.Query, q.Vars(a), nil)
}

// Tick is the state of a soak at one moment.
type Tick struct {
	Elapsed          time.Duration
	Requests, Errors int64
	RSS              int64 // bytes; 0 when not sampled
}

// Soak runs the operations of cfg mixed, each client drawing the next
// request's operation at random, on target for d, calling tick every
// interval and at the end. It returns what each operation measured.
func Soak(ctx context.Context, cfg Config, t Target, d, interval time.Duration, tick func(Tick)) ([]Result, error) {
	var ops []Op
	for _, op := range cfg.Ops {
		if t.Supports(op) {
			ops = append(ops, op)
		}
	}
	if len(ops) == 0 || cfg.Clients < 1 || d <= 0 || interval <= 0 {
		return nil, errors.New("bench: a soak needs operations the target supports, clients, a duration and an interval")
	}
	deadline := time.Now().Add(d)
	start := time.Now()
	var requests, errs atomic.Int64
	lat := make([][]time.Duration, len(ops))
	results := make([]Result, len(ops))
	for i, op := range ops {
		results[i] = Result{Op: op.Name, Target: t.Name()}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
			c := &Client{Index: i, Of: cfg.Clients, Actor: fmt.Sprintf("bench-%d", i)}
			mine := make([][]time.Duration, len(ops))
			for ctx.Err() == nil && time.Now().Before(deadline) {
				k := r.IntN(len(ops))
				if c.Linked != "" || c.LinkID != 0 {
					k = slices.IndexFunc(ops, func(op Op) bool { return op.Staff }) // unlink first
				}
				begin := time.Now()
				err := t.Do(ctx, ops[k], c, ops[k].Draw(r, cfg.Sample, c))
				mine[k] = append(mine[k], time.Since(begin))
				requests.Add(1)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					results[k].Errors++
					if results[k].FirstError == "" {
						results[k].FirstError = err.Error()
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			for k := range mine {
				lat[k] = append(lat[k], mine[k]...)
			}
			mu.Unlock()
		})
	}
	done := make(chan struct{})
	var ticker sync.WaitGroup
	ticker.Go(func() {
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				tick(snapshot(start, &requests, &errs, cfg.ServerPID))
			}
		}
	})
	wg.Wait()
	close(done)
	ticker.Wait()
	tick(snapshot(start, &requests, &errs, cfg.ServerPID))
	elapsed := time.Since(start)
	for k := range ops {
		results[k].summarize(lat[k], elapsed)
	}
	return results, ctx.Err()
}

func snapshot(start time.Time, requests, errs *atomic.Int64, pid int) Tick {
	t := Tick{Elapsed: time.Since(start), Requests: requests.Load(), Errors: errs.Load()}
	if pid != 0 {
		t.RSS, _ = RSS(pid)
	}
	return t
}
