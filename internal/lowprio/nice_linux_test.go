//go:build linux

package lowprio_test

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/partnergraph/partnergraph/internal/lowprio"
)

// threadNice reads the nice value of the calling thread from /proc.
func threadNice(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", syscall.Gettid()))
	if err != nil {
		t.Fatal(err)
	}
	// The fields after the command's closing parenthesis: nice is the 19th
	// field of the line, the 17th after it.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	n, err := strconv.Atoi(f[16])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRunLowersTheWorksPriorityOnly: the work runs at nice Nice, and
// neither the caller's thread nor any thread the runtime reuses after it
// keeps that priority: many goroutines run after it find every thread at
// the caller's.
func TestRunLowersTheWorksPriorityOnly(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := threadNice(t)
	if before >= lowprio.Nice {
		t.Skipf("the test runs at nice %d already", before)
	}
	var inside int
	for range 20 {
		lowprio.Run(func() { inside = threadNice(t) })
		if inside != lowprio.Nice {
			t.Fatalf("the work ran at nice %d, want %d", inside, lowprio.Nice)
		}
	}
	if got := threadNice(t); got != before {
		t.Errorf("the caller's thread is at nice %d after Run, was %d", got, before)
	}
	if lowprio.Failed() != 0 {
		t.Errorf("%d works ran at the caller's priority", lowprio.Failed())
	}
	// Goroutines that lock a thread each, beside one another, get threads
	// the runtime had (or makes): none is at the work's priority.
	done := make(chan int)
	for range 32 {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			done <- threadNice(t)
		}()
	}
	for range 32 {
		if n := <-done; n != before {
			t.Fatalf("a thread after Run is at nice %d, want %d", n, before)
		}
	}
}
