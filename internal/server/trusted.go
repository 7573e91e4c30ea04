package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TrustedDocuments is an allow-list of GraphQL documents, keyed by the
// lowercase hex SHA-256 of their text.
type TrustedDocuments map[string]string

// LoadTrustedDocuments reads every .graphql file in dir (not its
// subdirectories) as one trusted document. A client sends a document's
// exact text, or only its hash as an automatic persisted query
// (extensions.persistedQuery.sha256Hash). The text without its leading and
// trailing white space is registered too, since editors add a final
// newline. It returns an error naming the file that could not be read, or
// if dir holds no .graphql file.
func LoadTrustedDocuments(dir string) (TrustedDocuments, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.graphql"))
	if err != nil {
		return nil, fmt.Errorf("trusted documents in %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("trusted documents: %s holds no .graphql file", dir)
	}
	docs := TrustedDocuments{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("trusted documents: %w", err)
		}
		docs.Add(string(b))
		docs.Add(strings.TrimSpace(string(b)))
	}
	return docs, nil
}

// Add registers one document.
func (d TrustedDocuments) Add(text string) {
	sum := sha256.Sum256([]byte(text))
	d[hex.EncodeToString(sum[:])] = text
}

// trustedOnly is a gqlgen extension that lets only trusted documents run.
// It runs before automatic persisted queries, so that APQ cannot register
// a document of the client's own.
type trustedOnly struct{ docs TrustedDocuments }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = trustedOnly{}

func (trustedOnly) ExtensionName() string                   { return "TrustedDocuments" }
func (trustedOnly) Validate(graphql.ExecutableSchema) error { return nil }

func (t trustedOnly) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query != "" {
		sum := sha256.Sum256([]byte(p.Query))
		if _, ok := t.docs[hex.EncodeToString(sum[:])]; ok {
			return nil
		}
		return untrusted()
	}
	if pq, ok := p.Extensions["persistedQuery"].(map[string]any); ok {
		if hash, ok := pq["sha256Hash"].(string); ok {
			if text, ok := t.docs[strings.ToLower(hash)]; ok {
				p.Query = text
				return nil
			}
		}
	}
	return untrusted()
}

func untrusted() *gqlerror.Error {
	return &gqlerror.Error{
		Message: "this server runs trusted documents only, and this operation is not one of them; register its document (PARTNERGRAPH_TRUSTED_DOCUMENTS)",
		Err:     kb.ErrForbidden,
	}
}
