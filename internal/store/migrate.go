package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
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
	if len(res) > 0 {
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
