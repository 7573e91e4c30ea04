package server_test

import (
	"context"
	"encoding/json"
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

// sameDB serves a second, independent HTTP stack (its own pool, store and
// change feed) on a's database: another server instance.
func (a *api) sameDB() *api {
	a.t.Helper()
	pool, err := pgxpool.New(context.Background(), a.Pool.Config().ConnString())
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(pool.Close)
	srv := httptest.NewServer(server.New(server.Config{Logger: slog.New(slog.DiscardHandler)}, store.New(pool)).Handler())
	a.t.Cleanup(srv.Close)
	return &api{t: a.t, URL: srv.URL, Pool: pool}
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscribe opens a graphql-transport-ws connection with token and starts
// query; it returns the connection after the server acknowledged it.
func (a *api) subscribe(ctx context.Context, token, query string) (*websocket.Conn, error) {
	url := "ws" + strings.TrimPrefix(a.URL, "http") + "/graphql"
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	send := func(m any) error {
		b, _ := json.Marshal(m)
		return c.Write(ctx, websocket.MessageText, b)
	}
	if err := send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}); err != nil {
		return nil, err
	}
	m, err := readMsg(ctx, c)
	if err != nil {
		return nil, err
	}
	if m.Type != "connection_ack" {
		c.Close(websocket.StatusNormalClosure, "")
		return nil, &wsRefused{m}
	}
	return c, send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query}})
}

type wsRefused struct{ m wsMsg }

func (e *wsRefused) Error() string { return "refused: " + e.m.Type + " " + string(e.m.Payload) }

func readMsg(ctx context.Context, c *websocket.Conn) (wsMsg, error) {
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return wsMsg{}, err
		}
		var m wsMsg
		if err := json.Unmarshal(b, &m); err != nil {
			return wsMsg{}, err
		}
		if m.Type == "ping" || m.Type == "pong" || m.Type == "ka" {
			continue
		}
		return m, nil
	}
}

type change struct {
	Operation string  `json:"operation"`
	Kind      *string `json:"kind"`
	EntityID  *string `json:"entityId"`
	Actor     string  `json:"actor"`
}

// pump reads the messages of c into a channel until c fails or ctx ends:
// a read cut short by a timeout would close a coder/websocket connection,
// so waiting for a message with a deadline is a receive from this channel.
func pump(ctx context.Context, c *websocket.Conn) <-chan wsMsg {
	ch := make(chan wsMsg, 256)
	go func() {
		defer close(ch)
		for {
			m, err := readMsg(ctx, c)
			if err != nil {
				return
			}
			ch <- m
		}
	}()
	return ch
}

// waitFor receives changes until one about entity id arrives.
func waitFor(t *testing.T, msgs <-chan wsMsg, id string, d time.Duration) change {
	t.Helper()
	deadline := time.After(d)
	for {
		var m wsMsg
		select {
		case got, ok := <-msgs:
			if !ok {
				t.Fatalf("waiting for a change of %s: the socket closed", id)
			}
			m = got
		case <-deadline:
			t.Fatalf("waiting for a change of %s: none in %s", id, d)
		}
		if m.Type != "next" {
			t.Fatalf("got %s %s, want next", m.Type, m.Payload)
		}
		var p struct {
			Data struct {
				Changes change `json:"changes"`
			} `json:"data"`
		}
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatal(err)
		}
		if ch := p.Data.Changes; ch.EntityID != nil && *ch.EntityID == id {
			return ch
		}
	}
}

// Two server instances on one database both deliver a change made through
// either of them, because the feed rides on PostgreSQL LISTEN/NOTIFY.
func TestChangeFeedReachesEveryServerInstance(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{})
	b := a.sameDB()
	tok := a.newToken("ed", kb.RoleEditor)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const q = `subscription { changes(kinds: [PROJECT]) { operation kind entityId actor } }`
	subA, err := a.subscribe(ctx, tok, q)
	if err != nil {
		t.Fatal(err)
	}
	defer subA.CloseNow()
	subB, err := b.subscribe(ctx, tok, q)
	if err != nil {
		t.Fatal(err)
	}
	defer subB.CloseNow()

	// The subscribe message has no acknowledgement: make changes until both
	// feeds are live.
	msgsA, msgsB := pump(ctx, subA), pump(ctx, subB)
	live := func(msgs <-chan wsMsg) bool {
		select {
		case _, ok := <-msgs:
			return ok
		case <-time.After(300 * time.Millisecond):
			return false
		}
	}
	for i, liveA, liveB := 0, false, false; !liveA || !liveB; i++ {
		if i == 50 {
			t.Fatal("the feeds never came live")
		}
		a.create(tok, "createProject", map[string]any{"name": unique("warm-up")})
		liveA = liveA || live(msgsA)
		liveB = liveB || live(msgsB)
	}

	for _, via := range []*api{a, b} {
		id, _ := via.create(tok, "createProject", map[string]any{"name": unique("Projekt")})
		for name, msgs := range map[string]<-chan wsMsg{"A": msgsA, "B": msgsB} {
			ch := waitFor(t, msgs, id, 10*time.Second)
			if ch.Operation != "CREATE" || ch.Kind == nil || *ch.Kind != "PROJECT" || ch.Actor != "ed" {
				t.Errorf("server %s delivered %+v, want a PROJECT create by ed", name, ch)
			}
		}
	}
	// A change the filter leaves out does not arrive; the next that passes does.
	a.create(tok, "createSource", map[string]any{"name": unique("Źródło"), "sourceKind": "ARTICLE"})
	id, _ := a.create(tok, "createProject", map[string]any{"name": unique("Projekt")})
	select {
	case m := <-msgsB:
		if !strings.Contains(string(m.Payload), id) {
			t.Errorf("next change on B: %s, want the project %s (the source filtered out)", m.Payload, id)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("no change on B in 10 s, want the project %s", id)
	}
}

func TestChangeFeedIsForStaffOnly(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, tok := range map[string]string{"anonymous": "", "reader": a.newToken("r", kb.RoleReader), "unknown": "pgr_nope"} {
		c, err := a.subscribe(ctx, tok, `subscription { changes { operation } }`)
		if err == nil {
			c.CloseNow()
			t.Errorf("%s: subscribed, want refused", name)
		}
	}
}

// Revoking a token ends its subscriptions: the socket closes with 4403
// (socket_test.go has the cases across instances, role changes and
// operations on the socket).
func TestRevokingATokenEndsItsSubscriptions(t *testing.T) {
	a := newAPI(t, "migrated", server.Config{TokenRecheck: 100 * time.Millisecond})
	tok := a.newToken("ed", kb.RoleEditor)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := a.subscribe(ctx, tok, `subscription { changes { operation } }`)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	st := store.New(a.Pool)
	ts, err := st.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeToken(ctx, ts[0].ID); err != nil {
		t.Fatal(err)
	}
	// The revocation's notification closes the socket at once; when the
	// subscription's own recheck of the token (TokenRecheck) comes first,
	// as under a loaded machine's scheduling, it sends the refusal first,
	// then closes.
	m, err := readMsg(ctx, c)
	if err == nil && m.Type == "next" && strings.Contains(string(m.Payload), `"code":"UNAUTHENTICATED"`) {
		m, err = readMsg(ctx, c)
	}
	if code := websocket.CloseStatus(err); code != server.CloseForbidden {
		t.Errorf("after revoking the token: %+v, %v; want the socket closed with 4403", m, err)
	}
}
