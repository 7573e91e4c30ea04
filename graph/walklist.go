package graph

import (
	"bytes"
	"context"
	"errors"
	"math"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/lang"
	"github.com/partnergraph/partnergraph/internal/serial"
	"github.com/vektah/gqlparser/v2/ast"
)

// The nodes and links of a walk's answer (a neighbourhood, a path) are
// lists of hundreds of elements, and a graph view asks for a few plain
// fields of each: id, kind and name of the nodes, id, type and direction
// of the links. gqlgen marshals every element of a list of objects in a
// goroutine of its own (graphql.MarshalSliceConcurrently) and every field
// through the field interceptors with a FieldContext of its own: for a
// neighbourhood of 500 nodes and about 1,000 links that was most of the
// server's CPU (docs/traversal.md, "Writing the answer"). So these lists
// are bound to model.WalkList and written here in one pass when every
// field asked of their elements is a plain field of the element's own
// struct; any other selection (a link's node, an entity's sources, a
// deferred fragment) goes to gqlgen's generated code, as before. The two
// write the same bytes: TestWalkListsWriteWhatGqlgenWrites compares them.

// walkLists implements model.WalkLists for the resolver r.
type walkLists struct{ r *Resolver }

var _ model.WalkLists = walkLists{}

// walkLists returns the lists writer of r's walks.
func (r *Resolver) walkLists() walkLists { return walkLists{r} }

// exec returns the executable schema of r, for gqlgen's generated code
// to run a selection the one-pass writer does not take.
func (r *Resolver) exec() *executableSchema {
	r.execOnce.Do(func() {
		r.execSchema = &executableSchema{Resolvers: r, Directives: Directives()}
	})
	return r.execSchema
}

// Directives are the implementations of the schema's directives.
func Directives() DirectiveRoot { return DirectiveRoot{Requires: Requires} }

// generic returns an execution context of gqlgen's generated code for the
// operation of ctx. It does not carry the request's channel of deferred
// results; a deferred fragment under a walk's lists is answered in the
// first payload, as the request's own context answered it (compared with
// the build before at 1M).
func (w walkLists) generic(ctx context.Context) *executionContext {
	return newExecutionContext(graphql.GetOperationContext(ctx), w.r.exec(), nil)
}

// How a Resolver writes a walk's lists: one pass where it can (the
// default), always gqlgen's generated code, or one pass only (an error
// where it cannot); the last two are for the tests that compare them.
const (
	walkListsAuto = iota
	walkListsGeneric
	walkListsOnePass
)

// errNotOnePass is the error of walkListsOnePass.
var errNotOnePass = errors.New("the selection is not written in one pass")

// Links resolves a walk's links for the selection of the field in ctx;
// held links (what the traversal index holds, model.Held) are read in
// full first when the selection asks for more than they hold.
func (w walkLists) Links(ctx context.Context, links []*model.Link, held bool) (*model.WalkList, error) {
	if held && !heldSuffice(ctx, linkHeld) {
		var err error
		if links, err = w.complete(ctx, links); err != nil {
			return nil, err
		}
	}
	return w.write(ctx,
		func(op *graphql.OperationContext, sel ast.SelectionSet) ([]byte, bool) {
			return writeLinks(op, sel, links)
		},
		func(ec *executionContext, sel ast.SelectionSet) graphql.Marshaler {
			return ec.marshalNLink2ᚕᚖgithubᚗcomᚋpartnergraphᚋpartnergraphᚋgraphᚋmodelᚐLinkᚄ(ctx, sel, links)
		})
}

// Nodes resolves a walk's nodes for the selection of the field in ctx:
// from heads (what the traversal index holds, model.Held) when the
// selection asks for no more and the request for no language, else read
// from PostgreSQL.
func (w walkLists) Nodes(ctx context.Context, ids []int64, heads []*kb.Entity) (*model.WalkList, error) {
	var es []model.Entity
	if heads != nil && lang.Requested(ctx) == "" && heldSuffice(ctx, headHeld) {
		for _, e := range heads {
			e.EmptyAttributes()
		}
		es = entityModels(heads)
	} else {
		var err error
		if es, err = nodesByID(ctx, ids); err != nil {
			return nil, err
		}
	}
	return w.write(ctx,
		func(op *graphql.OperationContext, sel ast.SelectionSet) ([]byte, bool) {
			return writeEntities(op, sel, es)
		},
		func(ec *executionContext, sel ast.SelectionSet) graphql.Marshaler {
			return ec.marshalNEntity2ᚕgithubᚗcomᚋpartnergraphᚋpartnergraphᚋgraphᚋmodelᚐEntityᚄ(ctx, sel, es)
		})
}

// The fields of an entity and of a link that the traversal index holds
// (store.Held), and __typename.
var (
	headHeld = map[string]bool{"__typename": true, "id": true, "kind": true, "name": true, "publicationStatus": true}
	linkHeld = map[string]bool{"__typename": true, "id": true, "type": true, "label": true, "direction": true, "role": true}
)

