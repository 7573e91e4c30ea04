// Package explorertest drives the explorer page (GraphiQL) in a browser that
// package browsertest started, for tests of the explorer and end-to-end tests
// of the server that serves it. It holds what the tests need to know about
// GraphiQL's page: its CSS classes and labels, and its CodeMirror editors.
//
//	ctx := browsertest.New(t)
//	if err := explorertest.Open(ctx, srv.URL); err != nil {
//		t.Fatal(err)
//	}
//	result, err := explorertest.Run(ctx, `{ __typename }`)
package explorertest

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"
)

// Selectors of GraphiQL 3's page.
const (
	// QueryEditor is the CodeMirror editor of the query.
	QueryEditor = ".graphiql-query-editor .CodeMirror"

	// ResultPane is the CodeMirror editor that shows the endpoint's answer.
	ResultPane = ".graphiql-response .CodeMirror"

	// RunButton runs the query. Its aria-label starts with "Execute" when
	// idle and with "Stop" while a query runs.
	RunButton = ".graphiql-execute-button"

	// DocExplorerButton opens the documentation of the schema.
	DocExplorerButton = `button[aria-label="Show Documentation Explorer"]`

	// DocExplorer is the documentation of the schema.
	DocExplorer = ".graphiql-doc-explorer"
)

// resultTimeout bounds the wait for a query's answer.
const resultTimeout = 30 * time.Second

// Open navigates the tab of ctx to the explorer page at url and waits until
// GraphiQL shows its query editor. It returns the error of the navigation or
// of the wait.
func Open(ctx context.Context, url string) error {
	if err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(QueryEditor)),
	); err != nil {
		return fmt.Errorf("open the explorer at %s: %w", url, err)
	}
	return nil
}

// Query returns the text in the query editor.
func Query(ctx context.Context) (string, error) {
	q, err := chromedp.Run(ctx, chromedp.Evaluate[string](editor(QueryEditor)+`.getValue()`))
	if err != nil {
		return "", fmt.Errorf("read the query editor: %w", err)
	}
	return q, nil
}

// SetQuery replaces the text in the query editor with query, through
// CodeMirror's API, so that the editor's auto-indent and closing brackets do
// not change it as they would change typed text.
func SetQuery(ctx context.Context, query string) error {
	lit, err := json.Marshal(query) // a JSON string is a JavaScript string
	if err != nil {
		return fmt.Errorf("encode the query: %w", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](editor(QueryEditor)+`.setValue(`+string(lit)+`)`),
		// GraphiQL works out the operation name from the editor 100 ms after
		// an edit (a debounce); a run before that would send the previous
		// query's operation name with the new query.
		chromedp.Sleep(editDebounce),
	); err != nil {
		return fmt.Errorf("set the query editor: %w", err)
	}
	return nil
}

// editDebounce outlasts GraphiQL's debounce of query edits.
const editDebounce = 300 * time.Millisecond

// Run puts query in the editor, runs it with Ctrl-Enter as a person would,
// and returns the text of the result pane once the answer is there: the
// JSON of the endpoint's response, as GraphiQL shows it, or GraphiQL's
// message when the request failed. It returns an error if the answer does
// not come within 30 seconds or ctx ends first.
func Run(ctx context.Context, query string) (string, error) {
	if err := SetQuery(ctx, query); err != nil {
		return "", err
	}
	if err := RunInEditor(ctx); err != nil {
		return "", err
	}
	return Result(ctx)
}

// RunInEditor clears the result pane and runs the query in the editor with
// Ctrl-Enter, without waiting for the answer; Result waits for it.
func RunInEditor(ctx context.Context) error {
	if err := chromedp.Do(ctx,
		// Clearing the pane lets Result tell the new answer from the last.
		chromedp.Evaluate[chromedp.Void](editor(ResultPane)+`.setValue("")`),
		chromedp.Click(chromedp.CSS(QueryEditor+" .CodeMirror-lines")),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
	); err != nil {
		return fmt.Errorf("run the query: %w", err)
	}
	return nil
}

// Result waits until no query runs and the result pane shows text, and
// returns the text. It returns an error if that does not happen within 30
// seconds or ctx ends first.
func Result(ctx context.Context) (string, error) {
	result, err := chromedp.Run(ctx, chromedp.Poll[string](`(() => {
		const idle = document.querySelector('`+RunButton+`')?.getAttribute('aria-label')?.startsWith('Execute');
		const text = `+editor(ResultPane)+`.getValue();
		return idle && text !== '' ? text : null;
	})()`, chromedp.WithPollingTimeout(resultTimeout)))
	if err != nil {
		return "", fmt.Errorf("wait for the result: %w", err)
	}
	return result, nil
}

// editor returns JavaScript that evaluates to the CodeMirror instance of the
// element that selector finds.
func editor(selector string) string {
	return `document.querySelector('` + selector + `').CodeMirror`
}
