package lowprio_test

import (
	"testing"

	"github.com/partnergraph/partnergraph/internal/lowprio"
)

// TestRunRaisesTheWorksPanic: a panic in the work reaches the caller.
func TestRunRaisesTheWorksPanic(t *testing.T) {
	defer func() {
		if p := recover(); p != "boom" {
			t.Errorf("recovered %v, want the work's panic", p)
		}
	}()
	lowprio.Run(func() { panic("boom") })
	t.Error("Run returned after the work panicked")
}
