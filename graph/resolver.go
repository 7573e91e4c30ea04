package graph

import (
	"context"
	"time"

	"github.com/partnergraph/partnergraph/internal/store"
)

// Page size limits of every list.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	// DefaultRelatedPageSize is the page size of the related lists of an
	// entity (a cooperative's founders, a practice's cases) when neither
	// first nor last is given: small, as such lists are asked for once
	// per entity of a page. They are capped at MaxPageSize too.
	DefaultRelatedPageSize = 10
	// MaxNodes caps the IDs of one nodes(ids:) call.
	MaxNodes = 100
)

// Resolver is the root resolver and the dependency-injection point of the
// GraphQL layer. Resolvers stay thin: they check input, ask a per-request
// loader (internal/loader) or the store, and map domain values to models.
type Resolver struct {
	Store *store.Store
	// Feed is the change feed the changes subscription reads.
	Feed Feed
	// TokenRecheck is how often a subscription checks that its token has
	// not been revoked; 0 means DefaultTokenRecheck.
	TokenRecheck time.Duration
}

// DefaultTokenRecheck is the default of Resolver.TokenRecheck: a revoked
// token's subscriptions end within this time.
const DefaultTokenRecheck = 30 * time.Second

// Feed delivers the changes committed from now until ctx ends.
type Feed interface {
	Subscribe(ctx context.Context) (<-chan store.Change, error)
}
