package bench

import (
	"fmt"
	"io"
	"time"
)

// WriteTable writes results as a Markdown table, one row per operation:
// partnergraph's throughput and latencies, the ceiling's throughput and
// partnergraph's share of it, and the peer's throughput and p99 with
// partnergraph's ratio to each.
func WriteTable(w io.Writer, results []Result) {
	type row struct{ server, ceiling, peer *Result }
	var order []string
	rows := map[string]*row{}
	for i := range results {
		r := &results[i]
		x := rows[r.Op]
		if x == nil {
			x = &row{}
			rows[r.Op] = x
			order = append(order, r.Op)
		}
		switch r.Target {
		case "partnergraph":
			x.server = r
		case "ceiling":
			x.ceiling = r
		default:
			x.peer = r
		}
	}
	fmt.Fprintln(w, "| operation | partnergraph req/s | p50 | p95 | p99 | errors | ceiling req/s | ÷ ceiling | PostGraphile req/s | p99 | req/s ÷ PostGraphile | p99 ÷ PostGraphile |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, op := range order {
		x := rows[op]
		s := x.server
		cells := []string{op, "", "", "", "", "", "", "", "", "", "", ""}
		if s != nil {
			cells[1], cells[2], cells[3], cells[4], cells[5] = rate(s.Throughput), ms(s.P50), ms(s.P95), ms(s.P99), fmt.Sprint(s.Errors)
		}
		if c := x.ceiling; c != nil {
			cells[6] = rate(c.Throughput)
			if s != nil && c.Throughput > 0 {
				cells[7] = fmt.Sprintf("%.2f", s.Throughput/c.Throughput)
			}
		}
		if p := x.peer; p != nil {
			cells[8], cells[9] = rate(p.Throughput), ms(p.P99)
			if s != nil && p.Throughput > 0 && p.P99 > 0 {
				cells[10] = fmt.Sprintf("%.2f", s.Throughput/p.Throughput)
				cells[11] = fmt.Sprintf("%.2f", float64(s.P99)/float64(p.P99))
			}
		}
		for i, c := range cells {
			if c == "" {
				c = "–"
			}
			if i == 0 {
				fmt.Fprintf(w, "| %s |", c)
			} else {
				fmt.Fprintf(w, " %s |", c)
			}
		}
		fmt.Fprintln(w)
	}
}

// String formats r as one line of progress.
func (r Result) String() string {
	s := fmt.Sprintf("%-12s %-13s %7d req %4d err %8s/s  p50 %s  p95 %s  p99 %s  max %s",
		r.Op, r.Target, r.Requests, r.Errors, rate(r.Throughput), ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max))
	if r.PeakRSS > 0 {
		s += fmt.Sprintf("  peak RSS %.0f MB", float64(r.PeakRSS)/(1<<20))
	}
	if r.FirstError != "" {
		s += "\n  first error: " + r.FirstError
	}
	return s
}

func rate(f float64) string { return fmt.Sprintf("%.1f", f) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
