package graph

import (
	"context"
	"sync"
	"time"

	"github.com/partnergraph/partnergraph/internal/kb"
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
	// Walker runs the graph walks (neighbourhoods, paths, the most
	// connected): the traversal index of package graphindex; nil walks in
	// SQL through Store.
	Walker Walker
	// Feed is the change feed the changes subscription reads.
	Feed Feed
	// TokenRecheck is how often a subscription checks that its token has
	// not been revoked; 0 means DefaultTokenRecheck.
	TokenRecheck time.Duration
	// CountBound is how many matches a root list's totalCount counts,
	// when the counters do not cover its filter, before it stops and says
	// so in totalCountIsExact; 0 means store.DefaultCountBound, -1 no bound.
	CountBound int

	// execSchema runs the selections of a walk's lists that the one-pass
	// writer does not take (walklist.go); made once, by exec.
	execOnce   sync.Once
	execSchema *executableSchema
	// walkListsMode is walkListsAuto but in tests (walklist.go).
	walkListsMode int
}

// DefaultTokenRecheck is the default of Resolver.TokenRecheck: a revoked
// token's subscriptions end within this time.
const DefaultTokenRecheck = 30 * time.Second

// Walker runs the graph walks; *store.Store (the SQL walk) and
// *graphindex.Index implement it with the same answers.
type Walker interface {
	Neighborhood(ctx context.Context, vis store.Visibility, centre int64, depth int, w store.Walk, limit int) (*store.Subgraph, error)
	Paths(ctx context.Context, vis store.Visibility, from, to int64, maxDepth, k int, w store.Walk) ([]*store.Path, error)
	MostConnected(ctx context.Context, vis store.Visibility, relations []kb.RelationType, kinds []kb.Kind, n int) ([]store.Degree, error)
}

// walker returns the Walker of r: Walker, or the store's SQL walk.
func (r *Resolver) walker() Walker {
	if r.Walker != nil {
		return r.Walker
	}
	return r.Store
}

// Feed delivers the changes committed from now until ctx ends.
type Feed interface {
	Subscribe(ctx context.Context) (<-chan store.Change, error)
}