// heldSuffice reports whether the selection of the field in ctx asks only
// for fields of held, looking into fragments.
func heldSuffice(ctx context.Context, held map[string]bool) bool {
	fc := graphql.GetFieldContext(ctx)
	return fc != nil && walkSelection(graphql.GetOperationContext(ctx), fc.Field.Selections,
		func(f *ast.Field) bool { return held[f.Name] && len(f.SelectionSet) == 0 })
}

// complete reads held links in full, leaving out those gone since the walk
// (as store.SubgraphOf and store.PathsOf do).
func (w walkLists) complete(ctx context.Context, links []*model.Link) ([]*model.Link, error) {
	ks := make([]*kb.Link, len(links))
	for i, l := range links {
		ks[i] = &kb.Link{FromID: l.FromID, ToID: l.ToID, Type: l.Type}
	}
	full, err := w.r.Store.CompleteLinks(ctx, ks)
	if err != nil {
		return nil, err
	}
	out := make([]*model.Link, 0, len(links))
	for i, l := range full {
		if l != nil {
			out = append(out, model.LinkFrom(l, links[i].ViewedFrom))
		}
	}
	return out, nil
}

// write writes a walk's list for the selection of the field in ctx: in one
// pass where onePass can, else by gqlgen's generated code (generic), as
// the Resolver's walkListsMode allows.
func (w walkLists) write(ctx context.Context, onePass func(*graphql.OperationContext, ast.SelectionSet) ([]byte, bool),
	generic func(*executionContext, ast.SelectionSet) graphql.Marshaler) (*model.WalkList, error) {
	sel := graphql.GetFieldContext(ctx).Field.Selections
	if w.r.walkListsMode != walkListsGeneric {
		if out, ok := onePass(graphql.GetOperationContext(ctx), sel); ok {
			return &model.WalkList{JSON: out}, nil
		}
		if w.r.walkListsMode == walkListsOnePass {
			return nil, errNotOnePass
		}
	}
	// gqlgen's code runs the fields of the selection in goroutines of
	// their own, each taking a slot of a heavy request's token (package
	// serial): this resolver waits for them without its slot.
	resume := serial.Pause(ctx)
	v := generic(w.generic(ctx), sel)
	resume()
	if v == graphql.Null {
		return nil, nil // an element is null: so is the list, and its parent
	}
	return &model.WalkList{Value: v}, nil
}

// linkPlain are the fields of Link that its struct holds (no resolver, no
// directive), and __typename.
var linkPlain = map[string]bool{
	"__typename": true, "id": true, "type": true, "label": true, "direction": true, "role": true,
	"note": true, "startsOn": true, "endsOn": true, "createdAt": true, "createdBy": true,
	"confidence": true, "version": true,
}

// plainFields collects sel for an object of the given implementors and
// reports whether every field is one of plain, without a selection of its
// own and not deferred.
func plainFields(op *graphql.OperationContext, sel ast.SelectionSet, implementors []string, plain map[string]bool) ([]graphql.CollectedField, bool) {
	fields := graphql.CollectFields(op, sel, implementors)
	for _, f := range fields {
		if !plain[f.Name] || len(f.Selections) > 0 || f.IsDeferred() {
			return nil, false
		}
	}
	return fields, true
}

