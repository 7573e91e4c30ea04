package server

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/partnergraph/partnergraph/graph/model"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestEncodeResponseWritesWhatJSONMarshalWrites checks the response
// writer's fast path against encoding/json on every member a response can
// carry: the same bytes, member for member, in the same order.
func TestEncodeResponseWritesWhatJSONMarshalWrites(t *testing.T) {
	yes := true
	for name, resp := range map[string]*graphql.Response{
		"data":      {Data: json.RawMessage(`{"a":[1,2,{"b":"c\"d"}],"e":null}`)},
		"no data":   {},
		"null data": {Data: json.RawMessage(`null`)},
		"html":      {Data: json.RawMessage("{\"html\":\"a <mark>b</mark> & c \u2028 d\"}")},
		"lt":        {Data: json.RawMessage(`{"s":"a < b"}`)},
		"gt":        {Data: json.RawMessage(`{"s":"a > b"}`)},
		"amp":       {Data: json.RawMessage(`{"s":"a & b"}`)},
		"u2028":     {Data: json.RawMessage("{\"s\":\"a \u2028 b\"}")},
		"u2029":     {Data: json.RawMessage("{\"s\":\"a \u2029 b ł\"}")},
		"non-ascii": {Data: json.RawMessage("{\"s\":\"Spółdzielnia \u2027 \u202a\"}")},
		"errors and data": {Data: json.RawMessage(`{"a":null}`), Errors: gqlerror.List{{
			Message: "entry: not found", Path: ast.Path{ast.PathName("a")}, Extensions: map[string]any{"code": "NOT_FOUND"}}}},
		"extensions": {Data: json.RawMessage(`{}`), Extensions: map[string]any{"cost": 12, "z": "y"}},
		"incremental": {Data: json.RawMessage(`{"x":1}`), Label: "l", Path: ast.Path{ast.PathName("a"), ast.PathIndex(2)},
			HasNext: &yes, Extensions: map[string]any{"k": []int{1}}},
	} {
		got, err := encodeResponse(resp)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// TestAnswerSizeOfAWalkList: a walk's list written in one pass charges its
// size, and a null one (a list whose element came back null) charges like
// any other value instead of failing.
func TestAnswerSizeOfAWalkList(t *testing.T) {
	if n := answerSize(&model.WalkList{JSON: make([]byte, 1000)}); n != 1000 {
		t.Errorf("a list of 1,000 bytes charges %d", n)
	}
	if n := answerSize((*model.WalkList)(nil)); n != 8 {
		t.Errorf("a null list charges %d, want 8", n)
	}
}
