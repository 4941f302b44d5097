// Command arkiv-bench measures the lake benchmarks of issues 3 and 4 on a
// lake made by `arkiv lakegen` (internal/lakegen), each against its
// baseline in the same run:
//
//	arkiv-bench query  --lake DIR [--arkiv BIN]   search latency vs a plain DuckDB glob; xlsx export
//	arkiv-bench forget --lake DIR                 anonymisation vs rewriting a tenant; expiry; compaction
//
// ARKIV_BENCH_CPUPROFILE=FILE writes a CPU profile of the run.
// It prints a human table on stderr and the figures as JSON on stdout.
// Benchmarks that change a lake work on copies under --work; the lake
// given is only read.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile, err := startCPUProfile(os.Getenv("ARKIV_BENCH_CPUPROFILE"))
	if err == nil {
		err = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		err = errors.Join(err, stopProfile())
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "arkiv-bench:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// startCPUProfile writes a CPU profile of the whole run to path (nothing
// when path is empty); the returned function stops it.
func startCPUProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

var errUsage = errors.New("usage: arkiv-bench query|forget --lake DIR [flags] (-h for the flags)")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	var rep *Report
	var err error
	switch args[0] {
	case "query":
		rep, err = runQuery(ctx, args[1:], stderr)
	case "forget":
		rep, err = runForget(ctx, args[1:], stderr)
	default:
		return errUsage
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if rep != nil {
		rep.finish()
		rep.table(stderr)
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = errors.Join(err, enc.Encode(rep))
	}
	return err
}

// Report is one run's figures.
type Report struct {
	Command     string    `json:"command"`
	Lake        string    `json:"lake"`
	Started     time.Time `json:"started"`
	Seconds     float64   `json:"seconds"`
	CPUs        int       `json:"cpus"`
	LoadBefore  string    `json:"load_before"` // /proc/loadavg
	LoadAfter   string    `json:"load_after"`
	LakeSummary LakeInfo  `json:"lake_summary"`
	Results     []Result  `json:"results"`
	Notes       []string  `json:"notes,omitempty"`
}

// LakeInfo says which lake was measured.
type LakeInfo struct {
	Inquiries int            `json:"inquiries"`
	Tenants   int            `json:"tenants"`
	Days      int            `json:"days"`
	Files     map[string]int `json:"files"`
	Rows      map[string]int `json:"rows"`
}

// Result is one benchmark: what arkiv did, the baseline, and the target.
type Result struct {
	Name     string   `json:"name"`
	Arkiv    *Measure `json:"arkiv,omitempty"`
	Baseline *Measure `json:"baseline,omitempty"`
	// RatioP50 and RatioP95 are baseline / arkiv.
	RatioP50 float64        `json:"ratio_p50,omitempty"`
	RatioP95 float64        `json:"ratio_p95,omitempty"`
	Figures  map[string]any `json:"figures,omitempty"`
	Target   string         `json:"target,omitempty"`
	Met      *bool          `json:"met,omitempty"`
}

func newReport(command, lake string) *Report {
	return &Report{Command: command, Lake: lake, Started: time.Now().UTC(), CPUs: runtime.NumCPU(),
		LoadBefore: loadavg()}
}

func (r *Report) add(res Result) { r.Results = append(r.Results, res) }

func (r *Report) finish() {
	r.Seconds = time.Since(r.Started).Seconds()
	r.LoadAfter = loadavg()
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func met(ok bool) *bool { return &ok }

// progress prints a line on w (stderr), for long runs.
func progress(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}
