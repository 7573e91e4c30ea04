package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// instance serves a second HTTP stack with cfg on a's database: another
// server instance with its own pool and change feed.
func (a *api) instance(cfg server.Config) *api {
	a.t.Helper()
	pool, err := pgxpool.New(context.Background(), a.Pool.Config().ConnString())
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(pool.Close)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv := httptest.NewServer(server.New(cfg, store.New(pool)).Handler())
	a.t.Cleanup(srv.Close)
	return &api{t: a.t, URL: srv.URL, Pool: pool}
}

// tokenID returns the id of the token named name.
func (a *api) tokenID(name string) int64 {
	a.t.Helper()
	ts, err := store.New(a.Pool).Tokens(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	for _, tk := range ts {
		if tk.Name == name {
			return tk.ID
		}
	}
	a.t.Fatalf("no token %q", name)
	return 0
}

// closedWith reads c until it closes and returns the close status and
// reason, and how long it took.
func closedWith(ctx context.Context, c *websocket.Conn) (websocket.StatusCode, string, error) {
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Reason, nil
		}
		return -1, "", err
	}
}

// send writes one graphql-transport-ws message.
func send(ctx context.Context, c *websocket.Conn, m any) error {
	b, _ := json.Marshal(m)
	return c.Write(ctx, websocket.MessageText, b)
}

// A revoked token's sockets close within a second on every server
// instance, with 4403 and a reason. The periodic recheck is set to an hour,
// so that only the revocation travelling on the database's token channel
// can close them in time.
func TestRevokingATokenClosesItsSocketsOnEveryInstance(t *testing.T) {
	cfg := server.Config{TokenRecheck: time.Hour}
	a := newAPI(t, "migrated", cfg)
	b := a.instance(cfg)
	ed := a.newToken("ed", kb.RoleEditor)
	admin := a.newToken("admin", kb.RoleAdmin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const q = `subscription { changes { operation } }`
	var socks []*websocket.Conn
	for _, via := range []*api{a, b, b} {
		c, err := via.subscribe(ctx, ed, q)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		socks = append(socks, c)
	}
	// Another token's socket stays open.
	other := a.newToken("other", kb.RoleEditor)
	keep, err := b.subscribe(ctx, other, q)
	if err != nil {
		t.Fatal(err)
	}
	defer keep.CloseNow()

	start := time.Now()
	a.mustAs(admin, `mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }`, map[string]any{"id": relayID("Token", a.tokenID("ed"))}, nil)
	for i, c := range socks {
		code, reason, err := closedWith(ctx, c)
		took := time.Since(start)
		if err != nil || code != server.CloseForbidden || !strings.Contains(reason, "revoked") {
			t.Errorf("socket %d: closed with %d %q (%v), want 4403 saying revoked", i, code, reason, err)
		}
		// The target is 1 s; a loaded test machine gets slack, but the
		// hour-long recheck would be far beyond it.
		if took > 5*time.Second {
			t.Errorf("socket %d closed %v after the revocation, want within about 1 s", i, took)
		}
		t.Logf("socket %d closed %v after the revocation", i, took)
	}
	rctx, rcancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer rcancel()
	if _, _, err := keep.Read(rctx); websocket.CloseStatus(err) != -1 {
		t.Errorf("another token's socket: %v, want it open", err)
	}
}

// A role change closes the token's sockets too, whoever made it (here by
// hand in SQL).
func TestChangingATokensRoleClosesItsSockets(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{TokenRecheck: time.Hour})
	ed := a.newToken("ed", kb.RoleEditor)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := a.subscribe(ctx, ed, `subscription { changes { operation } }`)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, err := a.Pool.Exec(ctx, `UPDATE api_token SET role = 'READER' WHERE name = 'ed'`); err != nil {
		t.Fatal(err)
	}
	code, reason, err := closedWith(ctx, c)
	if err != nil || code != server.CloseForbidden || !strings.Contains(reason, "READER") {
		t.Errorf("closed with %d %q (%v), want 4403 naming the new role", code, reason, err)
	}
}

