package progress

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	for _, c := range []struct {
		phase       string
		done, total int64
		unit        Unit
		elapsed     time.Duration
		want        string
	}{
		{"writing", 1200, 5000, "records", 2 * time.Second,
			"import: writing: 1,200 of 5,000 records (24%), 600 records/s, 2s, about 6s left"},
		{"", 12_345_678, 0, Bytes, 3*time.Second + 400*time.Millisecond,
			"import: 12.3 MB, 3.6 MB/s, 3s"},
		{"reading data.json", 2048, 4096, Bytes, 500 * time.Millisecond,
			"import: reading data.json: 2.0 kB of 4.1 kB (50%), 0s"},
		{"copying links", 0, 0, "", 75 * time.Second,
			"import: copying links, 1m15s"},
		{"search index", 1_000_000, 1_000_000, "entities", 10 * time.Second,
			"import: search index: 1,000,000 of 1,000,000 entities (100%), 100,000 entities/s, 10s"},
		{"", 999, 0, "records", 0, "import: 999 records, 0s"},
	} {
		if got := Line("import", c.phase, c.done, c.total, c.unit, c.elapsed); got != c.want {
			t.Errorf("Line(%q, %d, %d, %q, %v)\n got %q\nwant %q", c.phase, c.done, c.total, c.unit, c.elapsed, got, c.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the meter's ticker.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestQuietMeterWritesNothing: off a terminal, every use of a meter
// leaves the output empty, and counting writers still pass the bytes.
func TestQuietMeterWritesNothing(t *testing.T) {
	var out syncBuffer
	m := New(&out, false, "export")
	m.Start("writing", 10, "records")
	m.Add(3)
	m.Set(7)
	var data bytes.Buffer
	if _, err := (Writer{W: &data, M: m}).Write([]byte("payload")); err != nil || data.String() != "payload" {
		t.Fatalf("Writer: %q, %v", data.String(), err)
	}
	ran := false
	m.Above(func() { ran = true })
	time.Sleep(2 * Interval)
	m.End()
	if !ran {
		t.Error("Above did not run its function")
	}
	if out.String() != "" {
		t.Errorf("a quiet meter wrote %q", out.String())
	}
	var nilMeter *Meter
	nilMeter.Start("x", 1, "")
	nilMeter.Add(1)
	nilMeter.End()
}

// TestMeterRewritesOneLineAndClearsIt: on a terminal, the meter draws its
// line with carriage returns only (never a newline of its own), redraws
// it while the work goes on, and leaves the line blank at the end.
func TestMeterRewritesOneLineAndClearsIt(t *testing.T) {
	var out syncBuffer
	m := New(&out, true, "import")
	m.Start("writing", 100, "records")
	m.Add(40)
	time.Sleep(3 * Interval)
	m.Above(func() { _, _ = out.Write([]byte("step done\n")) })
	m.End()
	s := out.String()
	if strings.Count(s, "\n") != 1 {
		t.Errorf("the meter wrote newlines of its own: %q", s)
	}
	if !strings.Contains(s, "\rimport: writing: 40 of 100 records (40%)") {
		t.Errorf("no redrawn line with the count: %q", s)
	}
	if !strings.Contains(s, "\rimport: writing: 0 of 100 records (0%)") {
		t.Errorf("Start drew no line at once: %q", s)
	}
	// The last thing written blanks the line and returns to its start.
	if !strings.HasSuffix(s, "\r") || strings.TrimRight(s[strings.LastIndex(strings.TrimSuffix(s, "\r"), "\r")+1:], " \r") != "" {
		t.Errorf("the line was not cleared at the end: %q", s)
	}
	m.End() // twice is fine
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f, func(string) string { return "xterm" }) {
		t.Error("a file is no terminal")
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if IsTerminal(null, func(string) string { return "xterm" }) {
		t.Error("/dev/null, a character device, is no terminal")
	}
}
