package pgserver

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func openServer(ctx context.Context, t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open %s: %v", cfg.Owner, err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

// TestOpenAttachesToTheRunningServer: a second Open on the data directory
// uses the first one's server, sees its data and leaves it running when
// it stops; the owner's Stop waits for it to leave.
func TestOpenAttachesToTheRunningServer(t *testing.T) {
	ctx := t.Context()
	dir := dataDir(t)
	owner := openServer(ctx, t, Config{DataDir: dir, Fast: true, Database: "app", Logger: testLogger(t),
		Owner: "partnergraph import", ClientWait: time.Minute})
	if _, attached := owner.Attached(); attached {
		t.Fatal("the first Open attached to nothing")
	}
	conn := connect(ctx, t, owner.ConnString("app"))
	if _, err := conn.Exec(ctx, "CREATE TABLE shared (v text); INSERT INTO shared VALUES ('one')"); err != nil {
		t.Fatal(err)
	}

	guest := openServer(ctx, t, Config{DataDir: dir, Logger: testLogger(t), Owner: "partnergraph token list"})
	who, attached := guest.Attached()
	if !attached || who.Program != "partnergraph import" || who.Exclusive {
		t.Fatalf("second Open: attached %v to %+v, want the import's server", attached, who)
	}
	gconn := connect(ctx, t, guest.ConnString("app"))
	var v string
	if err := gconn.QueryRow(ctx, "SELECT v FROM shared").Scan(&v); err != nil || v != "one" {
		t.Fatalf("the guest reads %q, %v", v, err)
	}

	// The owner is done: its Stop waits while the guest still works.
	conn.Close(ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- owner.Stop(context.Background()) }()
	for i := range 3 {
		time.Sleep(200 * time.Millisecond)
		if _, err := gconn.Exec(ctx, "INSERT INTO shared VALUES ($1)", strconv.Itoa(i)); err != nil {
			t.Fatalf("the guest's write %d while the owner stops: %v", i, err)
		}
	}
	select {
	case err := <-stopped:
		t.Fatalf("the owner stopped under its guest: %v", err)
	default:
	}
	gconn.Close(ctx)
	if err := guest.Stop(ctx); err != nil {
		t.Fatalf("guest Stop: %v", err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("owner Stop: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the owner's Stop still waits after its guest left")
	}
	if r, err := FindRunning(dir); err != nil || r != nil {
		t.Fatalf("after both: running %+v, %v", r, err)
	}
}

// TestExclusiveOpenWaitsForAShortLivedOwner: serve (exclusive) never uses
// a command's server, which stops when the command ends; it waits and
// then starts its own. A second exclusive Open fails, naming the first.
func TestExclusiveOpenWaitsForAShortLivedOwner(t *testing.T) {
	ctx := t.Context()
	dir := dataDir(t)
	cmd := openServer(ctx, t, Config{DataDir: dir, Fast: true, Logger: testLogger(t), Owner: "partnergraph export"})

	opened := make(chan *Server, 1)
	errc := make(chan error, 1)
	go func() {
		s, err := Open(ctx, Config{DataDir: dir, Fast: true, Logger: testLogger(t), Owner: "partnergraph serve", Exclusive: true})
		if err != nil {
			errc <- err
			return
		}
		opened <- s
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case s := <-opened:
		_ = s.Stop(ctx)
		t.Fatal("the exclusive Open did not wait for the command's server")
	case err := <-errc:
		t.Fatalf("exclusive Open: %v", err)
	default:
	}
	if err := cmd.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	var serve *Server
	select {
	case serve = <-opened:
	case err := <-errc:
		t.Fatalf("exclusive Open after the command: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the exclusive Open still waits")
	}
	t.Cleanup(func() { _ = serve.Stop(context.Background()) })
	if _, attached := serve.Attached(); attached {
		t.Fatal("the exclusive Open attached")
	}
	connect(ctx, t, serve.ConnString("postgres"))

	_, err := Open(ctx, Config{DataDir: dir, Owner: "partnergraph serve", Exclusive: true})
	if err == nil || !strings.Contains(err.Error(), "in use by") || !strings.Contains(err.Error(), "partnergraph serve") {
		t.Fatalf("a second exclusive Open: %v, want in use by partnergraph serve", err)
	}
}

// TestConcurrentOpensStartOneServer: programs started at once on a fresh
// data directory make one cluster and one server, and all use it.
func TestConcurrentOpensStartOneServer(t *testing.T) {
	ctx := t.Context()
	dir := dataDir(t)
	const n = 3
	servers := make([]*Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			servers[i], errs[i] = Open(ctx, Config{DataDir: dir, Fast: true, Logger: testLogger(t), Owner: "partnergraph token create"})
		})
	}
	wg.Wait()
	started := 0
	for i, s := range servers {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		if _, attached := s.Attached(); !attached {
			started++
		}
		connect(ctx, t, s.ConnString("partnergraph"))
	}
	if started != 1 {
		t.Fatalf("%d of %d Opens started a server, want 1", started, n)
	}
	// Guests first, as the owner would wait for them.
	for _, s := range servers {
		if _, attached := s.Attached(); attached {
			_ = s.Stop(ctx)
		}
	}
	for _, s := range servers {
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
