package explorer_test

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// standInSchema is the schema of the stand-in endpoint: small, but with an
// argument, a list, an object type and an enum, so that GraphiQL's
// documentation and autocompletion have something to work with.
const standInSchema = `
"A stand-in for the partnergraph API, for the explorer's tests."
type Query {
  "A fixed greeting."
  greeting: String!
  "Every partner."
  partners(kind: PartnerKind): [Partner!]!
}

"An organisation we work with."
type Partner {
  id: ID!
  name: String!
  kind: PartnerKind!
}

enum PartnerKind {
  SUPPLIER
  CUSTOMER @deprecated(reason: "Say CLIENT.")
  CLIENT
}
`

// greeting is the stand-in's answer to { greeting }.
const greeting = "hello from the stand-in"

// standIn is a GraphQL endpoint for the explorer's tests. It validates each
// query against standInSchema with gqlparser, as a real server does, and
// answers it from a fixed tree of data, which holds a real introspection
// result built from the schema. It ignores field arguments and variables and
// runs queries only: enough for GraphiQL, not a GraphQL server.
type standIn struct {
	schema *ast.Schema
	root   map[string]any

	mu      sync.Mutex
	queries []string // the operations run so far, by name or "anonymous"
}

// newStandIn returns a stand-in endpoint; it panics if standInSchema is
// invalid.
func newStandIn() *standIn {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "standin.graphqls", Input: standInSchema})
	return &standIn{
		schema: schema,
		root: map[string]any{
			"__typename": "Query",
			"__schema":   introspect(schema),
			"greeting":   greeting,
			"partners": []any{
				map[string]any{"__typename": "Partner", "id": "1", "name": "Acme", "kind": "SUPPLIER"},
			},
		},
	}
}

// Queries returns the names of the operations run so far.
func (s *standIn) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

// ServeHTTP answers a GraphQL-over-HTTP POST with a JSON body.
func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST a query", http.StatusMethodNotAllowed)
		return
	}
	var req struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "decode the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/graphql-response+json")
	doc, errs := gqlparser.LoadQueryWithRules(s.schema, req.Query, nil) // nil: the default rules
	if len(errs) > 0 {
		writeJSON(w, map[string]any{"errors": errs})
		return
	}
	op := doc.Operations.ForName(req.OperationName)
	switch {
	case op == nil:
		errs = gqlerror.List{gqlerror.Errorf("no operation %q", req.OperationName)}
	case op.Operation != ast.Query:
		errs = gqlerror.List{gqlerror.Errorf("the stand-in runs queries only")}
	}
	if len(errs) > 0 {
		writeJSON(w, map[string]any{"errors": errs})
		return
	}
	s.mu.Lock()
	s.queries = append(s.queries, cmp.Or(op.Name, "anonymous"))
	s.mu.Unlock()
	writeJSON(w, map[string]any{"data": selectFields(s.root, op.SelectionSet)})
}

// writeJSON writes v; a failure means the client went away.
func writeJSON(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

// selectFields picks the selected fields out of obj, recursively, under their
// response keys (an alias, or else the field's name).
func selectFields(obj map[string]any, set ast.SelectionSet) map[string]any {
	out := make(map[string]any)
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			out[sel.Alias] = selectValue(obj[sel.Name], sel.SelectionSet)
		case *ast.FragmentSpread:
			maps.Copy(out, selectFields(obj, sel.Definition.SelectionSet))
		case *ast.InlineFragment:
			maps.Copy(out, selectFields(obj, sel.SelectionSet))
		}
	}
	return out
}

// selectValue applies set to each object in v.
func selectValue(v any, set ast.SelectionSet) any {
	switch v := v.(type) {
	case map[string]any:
		return selectFields(v, set)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = selectValue(e, set)
		}
		return out
	default:
		return v
	}
}

// introspect returns the value of __schema for schema, with every field that
// graphql-js's introspection query asks for.
func introspect(schema *ast.Schema) map[string]any {
	var types []any
	for _, name := range slices.Sorted(maps.Keys(schema.Types)) {
		types = append(types, fullType(schema, schema.Types[name]))
	}
	var directives []any
	for _, name := range slices.Sorted(maps.Keys(schema.Directives)) {
		d := schema.Directives[name]
		locations := make([]any, len(d.Locations))
		for i, l := range d.Locations {
			locations[i] = string(l)
		}
		directives = append(directives, map[string]any{
			"name":         d.Name,
			"description":  orNil(d.Description),
			"locations":    locations,
			"args":         arguments(schema, d.Arguments),
			"isRepeatable": d.IsRepeatable,
		})
	}
	return map[string]any{
		"description":      orNil(schema.Description),
		"queryType":        namedRef(schema.Query),
		"mutationType":     namedRef(schema.Mutation),
		"subscriptionType": namedRef(schema.Subscription),
		"types":            types,
		"directives":       directives,
	}
}

