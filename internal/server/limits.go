package server

import (
	"bufio"
	"context"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/graph"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
)

// Limits bounds what one GraphQL operation may ask for. The zero value of a
// field means its default; a negative value turns the limit off.
type Limits struct {
	// MaxDepth caps the nesting of fields (fragments do not count as a
	// level); default 15.
	MaxDepth int
	// MaxCost caps the estimated cost of an operation, measured before
	// any resolver runs: each field costs 1, the cost of a list field's
	// selection is multiplied by the number of items it may return (its
	// first, last or limit argument, or the page size it defaults to),
	// through every level of nesting, and the root fields that scan or
	// traverse the graph add a fixed cost; default 25000. See docs/api.md,
	// "Query cost".
	MaxCost int
	// MaxAliases caps the aliased fields of an operation; default 30.
	MaxAliases int
	// MaxRootFields caps the fields at the root of an operation; default 20.
	MaxRootFields int
	// MaxTokens caps the tokens of a document, counted before it is
	// parsed; default 5000.
	MaxTokens int
}

// DefaultLimits are the limits of an operation unless configured.
var DefaultLimits = Limits{MaxDepth: 15, MaxCost: 25000, MaxAliases: 30, MaxRootFields: 20, MaxTokens: 5000}

func (l *Limits) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxDepth, DefaultLimits.MaxDepth)
	def(&l.MaxCost, DefaultLimits.MaxCost)
	def(&l.MaxAliases, DefaultLimits.MaxAliases)
	def(&l.MaxRootFields, DefaultLimits.MaxRootFields)
	def(&l.MaxTokens, DefaultLimits.MaxTokens)
}

// limitError is a LIMIT_EXCEEDED error that names the limit, the value found
// and the setting that changes it.
func limitError(what string, got, limit int, setting string) *gqlerror.Error {
	return &gqlerror.Error{
		Message: fmt.Sprintf("%s is %d, over the limit of %d (%s)", what, got, limit, setting),
		Err:     kb.ErrLimitExceeded,
	}
}

// costError is the LIMIT_EXCEEDED error of an operation whose estimated
// cost is over the limit; its extensions carry the cost and the limit, so
// that a client can tell how far to shrink its pages (docs/api.md, "Query
// cost").
func costError(cost, limit int) *gqlerror.Error {
	e := limitError("the query cost", cost, limit, "PARTNERGRAPH_MAX_COST")
	e.Extensions = map[string]any{"cost": cost, "maxCost": limit}
	return e
}

// operationLimits is a gqlgen extension that enforces Limits: the token
// count before parsing, the rest on the validated document before any
// resolver runs.
type operationLimits struct {
	Limits
	noIntrospection bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = operationLimits{}

func (operationLimits) ExtensionName() string                   { return "OperationLimits" }
func (operationLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters counts the tokens of the document without
// building it, so that a huge document costs no more than a scan.
func (o operationLimits) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	if o.MaxTokens < 0 || p.Query == "" {
		return nil
	}
	lx := lexer.New(&ast.Source{Input: p.Query})
	n := 0
	for {
		tok, err := lx.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			// A lexical error is the parser's to report.
			return nil
		}
		if n++; n > o.MaxTokens {
			return limitError("the number of tokens in the document", n, o.MaxTokens, "PARTNERGRAPH_MAX_TOKENS")
		}
	}
}

// MutateOperationContext measures the chosen operation. Validation has
// already refused fragment cycles, and each fragment is measured once, so a
// fragment bomb costs time in proportion to its text, not its expansion.
func (o operationLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if op == nil {
		return nil
	}
	m := measurer{doc: oc.Doc, vars: oc.Variables, memo: map[string]measure{}}
	root := m.selection(op.SelectionSet)
	if o.noIntrospection && m.introspects {
		// gqlgen's own refusal is an untyped error, which would read as
		// INTERNAL.
		return &gqlerror.Error{
			Message: "introspection is turned off on this server (PARTNERGRAPH_INTROSPECTION=false)",
			Err:     kb.ErrForbidden,
		}
	}
	switch {
	case o.MaxRootFields >= 0 && root.fields > o.MaxRootFields:
		return limitError("the number of root fields", root.fields, o.MaxRootFields, "PARTNERGRAPH_MAX_ROOT_FIELDS")
	case o.MaxAliases >= 0 && root.aliases > o.MaxAliases:
		return limitError("the number of aliases", root.aliases, o.MaxAliases, "PARTNERGRAPH_MAX_ALIASES")
	case o.MaxDepth >= 0 && root.depth > o.MaxDepth:
		return limitError("the query depth", root.depth, o.MaxDepth, "PARTNERGRAPH_MAX_DEPTH")
	case o.MaxCost >= 0 && root.cost > o.MaxCost:
		return costError(root.cost, o.MaxCost)
	}
	// The admission gate of heavy requests reads it (heavy.go).
	oc.Stats.SetExtension(costStat, root.cost)
	return nil
}

