package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/partnergraph/partnergraph/internal/synth"
)

// smallBuffers makes a socket's kernel buffers a few kilobytes, so that a
// peer that does not read blocks the writer after a few kilobytes rather
// than after megabytes.
func smallBuffers(opt int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 4096) })
		if err != nil {
			return err
		}
		return serr
	}
}

// exportAPI serves cfg on a database with 1,000 generated entities (an
// export of several hundred kilobytes), with an API pool of apiConns
// connections and exports on a pool of their own. Its listener's sockets
// have small send buffers.
func exportAPI(t *testing.T, cfg server.Config, apiConns int32) *api {
	t.Helper()
	url := pgtest.NewDB(t, "migrated")
	pool := func(max int32) *pgxpool.Pool {
		pc, err := pgxpool.ParseConfig(url)
		if err != nil {
			t.Fatal(err)
		}
		pc.MaxConns = max
		p, err := pgxpool.NewWithConfig(context.Background(), pc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	apiPool := pool(apiConns)
	st := store.New(apiPool)
	g, err := synth.New(5, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.BulkLoad(context.Background(), "generate", g, nil); err != nil {
		t.Fatal(err)
	}
	maxExports := cfg.MaxExports
	if maxExports == 0 {
		maxExports = 2
	}
	cfg.ExportStore = store.New(pool(int32(maxExports)))
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv := httptest.NewUnstartedServer(server.New(cfg, st).Handler())
	ln, err := (&net.ListenConfig{Control: smallBuffers(syscall.SO_SNDBUF)}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &api{t: t, URL: srv.URL, Pool: apiPool}
}

// stall asks for a JSON-LD export, reads its status line (the export has
// its slot then) and nothing more; the connection closes at the end of the
// test.
func (a *api) stall() net.Conn {
	a.t.Helper()
	d := net.Dialer{Control: smallBuffers(syscall.SO_RCVBUF)}
	c, err := d.Dial("tcp", strings.TrimPrefix(a.URL, "http://"))
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET /export?format=jsonld HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		a.t.Fatal(err)
	}
	line := make([]byte, len("HTTP/1.1 200"))
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, line); err != nil || string(line) != "HTTP/1.1 200" {
		a.t.Fatalf("stalled export: %q %v, want it started", line, err)
	}
	return c
}

// exportStatus downloads an export whole and returns its status.
func (a *api) exportStatus(format string) (int, string) {
	a.t.Helper()
	res, err := (&http.Client{Timeout: 20 * time.Second}).Get(a.URL + "/export?format=" + format)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// waitStatus asks for exports until one gets status want, and fails after
// d.
func (a *api) waitStatus(want int, d time.Duration) {
	a.t.Helper()
	deadline := time.Now().Add(d)
	for {
		got, body := a.exportStatus("json")
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("export: status %d (%.200s), want %d within %v", got, body, want, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A client that stops reading is cut off after the write timeout: its
// export slot and database connection are freed (the export pool here has
// one connection, and the next export gets it) and its TCP connection is
// closed. Before, it held them for the whole export timeout (15 minutes).
func TestAnExportClientThatDoesNotReadIsCutOff(t *testing.T) {
	a := exportAPI(t, server.Config{MaxExports: 1, MaxExportsPerAddress: 2, ExportWriteTimeout: 300 * time.Millisecond}, 4)
	c := a.stall()
	// The stalled export holds the only slot...
	a.waitStatus(http.StatusTooManyRequests, 10*time.Second)
	// ...until the write timeout cuts it off.
	a.waitStatus(http.StatusOK, 10*time.Second)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil && isTimeout(err) {
		t.Errorf("the stalled client's connection is still open: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// One address may run MaxExportsPerAddress exports at once, so that one
// client cannot take every slot.
func TestExportsPerAddressAreLimited(t *testing.T) {
	a := exportAPI(t, server.Config{MaxExports: 3, MaxExportsPerAddress: 1, ExportWriteTimeout: time.Minute}, 4)
	a.stall()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := a.exportStatus("json")
		if status == http.StatusTooManyRequests {
			if !strings.Contains(body, "LIMIT_EXCEEDED") || !strings.Contains(body, "PARTNERGRAPH_MAX_EXPORTS_PER_ADDRESS") {
				t.Errorf("second export from the address: %s, want LIMIT_EXCEEDED naming the per-address limit", body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second export from the same address: %d, want 429 while the first runs", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Exports never hold the connections the API needs: with an API pool of
// two connections and two exports stalled, the API still answers.
func TestStalledExportsLeaveTheAPIItsConnections(t *testing.T) {
	a := exportAPI(t, server.Config{MaxExports: 2, MaxExportsPerAddress: 2, ExportWriteTimeout: time.Minute, RequestTimeout: 5 * time.Second}, 2)
	a.stall()
	a.stall()
	a.waitStatus(http.StatusTooManyRequests, 10*time.Second) // both slots taken
	var got struct{ Partners struct{ TotalCount int } }
	a.query(`{ partners(first: 1) { totalCount } }`, nil, &got)
	if got.Partners.TotalCount == 0 {
		t.Errorf("partners: %+v, want the generated ones", got)
	}
}

// /export takes from the same rate limit as /graphql.
func TestExportsAreRateLimited(t *testing.T) {
	a := newAPI(t, "reference", server.Config{RateLimit: server.RateLimit{Rate: 0.5, Burst: 2}})
	limited := 0
	for range 6 {
		req, _ := http.NewRequest(http.MethodHead, a.URL+"/export?format=json", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") != "" {
			limited++
		}
	}
	if limited < 3 {
		t.Errorf("%d of 6 exports at once refused, want all past the burst of 2", limited)
	}
}
