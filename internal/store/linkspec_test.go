package store_test

import (
	"testing"

	"github.com/partnergraph/partnergraph/internal/kb"
	"github.com/partnergraph/partnergraph/internal/store"
)

// TestLinkSpecKeyTellsSpecsApart: loaders are kept per key, so two specs
// that ask different questions must not share one, and equal specs must.
func TestLinkSpecKeyTellsSpecsApart(t *testing.T) {
	specs := []store.LinkSpec{
		{},
		{Direction: store.Incoming},
		{Direction: store.Outgoing},
		{Types: []kb.RelationType{kb.RelFounded}},
		{Types: []kb.RelationType{kb.RelFounded, kb.RelRuns}},
		{Types: []kb.RelationType{kb.RelFounded}, OtherKinds: []kb.Kind{kb.KindCooperative}},
		{OtherKinds: []kb.Kind{kb.KindCooperative}},
		{OtherKinds: []kb.Kind{kb.KindCooperative, kb.KindPartner}},
		{AfterID: 12},
		{Limit: 12},
		{AfterID: 1, Limit: 2},
		{AfterID: 11, Limit: 2},
		{AfterID: 1, Limit: 12},
	}
	seen := map[string]int{}
	for i, sp := range specs {
		k := sp.Key()
		if j, ok := seen[k]; ok {
			t.Errorf("specs %d and %d (%+v, %+v) share the key %q", j, i, specs[j], sp, k)
		}
		seen[k] = i
		again := sp
		again.Types = append([]kb.RelationType(nil), sp.Types...)
		if again.Key() != k {
			t.Errorf("equal specs have keys %q and %q", k, again.Key())
		}
	}
}
