package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/migrations"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// provider opens a goose provider for the embedded migrations on pool. A
// session advisory lock keeps two servers starting at once from migrating
// the same database twice.
func provider(pool *pgxpool.Pool) (*goose.Provider, *sql.DB, error) {
	db := stdlib.OpenDBFromPool(pool)
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return p, db, nil
}

// Migrate applies every pending migration and returns how many it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	p, db, err := provider(pool)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	defer db.Close()
	res, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", translate(err))
	}
	if err := syncPracticeBackers(ctx, pool); err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	if len(res) > 0 {
		// New tables, and tables a migration rewrote, plan on default
		// estimates until autovacuum analyzes them, which for a table of
		// millions of rows may be hours away (after migrations 00014 to
		// 00019 at 1M, practice_facet, practice_partner and entity_place
		// had no statistics and link had 361,000 dead rows unanalyzed).
		// ANALYZE of the whole database took 51 s at 1M, cold.
		if _, err := pool.Exec(ctx, `ANALYZE`); err != nil {
			return len(res), fmt.Errorf("migrate: analyze: %w", translate(err))
		}
		// Search documents are computed in Go, so a migration cannot fill
		// them for entities written before the search migration (or by a
		// binary without it): index whatever has none.
		if _, _, err := New(pool).Reindex(ctx, false); err != nil {
			return len(res), fmt.Errorf("migrate: %w", err)
		}
	}
	return len(res), nil
}

// MigrationsPending reports whether the database lacks migrations that this
// binary carries.
func MigrationsPending(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	p, db, err := provider(pool)
	if err != nil {
		return false, fmt.Errorf("migration status: %w", err)
	}
	defer db.Close()
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("migration status: %w", translate(err))
	}
	return pending, nil
}

// Empty reports whether the database holds no entities yet.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var any bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM entity)`).Scan(&any); err != nil {
		return false, fmt.Errorf("check for data: %w", translate(err))
	}
	return !any, nil
}

// syncPracticeBackers makes practice_backer (migration 00019) hold the
// relations of kb.PracticeCaseBackersIn and Out, and recomputes every
// practice's partners when it did not: the rule lives in Go, the triggers
// that keep its answer in PostgreSQL, and a relation renamed or added in
// Go must not leave them apart. One read when nothing changed.
func syncPracticeBackers(ctx context.Context, pool *pgxpool.Pool) error {
	type backer struct {
		Type     string
		Outgoing bool
	}
	var want []backer
	for _, t := range kb.PracticeCaseBackersIn {
		want = append(want, backer{string(t), false})
	}
	for _, t := range kb.PracticeCaseBackersOut {
		want = append(want, backer{string(t), true})
	}
	cmp := func(a, b backer) int {
		if a.Type < b.Type {
			return -1
		}
		if a.Type > b.Type {
			return 1
		}
		return 0
	}
	slices.SortFunc(want, cmp)
	rows, err := pool.Query(ctx, `SELECT type, outgoing FROM practice_backer ORDER BY type`)
	if err != nil {
		return fmt.Errorf("practice backers: %w", translate(err))
	}
	have, err := pgx.CollectRows(rows, pgx.RowToStructByPos[backer])
	if err != nil {
		return fmt.Errorf("practice backers: %w", translate(err))
	}
	if slices.Equal(have, want) {
		return nil
	}
	err = New(pool).inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM practice_backer`); err != nil {
			return translate(err)
		}
		for _, b := range want {
			if _, err := tx.Exec(ctx, `INSERT INTO practice_backer (type, outgoing) VALUES ($1, $2)`, b.Type, b.Outgoing); err != nil {
				return translate(err)
			}
		}
		_, err := tx.Exec(ctx, `SELECT practice_partner_refresh(ARRAY(SELECT DISTINCT to_id FROM link WHERE type = 'DEMONSTRATES'))`)
		return translate(err)
	})
	if err != nil {
		return fmt.Errorf("practice backers: %w", err)
	}
	return nil
}