// costStat names the estimated cost of an operation among its stats.
const costStat = "partnergraph.cost"

// operationCost is the estimated cost of the operation, as operationLimits
// measured it; -1 when it was not measured.
func operationCost(oc *graphql.OperationContext) int {
	if n, ok := oc.Stats.GetExtension(costStat).(int); ok {
		return n
	}
	return -1
}

// measure is what a selection set asks for.
type measure struct {
	fields  int // fields at this level, through fragments
	aliases int // aliased fields at every level, as expanded
	depth   int // deepest field nesting
	cost    int // fields at every level, lists multiplied by their size
}

// ceiling keeps sums and products from overflowing: far above any limit.
const ceiling = 1 << 40

func sat(n int) int { return min(n, ceiling) }

type measurer struct {
	doc  *ast.QueryDocument
	vars map[string]any
	memo map[string]measure
	// introspects is whether the operation asks for __schema or __type.
	introspects bool
}

func (m *measurer) selection(set ast.SelectionSet) measure {
	var out measure
	add := func(x measure) {
		out.fields = sat(out.fields + x.fields)
		out.aliases = sat(out.aliases + x.aliases)
		out.depth = max(out.depth, x.depth)
		out.cost = sat(out.cost + x.cost)
	}
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				// Introspection is bounded by the schema and by the
				// validator's own introspection depth rule.
				if s.Name == "__schema" || s.Name == "__type" {
					m.introspects = true
				}
				out.fields++
				continue
			}
			child := m.selection(s.SelectionSet)
			f := measure{fields: 1, aliases: child.aliases, depth: child.depth + 1}
			if s.Alias != "" && s.Alias != s.Name {
				f.aliases = sat(f.aliases + 1)
			}
			f.cost = sat(1 + m.base(s) + sat(m.size(s)*child.cost))
			add(f)
		case *ast.InlineFragment:
			add(m.selection(s.SelectionSet))
		case *ast.FragmentSpread:
			x, ok := m.memo[s.Name]
			if !ok {
				m.memo[s.Name] = measure{} // a cycle, refused by validation, ends here
				if def := m.doc.Fragments.ForName(s.Name); def != nil {
					x = m.selection(def.SelectionSet)
				}
				m.memo[s.Name] = x
			}
			add(x)
		}
	}
	return out
}

// size is how many items a field may return: its first, last or limit
// argument, the argument's default, or the page size the field defaults
// to when a list field has those arguments but none is given (10 for the
// related lists of an entity, 20 for the rest); for paths, k paths of up
// to maxDepth+1 entities; for path, maxDepth+1; for nodes(ids:), the
// number of ids; 1 for other fields. Variables count as given.
func (m *measurer) size(f *ast.Field) int {
	if f.Definition == nil {
		return 1
	}
	switch f.Name {
	case "paths", "path":
		if f.ObjectDefinition == nil || f.ObjectDefinition.Name != "Query" {
			break
		}
		n := m.intArg(f, "maxDepth", 6) + 1
		if f.Name == "paths" {
			n = sat(n * m.intArg(f, "k", 3))
		}
		return max(n, 1)
	case "nodes":
		if f.ObjectDefinition != nil && f.ObjectDefinition.Name == "Query" {
			if a := f.Arguments.ForName("ids"); a != nil {
				if v, err := a.Value.Value(m.vars); err == nil {
					if ids, ok := v.([]any); ok {
						return max(len(ids), 1)
					}
				}
			}
		}
	}
	n, paged := 0, false
	for _, name := range []string{"first", "last", "limit"} {
		if f.Definition.Arguments.ForName(name) == nil {
			continue
		}
		paged = true
		n = max(n, m.intArg(f, name, 0))
	}
	if !paged {
		return 1
	}
	if n <= 0 {
		n = graph.DefaultPageSize
		if relatedList(f) {
			n = graph.DefaultRelatedPageSize
		}
	}
	return min(n, ceiling)
}

