package graph

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/seed"
)

// typedField is a typed relation field of the schema as its resolver reads
// it: on which type, which way, to which kinds (nil: any), by which types.
type typedField struct {
	typeName, method string
	dir              string // Outgoing, Incoming or Both
	kinds            []kb.Kind
	types            []kb.RelationType
}

// typedFields reads the resolvers of graph/*.resolvers.go for the calls
// that load related entries: rel(store.Dir, kinds, types...) and
// membershipConn(ctx, id, store.Dir, ...) (MEMBER_OF).
func typedFields(t *testing.T) []typedField {
	t.Helper()
	files, err := filepath.Glob("*.resolvers.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no resolvers: %v", err)
	}
	var out []typedField
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Body == nil {
				continue
			}
			star, ok := fn.Recv.List[0].Type.(*ast.StarExpr)
			if !ok {
				continue
			}
			recv := star.X.(*ast.Ident).Name
			if !strings.HasSuffix(recv, "Resolver") || recv == "Resolver" {
				continue
			}
			r := []rune(strings.TrimSuffix(recv, "Resolver"))
			r[0] = unicode.ToUpper(r[0])
			typeName := string(r)
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				id, ok := call.Fun.(*ast.Ident)
				if !ok {
					return true
				}
				switch id.Name {
				case "rel":
					tf := typedField{typeName: typeName, method: fn.Name.Name, dir: sel(call.Args[0])}
					if lit, ok := call.Args[1].(*ast.CompositeLit); ok {
						for _, e := range lit.Elts {
							k, _ := kb.KindOfTypeName(strings.TrimPrefix(sel(e), "Kind"))
							tf.kinds = append(tf.kinds, k)
						}
					}
					for _, a := range call.Args[2:] {
						tf.types = append(tf.types, relType(t, sel(a)))
					}
					out = append(out, tf)
				case "membershipConn":
					out = append(out, typedField{typeName: typeName, method: fn.Name.Name, dir: sel(call.Args[2]),
						types: []kb.RelationType{kb.RelMemberOf}})
				}
				return true
			})
		}
	}
	return out
}

// sel is the selected name of pkg.Name.
func sel(e ast.Expr) string {
	if s, ok := e.(*ast.SelectorExpr); ok {
		return s.Sel.Name
	}
	return ""
}

// relType maps the name of a kb constant (RelDemonstrates) to its type.
func relType(t *testing.T, name string) kb.RelationType {
	for _, r := range kb.Relations {
		if strings.EqualFold("Rel"+strings.ReplaceAll(string(r.Type), "_", ""), name) {
			return r.Type
		}
	}
	t.Fatalf("unknown relation constant %s", name)
	return ""
}

// TestEveryRelationHasTypedFields: every relation type can be followed
// through a typed field (not only the generic `links`) in both directions,
// on at least one kind at each end; and every link of the reference data
// can be followed from both of its ends through a typed field that lists
// the other end's kind (ForeignExample.practices for Kooperativet KOS's
// DEMONSTRATES, Project.presentedAt for the project's results at the III
// Wielkopolskie Forum WTZ, ...).
func TestEveryRelationHasTypedFields(t *testing.T) {
	fields := typedFields(t)
	if len(fields) < 20 {
		t.Fatalf("found %d typed fields, the parse is broken", len(fields))
	}
	covered := func(typeName, dir string, rt kb.RelationType, other kb.Kind) bool {
		for _, f := range fields {
			if f.typeName == typeName && (f.dir == dir || f.dir == "Both") && slices.Contains(f.types, rt) &&
				(f.kinds == nil || slices.Contains(f.kinds, other)) {
				return true
			}
		}
		return false
	}
	for _, r := range kb.Relations {
		var out, in bool
		for _, from := range r.From {
			for _, to := range r.To {
				out = out || covered(from.TypeName(), "Outgoing", r.Type, to)
				in = in || covered(to.TypeName(), "Incoming", r.Type, from)
			}
		}
		if !out || !in {
			t.Errorf("%s: a typed field from its source: %v, from its target: %v", r.Type, out, in)
		}
	}
	d, err := seed.Reference()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]kb.Kind{}
	for _, e := range d.Entities {
		kinds[e.Key] = e.Kind
	}
	var missing []string
	for _, l := range d.Links {
		from, to := kinds[l.FromKey], kinds[l.ToKey]
		if !covered(from.TypeName(), "Outgoing", l.Type, to) {
			missing = append(missing, fmt.Sprintf("%s.Outgoing %s → %s (%s → %s)", from.TypeName(), l.Type, to.TypeName(), l.FromKey, l.ToKey))
		}
		if !covered(to.TypeName(), "Incoming", l.Type, from) {
			missing = append(missing, fmt.Sprintf("%s.Incoming %s ← %s (%s → %s)", to.TypeName(), l.Type, from.TypeName(), l.FromKey, l.ToKey))
		}
	}
	sort.Strings(missing)
	for _, m := range slices.Compact(missing) {
		t.Errorf("no typed field: %s", m)
	}
}
