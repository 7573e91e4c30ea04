package store

import (
	"encoding/binary"
	"slices"
	"testing"
)

// TestEndsCopyParsesAnyChunks: the links' ends in PostgreSQL's binary COPY
// format, cut into chunks at every size, give the same pairs, and a
// stream cut short is not taken for a whole one.
func TestEndsCopyParsesAnyChunks(t *testing.T) {
	want := [][2]int64{{1, 2}, {3, 1}, {1 << 40, 7}}
	stream := append([]byte("PGCOPY\n\377\r\n\000"), 0, 0, 0, 0, 0, 0, 0, 4, 'x', 'y', 'z', 'w') // flags, an extension of 4
	for _, p := range want {
		stream = binary.BigEndian.AppendUint16(stream, 2)
		for _, v := range p {
			stream = binary.BigEndian.AppendUint32(stream, 8)
			stream = binary.BigEndian.AppendUint64(stream, uint64(v))
		}
	}
	stream = binary.BigEndian.AppendUint16(stream, 0xffff)
	for size := 1; size <= len(stream); size++ {
		var got [][2]int64
		e := &endsCopy{sink: func(f, t int64) error { got = append(got, [2]int64{f, t}); return nil }}
		for c := range slices.Chunk(stream, size) {
			if _, err := e.Write(slices.Clone(c)); err != nil {
				t.Fatalf("chunks of %d: %v", size, err)
			}
		}
		if !e.done || len(e.buf) > 0 || !slices.Equal(got, want) {
			t.Fatalf("chunks of %d: %v (done %v, %d bytes left), want %v", size, got, e.done, len(e.buf), want)
		}
	}
	e := &endsCopy{sink: func(int64, int64) error { return nil }}
	if _, err := e.Write(stream[:len(stream)-5]); err != nil || e.done {
		t.Fatalf("a stream cut short: done %v, %v", e.done, err)
	}
}
