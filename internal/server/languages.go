package server

import (
	"context"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/lang"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The language of a request (docs/api.md, "Languages"): the
// Accept-Language header picks one of the supported languages by its
// q-values, an operation's @lang directive wins over it, and the resolvers
// read the result with lang.Requested. The answer says which language it
// asked for in Content-Language, and Vary: Accept-Language tells caches in
// between that the header changes the answer; the response cache keys on
// the negotiated language too (respcache.go).

// servedLanguage is the language an HTTP request's operation asked for,
// written by the extension and read when the answer's header is written.
type servedLanguage struct {
	mu   sync.Mutex
	lang string
}

func (s *servedLanguage) set(l string) {
	s.mu.Lock()
	s.lang = l
	s.mu.Unlock()
}

func (s *servedLanguage) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lang
}

type servedKey struct{}

// negotiateLanguage puts the language Accept-Language asks for in the
// request's context and writes Content-Language and Vary on the answer.
// WebSockets and event streams get the context only: their answers are
// many, and their writers must stay as they are to be hijacked and
// flushed.
func negotiateLanguage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &lang.Choice{Header: lang.Negotiate(r.Header.Get("Accept-Language"))}
		ctx := lang.WithChoice(r.Context(), c)
		if isWebSocket(r) || isEventStream(r) {
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		s := &servedLanguage{lang: c.Header}
		ctx = context.WithValue(ctx, servedKey{}, s)
		next.ServeHTTP(&languageWriter{ResponseWriter: w, served: s}, r.WithContext(ctx))
	})
}

// languageWriter writes Content-Language and Vary before the status.
type languageWriter struct {
	http.ResponseWriter
	served *servedLanguage
	wrote  bool
}

func (w *languageWriter) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		h := w.Header()
		h.Add("Vary", "Accept-Language")
		if l := w.served.get(); l != "" && h.Get("Content-Language") == "" {
			h.Set("Content-Language", l)
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *languageWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *languageWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush on, for answers streamed in parts.
func (w *languageWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if !w.wrote {
			w.WriteHeader(http.StatusOK)
		}
		f.Flush()
	}
}

// languageDirective reads an operation's @lang: it refuses a malformed or
// unsupported language before anything runs (BAD_USER_INPUT naming lang),
// and runs the operation with the language it names.
type languageDirective struct{}

var (
	_ graphql.HandlerExtension        = languageDirective{}
	_ graphql.OperationContextMutator = languageDirective{}
	_ graphql.OperationInterceptor    = languageDirective{}
)

// ExtensionName implements graphql.HandlerExtension.
func (languageDirective) ExtensionName() string { return "LanguageDirective" }

// Validate implements graphql.HandlerExtension.
func (languageDirective) Validate(graphql.ExecutableSchema) error { return nil }

// operationLanguage returns the language of op's @lang, "" without one.
func operationLanguage(op *ast.OperationDefinition, vars map[string]any) (string, error) {
	if op == nil {
		return "", nil
	}
	d := op.Directives.ForName("lang")
	if d == nil {
		return "", nil
	}
	v, _ := d.ArgumentMap(vars)["lang"].(string)
	l, err := lang.Parse(v)
	if err != nil {
		return "", kb.Invalid("lang", "%v", err)
	}
	return l, nil
}

// MutateOperationContext implements graphql.OperationContextMutator: a
// bad @lang is a request error, with no data.
func (languageDirective) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if _, err := operationLanguage(oc.Operation, oc.Variables); err != nil {
		return &gqlerror.Error{Message: err.Error(), Err: err}
	}
	return nil
}

// InterceptOperation implements graphql.OperationInterceptor. Each
// operation gets a choice of its own: the operations of one WebSocket
// share the connection's context.
func (languageDirective) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	l, _ := operationLanguage(oc.Operation, oc.Variables) // checked above
	if l == "" {
		return next(ctx)
	}
	c := lang.Choice{Operation: l}
	if parent := lang.ChoiceOf(ctx); parent != nil {
		c.Header = parent.Header
	}
	if s, ok := ctx.Value(servedKey{}).(*servedLanguage); ok {
		s.set(l)
	}
	return next(lang.WithChoice(ctx, &c))
}
