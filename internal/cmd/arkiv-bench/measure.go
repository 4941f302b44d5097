package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Measure summarises repeated timings, in milliseconds.
type Measure struct {
	Reps   int     `json:"reps"`
	P50ms  float64 `json:"p50_ms"`
	P95ms  float64 `json:"p95_ms"`
	MeanMs float64 `json:"mean_ms"`
	MinMs  float64 `json:"min_ms"`
	MaxMs  float64 `json:"max_ms"`
}

func measure(d []time.Duration) *Measure {
	if len(d) == 0 {
		return nil
	}
	ms := make([]float64, len(d))
	sum := 0.0
	for i, x := range d {
		ms[i] = float64(x.Microseconds()) / 1000
		sum += ms[i]
	}
	slices.Sort(ms)
	return &Measure{Reps: len(ms), P50ms: percentile(ms, 50), P95ms: percentile(ms, 95),
		MeanMs: round(sum / float64(len(ms))), MinMs: ms[0], MaxMs: ms[len(ms)-1]}
}

// percentile of sorted values, by the nearest-rank method.
func percentile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func round(x float64) float64 { return math.Round(x*1000) / 1000 }

// compare fills a result's ratios (baseline / arkiv).
func (r *Result) compare() {
	if r.Arkiv == nil || r.Baseline == nil || r.Arkiv.P50ms == 0 || r.Arkiv.P95ms == 0 {
		return
	}
	r.RatioP50 = round(r.Baseline.P50ms / r.Arkiv.P50ms)
	r.RatioP95 = round(r.Baseline.P95ms / r.Arkiv.P95ms)
}

// table prints the report for people.
func (r *Report) table(w io.Writer) {
	fmt.Fprintf(w, "\narkiv-bench %s on %s (%d inquiries, %d tenants, %d days)\n", r.Command, r.Lake,
		r.LakeSummary.Inquiries, r.LakeSummary.Tenants, r.LakeSummary.Days)
	fmt.Fprintf(w, "cpus %d; load before: %s; after: %s; %.0f s\n\n", r.CPUs, r.LoadBefore, r.LoadAfter, r.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tarkiv p50 / p95 (n)\tbaseline p50 / p95 (n)\tratio p50 / p95\ttarget\tmet")
	for _, res := range r.Results {
		ok := ""
		if res.Met != nil {
			ok = map[bool]string{true: "yes", false: "NO"}[*res.Met]
		}
		ratio := ""
		if res.RatioP50 != 0 {
			ratio = fmt.Sprintf("%.1fx / %.1fx", res.RatioP50, res.RatioP95)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", res.Name, fmtMeasure(res.Arkiv), fmtMeasure(res.Baseline),
			ratio, res.Target, ok)
	}
	tw.Flush()
	for _, res := range r.Results {
		if len(res.Figures) == 0 {
			continue
		}
		keys := make([]string, 0, len(res.Figures))
		for k := range res.Figures {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s=%v", k, res.Figures[k])
		}
		fmt.Fprintf(w, "  %s: %s\n", res.Name, strings.Join(parts, ", "))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

func fmtMeasure(m *Measure) string {
	if m == nil {
		return "-"
	}
	if m.Reps == 1 {
		return fmt.Sprintf("%.1f ms (1)", m.P50ms)
	}
	return fmt.Sprintf("%.1f / %.1f ms (%d)", m.P50ms, m.P95ms, m.Reps)
}
