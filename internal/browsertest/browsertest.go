// Package browsertest runs a real headless Chromium for tests, through
// chromedp, and records what a page logs and requests so that a test can
// check that it loaded cleanly.
//
// A typical test:
//
//	ctx := browsertest.New(t)
//	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
//		t.Fatalf("open the page: %v", err)
//	}
//	// ... drive the page with chromedp ...
//	rec := browsertest.RecorderFrom(ctx)
//	rec.CheckClean(t)
//	if got := rec.RequestsOutside(srv.URL); len(got) > 0 {
//		t.Errorf("requests to other origins: %q", got)
//	}
//
// The browser is Chromium from Debian's package "chromium" (install it with
// `apt-get install chromium`), or the binary that $CHROME_PATH names.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ExecPathEnv is the environment variable that names the Chromium binary to
// use instead of searching for one.
const ExecPathEnv = "CHROME_PATH"

// InstallHint tells how to get the browser this package needs.
const InstallHint = "install Chromium with `apt-get install chromium`, or set " + ExecPathEnv + " to a Chromium or Chrome binary"

// closeTimeout bounds the graceful shutdown of the browser at the end of a
// test; after it the browser is killed.
const closeTimeout = 10 * time.Second

// execCandidates are the places ExecPath looks for a browser, in order after
// $CHROME_PATH: absolute paths as they are, other names on PATH.
var execCandidates = []string{
	"/usr/bin/chromium",
	"chromium",
	"chromium-browser",
	"google-chrome",
	"google-chrome-stable",
}

// ErrNoBrowser is returned by ExecPath when no browser is installed.
var ErrNoBrowser = errors.New("no Chromium found")

// ExecPath returns the path of the browser that New starts: $CHROME_PATH if it
// is set, else the first of /usr/bin/chromium, then chromium,
// chromium-browser, google-chrome and google-chrome-stable on PATH. It returns
// an error wrapping ErrNoBrowser when none exists, and a different error when
// $CHROME_PATH names no executable file.
func ExecPath() (string, error) {
	if p := os.Getenv(ExecPathEnv); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", ExecPathEnv, p, err)
		}
		return found, nil
	}
	for _, name := range execCandidates {
		if found, err := exec.LookPath(name); err == nil {
			return found, nil
		}
	}
	return "", fmt.Errorf("%w: looked for %q", ErrNoBrowser, execCandidates)
}

// New starts a headless Chromium for the test, opens a tab and returns its
// chromedp context, to use with chromedp.Run and chromedp.Do. The browser
// closes at t.Cleanup. A Recorder, which RecorderFrom returns, records the
// tab's console messages and network requests from the start.
//
// If no Chromium is installed, New calls t.Fatal when the CI environment
// variable is set, so that a CI machine without a browser cannot pass by
// skipping, and t.Skip otherwise, with a message that says how to install it.
// If the browser is there but does not start, New calls t.Fatal with the
// browser's output.
//
// The browser reaches loopback hosts only (localhost, 127.*, ::1), where
// httptest servers listen: other names do not resolve, so neither a page nor
// Chromium's own background services reach the network.
//
// New starts the browser before it returns, so a test can bound its own
// actions with context.WithTimeout without that deadline ending the browser.
func New(t testing.TB) context.Context {
	t.Helper()
	path, err := ExecPath()
	if err != nil {
		noBrowser(t, err)
		return nil // not reached: noBrowser ends the test
	}

	// Registered before the browser's cleanup, so removed after the browser
	// has exited.
	profile := t.TempDir()
	output := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		// Tests run as root in containers, where Chromium's sandbox cannot
		// start; the pages under test are our own.
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		// Without these Chromium keeps trying to reach Google's services,
		// which the test machines cannot reach.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		// And this stops what they leave out (sign-in and extension update
		// checks) before it reaches DNS: only loopback hosts resolve. A
		// page's request to another host still shows in the Recorder, as
		// failed with net::ERR_NAME_NOT_RESOLVED.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.*, EXCLUDE ::1"),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
		chromedp.CombinedOutput(output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	rec := &Recorder{}
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(rec.observe))
	t.Cleanup(func() {
		closeCtx, cancel := context.WithTimeout(ctx, closeTimeout)
		defer cancel()
		err := chromedp.Cancel(closeCtx) // closes the browser gracefully
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browsertest: close the browser: %v", err)
		}
		if t.Failed() && output.Len() > 0 {
			t.Logf("browsertest: browser output:\n%s", output.String())
		}
	})

	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v\nbrowser output:\n%s", path, err, output.String())
	}
	return context.WithValue(ctx, recorderKey{}, rec)
}

// noBrowser ends the test for the error of ExecPath: it skips it if no
// browser is installed, except under CI, and fails it otherwise.
func noBrowser(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNoBrowser) && os.Getenv("CI") == "" {
		t.Skipf("browsertest: %v; %s", err, InstallHint)
	}
	t.Fatalf("browsertest: %v; %s", err, InstallHint)
}

// NewTab opens another tab in the browser of parent, a context that New or
// NewTab returned, and returns its context, with a Recorder of its own. Tabs
// of one browser may be driven from parallel subtests. The tab closes at
// t.Cleanup.
func NewTab(t testing.TB, parent context.Context) context.Context {
	t.Helper()
	rec := &Recorder{}
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithListener(rec.observe))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: open a tab: %v", err)
	}
	return context.WithValue(ctx, recorderKey{}, rec)
}

// recorderKey is the context key of a tab's Recorder.
type recorderKey struct{}

// RecorderFrom returns the Recorder of the tab of ctx, a context that New or
// NewTab returned or one derived from it. It returns nil for any other
// context.
func RecorderFrom(ctx context.Context) *Recorder {
	rec, _ := ctx.Value(recorderKey{}).(*Recorder)
	return rec
}

// syncBuffer is a bytes.Buffer that the browser's output goroutine and the
// test can use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it never fails.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Len returns the number of bytes written.
func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

// String returns what was written.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
