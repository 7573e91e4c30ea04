package explorer_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/partnergraph/partnergraph/internal/browsertest"
	"github.com/partnergraph/partnergraph/internal/explorer"
	"github.com/partnergraph/partnergraph/internal/explorer/explorertest"
)

// TestExplorerRunsAQueryInChromium opens the explorer in headless Chromium,
// against a stand-in endpoint, and runs a query the way a person would.
func TestExplorerRunsAQueryInChromium(t *testing.T) {
	api := newStandIn()
	mux := http.NewServeMux()
	mux.Handle("/graphql", api)
	mux.Handle("/", explorer.Handler(explorer.Options{Endpoint: "/graphql"}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := browsertest.New(t)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	rec := browsertest.RecorderFrom(ctx)

	// The page renders GraphiQL and GraphiQL loads the schema.
	if err := explorertest.Open(ctx, srv.URL+explorer.GraphiQLPath); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatalf("read the title: %v", err)
	}
	if !strings.Contains(title, "partnergraph") {
		t.Errorf("got title %q, want one that says partnergraph", title)
	}
	if q, err := explorertest.Query(ctx); err != nil || !strings.Contains(q, "partnergraph") {
		t.Errorf("got query %q (error %v), want the default query, which says partnergraph", q, err)
	}
	waitFor(ctx, t, "GraphiQL to load the schema", func() bool {
		return slices.Contains(api.Queries(), "IntrospectionQuery")
	})

	// GraphiQL understood the schema: its documentation lists our types.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(explorertest.DocExplorerButton)),
		chromedp.WaitVisible(chromedp.CSS(explorertest.DocExplorer)),
	); err != nil {
		t.Fatalf("open the documentation explorer: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.querySelector('`+explorertest.DocExplorer+`').innerText.includes('PartnerKind')`,
	)); err != nil {
		t.Errorf("wait for PartnerKind in the documentation explorer: %v", err)
	}

	// A dialog works under the Content-Security-Policy: it inserts a <style>
	// element, which needs style-src 'unsafe-inline'.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[aria-label="Open settings dialog"]`)),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-dialog")),
		chromedp.KeyEvent(kb.Escape),
		chromedp.WaitNotPresent(chromedp.CSS(".graphiql-dialog")),
	); err != nil {
		t.Fatalf("open and close the settings dialog: %v", err)
	}

	// Typing a query into the editor and pressing Ctrl-Enter runs it and
	// shows the endpoint's answer in the result pane.
	if err := explorertest.SetQuery(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(explorertest.QueryEditor+" .CodeMirror-lines")),
		chromedp.SendKeys(chromedp.CSS(explorertest.QueryEditor+" textarea"), `query Greet { greeting }`),
	); err != nil {
		t.Fatalf("type the query: %v", err)
	}
	if err := explorertest.RunInEditor(ctx); err != nil {
		t.Fatal(err)
	}
	shown, err := explorertest.Result(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"greeting": "` + greeting + `"`; !strings.Contains(shown, want) {
		t.Errorf("result pane shows %q, want it to contain %q", shown, want)
	}
	if got := api.Queries(); !slices.Contains(got, "Greet") {
		t.Errorf("the endpoint ran %q, want Greet among them", got)
	}

	// The same answer again, and an error, show too.
	for _, tc := range []struct{ query, want string }{
		{`query Greet { greeting }`, `"greeting": "` + greeting + `"`},
		{`{ partners { name kind } }`, `"kind": "SUPPLIER"`},
		{`{ nope }`, `Cannot query field \"nope\" on type \"Query\".`},
	} {
		shown, err := explorertest.Run(ctx, tc.query)
		if err != nil {
			t.Fatalf("run %s: %v", tc.query, err)
		}
		if !strings.Contains(shown, tc.want) {
			t.Errorf("run %s: result pane shows %q, want it to contain %q", tc.query, shown, tc.want)
		}
	}

	// And all that without a request elsewhere, an error or a violation of
	// the Content-Security-Policy.
	if got := rec.RequestsOutside(srv.URL); len(got) > 0 {
		t.Errorf("requests to other origins: %q", got)
	}
	rec.CheckClean(t)
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("wait for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}
