package browsertest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
)

// Recorder records a tab's console messages and network requests. Chromium
// reports an event before it answers the command that caused it, so when a
// chromedp action returns, the events it caused are recorded. Events that
// the page causes later by itself (a timer, a response that arrives later)
// are recorded when they happen: wait for their effect on the page first.
//
// A Recorder is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	console  []Message
	requests []*Request
	byID     map[network.RequestID]*Request // the latest request of each ID
}

// Message is one console message: a call of the console API, an uncaught
// exception, or an entry of the browser's own log, such as a violation of
// the Content-Security-Policy or a failed load.
type Message struct {
	// Level is "error" for console.error and console.assert, uncaught
	// exceptions and error entries of the browser log; otherwise the name of
	// the console call ("log", "warning", "info", "debug", ...) or the log
	// entry's level ("verbose", "info", "warning").
	Level string

	// Source is "console" for a call of the console API, "exception" for an
	// uncaught exception, else the browser log's source, such as "security"
	// or "network".
	Source string

	// Text is the message, with the arguments of a console call joined by
	// spaces.
	Text string

	// URL is where the message came from, if the browser says.
	URL string
}

// String formats the message for a test failure.
func (m Message) String() string {
	s := fmt.Sprintf("%s %s: %s", m.Source, m.Level, m.Text)
	if m.URL != "" {
		s += " (" + m.URL + ")"
	}
	return s
}

// Request is one network request of the tab. A redirect is recorded as a new
// request.
type Request struct {
	// Method is the HTTP method, such as "GET".
	Method string

	// URL is the requested URL, without its fragment.
	URL string

	// Status is the HTTP status of the response, or 0 if none has arrived.
	Status int64

	// Failure is the browser's reason why the request failed, such as
	// "net::ERR_CONNECTION_REFUSED", "blocked: csp" or "canceled", or empty.
	Failure string
}

// Failed reports whether the request failed or got an HTTP error status.
func (r Request) Failed() bool {
	return r.Failure != "" || r.Status >= 400
}

// String formats the request for a test failure.
func (r Request) String() string {
	s := r.Method + " " + r.URL
	if r.Status != 0 {
		s += fmt.Sprintf(" -> %d", r.Status)
	}
	if r.Failure != "" {
		s += " failed: " + r.Failure
	}
	return s
}

// Console returns the console messages so far, oldest first.
func (r *Recorder) Console() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.console...)
}

// ConsoleErrors returns the console messages of level "error" so far.
func (r *Recorder) ConsoleErrors() []Message {
	var errs []Message
	for _, m := range r.Console() {
		if m.Level == "error" {
			errs = append(errs, m)
		}
	}
	return errs
}

// Requests returns the network requests so far, in the order they started,
// including those of data: URLs.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := make([]Request, len(r.requests))
	for i, req := range r.requests {
		reqs[i] = *req
	}
	return reqs
}

// FailedRequests returns the requests so far that failed or got an HTTP error
// status (400 and above). Note that a page without an icon link makes the
// browser ask for /favicon.ico, which fails on a server that has none.
func (r *Recorder) FailedRequests() []Request {
	var failed []Request
	for _, req := range r.Requests() {
		if req.Failed() {
			failed = append(failed, req)
		}
	}
	return failed
}

// RequestsOutside returns the URLs of the requests so far that went to none of
// the given origins, such as an httptest.Server's URL ("http://127.0.0.1:1234").
// URLs that need no network (data:, blob:, about:) are not counted.
func (r *Recorder) RequestsOutside(origins ...string) []string {
	var outside []string
	for _, req := range r.Requests() {
		u, err := url.Parse(req.URL)
		if err == nil {
			switch u.Scheme {
			case "data", "blob", "about":
				continue
			}
		}
		if err != nil || !hasOrigin(u, origins) {
			outside = append(outside, req.URL)
		}
	}
	return outside
}

// hasOrigin reports whether u has one of the origins.
func hasOrigin(u *url.URL, origins []string) bool {
	for _, o := range origins {
		ou, err := url.Parse(o)
		if err == nil && strings.EqualFold(ou.Scheme, u.Scheme) && strings.EqualFold(ou.Host, u.Host) {
			return true
		}
	}
	return false
}

// CheckClean reports every console error and every failed request so far as
// an error of t. It is the usual last step of a browser test.
func (r *Recorder) CheckClean(t testing.TB) {
	t.Helper()
	for _, m := range r.ConsoleErrors() {
		t.Errorf("browser console: %s", m)
	}
	for _, req := range r.FailedRequests() {
		t.Errorf("browser request: %s", req)
	}
}

// Reset forgets what was recorded so far, for a test that checks one step of
// a longer session.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.console, r.requests, r.byID = nil, nil, nil
}

// observe records one event of the tab. chromedp calls it on the goroutine
// that reads the tab's messages, so it must be quick and send no command.
func (r *Recorder) observe(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		level := string(ev.Type)
		if ev.Type == runtime.ConsoleAPICalledTypeAssert {
			level = "error"
		}
		m := Message{Level: level, Source: "console", Text: argsText(ev.Args)}
		if ev.StackTrace != nil && len(ev.StackTrace.CallFrames) > 0 {
			m.URL = ev.StackTrace.CallFrames[0].URL
		}
		r.console = append(r.console, m)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		m := Message{Level: "error", Source: "exception", Text: d.Text, URL: d.URL}
		if d.Exception != nil && d.Exception.Description != "" {
			m.Text += " " + d.Exception.Description
		}
		r.console = append(r.console, m)
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		r.console = append(r.console, Message{Level: string(e.Level), Source: string(e.Source), Text: e.Text, URL: e.URL})
	case *network.EventRequestWillBeSent:
		if ev.RedirectResponse != nil {
			if prev := r.byID[ev.RequestID]; prev != nil {
				prev.Status = ev.RedirectResponse.Status
			}
		}
		req := &Request{Method: ev.Request.Method, URL: ev.Request.URL}
		r.requests = append(r.requests, req)
		if r.byID == nil {
			r.byID = make(map[network.RequestID]*Request)
		}
		r.byID[ev.RequestID] = req
	case *network.EventResponseReceived:
		if req := r.byID[ev.RequestID]; req != nil {
			req.Status = ev.Response.Status
		}
	case *network.EventLoadingFailed:
		if req := r.byID[ev.RequestID]; req != nil {
			req.Failure = failure(ev)
		}
	}
}

// failure describes why a request failed.
func failure(ev *network.EventLoadingFailed) string {
	switch {
	case ev.BlockedReason != "":
		return "blocked: " + string(ev.BlockedReason)
	case ev.Canceled:
		return "canceled"
	default:
		return ev.ErrorText
	}
}

// argsText formats the arguments of a console call roughly as the DevTools
// console does: strings as they are, other values by their JSON or their
// description.
func argsText(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		switch {
		case a.Type == runtime.RemoteObjectTypeString && json.Unmarshal(a.Value, &s) == nil:
		case a.UnserializableValue != "":
			s = string(a.UnserializableValue)
		case a.Description != "":
			s = a.Description
		case len(a.Value) > 0:
			s = string(a.Value)
		default:
			s = string(a.Type)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