// Base costs of the root fields whose work does not follow the size of
// their answer: they scan or traverse the graph before they return their
// few rows. A request may hold a handful of them, not twenty
// (docs/api.md, "Query cost").
const (
	// costMostConnected is a scan of the link table, grouped.
	costMostConnected = 12000
	// costAggregate is a grouped count over the entities of a kind.
	costAggregate = 2000
	// costPathSearch is one bidirectional search between two entities;
	// paths runs up to k of them.
	costPathSearch = 1000
	// costFilterPart is each filter inside a filter's and, or and not: one
	// more condition on every row the list reads (store.MaxFilterParts
	// bounds how many a filter holds).
	costFilterPart = 50
)

// base is the fixed cost of f beyond the items it returns.
func (m *measurer) base(f *ast.Field) int {
	if f.ObjectDefinition == nil || f.ObjectDefinition.Name != "Query" {
		return 0
	}
	switch f.Name {
	case "mostConnected":
		return costMostConnected
	case "aggregate":
		return costAggregate
	case "path":
		return costPathSearch
	case "paths":
		return sat(costPathSearch * max(m.intArg(f, "k", 3), 1))
	}
	if a := f.Arguments.ForName("filter"); a != nil {
		if v, err := a.Value.Value(m.vars); err == nil {
			return sat(costFilterPart * filterParts(v, 0))
		}
	}
	return 0
}

// filterParts counts the filters inside the and, or and not of a filter
// argument's value, down to a depth past which the filter is refused
// anyway (store.MaxFilterDepth).
func filterParts(v any, depth int) int {
	obj, ok := v.(map[string]any)
	if !ok || depth > store.MaxFilterDepth {
		return 0
	}
	n := 0
	for _, key := range []string{"and", "or"} {
		if list, ok := obj[key].([]any); ok {
			for _, x := range list {
				n = sat(n + 1 + filterParts(x, depth+1))
			}
		}
	}
	if x, ok := obj["not"]; ok && x != nil {
		n = sat(n + 1 + filterParts(x, depth+1))
	}
	return n
}

// intArg is the value of f's argument name as given (through variables
// too), else its default in the schema, else def.
func (m *measurer) intArg(f *ast.Field, name string, def int) int {
	if a := f.Arguments.ForName(name); a != nil {
		if v, err := a.Value.Value(m.vars); err == nil {
			if i, ok := toInt(v); ok {
				return max(i, 0)
			}
		}
	}
	if d := f.Definition.Arguments.ForName(name); d != nil && d.DefaultValue != nil {
		if v, err := d.DefaultValue.Value(nil); err == nil {
			if i, ok := toInt(v); ok {
				return max(i, 0)
			}
		}
	}
	return def
}

// relatedList is whether f is one of the typed related lists of an entity
// (a practice's cases), whose default page is graph.DefaultRelatedPageSize:
// a connection on a type that implements Entity, other than the generic
// links and the history.
func relatedList(f *ast.Field) bool {
	o := f.ObjectDefinition
	if o == nil || f.Name == "links" || f.Name == "history" || !strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		return false
	}
	return slices.Contains(o.Interfaces, "Entity")
}

func toInt(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	}
	return 0, false
}

// gateGraphQL refuses what gqlgen's transports would answer without an
// error code: a method other than GET and POST (405), a POST whose body is
// not JSON (415), and a POST whose body is a JSON array, a batch of
// operations, which the POST transport does not run and would answer with a
// decoding error that echoes the whole body (400 LIMIT_EXCEEDED).
func gateGraphQL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		case http.MethodPost:
		default:
			// HEAD too: a GraphQL answer has no meaning without its body.
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeRefusal(w, refusal{Code: CodeBadUserInput, Status: http.StatusMethodNotAllowed, Message: "use GET or POST for /graphql"})
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			writeRefusal(w, refusal{Code: CodeBadUserInput, Status: http.StatusUnsupportedMediaType,
				Message: "the Content-Type of a POST to /graphql must be application/json"})
			return
		}
		br := bufio.NewReader(r.Body)
		for {
			b, err := br.Peek(1)
			if err != nil {
				break
			}
			if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' {
				_, _ = br.ReadByte()
				continue
			}
			if b[0] == '[' {
				writeRefusal(w, refusal{Code: CodeLimitExceeded, Status: http.StatusBadRequest,
					Message: "batched operations are not supported: the limit is 1 operation per request; send each operation in its own request"})
				return
			}
			break
		}
		r.Body = struct {
			*bufio.Reader
			closer
		}{br, closer{r.Body}}
		next.ServeHTTP(w, r)
	})
}

type closer struct{ body interface{ Close() error } }

func (c closer) Close() error { return c.body.Close() }
