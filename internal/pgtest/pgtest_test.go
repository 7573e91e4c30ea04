package pgtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	Main(m, Template{Name: "widgets", Prepare: func(ctx context.Context, connString string) error {
		conn, err := pgx.Connect(ctx, connString)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE widget (name text PRIMARY KEY); INSERT INTO widget VALUES ('template')")
		return err
	}})
}

func connect(t *testing.T, connString string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), connString)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func widgets(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), "SELECT name FROM widget ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestDatabasesFromOneTemplateAreIsolated(t *testing.T) {
	a := connect(t, NewDB(t, "widgets"))
	b := connect(t, NewDB(t, "widgets"))
	if _, err := a.Exec(t.Context(), "INSERT INTO widget VALUES ('only in a')"); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(widgets(t, a)); got != "[only in a template]" {
		t.Errorf("widgets in a: got %s, want [only in a template]", got)
	}
	if got := fmt.Sprint(widgets(t, b)); got != "[template]" {
		t.Errorf("widgets in b: got %s, want [template]", got)
	}
}

func TestParallelTestsGetTheirOwnDatabase(t *testing.T) {
	t.Run("group", func(t *testing.T) {
		for i := range 6 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				conn := connect(t, NewDB(t, "widgets"))
				mine := fmt.Sprintf("widget %d", i)
				if _, err := conn.Exec(t.Context(), "INSERT INTO widget VALUES ($1)", mine); err != nil {
					t.Fatal(err)
				}
				if got, want := fmt.Sprint(widgets(t, conn)), fmt.Sprintf("[template %s]", mine); got != want {
					t.Errorf("widgets: got %s, want %s", got, want)
				}
			})
		}
	})

	// The group has ended, so its databases have been dropped.
	admin := connect(t, AdminConnString())
	var left int
	if err := admin.QueryRow(t.Context(), "SELECT count(*) FROM pg_database WHERE datname LIKE 'test_testparalleltests%'").Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("databases left after the tests: got %d, want 0", left)
	}
}
