package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/graphindex"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/server"
	"github.com/partnergraph/partnergraph/internal/store"
)

// indexed serves the reference data's database at url again, with the
// traversal index on, and waits until the index is ready.
func indexed(t *testing.T, a *api) *api {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), a.Pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	srv := server.New(server.Config{TraversalIndex: true, Logger: slog.New(slog.DiscardHandler)}, store.New(pool))
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	b := &api{t: t, URL: hs.URL, Pool: pool}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := status(t, b)
		if st.State == graphindex.StateReady {
			if st.Nodes == 0 || st.Links == 0 || st.Bytes == 0 {
				t.Fatalf("readyz reports an empty index: %+v", st)
			}
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("index not ready: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// status returns the traversal index's state as /readyz reports it.
func status(t *testing.T, a *api) graphindex.Status {
	t.Helper()
	var ready struct {
		Traversal graphindex.Status `json:"traversal"`
	}
	res, err := http.Get(a.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&ready); err != nil {
		t.Fatal(err)
	}
	return ready.Traversal
}

// heardEverywhere waits until every server of as has applied the
// notification of the last change made (its /readyz): an anonymous walk
// that starts after that must hold the change (docs/scaling.md).
func heardEverywhere(t *testing.T, as ...*api) {
	t.Helper()
	var last int64
	if err := as[0].Pool.QueryRow(context.Background(), `SELECT max(id) FROM revision`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, a := range as {
		for lastApplied(t, a.URL) < last {
			if time.Now().After(deadline) {
				t.Fatalf("revision %d not applied after 10 s", last)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// TestWalksOnTheIndexSeeEveryChangeOnEveryServer runs two servers with the
// traversal index on one database: a project unpublished and a link
// deleted through one server are out of the next anonymous walk on both
// once the change's notification reached it, and of a staff walk on
// either at once; published again the project is back.
func TestWalksOnTheIndexSeeEveryChangeOnEveryServer(t *testing.T) {
	base := newAPI(t, "reference", server.Config{})
	one, other := indexed(t, base), indexed(t, base)
	editor := one.newToken("editor", kb.RoleEditor)
	from, to := idOf(one, "coompanion"), idOf(one, "wtz-gebice")
	project := "Innowacyjny model aktywizacji zawodowej uczestników WTZ"
	projectID := idOf(one, "projekt-innowacyjny-model-aktywizacji-zawodowej-uczestnikow-wtz")

	type walks struct {
		Path *pathResult `json:"path"`
		N    struct {
			Nodes []named `json:"nodes"`
			Links []struct {
				ID string `json:"id"`
			} `json:"links"`
		} `json:"neighborhood"`
		M []struct {
			Node named `json:"node"`
		} `json:"mostConnected"`
	}
	ask := func(a *api) walks {
		t.Helper()
		var w walks
		a.query(`query($f: ID!, $t: ID!) { path(from: $f, to: $t) { `+pathFields+` }
			neighborhood(id: $t, depth: 2) { nodes { name } links { id } } mostConnected(first: 3) { node { name } } }`,
			map[string]any{"f": from, "t": to}, &w)
		return w
	}
	for _, a := range []*api{one, other} {
		w := ask(a)
		if w.Path == nil || !slices.Contains(names(w.Path.Nodes), project) || !slices.Contains(names(w.N.Nodes), project) {
			t.Fatalf("before: path %+v, neighbourhood %v, want both through the project", w.Path, names(w.N.Nodes))
		}
	}

	one.mustAs(editor, `mutation($id: ID!) { unpublish(id: $id) { id } }`, map[string]any{"id": projectID}, &struct{}{})
	heardEverywhere(t, one, other)
	for i, a := range []*api{one, other} {
		w := ask(a)
		if w.Path == nil || slices.Contains(names(w.Path.Nodes), project) {
			t.Errorf("server %d after unpublishing: path %+v, want one around the project", i, w.Path)
		}
		if slices.Contains(names(w.N.Nodes), project) {
			t.Errorf("server %d after unpublishing: neighbourhood %v shows the project", i, names(w.N.Nodes))
		}
		for _, m := range w.M {
			if m.Node.Name == project {
				t.Errorf("server %d after unpublishing: the project is among the most connected", i)
			}
		}
	}

	one.mustAs(editor, `mutation($id: ID!) { publish(id: $id) { id } }`, map[string]any{"id": projectID}, &struct{}{})
	heardEverywhere(t, one, other)
	w := ask(other)
	if w.Path == nil || !slices.Contains(names(w.Path.Nodes), project) {
		t.Fatalf("after publishing again: path %+v, want it through the project", w.Path)
	}
	// Delete every link of the neighbourhood through the other server.
	for _, l := range w.N.Links {
		other.mustAs(editor, `mutation($id: ID!) { unlink(id: $id) { deletedLinkId } }`, map[string]any{"id": l.ID}, &struct{}{})
	}
	unlinked := len(w.N.Links)
	// Staff read every commit at once, notified or not.
	var staffWalk walks
	one.mustAs(editor, `query($t: ID!) { neighborhood(id: $t, depth: 2) { nodes { name } links { id } } }`,
		map[string]any{"t": to}, &staffWalk)
	if len(staffWalk.N.Nodes) != 1 || len(staffWalk.N.Links) != 0 {
		t.Errorf("staff walk right after unlinking through the other server: %v with %d links, want WTZ Gębice alone",
			names(staffWalk.N.Nodes), len(staffWalk.N.Links))
	}
	heardEverywhere(t, one, other)
	for i, a := range []*api{one, other} {
		w := ask(a)
		if len(w.N.Nodes) != 1 || len(w.N.Links) != 0 || w.Path != nil {
			t.Errorf("server %d after unlinking: neighbourhood %v with %d links, path %+v; want WTZ Gębice alone and no path",
				i, names(w.N.Nodes), len(w.N.Links), w.Path)
		}
		// The index has caught up with every change announced, whichever
		// server made it.
		if st := status(t, a); st.State != graphindex.StateReady || st.Version < int64(2+unlinked) {
			t.Errorf("server %d: index %+v, want ready at the version of every change", i, st)
		}
	}
}
