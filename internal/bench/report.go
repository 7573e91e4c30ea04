package bench

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// WriteTable writes results as a Markdown table, one row per operation:
// partnergraph's throughput and latencies, the ceiling's throughput and
// partnergraph's share of it, and for each peer (in the order they first
// appear in results) its throughput and p99 with partnergraph's ratio to
// each.
func WriteTable(w io.Writer, results []Result) {
	type row struct {
		server, ceiling *Result
		peers           map[string]*Result
	}
	var order, peers []string
	rows := map[string]*row{}
	for i := range results {
		r := &results[i]
		x := rows[r.Op]
		if x == nil {
			x = &row{peers: map[string]*Result{}}
			rows[r.Op] = x
			order = append(order, r.Op)
		}
		switch r.Target {
		case "partnergraph":
			x.server = r
		case "ceiling":
			x.ceiling = r
		default:
			x.peers[r.Target] = r
			if !slices.Contains(peers, r.Target) {
				peers = append(peers, r.Target)
			}
		}
	}
	head := "| operation | partnergraph req/s | p50 | p95 | p99 | errors | ceiling req/s | ÷ ceiling |"
	rule := "|---|---:|---:|---:|---:|---:|---:|---:|"
	for _, p := range peers {
		head += fmt.Sprintf(" %[1]s req/s | p99 | req/s ÷ %[1]s | p99 ÷ %[1]s |", p)
		rule += "---:|---:|---:|---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, op := range order {
		x := rows[op]
		s := x.server
		cells := make([]string, 8+4*len(peers))
		cells[0] = op
		if s != nil {
			cells[1], cells[2], cells[3], cells[4], cells[5] = rate(s.Throughput), ms(s.P50), ms(s.P95), ms(s.P99), fmt.Sprint(s.Errors)
		}
		if c := x.ceiling; c != nil {
			cells[6] = rate(c.Throughput)
			if s != nil && c.Throughput > 0 {
				cells[7] = fmt.Sprintf("%.2f", s.Throughput/c.Throughput)
			}
		}
		for i, name := range peers {
			p, k := x.peers[name], 8+4*i
			if p == nil {
				continue
			}
			cells[k], cells[k+1] = rate(p.Throughput), ms(p.P99)
			if s != nil && p.Throughput > 0 && p.P99 > 0 {
				cells[k+2] = fmt.Sprintf("%.2f", s.Throughput/p.Throughput)
				cells[k+3] = fmt.Sprintf("%.2f", float64(s.P99)/float64(p.P99))
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
