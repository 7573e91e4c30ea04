// Package storetest holds the template databases that the tests of several
// packages clone: one with the schema migrated, one with the reference data
// loaded too. Pass them to pgtest.Main and name them in pgtest.NewDB.
package storetest

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/partnergraph/partnergraph/internal/pgtest"
	"github.com/partnergraph/partnergraph/internal/seed"
	"github.com/partnergraph/partnergraph/internal/store"
)

// Migrated is a database with every migration applied and no data.
var Migrated = pgtest.Template{Name: "migrated", Prepare: func(ctx context.Context, conn string) error {
	return withMigrated(ctx, conn, func(*pgxpool.Pool) error { return nil })
}}

// Reference is Migrated with the reference data set loaded.
var Reference = pgtest.Template{Name: "reference", Prepare: func(ctx context.Context, conn string) error {
	return withMigrated(ctx, conn, func(pool *pgxpool.Pool) error {
		ds, err := seed.Reference()
		if err != nil {
			return err
		}
		_, err = store.New(pool).ApplyDataset(ctx, "seed", *ds)
		return err
	})
}}

// withMigrated migrates the database at conn and hands fn a pool on it,
// closed afterwards.
func withMigrated(ctx context.Context, conn string, fn func(*pgxpool.Pool) error) error {
	pool, err := pgxpool.New(ctx, conn)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := store.Migrate(ctx, pool); err != nil {
		return err
	}
	return fn(pool)
}
