// Package migrations holds the numbered SQL migrations of the database
// schema, embedded in the binary and applied with goose.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
