package server

import (
	"bufio"
	"context"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/graph"
	"github.com/partnergraph/partnergraph/internal/kb"
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
	// MaxCost caps the cost of an operation: each field costs 1, and the
	// cost of a list field's selection is multiplied by its first, last or
	// limit argument (or the page size it defaults to); default 10000.
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
var DefaultLimits = Limits{MaxDepth: 15, MaxCost: 10000, MaxAliases: 30, MaxRootFields: 20, MaxTokens: 5000}

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
		return limitError("the query cost", root.cost, o.MaxCost, "PARTNERGRAPH_MAX_COST")
	}
	return nil
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
			f.cost = sat(1 + sat(m.size(s)*child.cost))
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
// argument, the argument's default, or the default page size when a list
// field has those arguments but none is given; 1 for other fields.
func (m *measurer) size(f *ast.Field) int {
	if f.Definition == nil {
		return 1
	}
	n, paged := 0, false
	for _, name := range []string{"first", "last", "limit"} {
		def := f.Definition.Arguments.ForName(name)
		if def == nil {
			continue
		}
		paged = true
		if a := f.Arguments.ForName(name); a != nil {
			if v, err := a.Value.Value(m.vars); err == nil {
				if i, ok := toInt(v); ok {
					n = max(n, i)
					continue
				}
			}
		}
		if def.DefaultValue != nil {
			if v, err := def.DefaultValue.Value(nil); err == nil {
				if i, ok := toInt(v); ok {
					n = max(n, i)
				}
			}
		}
	}
	if !paged {
		return 1
	}
	if n <= 0 {
		n = graph.DefaultPageSize
	}
	return min(n, ceiling)
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
