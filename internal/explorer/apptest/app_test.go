package apptest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	chromekb "github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/partnergraph/partnergraph/internal/auth"
	"github.com/partnergraph/partnergraph/internal/browsertest"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/store/storetest"
)

func TestMain(m *testing.M) {
	pgtest.Main(m, storetest.Migrated, storetest.Reference)
}

// artifacts is where the screenshots go; .gitignore lists it.
const artifacts = "artifacts"

// stack is the full HTTP stack on a fresh copy of the reference data.
type stack struct {
	t    *testing.T
	URL  string
	pool *pgxpool.Pool
}

func newStack(t *testing.T) *stack {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewDB(t, "reference"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, store.New(pool)).Handler())
	t.Cleanup(srv.Close)
	return &stack{t: t, URL: srv.URL, pool: pool}
}

// gql runs a query through the API, as the given token ("" for none), and
// decodes its data into out.
func (s *stack) gql(token, query string, vars map[string]any, out any) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Errors) > 0 {
		s.t.Fatalf("query failed: %s (%v)\n%s", raw, err, query)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		s.t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// idOf returns the global ID of the entity with key.
func (s *stack) idOf(key string) string {
	var d struct {
		E struct{ ID string } `json:"entityByKey"`
	}
	s.gql("", `query($k: String!) { entityByKey(key: $k) { id } }`, map[string]any{"k": key}, &d)
	return d.E.ID
}

// do runs chromedp actions or ends the test.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// click clicks the element sel names at the moment of the click, by script.
// The page re-renders a form when a suggestion is picked, so a node found
// first and clicked after (chromedp.Click) can be gone by then: "Could not
// find node with given id". Not for the suggestions, which answer mousedown
// (so that picking one keeps the focus), not click.
func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	poll[bool](t, ctx, "a "+sel+" to click", fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e || e.disabled) return false; e.click(); return true })()`, sel))
}

// poll waits until a JavaScript expression is truthy and returns its value.
func poll[T any](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Fatalf("wait for %s (%s): %v", what, expr, err)
	}
	return v
}

// screenshot saves the page as artifacts/<name>.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifacts, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	// And what the screen shows, the size of the README's pictures.
	if buf, err = chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(artifacts, name+"-screen.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// axeSource returns axe-core, which scripts/axe-core installs (pinned, into
// a cache outside the repository) and which only this test injects.
func axeSource(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("../../../scripts/axe-core").Output()
	if err != nil {
		t.Fatalf("install axe-core with scripts/axe-core (needs npm): %v", err)
	}
	src, err := os.ReadFile(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// checkAccessibility runs axe-core on the page and fails on any serious or
// critical violation; it returns how many rules passed and how many minor
// or moderate violations there were, for the log.
func checkAccessibility(t *testing.T, ctx context.Context, axe, screen string) {
	t.Helper()
	if !eval[bool](t, ctx, `typeof window.axe === 'object'`) {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+";true")); err != nil {
			t.Fatalf("inject axe-core: %v", err)
		}
	}
	type violation struct {
		ID     string `json:"id"`
		Impact string `json:"impact"`
		Help   string `json:"help"`
		Nodes  int    `json:"nodes"`
	}
	var res struct {
		Passes     int         `json:"passes"`
		Violations []violation `json:"violations"`
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}))}))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("run axe-core on %s: %v", screen, err)
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatal(err)
	}
	var minor []string
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("axe-core on %s: %s violation %s (%s) on %d elements", screen, v.Impact, v.ID, v.Help, v.Nodes)
		} else {
			minor = append(minor, v.Impact+" "+v.ID)
		}
	}
	t.Logf("axe-core on %s: %d rules passed, %d serious or critical violations, others: %v", screen, res.Passes, len(res.Violations)-len(minor), minor)
}

// openGraph opens a graph or paths screen and waits for its first frame. It
// first takes away the graph already drawn, since a change of the URL's hash
// only re-renders the page, after chromedp.Navigate has returned.
func openGraph(t *testing.T, ctx context.Context, url string) string {
	t.Helper()
	eval[bool](t, ctx, `(() => { document.getElementById('cy')?.remove(); window.__explorerCy = undefined; return true })()`)
	do(t, ctx, "open "+url, chromedp.Navigate(url))
	return poll[string](t, ctx, "the graph of "+url, `window.__explorerCy && document.getElementById('cy')?.dataset.rendered`)
}

// typeInto focuses an input and types text into it key by key, as a person
// does, so that the page's input handlers run for each character.
func typeInto(t *testing.T, ctx context.Context, sel, text string) {
	t.Helper()
	eval[bool](t, ctx, fmt.Sprintf(`(() => { const i = document.querySelector(%q); i.value = ''; i.focus(); return true })()`, sel))
	do(t, ctx, "type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// TestExplorer drives the explorer's main screens in one browser against
// the real API: search and open, a neighbourhood counted against the API's,
// the Coompanion → WTZ Gębice path, analyses, and staff linking two entities
// from the graph, with the revision in the history and the change feed
// redrawing the graph; axe-core checks each screen and a screenshot of each
// lands in artifacts/.
// session starts what a browser test drives: the accessibility checker,
// the stack on the reference data and a headless Chromium on it, with the
// test's deadline; skipped with -short.
func session(t *testing.T, d time.Duration) (string, *stack, context.Context, *browsertest.Recorder) {
	t.Helper()
	if testing.Short() {
		t.Skip("drives headless Chromium against PostgreSQL")
	}
	axe := axeSource(t)
	s := newStack(t)
	ctx, cancel := context.WithTimeout(browsertest.New(t), d)
	t.Cleanup(cancel)
	return axe, s, ctx, browsertest.RecorderFrom(ctx)
}

func TestExplorer(t *testing.T) {
	axe, s, ctx, rec := session(t, 3*time.Minute)

	t.Run("search and open an entity", func(t *testing.T) {
		do(t, ctx, "open the explorer", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`input[role=combobox]`)))
		typeInto(t, ctx, `main input[role=combobox]`, "Coompan")
		got := poll[string](t, ctx, "a suggestion", `document.querySelector('[role=listbox]:not([aria-busy=true]) [role=option]')?.textContent`)
		if !strings.Contains(got, "Coompanion") {
			t.Errorf("first suggestion %q, want Coompanion", got)
		}
		checkAccessibility(t, ctx, axe, "search with suggestions")
		do(t, ctx, "search", chromedp.SendKeys(chromedp.CSS(`main input[role=combobox]`), "ion\r"))
		poll[bool](t, ctx, "results", `location.hash.startsWith('#/search?q=') && !!document.querySelector('.group h2')`)
		if g := eval[string](t, ctx, `document.querySelector('.group h2').textContent`); !strings.Contains(g, "(") {
			t.Errorf("result group heading %q, want a kind and a count", g)
		}
		screenshot(t, ctx, "search")
		click(t, ctx, `.hit a`)
		h1 := poll[string](t, ctx, "the entity page", `document.querySelector('main[data-view=e] h1')?.textContent`)
		if h1 != "Coompanion" {
			t.Errorf("entity page h1 %q, want Coompanion", h1)
		}
		if hash := eval[string](t, ctx, `location.hash`); hash != "#/e/coompanion" {
			t.Errorf("URL hash %q, want the stable #/e/coompanion", hash)
		}
		for _, want := range []string{"Sources", "Links"} {
			if !eval[bool](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('main h2')].some(h => h.textContent.startsWith(%q) || h.textContent.startsWith(%q))`, want, map[string]string{"Sources": "Źródła", "Links": "Powiązania"}[want])) {
				t.Errorf("entity page lacks the %s section", want)
			}
		}
		checkAccessibility(t, ctx, axe, "entity page")
		screenshot(t, ctx, "entity")
	})

	const center = "spoldzielnia-socjalna-rowne-szanse"
	t.Run("neighbourhood rendered as the API answers it", func(t *testing.T) {
		var d struct {
			N struct {
				Nodes     []struct{ ID string }
				Links     []struct{ ID string }
				Truncated bool
			} `json:"neighborhood"`
		}
		s.gql("", `query($id: ID!) { neighborhood(id: $id, depth: 2, limit: 100) { truncated nodes { id } links { id } } }`, map[string]any{"id": s.idOf(center)}, &d)
		n := openGraph(t, ctx, s.URL+"/#/graph/"+center+"?depth=2&limit=100")
		if want := fmt.Sprint(len(d.N.Nodes)); n != want {
			t.Errorf("rendered %s nodes, the API answers %s", n, want)
		}
		if e := eval[int](t, ctx, `window.__explorerCy.edges().length`); e != len(d.N.Links) {
			t.Errorf("rendered %d links, the API answers %d", e, len(d.N.Links))
		}
		if got := eval[bool](t, ctx, `!document.getElementById('graph-truncated').hidden`); got != d.N.Truncated {
			t.Errorf("truncated shown %v, the API says %v", got, d.N.Truncated)
		}
		// A limit that cuts shows "truncated".
		if n := openGraph(t, ctx, s.URL+"/#/graph/"+center+"?depth=2&limit=5"); n != "5" || !eval[bool](t, ctx, `!document.getElementById('graph-truncated').hidden`) {
			t.Errorf("with limit 5: %s nodes drawn, truncated %v; want 5 and truncated shown", n, eval[bool](t, ctx, `!document.getElementById('graph-truncated').hidden`))
		}
		// Expanding a node adds its own neighbourhood.
		const project = "projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz"
		want := map[string]bool{}
		for _, id := range []string{s.idOf(center), s.idOf(project)} {
			var nb struct {
				N struct{ Nodes []struct{ ID string } } `json:"neighborhood"`
			}
			s.gql("", `query($id: ID!) { neighborhood(id: $id, depth: 1, limit: 100) { nodes { id } } }`, map[string]any{"id": id}, &nb)
			for _, n := range nb.N.Nodes {
				want[n.ID] = true
			}
		}
		before := openGraph(t, ctx, s.URL+"/#/graph/"+center+"?depth=1&limit=100")
		eval[bool](t, ctx, `window.__explorerCy.nodes('[key="`+project+`"]').emit('dbltap'), true`)
		got := poll[int](t, ctx, "the expanded graph", fmt.Sprintf(`window.__explorerCy.nodes().length > %s && window.__explorerCy.nodes().length`, before))
		if got != len(want) {
			t.Errorf("after expanding, %d nodes drawn, the API's two neighbourhoods hold %d", got, len(want))
		}
		// The filters hide a kind.
		eval[bool](t, ctx, `(() => { const c = document.querySelector('input[data-kind]:not([data-kind=COOPERATIVE])'); c.click(); return true })()`)
		if vis, all := eval[int](t, ctx, `window.__explorerCy.nodes(':visible').length`), eval[int](t, ctx, `window.__explorerCy.nodes().length`); vis >= all {
			t.Errorf("unticking a kind left %d of %d nodes visible (%s)", vis, all, eval[string](t, ctx, `JSON.stringify([[...document.querySelectorAll('input[data-kind]')].map(i => i.dataset.kind + ':' + i.checked), window.__explorerCy.nodes().map(n => n.data('kind') + (n.hasClass('hidden') ? '-' : '+'))])`))
		}
		openGraph(t, ctx, s.URL+"/#/graph/"+center+"?depth=2&limit=100")

		// The exports hold what is shown: the downloads are caught by
		// taking the data URL the page would save.
		exported := eval[map[string]string](t, ctx, `(() => {
			const got = {};
			const click = HTMLAnchorElement.prototype.click;
			HTMLAnchorElement.prototype.click = function () { got[this.download.split('.').pop()] = this.href; };
			try { document.querySelectorAll('.exports button').forEach((b) => b.click()); } finally { HTMLAnchorElement.prototype.click = click; }
			return got;
		})()`)
		if !strings.HasPrefix(exported["png"], "data:image/png;base64,") || len(exported["png"]) < 5000 {
			t.Errorf("the PNG export is %.60q (%d bytes), want a PNG data URL of the graph", exported["png"], len(exported["png"]))
		}
		csvRows := strings.Count(strings.TrimSpace(decodeDataURL(t, exported["csv"])), "\r\n")
		if csvRows != len(d.N.Links) {
			t.Errorf("the CSV export has %d rows, want one per link shown (%d)", csvRows, len(d.N.Links))
		}
		graphml := decodeDataURL(t, exported["graphml"])
		if n, e := strings.Count(graphml, "<node "), strings.Count(graphml, "<edge "); n != len(d.N.Nodes) || e != len(d.N.Links) {
			t.Errorf("the GraphML export has %d nodes and %d edges, want %d and %d", n, e, len(d.N.Nodes), len(d.N.Links))
		}
		if svg := decodeDataURL(t, exported["svg"]); strings.Count(svg, "<circle") != len(d.N.Nodes) {
			t.Errorf("the SVG export has %d nodes, want %d", strings.Count(svg, "<circle"), len(d.N.Nodes))
		}
		checkAccessibility(t, ctx, axe, "graph")
		screenshot(t, ctx, "graph")
	})

	t.Run("the Coompanion → WTZ Gębice path", func(t *testing.T) {
		var d struct {
			Paths []struct {
				Length int
				Nodes  []struct{ Name string }
			}
		}
		s.gql("", `query($f: ID!, $t: ID!) { paths(from: $f, to: $t, k: 3) { length nodes { name } } }`, map[string]any{"f": s.idOf("coompanion"), "t": s.idOf("wtz-gebice")}, &d)
		if len(d.Paths) == 0 {
			t.Fatal("the API finds no path from Coompanion to WTZ Gębice")
		}
		do(t, ctx, "open paths", chromedp.Navigate(s.URL+"/#/paths"), chromedp.WaitVisible(chromedp.CSS(`input[name=from]`)))
		for _, f := range []struct{ sel, text string }{{`input[name=from]`, "Coompanion"}, {`input[name=to]`, "Warsztat Terapii Zajęciowej w Gęb"}} {
			typeInto(t, ctx, f.sel, f.text)
			poll[bool](t, ctx, "a suggestion for "+f.text, `!!document.querySelector('[role=listbox]:not([hidden]):not([aria-busy=true]) [role=option]')`)
			do(t, ctx, "pick it", chromedp.SendKeys(chromedp.CSS(f.sel), chromekb.ArrowDown+chromekb.Enter))
		}
		click(t, ctx, `main form button[type=submit]`)
		n := poll[int](t, ctx, "the paths", `document.querySelectorAll('li.path').length`)
		if n != len(d.Paths) {
			t.Errorf("shows %d paths, the API finds %d", n, len(d.Paths))
		}
		first := eval[string](t, ctx, `document.querySelector('li.path').innerText`)
		for _, want := range []string{d.Paths[0].Nodes[0].Name, d.Paths[0].Nodes[len(d.Paths[0].Nodes)-1].Name} {
			if !strings.Contains(first, want) {
				t.Errorf("the first path lacks %s:\n%s", want, first)
			}
		}
		if hl := eval[int](t, ctx, `window.__explorerCy.edges('.hl').length`); hl != d.Paths[0].Length {
			t.Errorf("%d links highlighted, want the first path's %d", hl, d.Paths[0].Length)
		}
		checkAccessibility(t, ctx, axe, "paths")
		screenshot(t, ctx, "paths")
	})

	t.Run("analyses", func(t *testing.T) {
		do(t, ctx, "open analyses", chromedp.Navigate(s.URL+"/#/analyses"))
		if n := poll[int](t, ctx, "the charts", `document.querySelectorAll('svg.chart').length`); n != 4 {
			t.Errorf("%d charts, want 4", n)
		}
		checkAccessibility(t, ctx, axe, "analyses")
		screenshot(t, ctx, "analyses")

		// The other language, for the whole interface, kept for the next visit.
		before := eval[string](t, ctx, `document.querySelector('main h1').textContent`)
		click(t, ctx, `#lang`)
		after := poll[string](t, ctx, "the other language", fmt.Sprintf(`document.querySelector('main h1')?.textContent !== %q && document.querySelector('main h1')?.textContent`, before))
		if pair := before + "/" + after; pair != "Analyses/Analizy" && pair != "Analizy/Analyses" {
			t.Errorf("the heading went from %q to %q, want Analyses and Analizy", before, after)
		}
		if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != map[string]string{"Analizy": "pl", "Analyses": "en"}[after] {
			t.Errorf("html lang is %q after switching to %q", lang, after)
		}
	})

	t.Run("phone-sized screen", func(t *testing.T) {
		do(t, ctx, "emulate a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		defer func() { do(t, ctx, "back to the desktop", chromedp.EmulateViewport(1280, 800)) }()
		for _, screen := range []string{"#/e/coompanion", "#/graph/" + center + "?depth=2&limit=100", "#/analyses"} {
			do(t, ctx, "open "+screen, chromedp.Navigate(s.URL+"/"+screen))
			poll[bool](t, ctx, screen, `document.querySelector('main')?.getAttribute('aria-busy') === 'false' && !!document.querySelector('main h1')`)
			if w := eval[[]int](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
				t.Errorf("%s is %d px wide on a %d px screen: it scrolls sideways", screen, w[0], w[1])
			}
		}
		screenshot(t, ctx, "phone-analyses")
	})

	t.Run("staff link two entities from the graph", func(t *testing.T) {
		secret, hash := auth.NewToken()
		if _, err := store.New(s.pool).CreateToken(context.Background(), "explorer-test", kb.RoleEditor, hash); err != nil {
			t.Fatal(err)
		}
		var draft struct{ CreatePartner struct{ ID, Key string } }
		s.gql(secret, `mutation { createPartner(input: {name: "Fundacja Szkic", sector: SOCIAL, partnerKind: FOUNDATION}) { id key } }`, nil, &draft)
		do(t, ctx, "open staff", chromedp.Navigate(s.URL+"/#/staff"), chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)))
		do(t, ctx, "sign in", chromedp.SendKeys(chromedp.CSS(`input[name=token]`), secret+"\r"))
		poll[bool](t, ctx, "signed in", `document.getElementById('staff-status')?.textContent.includes('explorer-test')`)
		if strings.Contains(eval[string](t, ctx, `location.href`), secret) {
			t.Error("the token is in the URL")
		}
		if got := poll[string](t, ctx, "the drafts", `document.getElementById('drafts')?.innerText`); !strings.Contains(got, "Fundacja Szkic") {
			t.Errorf("the drafts list %q lacks the new draft", got)
		}
		checkAccessibility(t, ctx, axe, "staff")
		screenshot(t, ctx, "staff")

		// Publish the draft from its page, which shows its history.
		do(t, ctx, "open the draft", chromedp.Navigate(s.URL+"/#/e/"+draft.CreatePartner.Key))
		poll[bool](t, ctx, "the history", `!!document.querySelector('.history li')`)
		click(t, ctx, `.staffbar button`)
		poll[bool](t, ctx, "published", `document.querySelector('.staffbar [role=status]')?.textContent.includes('PUBLISHED')`)
		var pub struct {
			Node struct{ PublicationStatus string }
		}
		s.gql(secret, `query($id: ID!) { node(id: $id) { ... on Entity { publicationStatus } } }`, map[string]any{"id": draft.CreatePartner.ID}, &pub)
		if pub.Node.PublicationStatus != "PUBLISHED" {
			t.Errorf("after Publish the draft is %s", pub.Node.PublicationStatus)
		}

		openGraph(t, ctx, s.URL+"/#/graph/"+center+"?depth=2&limit=100")
		eval[bool](t, ctx, `document.querySelector('[data-select=konimpex]').click(), document.querySelector('[data-select=`+center+`]').click(), true`)
		poll[bool](t, ctx, "the link form", `!!document.querySelector('.linkform select[name=type]')`)
		types := eval[[]string](t, ctx, `[...document.querySelectorAll('.linkform select[name=type] option')].map(o => o.value)`)
		var vocab struct {
			R []struct {
				Type     string
				From, To []string
			} `json:"relationTypes"`
		}
		s.gql("", `{ relationTypes { type from to } }`, nil, &vocab)
		var want []string
		for _, r := range vocab.R {
			if contains(r.From, "PARTNER") && contains(r.To, "COOPERATIVE") {
				want = append(want, r.Type)
			}
		}
		sort.Strings(types)
		sort.Strings(want)
		if strings.Join(types, ",") != strings.Join(want, ",") {
			t.Errorf("the form offers %v for a partner → cooperative link, the vocabulary allows %v", types, want)
		}
		eval[bool](t, ctx, `(() => { const s = document.querySelector('.linkform select[name=type]'); s.value = 'SUPPORTS'; return true })()`)
		typeInto(t, ctx, `.linkform input[name=source]`, "Innowacje dla")
		poll[bool](t, ctx, "a source suggestion", `!!document.querySelector('.linkform [role=listbox]:not([hidden]):not([aria-busy=true]) [role=option]')`)
		// Picked with the mouse: the DevTools protocol's Enter also sends a
		// "char" event, which submits the form whatever keydown did. The list
		// is busy until the answer for the whole text is drawn, so the option
		// clicked is not replaced under the click.
		do(t, ctx, "pick the source", chromedp.Click(chromedp.CSS(`.linkform [role=listbox]:not([hidden]) [role=option]`)))
		do(t, ctx, "cite",
			chromedp.SendKeys(chromedp.CSS(`.linkform input[name=locator]`), "akapit 3"),
			chromedp.SendKeys(chromedp.CSS(`.linkform textarea[name=quote]`), "Konimpex wspiera spółdzielnię"),
			chromedp.Click(chromedp.CSS(`.linkform button[type=submit]`)))
		linkID := poll[string](t, ctx, "the new link", `document.querySelector('.linkform .ok')?.dataset.linkId || (document.querySelector('.linkform .error')?.textContent && 'error: ' + document.querySelector('.linkform .error').textContent)`)
		if strings.HasPrefix(linkID, "error") {
			t.Fatal(linkID)
		}
		var l struct {
			Node struct {
				Type    string
				Sources []struct{ Locator, Quote string }
				History struct {
					Nodes []struct{ Operation, Actor string }
				}
			}
		}
		s.gql(secret, `query($id: ID!) { node(id: $id) { ... on Link { type sources { locator quote } history { nodes { operation actor } } } } }`, map[string]any{"id": linkID}, &l)
		if l.Node.Type != "SUPPORTS" || len(l.Node.Sources) != 1 || l.Node.Sources[0].Quote != "Konimpex wspiera spółdzielnię" {
			t.Errorf("the link is %+v, want SUPPORTS with the citation", l.Node)
		}
		if h := l.Node.History.Nodes; len(h) != 1 || h[0].Operation != "CREATE" || h[0].Actor != "explorer-test" {
			t.Errorf("the link's history is %+v, want one CREATE by explorer-test", h)
		}
		poll[bool](t, ctx, "the new link drawn", fmt.Sprintf(`window.__explorerCy.getElementById(%q).nonempty()`, linkID))

		// A link made elsewhere appears through the change feed, without a
		// reload of the page.
		eval[bool](t, ctx, `window.__notReloaded = true`)
		var made struct{ Link struct{ ID string } }
		s.gql(secret, `mutation($in: LinkInput!) { link(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"from": s.idOf("konimpex"), "to": s.idOf(center), "type": "FUNDS"}}, &made)
		poll[bool](t, ctx, "the feed to draw the other link", fmt.Sprintf(`window.__explorerCy.getElementById(%q).nonempty()`, made.Link.ID))
		if !eval[bool](t, ctx, `window.__notReloaded === true`) {
			t.Error("the page reloaded")
		}
	})

	if got := rec.RequestsOutside(s.URL, strings.Replace(s.URL, "http://", "ws://", 1)); len(got) > 0 {
		t.Errorf("requests to other origins: %q", got)
	}
	rec.CheckClean(t)
}

// decodeDataURL returns the text of a "data:...;charset=utf-8,..." URL.
func decodeDataURL(t *testing.T, u string) string {
	t.Helper()
	_, data, ok := strings.Cut(u, ",")
	if !ok {
		t.Fatalf("not a data URL: %.60q", u)
	}
	text, err := url.PathUnescape(data)
	if err != nil {
		t.Fatalf("decode the data URL: %v", err)
	}
	return text
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRender500Nodes imports a neighbourhood of 500 entities (a cooperative,
// 100 partners that support it, 399 partners comparable to those) and times
// how long the explorer takes from the API's answer to the first frame of
// the graph, the fCoSE layout included, in headless Chromium on this
// machine. It reports the times; the bound it asserts (10 s) is generous on
// purpose, so that a loaded machine does not make it flaky: the target of
// issue 18 is 1 s, and docs/explorer.md gives the measured figures.
func TestRender500Nodes(t *testing.T) {
	if testing.Short() {
		t.Skip("drives headless Chromium against PostgreSQL")
	}
	s := newStack(t)
	secret, hash := auth.NewToken()
	if _, err := store.New(s.pool).CreateToken(context.Background(), "render-test", kb.RoleEditor, hash); err != nil {
		t.Fatal(err)
	}
	entities := []map[string]any{{"key": "render-centre", "kind": "COOPERATIVE", "name": "Render centre",
		"status": "PUBLISHED", "cooperative": map[string]any{"coopStatus": "OPERATING"}}}
	var links []map[string]any
	sectors := []string{"PUBLIC", "SOCIAL", "PRIVATE"}
	for i := 0; i < 499; i++ {
		key := fmt.Sprintf("render-partner-%03d", i)
		entities = append(entities, map[string]any{"key": key, "kind": "PARTNER", "name": fmt.Sprintf("Partner %03d", i), "status": "PUBLISHED",
			"partner": map[string]any{"sector": sectors[i%3], "partnerKind": "ASSOCIATION"}})
		if i < 100 {
			links = append(links, map[string]any{"from": key, "to": "render-centre", "type": "SUPPORTS"})
		} else {
			links = append(links, map[string]any{"from": key, "to": fmt.Sprintf("render-partner-%03d", i%100), "type": "COMPARABLE_TO"})
		}
	}
	var imp struct{ ImportDataset json.RawMessage }
	s.gql(secret, `mutation($d: DatasetInput!) { importDataset(dataset: $d) { __typename } }`, map[string]any{"d": map[string]any{"entities": entities, "links": links}}, &imp)

	ctx := browsertest.New(t)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var times []string
	for run := 0; run < 3; run++ {
		if run == 0 {
			do(t, ctx, "open the explorer", chromedp.Navigate(s.URL+"/#/analyses"))
		}
		n := openGraph(t, ctx, s.URL+"/#/graph/render-centre?depth=2&limit=500&run="+fmt.Sprint(run))
		if n != "500" {
			t.Fatalf("rendered %s nodes, want 500", n)
		}
		ms := eval[string](t, ctx, `document.getElementById('cy').dataset.renderMs`)
		times = append(times, ms+" ms")
		var v int
		if _, err := fmt.Sscan(ms, &v); err != nil || v > 10000 {
			t.Errorf("500 nodes took %s ms to render, over the generous bound of 10 s", ms)
		}
	}
	t.Logf("500 nodes, 499 links, fCoSE layout and first frame, three runs: %s", strings.Join(times, ", "))
	browsertest.RecorderFrom(ctx).CheckClean(t)
}

// TestExplorerLanguageSwitch: the header's "Names in" switch sends the
// language to the API (Accept-Language) and the pages show the entries'
// translated names, falling back to the original where there is none;
// "original language" asks for none again, and the choice survives a
// reload.
func TestExplorerLanguageSwitch(t *testing.T) {
	axe, s, ctx, rec := session(t, 2*time.Minute)

	const practice = "model-aktywizacji-zawodowej-uczestnikow-wtz"
	h1 := `document.querySelector('main[data-view=e] h1')?.textContent`
	do(t, ctx, "open a practice", chromedp.Navigate(s.URL+"/#/e/"+practice), chromedp.WaitVisible(chromedp.CSS(`#data-lang`)))
	if got := poll[string](t, ctx, "the practice's page", h1); !strings.HasPrefix(got, "Model aktywizacji zawodowej") {
		t.Fatalf("h1 in the original language: %q", got)
	}
	// What the page asks the API for, seen from the page: the fetches it
	// makes go through this wrapper from now on.
	eval[bool](t, ctx, `(() => { window.__langs = []; const f = window.fetch;
		window.fetch = (u, o) => { window.__langs.push(o?.headers?.['Accept-Language']); return f(u, o); }; return true; })()`)
	for _, tc := range []struct{ value, prefix string }{
		{"en", "Model of vocational activation"},
		{"sv", "Modell för arbetslivsinriktad aktivering"},
		{"", "Model aktywizacji zawodowej"},
	} {
		pickDataLang(t, ctx, tc.value)
		got := poll[string](t, ctx, "the name in "+tc.value, fmt.Sprintf(`(%s || '').startsWith(%q) && %s`, h1, tc.prefix, h1))
		if !strings.HasPrefix(got, tc.prefix) {
			t.Errorf("h1 with %q: %q", tc.value, got)
		}
		want := tc.value
		if want == "" {
			want = "*"
		}
		if last := eval[string](t, ctx, `window.__langs[window.__langs.length - 1] || ''`); last != want {
			t.Errorf("with %q the page sent Accept-Language %q, want %q", tc.value, last, want)
		}
	}
	// A Swedish organisation's own name stays; its city comes in Polish.
	pickDataLang(t, ctx, "pl")
	do(t, ctx, "reload on KOS", chromedp.Navigate(s.URL+"/#/e/kooperativet-kos"), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#data-lang`)))
	if got := poll[string](t, ctx, "KOS's page", h1); got != "Kooperativet KOS" {
		t.Errorf("KOS in Polish: %q", got)
	}
	if got := eval[string](t, ctx, `document.getElementById('data-lang').value`); got != "pl" {
		t.Errorf("after a reload the switch says %q, want pl", got)
	}
	if !poll[bool](t, ctx, "the city in Polish", `document.querySelector('main').textContent.includes('Sztokholm')`) {
		t.Error("KOS's city is not Sztokholm in Polish")
	}
	checkAccessibility(t, ctx, axe, "entity page in Polish")
	rec.CheckClean(t)
}

// pickDataLang chooses a language in the header's "Names in" switch, as a
// user does: the select's value, then its change event.
func pickDataLang(t *testing.T, ctx context.Context, value string) {
	t.Helper()
	do(t, ctx, "pick "+value, chromedp.SetValue(chromedp.CSS(`#data-lang`), value))
	eval[bool](t, ctx, `document.getElementById('data-lang').dispatchEvent(new Event('change', {bubbles: true})), true`)
}
