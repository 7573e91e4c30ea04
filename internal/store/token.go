package store

import (
	"context"
	"fmt"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// Token is a stored API token: never its secret, only its hash.
type Token struct {
	ID        int64
	Name      string
	Role      kb.Role
	CreatedAt time.Time
	RevokedAt *time.Time
}

// CreateToken stores a token by its hash and returns it.
func (s *Store) CreateToken(ctx context.Context, name string, role kb.Role, hash []byte) (*Token, error) {
	t := &Token{Name: name, Role: role}
	err := s.pool.QueryRow(ctx, `INSERT INTO api_token (name, role, hash) VALUES ($1, $2, $3)
		RETURNING id, created_at`, name, role, hash).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("create token: %w", translate(err))
	}
	return t, nil
}

// ViewerByTokenHash returns the viewer of the token with hash. It returns
// kb.ErrNotFound for an unknown or revoked token.
func (s *Store) ViewerByTokenHash(ctx context.Context, hash []byte) (kb.Viewer, error) {
	var v kb.Viewer
	err := s.pool.QueryRow(ctx, `SELECT id, name, role FROM api_token WHERE hash = $1 AND revoked_at IS NULL`, hash).
		Scan(&v.TokenID, &v.Name, &v.Role)
	if err != nil {
		return kb.Anonymous, fmt.Errorf("token: %w", translate(err))
	}
	return v, nil
}

// ViewerByTokenID returns the current viewer of token id: its name and
// role now. It returns kb.ErrNotFound for an unknown or revoked token.
func (s *Store) ViewerByTokenID(ctx context.Context, id int64) (kb.Viewer, error) {
	var v kb.Viewer
	err := s.pool.QueryRow(ctx, `SELECT id, name, role FROM api_token WHERE id = $1 AND revoked_at IS NULL`, id).
		Scan(&v.TokenID, &v.Name, &v.Role)
	if err != nil {
		return kb.Anonymous, fmt.Errorf("token %d: %w", id, translate(err))
	}
	return v, nil
}

// Tokens lists the tokens, oldest first, revoked ones included.
func (s *Store) Tokens(ctx context.Context) ([]*Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, role, created_at, revoked_at FROM api_token ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", translate(err))
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		var t Token
		if err := rows.Scan(&t.ID, &t.Name, &t.Role, &t.CreatedAt, &t.RevokedAt); err != nil {
			return nil, fmt.Errorf("tokens: %w", translate(err))
		}
		out = append(out, &t)
	}
	return out, translate(rows.Err())
}

// TokenByID returns the token id, revoked or not, or kb.ErrNotFound.
func (s *Store) TokenByID(ctx context.Context, id int64) (*Token, error) {
	t := &Token{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT name, role, created_at, revoked_at FROM api_token WHERE id = $1`, id).
		Scan(&t.Name, &t.Role, &t.CreatedAt, &t.RevokedAt)
	if err != nil {
		return nil, fmt.Errorf("token: %w", translate(err))
	}
	return t, nil
}

// RevokeToken revokes the token id; it stops working at once. It returns
// kb.ErrNotFound if there is no such token that is not revoked already.
func (s *Store) RevokeToken(ctx context.Context, id int64) (*Token, error) {
	t := &Token{ID: id}
	err := s.pool.QueryRow(ctx, `UPDATE api_token SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL
		RETURNING name, role, created_at, revoked_at`, id).Scan(&t.Name, &t.Role, &t.CreatedAt, &t.RevokedAt)
	if err != nil {
		return nil, fmt.Errorf("revoke token: %w", translate(err))
	}
	return t, nil
}

// TokenActive reports whether token id exists and is not revoked.
func (s *Store) TokenActive(ctx context.Context, id int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_token WHERE id = $1 AND revoked_at IS NULL)`, id).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("token: %w", translate(err))
	}
	return ok, nil
}
