package browsertest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/partnergraph/partnergraph/internal/browsertest"
)

func TestExecPathReportsABadChromePath(t *testing.T) {
	t.Setenv(browsertest.ExecPathEnv, filepath.Join(t.TempDir(), "no-such-browser"))
	_, err := browsertest.ExecPath()
	if err == nil {
		t.Fatal("got no error, want one for a missing binary")
	}
	if errors.Is(err, browsertest.ErrNoBrowser) {
		t.Errorf("got %v, want an error other than ErrNoBrowser, so that New fails instead of skipping", err)
	}
}

// TestRecorderSeesWhatGoesWrong loads a page that does everything the
// Recorder must catch, and one thing it must not report.
func TestRecorderSeesWhatGoesWrong(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/gif")
		fmt.Fprint(w, "GIF89a")
	}))
	t.Cleanup(other.Close)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' http://cdn.example.com "+other.URL)
		fmt.Fprintf(w, `<!DOCTYPE html><title>t</title>
<link rel="icon" href="data:,">
<script src="/app.js"></script>
<script>window.inlineRan = true;</script>
<img src="/missing.png">
<img src="%s/pixel.gif">
<img src="http://cdn.example.com/logo.png">
<script src="/throw.js"></script>
<p id="done">done</p>`, other.URL)
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `console.log("all fine"); console.error("boom", 42);`)
	})
	mux.HandleFunc("GET /throw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `throw new Error("uncaught on purpose");`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := browsertest.New(t)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL),
		chromedp.WaitVisible(chromedp.ID("done")),
	); err != nil {
		t.Fatalf("load the page: %v", err)
	}
	rec := browsertest.RecorderFrom(ctx)
	// The images load after the page; wait until all have an answer.
	waitFor(t, func() bool {
		done := 0
		for _, r := range rec.Requests() {
			if strings.HasSuffix(r.URL, ".png") || strings.HasSuffix(r.URL, ".gif") {
				if r.Status != 0 || r.Failure != "" {
					done++
				}
			}
		}
		return done == 3
	})

	var errs []string
	for _, m := range rec.ConsoleErrors() {
		errs = append(errs, m.String())
	}
	for _, want := range []string{"boom 42", "uncaught on purpose", "Content Security Policy"} {
		if !slices.ContainsFunc(errs, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("console errors %q lack one with %q", errs, want)
		}
	}
	if slices.ContainsFunc(errs, func(s string) bool { return strings.Contains(s, "all fine") }) {
		t.Errorf("console errors %q contain the console.log message", errs)
	}
	if !slices.ContainsFunc(rec.Console(), func(m browsertest.Message) bool { return m.Text == "all fine" && m.Level == "log" }) {
		t.Errorf("console %v lacks the log message", rec.Console())
	}

	var failed []string
	for _, r := range rec.FailedRequests() {
		failed = append(failed, r.String())
	}
	slices.Sort(failed)
	// Only loopback hosts resolve, so the "CDN" fails without a DNS query.
	wantFailed := []string{
		"GET " + srv.URL + "/missing.png -> 404",
		"GET http://cdn.example.com/logo.png failed: net::ERR_NAME_NOT_RESOLVED",
	}
	if !slices.Equal(failed, wantFailed) {
		t.Errorf("got failed requests %q, want %q", failed, wantFailed)
	}

	outside := rec.RequestsOutside(srv.URL)
	slices.Sort(outside)
	if want := []string{other.URL + "/pixel.gif", "http://cdn.example.com/logo.png"}; !slices.Equal(outside, want) {
		t.Errorf("got requests outside the server %q, want %q", outside, want)
	}
	if got, want := rec.RequestsOutside(srv.URL, other.URL), []string{"http://cdn.example.com/logo.png"}; !slices.Equal(got, want) {
		t.Errorf("got requests outside both servers %q, want %q", got, want)
	}

	rec.Reset()
	if got := rec.Requests(); len(got) != 0 {
		t.Errorf("after Reset got requests %v, want none", got)
	}
}

// waitFor polls cond until it holds, for a few seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
	}
}

func TestNewTabRecordsItsOwnRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!DOCTYPE html><title>t</title><link rel="icon" href="data:,"><p id="p">`+r.URL.Path+`</p>`)
	}))
	t.Cleanup(srv.Close)

	first := browsertest.New(t)
	second := browsertest.NewTab(t, first)
	for ctx, path := range map[context.Context]string{first: "/first", second: "/second"} {
		tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := chromedp.Do(tctx, chromedp.Navigate(srv.URL+path)); err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		cancel()
	}
	for ctx, path := range map[context.Context]string{first: "/first", second: "/second"} {
		var urls []string
		for _, r := range browsertest.RecorderFrom(ctx).Requests() {
			urls = append(urls, r.URL)
		}
		if want := []string{srv.URL + path}; !slices.Equal(urls, want) {
			t.Errorf("tab of %s recorded %q, want %q", path, urls, want)
		}
	}
	if rec := browsertest.RecorderFrom(context.Background()); rec != nil {
		t.Errorf("got a Recorder from a plain context, want nil")
	}
}
