package browsertest

import (
	"fmt"
	"strings"
	"testing"
)

// endingT records how a test ended, and stops the caller as the real Skipf
// and Fatalf do.
type endingT struct {
	testing.TB
	skipped, failed string
}

// stopped is what endingT panics with to leave the caller.
type stopped struct{}

func (e *endingT) Helper() {}

func (e *endingT) Skipf(format string, args ...any) {
	e.skipped = fmt.Sprintf(format, args...)
	panic(stopped{})
}

func (e *endingT) Fatalf(format string, args ...any) {
	e.failed = fmt.Sprintf(format, args...)
	panic(stopped{})
}

// end runs noBrowser on a fresh endingT.
func end(t *testing.T, err error) *endingT {
	e := &endingT{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != (stopped{}) {
				panic(r)
			}
		}()
		noBrowser(e, err)
	}()
	return e
}

func TestNoBrowserSkipsOutsideCIAndFailsInCI(t *testing.T) {
	missing := fmt.Errorf("%w: looked for chromium", ErrNoBrowser)
	broken := fmt.Errorf("CHROME_PATH=/nope: not found")
	for _, tc := range []struct {
		name, ci   string
		err        error
		wantFailed bool
	}{
		{"missing outside CI", "", missing, false},
		{"missing in CI", "true", missing, true},
		{"bad CHROME_PATH outside CI", "", broken, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			e := end(t, tc.err)
			msg := e.skipped
			if tc.wantFailed {
				msg = e.failed
			}
			if msg == "" {
				t.Fatalf("got skipped %q, failed %q; want it failed: %v", e.skipped, e.failed, tc.wantFailed)
			}
			if want := "apt-get install chromium"; !strings.Contains(msg, want) {
				t.Errorf("message %q lacks the install hint %q", msg, want)
			}
		})
	}
}
