// Package lowprio runs CPU-bound work that a few requests ask for, and
// that takes far longer than the others, at a lower operating-system
// priority, so that on a machine with few cores the light requests'
// goroutines and their PostgreSQL backends are served first
// (docs/api.md, "Heavy queries").
//
// Go schedules goroutines on threads it shares among them, so a priority
// can only be given to a thread that one goroutine keeps to itself: Run
// locks a new thread, raises its nice value, runs the work there, and
// lets the thread end with the goroutine, so that no other goroutine ever
// runs at that priority. Raising a nice value needs no privilege;
// lowering it again would, which is why the thread is not reused.
package lowprio

import (
	"runtime"
	"sync/atomic"
)

// Nice is the nice value Run gives the thread of its work: at 10 the
// kernel's scheduler gives a thread about a tenth of the CPU time of one
// at 0 when both want the same core, and all of an idle one.
const Nice = 10

// runs counts the works Run ran; failed those that ran at the caller's
// priority because the thread's priority could not be set.
var runs, failed atomic.Int64

// Runs returns how many works Run has run.
func Runs() int64 { return runs.Load() }

// Failed returns how many works ran at the caller's priority because the
// thread's priority could not be set (outside Linux, always).
func Failed() int64 { return failed.Load() }

// Run runs fn at nice value Nice (an absolute value: a process already
// at Nice or above keeps its own) on a thread of its own and returns
// when it has. A panic in fn is raised again in the caller. Where the priority
// cannot be set, fn runs all the same, at the caller's.
func Run(fn func()) {
	runs.Add(1)
	done := make(chan any, 1)
	go func() {
		// Never unlocked: the thread ends with this goroutine.
		runtime.LockOSThread()
		if err := setThreadNice(Nice); err != nil {
			failed.Add(1)
		}
		defer func() { done <- recover() }()
		fn()
	}()
	if p := <-done; p != nil {
		panic(p)
	}
}
