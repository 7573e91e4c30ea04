package server_test

import (
	"strings"
	"testing"

	"github.com/partnergraph/partnergraph/internal/browsertest"
	"github.com/partnergraph/partnergraph/internal/explorer"
	"github.com/partnergraph/partnergraph/internal/explorer/explorertest"
	"github.com/partnergraph/partnergraph/internal/server"
)

// TestExplorerAnswersTheDefaultQueryInChromium opens the explorer of the
// full stack in headless Chromium and runs its default query against the
// reference data, as a newcomer does on their first visit.
func TestExplorerAnswersTheDefaultQueryInChromium(t *testing.T) {
	a := newAPI(t, "reference", server.Config{})
	ctx := browsertest.New(t)
	if err := explorertest.Open(ctx, a.URL+explorer.GraphiQLPath); err != nil {
		t.Fatal(err)
	}
	q, err := explorertest.Query(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q != server.DefaultQuery {
		t.Fatalf("the editor shows %.60q, want the default query", q)
	}
	if err := explorertest.RunInEditor(ctx); err != nil {
		t.Fatal(err)
	}
	result, err := explorertest.Result(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"Innowacyjny model aktywizacji zawodowej uczestników WTZ"`, `"isFull": true`, `"Konimpex Sp. z o.o."`} {
		if !strings.Contains(result, want) {
			t.Errorf("the result pane lacks %s:\n%.600s", want, result)
		}
	}
	if strings.Contains(result, `"errors"`) {
		t.Errorf("the default query failed:\n%.600s", result)
	}
	browsertest.RecorderFrom(ctx).CheckClean(t)
}
