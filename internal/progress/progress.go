// Package progress shows how far a long command (import, export,
// generate, reindex) has come, on one line of a terminal that it rewrites
// a few times a second. Where the output is no terminal (a script, a pipe,
// a log file), a Meter writes nothing at all, so that scripts see only the
// command's own output and errors.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Interval is how often a Meter redraws its line: often enough to look
// alive, rarely enough to cost nothing next to the work it reports.
const Interval = 200 * time.Millisecond

// IsTerminal reports whether f is a terminal that a person watches: a
// terminal device, and not TERM=dumb (editors' shells, some CI logs).
// getenv reads the environment.
func IsTerminal(f *os.File, getenv func(string) string) bool {
	return f != nil && term.IsTerminal(int(f.Fd())) && getenv("TERM") != "dumb"
}

// Unit names what a Meter counts, in the plural ("records"); Bytes are
// shown as kB, MB, GB.
type Unit string

// Bytes counts bytes.
const Bytes Unit = "bytes"

// Meter is one progress line. Its zero value and a nil *Meter are quiet;
// every method is safe for concurrent use.
type Meter struct {
	w     io.Writer // nil: quiet
	label string
	now   func() time.Time

	mu      sync.Mutex
	phase   string
	done    int64
	total   int64 // 0: unknown
	unit    Unit
	start   time.Time
	shown   int // the width of the line on the terminal, to clear it
	stopped bool
	stop    chan struct{}
	exited  chan struct{}
}

// New returns a meter labelled label ("import") that draws on w when on,
// and is quiet otherwise. Start it, feed it, and End it.
func New(w io.Writer, on bool, label string) *Meter {
	m := &Meter{label: label, now: time.Now}
	if on {
		m.w = w
	}
	return m
}

// Start shows phase ("reading data.json") with a count of total units (0:
// unknown) and redraws it every Interval until End: the elapsed time
// moves even while the count does not. A later Start begins the next
// phase on the same line; after End, Start does nothing.
func (m *Meter) Start(phase string, total int64, unit Unit) {
	if m == nil || m.w == nil {
		return
	}
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.phase, m.done, m.total, m.unit = phase, 0, total, unit
	first := m.start.IsZero()
	if first {
		m.start = m.now()
	}
	m.draw()
	m.mu.Unlock()
	if first {
		m.stop, m.exited = make(chan struct{}), make(chan struct{})
		go m.tick()
	}
}

// Add counts n more units of the current phase.
func (m *Meter) Add(n int64) {
	if m == nil || m.w == nil {
		return
	}
	m.mu.Lock()
	m.done += n
	m.mu.Unlock()
}

// Set sets the count of the current phase.
func (m *Meter) Set(n int64) {
	if m == nil || m.w == nil {
		return
	}
	m.mu.Lock()
	m.done = n
	m.mu.Unlock()
}

// Above runs fn, which writes whole lines to the terminal (a step's
// report), with the progress line cleared, and draws it again after.
func (m *Meter) Above(fn func()) {
	if m == nil || m.w == nil {
		fn()
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clear()
	fn()
	if !m.stopped && !m.start.IsZero() {
		m.draw()
	}
}

// End stops the meter and clears its line, leaving the terminal as it
// was for the command's own output.
func (m *Meter) End() {
	if m == nil || m.w == nil {
		return
	}
	m.mu.Lock()
	if m.stopped || m.start.IsZero() {
		m.stopped = true
		m.mu.Unlock()
		return
	}
	m.stopped = true
	m.clear()
	m.mu.Unlock()
	close(m.stop)
	<-m.exited
}

func (m *Meter) tick() {
	defer close(m.exited)
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.mu.Lock()
			if !m.stopped {
				m.draw()
			}
			m.mu.Unlock()
		}
	}
}

// draw rewrites the line; m.mu is held.
func (m *Meter) draw() {
	line := Line(m.label, m.phase, m.done, m.total, m.unit, m.now().Sub(m.start))
	pad := ""
	if n := len([]rune(line)); n < m.shown {
		pad = strings.Repeat(" ", m.shown-n)
	}
	fmt.Fprint(m.w, "\r"+line+pad)
	m.shown = len([]rune(line))
}

// clear blanks the line; m.mu is held.
func (m *Meter) clear() {
	if m.shown > 0 {
		fmt.Fprint(m.w, "\r"+strings.Repeat(" ", m.shown)+"\r")
		m.shown = 0
	}
}

// Line formats one progress line: the label and phase, the count (of the
// total, with the percentage, when known), the rate, and the elapsed time
// (with an estimate of the time left, when the total is known):
//
//	import: writing: 1,200 of 5,000 records (24%), 600 records/s, 2s, about 6s left
//	export: 12.3 MB, 4.1 MB/s, 3s
func Line(label, phase string, done, total int64, unit Unit, elapsed time.Duration) string {
	var b strings.Builder
	b.WriteString(label)
	b.WriteString(": ")
	if phase != "" {
		b.WriteString(phase)
	}
	secs := elapsed.Seconds()
	if done > 0 || total > 0 {
		if phase != "" {
			b.WriteString(": ")
		}
		b.WriteString(amount(done, unit, total == 0))
		if total > 0 {
			fmt.Fprintf(&b, " of %s (%d%%)", amount(total, unit, true), min(100, done*100/total))
		}
		if secs >= 1 && done > 0 {
			rate := float64(done) / secs
			if unit == Bytes {
				fmt.Fprintf(&b, ", %s/s", amount(int64(rate), unit, false))
			} else {
				fmt.Fprintf(&b, ", %s %s/s", group(int64(rate)), unit)
			}
		}
	}
	fmt.Fprintf(&b, ", %s", elapsed.Truncate(time.Second))
	if total > 0 && done > 0 && done < total && secs >= 1 {
		left := time.Duration(float64(total-done) / (float64(done) / secs) * float64(time.Second))
		fmt.Fprintf(&b, ", about %s left", left.Round(time.Second))
	}
	return b.String()
}

// amount formats n units: bytes in kB, MB, GB (decimal, as file sizes
// are shown), others grouped by thousands, with the unit's name when
// named.
func amount(n int64, u Unit, named bool) string {
	if u == Bytes {
		switch {
		case n >= 1e9:
			return fmt.Sprintf("%.1f GB", float64(n)/1e9)
		case n >= 1e6:
			return fmt.Sprintf("%.1f MB", float64(n)/1e6)
		case n >= 1e3:
			return fmt.Sprintf("%.1f kB", float64(n)/1e3)
		}
		return fmt.Sprintf("%d B", n)
	}
	if named && u != "" {
		return group(n) + " " + string(u)
	}
	return group(n)
}

// group writes n with thousands separated by commas: 1,234,567.
func group(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Writer counts the bytes written through it into m.
type Writer struct {
	W io.Writer
	M *Meter
}

// Write writes p to w.W and counts what was written.
func (w Writer) Write(p []byte) (int, error) {
	n, err := w.W.Write(p)
	w.M.Add(int64(n))
	return n, err
}

// Reader counts the bytes read through it into m.
type Reader struct {
	R io.Reader
	M *Meter
}

// Read reads from r.R and counts what was read.
func (r Reader) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	r.M.Add(int64(n))
	return n, err
}