// Every operation on a socket is authorised when it starts, with the
// token's state now: even with the token channel silent (its trigger
// disabled), a revoked token's next operation is refused and the socket
// closes.
func TestEveryOperationOnASocketIsAuthorisedWhenItStarts(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{TokenRecheck: time.Hour})
	ed := a.newToken("ed", kb.RoleEditor)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := a.subscribe(ctx, ed, `{ viewer { role } }`)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	m, err := readMsg(ctx, c)
	if err != nil || m.Type != "next" || !strings.Contains(string(m.Payload), "EDITOR") {
		t.Fatalf("viewer before the revocation: %s %s %v", m.Type, m.Payload, err)
	}
	if _, err := a.Pool.Exec(ctx, `ALTER TABLE api_token DISABLE TRIGGER api_token_notify;
		UPDATE api_token SET revoked_at = now() WHERE name = 'ed'`); err != nil {
		t.Fatal(err)
	}
	if err := send(ctx, c, map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{
		"query": `mutation { createPartner(input: {name: "Po odwołaniu", sector: SOCIAL, partnerKind: ASSOCIATION}) { id } }`}}); err != nil {
		t.Fatal(err)
	}
	var refused bool
	for {
		m, err := readMsg(ctx, c)
		if err != nil {
			if code := websocket.CloseStatus(err); code != server.CloseForbidden {
				t.Errorf("socket closed with %d (%v), want 4403", code, err)
			}
			break
		}
		if m.ID == "2" && m.Type == "next" {
			if !strings.Contains(string(m.Payload), "UNAUTHENTICATED") || strings.Contains(string(m.Payload), `"createPartner":{`) {
				t.Errorf("the mutation after the revocation: %s, want refused with UNAUTHENTICATED", m.Payload)
			}
			refused = true
		}
	}
	if !refused {
		t.Error("the mutation after the revocation got no answer, want a refusal")
	}
	var n int
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM entity WHERE name = 'Po odwołaniu'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("entities made after the revocation: %d (%v), want 0", n, err)
	}
}

// Operations over a WebSocket take from the same per-token bucket as HTTP
// requests.
func TestOperationsOnASocketAreRateLimited(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{RateLimit: server.RateLimit{Rate: 0.5, Burst: 3, StaffRate: 0.5, StaffBurst: 3}})
	ed := a.newToken("ed", kb.RoleEditor)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := a.subscribe(ctx, ed, `{ viewer { name } }`)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for i := 2; i <= 20; i++ {
		if err := send(ctx, c, map[string]any{"id": string(rune('a' + i)), "type": "subscribe", "payload": map[string]any{"query": `{ viewer { name } }`}}); err != nil {
			t.Fatal(err)
		}
	}
	answered, limited := 0, 0
	for answered+limited < 20 {
		m, err := readMsg(ctx, c)
		if err != nil {
			t.Fatalf("after %d answers and %d refusals: %v", answered, limited, err)
		}
		if m.Type != "next" {
			continue
		}
		switch p := string(m.Payload); {
		case strings.Contains(p, "LIMIT_EXCEEDED") && strings.Contains(p, "retryAfter"):
			limited++
		case strings.Contains(p, `"name":"ed"`):
			answered++
		default:
			t.Fatalf("unexpected answer %s", p)
		}
	}
	// The burst is 3; at 0.5 per second at most a few more refill while
	// the test runs.
	if answered > 6 || limited < 14 {
		t.Errorf("%d answered, %d refused; want about the burst of 3 answered and the rest refused", answered, limited)
	}
}

// When the feed's listener loses its database session, notifications sent
// meanwhile are lost: once it is back, every socket rechecks its token.
// Here the revocation is made silently (trigger disabled) and then the
// listener's session is terminated.
func TestSocketsRecheckTheirTokenWhenTheListenerReconnects(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{TokenRecheck: time.Hour})
	ed := a.newToken("ed", kb.RoleEditor)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A query, whose answer says that its check of the token is done: a
	// check after the revocation would close the socket by itself.
	c, err := a.subscribe(ctx, ed, `{ viewer { role } }`)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if m, err := readMsg(ctx, c); err != nil || m.Type != "next" {
		t.Fatalf("viewer: %+v %v", m, err)
	}
	if _, err := a.Pool.Exec(ctx, `ALTER TABLE api_token DISABLE TRIGGER api_token_notify;
		UPDATE api_token SET revoked_at = now() WHERE name = 'ed'`); err != nil {
		t.Fatal(err)
	}
	// The session statistics may lag a moment behind the LISTEN.
	for killed := 0; killed == 0; {
		if err := a.Pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&killed); err != nil {
			t.Fatalf("terminating the feed's listener: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, reason, err := closedWith(ctx, c)
	if err != nil || code != server.CloseForbidden || !strings.Contains(reason, "revoked") {
		t.Errorf("closed with %d %q (%v), want 4403 saying revoked", code, reason, err)
	}
}
