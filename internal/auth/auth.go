// Package auth makes and checks API tokens and carries the viewer of a
// request in its context. A token is "pgr_" and 43 characters of base64url
// (32 random bytes); only its SHA-256 is stored. A fast hash suffices: the
// secret has 256 bits of entropy, so it cannot be guessed from its hash,
// and the lookup per request stays one index probe.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/partnergraph/partnergraph/internal/kb"
)

// Prefix starts every token, so that secret scanners and people can tell a
// partnergraph token at sight.
const Prefix = "pgr_"

// NewToken returns a fresh random token and its hash.
func NewToken() (token string, hash []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	token = Prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, Hash(token)
}

// Hash returns the SHA-256 of a token, the form in which it is stored.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// ErrMalformed reports an Authorization header that is not "Bearer <token>".
var ErrMalformed = fmt.Errorf("%w: the Authorization header must be \"Bearer <token>\"", kb.ErrUnauthenticated)

// BearerToken returns the token of an Authorization header value, "" when
// the header is empty, and ErrMalformed when it is not a bearer token.
func BearerToken(header string) (string, error) {
	if header == "" {
		return "", nil
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", ErrMalformed
	}
	return strings.TrimSpace(token), nil
}

// Lookup finds the viewer of a token hash. It returns an error wrapping
// kb.ErrNotFound for an unknown or revoked token.
type Lookup func(ctx context.Context, hash []byte) (kb.Viewer, error)

// Authenticate returns the viewer of an Authorization header value:
// kb.Anonymous without one, and an error wrapping kb.ErrUnauthenticated for
// a malformed, unknown or revoked token. Other errors (the database is
// down) pass through.
func Authenticate(ctx context.Context, header string, lookup Lookup) (kb.Viewer, error) {
	token, err := BearerToken(header)
	if err != nil || token == "" {
		return kb.Anonymous, err
	}
	v, err := lookup(ctx, Hash(token))
	if errors.Is(err, kb.ErrNotFound) {
		return kb.Anonymous, fmt.Errorf("%w: the token is unknown or revoked", kb.ErrUnauthenticated)
	}
	if err != nil {
		return kb.Anonymous, err
	}
	return v, nil
}

type ctxKey struct{}

// With returns ctx carrying the viewer v.
func With(ctx context.Context, v kb.Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// ViewerOf returns the viewer in ctx, kb.Anonymous if none.
func ViewerOf(ctx context.Context) kb.Viewer {
	if v, ok := ctx.Value(ctxKey{}).(kb.Viewer); ok {
		return v
	}
	return kb.Anonymous
}

// FromRequest returns the viewer of r as set by the middleware.
func FromRequest(r *http.Request) kb.Viewer { return ViewerOf(r.Context()) }