// bufPool holds the buffers lists are written into.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeLinks writes links as gqlgen would for sel, or reports false when
// a field needs gqlgen (see plainFields) or a value would be null where
// the schema forbids it.
func writeLinks(op *graphql.OperationContext, sel ast.SelectionSet, links []*model.Link) ([]byte, bool) {
	fields, ok := plainFields(op, sel, linkImplementors, linkPlain)
	if !ok {
		return nil, false
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	buf.WriteByte('[')
	for i, l := range links {
		if l == nil {
			return nil, false
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('{')
		for j, f := range fields {
			if written(fields[:j], f.Alias) {
				continue
			}
			if j > 0 {
				buf.WriteByte(',')
			}
			graphql.MarshalString(f.Alias).MarshalGQL(buf)
			buf.WriteByte(':')
			if !linkField(buf, f.Name, l) {
				return nil, false
			}
		}
		buf.WriteByte('}')
	}
	buf.WriteByte(']')
	return bytes.Clone(buf.Bytes()), true
}

// written reports whether a field of fields has the given alias (gqlgen
// writes an alias once; CollectFields merges them, so this is a guard).
func written(fields []graphql.CollectedField, alias string) bool {
	for _, f := range fields {
		if f.Alias == alias {
			return true
		}
	}
	return false
}

// linkField writes the field name of l as the generated code does (the
// marshalers it calls are the same); false for a null in a non-null field.
func linkField(buf *bytes.Buffer, name string, l *model.Link) bool {
	var m graphql.Marshaler
	nonNull := true
	switch name {
	case "__typename":
		m = graphql.MarshalString("Link")
	case "id":
		m = graphql.MarshalID(l.ID())
	case "type":
		m = model.MarshalRelationType(l.Type)
	case "label":
		m = graphql.MarshalString(l.Label())
	case "direction":
		m = l.Direction()
	case "role":
		m, nonNull = optString(l.Role), false
	case "note":
		m, nonNull = optString(l.Note), false
	case "startsOn":
		m, nonNull = graphql.Null, false
		if l.StartsOn != nil {
			m = model.MarshalDate(*l.StartsOn)
		}
	case "endsOn":
		m, nonNull = graphql.Null, false
		if l.EndsOn != nil {
			m = model.MarshalDate(*l.EndsOn)
		}
	case "createdAt":
		m = graphql.MarshalTime(l.CreatedAt)
	case "createdBy":
		m = graphql.MarshalString(l.CreatedBy)
	case "confidence":
		nonNull = false
		switch c := l.Confidence; {
		case c == nil:
			m = graphql.Null
		case math.IsNaN(*c) || math.IsInf(*c, 0):
			return false // an error of the generic code's, on the field's own path
		default:
			m = graphql.WrapContextMarshaler(context.Background(), graphql.MarshalFloatContext(*c))
		}
	case "version":
		m = graphql.MarshalInt(l.Version)
	default:
		return false
	}
	if nonNull && m == graphql.Null {
		return false
	}
	m.MarshalGQL(buf)
	return true
}

// optString is a nullable String.
func optString(s *string) graphql.Marshaler {
	if s == nil {
		return graphql.Null
	}
	return graphql.MarshalString(*s)
}

// implementorsOf returns the implementors list the generated code collects
// an entity's fields with, or nil for a value it would not marshal.
func implementorsOf(e model.Entity) []string {
	switch e := e.(type) {
	case *model.Partner:
		if e != nil {
			return partnerImplementors
		}
	case *model.Cooperative:
		if e != nil {
			return cooperativeImplementors
		}
	case *model.Partnership:
		if e != nil {
			return partnershipImplementors
		}
	case *model.GoodPractice:
		if e != nil {
			return goodPracticeImplementors
		}
	case *model.ForeignExample:
		if e != nil {
			return foreignExampleImplementors
		}
	case *model.Project:
		if e != nil {
			return projectImplementors
		}
	case *model.Event:
		if e != nil {
			return eventImplementors
		}
	case *model.Person:
		if e != nil {
			return personImplementors
		}
	case *model.Source:
		if e != nil {
			return sourceImplementors
		}
	}
	return nil
}

// writeEntities writes es as gqlgen would for sel, or reports false as
// writeLinks does. The plain fields of an entity are headFields: those of
// its entity row, on every entity type.
func writeEntities(op *graphql.OperationContext, sel ast.SelectionSet, es []model.Entity) ([]byte, bool) {
	type collected struct {
		implementors []string
		fields       []graphql.CollectedField
	}
	var byType [9]collected // the entity types; few lists hold them all
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	buf.WriteByte('[')
	for i, e := range es {
		impl := implementorsOf(e)
		if impl == nil {
			return nil, false
		}
		var fields []graphql.CollectedField
		for k := range byType {
			c := &byType[k]
			if c.implementors == nil {
				f, ok := plainFields(op, sel, impl, headFields)
				if !ok {
					return nil, false
				}
				c.implementors, c.fields = impl, f
			}
			if &c.implementors[0] == &impl[0] {
				fields = c.fields
				break
			}
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		b := e.(interface{ Base() *model.EntityBase }).Base()
		buf.WriteByte('{')
		for j, f := range fields {
			if written(fields[:j], f.Alias) {
				continue
			}
			if j > 0 {
				buf.WriteByte(',')
			}
			graphql.MarshalString(f.Alias).MarshalGQL(buf)
			buf.WriteByte(':')
			if !entityField(buf, f.Name, impl[0], b) {
				return nil, false
			}
		}
		buf.WriteByte('}')
	}
	buf.WriteByte(']')
	return bytes.Clone(buf.Bytes()), true
}

// entityField writes the field name of the entity b of the given type as
// the generated code does; false for a null in a non-null field.
func entityField(buf *bytes.Buffer, name, typeName string, b *model.EntityBase) bool {
	var m graphql.Marshaler
	nonNull := true
	switch name {
	case "__typename":
		m = graphql.MarshalString(typeName)
	case "id":
		m = graphql.MarshalID(b.ID())
	case "key":
		m, nonNull = optString(b.Key), false
	case "kind":
		m = graphql.MarshalString(string(b.Kind))
	case "name":
		m = graphql.MarshalString(b.Name)
	case "summary":
		m = graphql.MarshalString(b.Summary)
	case "publicationStatus":
		m = graphql.MarshalString(string(b.PublicationStatus))
	case "version":
		m = graphql.MarshalInt(b.Version)
	case "createdAt":
		m = graphql.MarshalTime(b.CreatedAt)
	case "updatedAt":
		m = graphql.MarshalTime(b.UpdatedAt)
	default:
		return false
	}
	if nonNull && m == graphql.Null {
		return false
	}
	m.MarshalGQL(buf)
	return true
}