// fullType describes a named type, as __Type does.
func fullType(schema *ast.Schema, def *ast.Definition) map[string]any {
	t := map[string]any{
		"kind":           string(def.Kind),
		"name":           def.Name,
		"description":    orNil(def.Description),
		"specifiedByURL": nil,
		"isOneOf":        false,
		"fields":         nil,
		"inputFields":    nil,
		"interfaces":     nil,
		"enumValues":     nil,
		"possibleTypes":  nil,
	}
	switch def.Kind {
	case ast.Object, ast.Interface:
		var fields, interfaces []any
		for _, f := range def.Fields {
			if len(f.Name) > 1 && f.Name[:2] == "__" {
				continue // __typename, __schema and __type are not listed
			}
			reason, deprecated := deprecation(f.Directives)
			fields = append(fields, map[string]any{
				"name":              f.Name,
				"description":       orNil(f.Description),
				"args":              arguments(schema, f.Arguments),
				"type":              typeRef(schema, f.Type),
				"isDeprecated":      deprecated,
				"deprecationReason": reason,
			})
		}
		for _, name := range def.Interfaces {
			interfaces = append(interfaces, namedRef(schema.Types[name]))
		}
		t["fields"], t["interfaces"] = orEmpty(fields), orEmpty(interfaces)
	case ast.InputObject:
		var inputs []any
		for _, f := range def.Fields {
			inputs = append(inputs, inputValue(schema, f.Name, f.Description, f.Type, f.DefaultValue, f.Directives))
		}
		t["inputFields"] = orEmpty(inputs)
	case ast.Enum:
		var values []any
		for _, v := range def.EnumValues {
			reason, deprecated := deprecation(v.Directives)
			values = append(values, map[string]any{
				"name":              v.Name,
				"description":       orNil(v.Description),
				"isDeprecated":      deprecated,
				"deprecationReason": reason,
			})
		}
		t["enumValues"] = orEmpty(values)
	}
	if def.Kind == ast.Interface || def.Kind == ast.Union {
		var possible []any
		for _, p := range schema.GetPossibleTypes(def) {
			possible = append(possible, namedRef(p))
		}
		t["possibleTypes"] = orEmpty(possible)
	}
	return t
}

// arguments describes the arguments of a field or directive, as __InputValue
// does.
func arguments(schema *ast.Schema, args ast.ArgumentDefinitionList) []any {
	out := []any{}
	for _, a := range args {
		out = append(out, inputValue(schema, a.Name, a.Description, a.Type, a.DefaultValue, a.Directives))
	}
	return out
}

// inputValue describes an argument or input field.
func inputValue(schema *ast.Schema, name, description string, typ *ast.Type, def *ast.Value, dirs ast.DirectiveList) map[string]any {
	reason, deprecated := deprecation(dirs)
	var defaultValue any
	if def != nil {
		defaultValue = def.String()
	}
	return map[string]any{
		"name":              name,
		"description":       orNil(description),
		"type":              typeRef(schema, typ),
		"defaultValue":      defaultValue,
		"isDeprecated":      deprecated,
		"deprecationReason": reason,
	}
}

// typeRef describes a type reference, wrapping types in NON_NULL and LIST.
func typeRef(schema *ast.Schema, t *ast.Type) any {
	switch {
	case t.NonNull:
		inner := *t
		inner.NonNull = false
		return map[string]any{"kind": "NON_NULL", "name": nil, "ofType": typeRef(schema, &inner)}
	case t.Elem != nil:
		return map[string]any{"kind": "LIST", "name": nil, "ofType": typeRef(schema, t.Elem)}
	}
	return namedRef(schema.Types[t.NamedType])
}

// namedRef refers to a named type, or is nil for a missing root type.
func namedRef(def *ast.Definition) any {
	if def == nil {
		return nil
	}
	return map[string]any{"kind": string(def.Kind), "name": def.Name, "ofType": nil}
}

// deprecation returns the reason of an @deprecated directive among dirs, and
// whether there is one.
func deprecation(dirs ast.DirectiveList) (any, bool) {
	d := dirs.ForName("deprecated")
	if d == nil {
		return nil, false
	}
	if arg := d.Arguments.ForName("reason"); arg != nil && arg.Value != nil {
		return arg.Value.Raw, true
	}
	return "No longer supported", true
}

// orNil turns an empty description into null.
func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// orEmpty turns a nil list into an empty one: the list fields of a type of
// the right kind are never null.
func orEmpty(list []any) []any {
	if list == nil {
		return []any{}
	}
	return list
}
