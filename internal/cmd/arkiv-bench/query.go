package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the baseline's plain DuckDB

	"github.com/arkiv-project/arkiv/internal/lakegen"
	"github.com/arkiv-project/arkiv/query"
)

// queryFlags are the flags of `arkiv-bench query`.
type queryFlags struct {
	lake, arkiv, xlsxLake, work, only string
	reps, baseReps, xlsxRows          int
	warm                              bool
}

func parseQueryFlags(args []string, stderr io.Writer) (*queryFlags, error) {
	fs := flag.NewFlagSet("arkiv-bench query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &queryFlags{}
	fs.StringVar(&f.lake, "lake", "", "lake made by arkiv lakegen (required)")
	fs.IntVar(&f.reps, "reps", 60, "repetitions of each arkiv query (different people, days, tenants)")
	fs.IntVar(&f.baseReps, "baseline-reps", 10, "repetitions of each baseline query (plain DuckDB over a glob)")
	fs.StringVar(&f.arkiv, "arkiv", "", "arkiv binary for the xlsx export benchmark (skipped when empty)")
	fs.StringVar(&f.xlsxLake, "xlsx-lake", "/tmp/arkiv-lake-xlsx", "lake with one tenant of --xlsx-rows inquiries (generated when missing)")
	fs.IntVar(&f.xlsxRows, "xlsx-rows", 1_000_000, "inquiries of the export lake's tenant")
	fs.StringVar(&f.work, "work", "/tmp/arkiv-bench-work", "scratch folder")
	fs.BoolVar(&f.warm, "warm", true, "warm the engine's pruning cache first, as arkiv serve does at start")
	fs.StringVar(&f.only, "only", "a,b,c,d", "benchmarks to run: a (number), b (day page), c (e-mail), d (xlsx export)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.lake == "" || fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: query needs --lake DIR", errUsage)
	}
	return f, nil
}

// queryBench holds what the query benchmarks share.
type queryBench struct {
	f    *queryFlags
	sum  *lakegen.Summary
	eng  *query.Engine
	base *sql.DB // plain DuckDB, default settings
	glob string  // the baseline's read_parquet source
	log  io.Writer
	rng  *rand.Rand
	from time.Time // the lake's first day
	to   time.Time // the day after its last
}

func runQuery(ctx context.Context, args []string, stderr io.Writer) (*Report, error) {
	f, err := parseQueryFlags(args, stderr)
	if err != nil {
		return nil, err
	}
	b, err := openQueryBench(f, stderr)
	if err != nil {
		return nil, err
	}
	defer b.close()
	rep := newReport("query", f.lake)
	rep.LakeSummary = lakeInfo(b.sum)
	rep.Notes = append(rep.Notes, "arkiv: query.Engine.Search in this process, one engine for all repetitions, after one untimed warm-up search;"+
		" baseline: a fresh plain DuckDB (default settings) over read_parquet of the inquiries glob with hive_partitioning and the same WHERE")
	if f.warm {
		progress(stderr, "warming the pruning cache as arkiv serve does at start")
		st, err := b.eng.WarmPruning(ctx)
		if err != nil {
			return rep, err
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("the engine's pruning cache was warmed first, as arkiv serve does at start: "+
			"%d files of %d tenants in %.1f s", st.Files, st.Tenants, st.Took.Seconds()))
	}
	for _, step := range []struct {
		key string
		run func(context.Context) (Result, error)
	}{{"a", b.number}, {"b", b.dayPage}, {"c", b.email}, {"d", b.xlsx}} {
		if !strings.Contains(f.only, step.key) {
			continue
		}
		res, err := step.run(ctx)
		if err != nil {
			return rep, err
		}
		rep.add(res)
	}
	return rep, nil
}

func openQueryBench(f *queryFlags, log io.Writer) (*queryBench, error) {
	sum, err := lakegen.ReadSummary(f.lake)
	if err != nil {
		return nil, err
	}
	lake, err := filepath.Abs(f.lake)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(lake, "'*?[]{}\\") {
		return nil, fmt.Errorf("lake path %q: no quotes or glob characters, please", lake)
	}
	eng, err := query.Open(lake, nil, nil)
	if err != nil {
		return nil, err
	}
	base, err := sql.Open("duckdb", "")
	if err != nil {
		eng.Close()
		return nil, err
	}
	from, _ := time.Parse(time.DateOnly, sum.FirstDay)
	last, _ := time.Parse(time.DateOnly, sum.LastDay)
	return &queryBench{f: f, sum: sum, eng: eng, base: base, log: log,
		glob: "read_parquet('" + lake + "/inquiries/**/*.parquet', hive_partitioning = true)",
		rng:  rand.New(rand.NewPCG(1, 2)), from: from, to: last.AddDate(0, 0, 1)}, nil
}

func (b *queryBench) close() {
	b.eng.Close()
	b.base.Close()
}

func lakeInfo(s *lakegen.Summary) LakeInfo {
	return LakeInfo{Inquiries: s.Inquiries, Tenants: s.Tenants, Days: s.Days, Files: s.Files, Rows: s.Rows}
}

// person returns the planted person of repetition i: a fixed shuffle of
// the tenants, so the repetitions cover big and small tenants alike.
func (b *queryBench) person(i int) lakegen.Person {
	n := len(b.sum.Planted)
	perm := rand.New(rand.NewPCG(7, 7)).Perm(n)
	return b.sum.Planted[perm[i%n]]
}

// baselineColumns are the columns the baseline returns (the engine's own
// inquiry columns).
const baselineColumns = `inquiry_id, session_id, media_type, started_at, ended_at, queue, agent_id, agent_name,
	wait_seconds, talk_seconds, caller_number, chatter_name, chatter_email, chatter_number, from_address,
	subject, item_url, anonymised`

// timeBaseline runs a plain DuckDB query and returns its time and rows.
func (b *queryBench) timeBaseline(ctx context.Context, where string, args ...any) (time.Duration, int, error) {
	q := `SELECT ` + baselineColumns + ` FROM ` + b.glob + ` WHERE ` + where +
		` ORDER BY started_at DESC, inquiry_id DESC LIMIT 101`
	start := time.Now()
	rows, err := b.base.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("baseline: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("baseline: %w", err)
	}
	return time.Since(start), n, nil
}

func (b *queryBench) timeSearch(ctx context.Context, tenant string, f query.Filter) (time.Duration, int, error) {
	start := time.Now()
	res, err := b.eng.Search(ctx, tenant, f, query.Page{Limit: 100})
	if err != nil {
		return 0, 0, fmt.Errorf("search: %w", err)
	}
	return time.Since(start), len(res.Rows), nil
}

// numberForms are ways the same number is typed.
func numberForms(p lakegen.Person) []string {
	return []string{p.Typed, p.Number, "0046 " + p.Number[3:5] + " " + p.Number[5:]}
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// number: (a) one number over one tenant's days.
func (b *queryBench) number(ctx context.Context) (Result, error) {
	progress(b.log, "(a) number over a tenant's %d days: %d searches, %d baseline queries", b.sum.Days, b.f.reps, b.f.baseReps)
	check := func(got int, p lakegen.Person, who string) error {
		if got != p.ByNumber {
			return fmt.Errorf("(a) %s found %d inquiries of %s's planted person, want %d: the lake or the engine is wrong",
				who, got, p.Tenant, p.ByNumber)
		}
		return nil
	}
	warm := b.person(b.f.reps)
	if _, _, err := b.timeSearch(ctx, warm.Tenant, query.Filter{From: b.from, To: b.to, Number: warm.Typed}); err != nil {
		return Result{}, err
	}
	var arkiv, base []time.Duration
	for i := range b.f.reps {
		p := b.person(i)
		d, n, err := b.timeSearch(ctx, p.Tenant, query.Filter{From: b.from, To: b.to, Number: numberForms(p)[i%3]})
		if err == nil {
			err = check(n, p, "arkiv")
		}
		if err != nil {
			return Result{}, err
		}
		arkiv = append(arkiv, d)
	}
	for i := range b.f.baseReps {
		p := b.person(i)
		v, err := query.NumberVariants(numberForms(p)[i%3], "SE")
		if err != nil {
			return Result{}, err
		}
		args := []any{p.Tenant, b.from, b.to}
		for range 2 {
			for _, x := range v {
				args = append(args, x)
			}
		}
		d, n, err := b.timeBaseline(ctx, `tenant = ? AND started_at >= ?::TIMESTAMPTZ AND started_at < ?::TIMESTAMPTZ
			AND (caller_number IN (`+placeholders(len(v))+`) OR chatter_number IN (`+placeholders(len(v))+`))`, args...)
		if err == nil {
			err = check(n, p, "the baseline")
		}
		if err != nil {
			return Result{}, err
		}
		base = append(base, d)
	}
	return latencyResult("(a) one number, one tenant, all days", arkiv, base), nil
}

// latencyResult is a search benchmark against the 20x / 100 ms targets.
func latencyResult(name string, arkiv, base []time.Duration) Result {
	r := Result{Name: name, Arkiv: measure(arkiv), Baseline: measure(base), Target: ">=20x baseline, p95 < 100 ms"}
	r.compare()
	r.Met = met(r.RatioP50 >= 20 && r.RatioP95 >= 20 && r.Arkiv.P95ms < 100)
	return r
}

// dayPage: (b) one day of one tenant, the first page.
func (b *queryBench) dayPage(ctx context.Context) (Result, error) {
	progress(b.log, "(b) one day of one tenant, first page: %d searches, %d baseline queries", b.f.reps, b.f.baseReps)
	pick := func(i int) (string, time.Time) {
		p := b.person(i)
		return p.Tenant, b.from.AddDate(0, 0, (i*37)%b.sum.Days)
	}
	var arkiv, base []time.Duration
	found := map[int]int{}
	for i := range b.f.reps {
		tenant, day := pick(i)
		d, n, err := b.timeSearch(ctx, tenant, query.Filter{From: day, To: day.AddDate(0, 0, 1)})
		if err != nil {
			return Result{}, err
		}
		found[i] = n
		arkiv = append(arkiv, d)
	}
	for i := range b.f.baseReps {
		tenant, day := pick(i)
		d, n, err := b.timeBaseline(ctx, `tenant = ? AND date = ?::DATE AND started_at >= ?::TIMESTAMPTZ
			AND started_at < ?::TIMESTAMPTZ`, tenant, day, day, day.AddDate(0, 0, 1))
		if err != nil {
			return Result{}, err
		}
		if want := found[i]; min(n, 100) != want {
			return Result{}, fmt.Errorf("(b) %s %s: the baseline finds %d rows, arkiv %d", tenant, day.Format(time.DateOnly), n, want)
		}
		base = append(base, d)
	}
	r := Result{Name: "(b) one day, one tenant, first page", Arkiv: measure(arkiv), Baseline: measure(base),
		Target: "(none set; reported)"}
	r.compare()
	return r, nil
}

// email: (c) an e-mail lookup over the tenant's days.
func (b *queryBench) email(ctx context.Context) (Result, error) {
	progress(b.log, "(c) e-mail lookup: %d searches, %d baseline queries", b.f.reps, b.f.baseReps)
	forms := func(p lakegen.Person, i int) string {
		return []string{p.Email, strings.ToUpper(p.Email), strings.ToUpper(p.Email[:1]) + p.Email[1:]}[i%3]
	}
	check := func(got int, p lakegen.Person, who string) error {
		if got != p.ByEmail {
			return fmt.Errorf("(c) %s found %d inquiries of %s's planted person, want %d", who, got, p.Tenant, p.ByEmail)
		}
		return nil
	}
	var arkiv, base []time.Duration
	for i := range b.f.reps {
		p := b.person(i + 1)
		d, n, err := b.timeSearch(ctx, p.Tenant, query.Filter{From: b.from, To: b.to, Email: forms(p, i)})
		if err == nil {
			err = check(n, p, "arkiv")
		}
		if err != nil {
			return Result{}, err
		}
		arkiv = append(arkiv, d)
	}
	for i := range b.f.baseReps {
		p := b.person(i + 1)
		e := forms(p, i)
		d, n, err := b.timeBaseline(ctx, `tenant = ? AND started_at >= ?::TIMESTAMPTZ AND started_at < ?::TIMESTAMPTZ
			AND (lower(chatter_email) = lower(?) OR lower(from_address) = lower(?))`, p.Tenant, b.from, b.to, e, e)
		if err == nil {
			err = check(n, p, "the baseline")
		}
		if err != nil {
			return Result{}, err
		}
		base = append(base, d)
	}
	return latencyResult("(c) one e-mail address, one tenant, all days", arkiv, base), nil
}

var (
	wroteRows = regexp.MustCompile(`wrote (\d+) inquiries`)
	maxRSS    = regexp.MustCompile(`arkiv-bench-maxrss-kb (\d+)`)
)

// xlsx: (d) `arkiv export --xlsx` of a tenant with a million rows, as a
// child process: rows per second and its peak RSS.
func (b *queryBench) xlsx(ctx context.Context) (Result, error) {
	res := Result{Name: "(d) xlsx export, arkiv export child process", Target: ">= 50000 rows/s, peak RSS < 300 MB"}
	if b.f.arkiv == "" {
		res.Figures = map[string]any{"skipped": "no --arkiv binary given"}
		return res, nil
	}
	sum, err := b.exportLake(ctx)
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(b.f.work, 0o755); err != nil {
		return res, err
	}
	out := filepath.Join(b.f.work, "export.xlsx")
	_ = os.Remove(out)
	first, _ := time.Parse(time.DateOnly, sum.FirstDay)
	last, _ := time.Parse(time.DateOnly, sum.LastDay)
	args := []string{b.f.arkiv, "export", "--lake", b.f.xlsxLake, "--tenant", sum.Planted[0].Tenant,
		"--from", first.Format(time.DateOnly), "--to", last.AddDate(0, 0, 1).Format(time.DateOnly),
		"--actor", "arkiv-bench", "--xlsx", out}
	// The child's own rusage is no good here: Go starts children with
	// CLONE_VM, and exec records the parent's peak RSS (this process, with
	// DuckDB and its caches) as the child's. GNU time forks a fresh child
	// and reports that child's peak.
	timeBin, timeErr := exec.LookPath("time")
	if timeErr == nil {
		args = append([]string{timeBin, "-f", "arkiv-bench-maxrss-kb %M"}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	progress(b.log, "(d) %s", strings.Join(cmd.Args, " "))
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start)
	if err != nil {
		return res, fmt.Errorf("(d) arkiv export: %w: %s", err, stderr.String())
	}
	m := wroteRows.FindStringSubmatch(stderr.String())
	if m == nil {
		return res, fmt.Errorf("(d) arkiv export did not say how many rows it wrote: %s", stderr.String())
	}
	rows, _ := strconv.Atoi(m[1])
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	rssMB, rssFrom := float64(ru.Maxrss)/1024, "rusage of the child (includes this process's peak: an upper bound)"
	if m := maxRSS.FindStringSubmatch(stderr.String()); m != nil {
		kb, _ := strconv.Atoi(m[1])
		rssMB, rssFrom = float64(kb)/1024, "GNU time"
	}
	fi, err := os.Stat(out)
	if err != nil {
		return res, err
	}
	rate := float64(rows) / took.Seconds()
	res.Arkiv = measure([]time.Duration{took})
	res.Figures = map[string]any{"rows": rows, "seconds": round(took.Seconds()), "rows_per_s": int(rate),
		"peak_rss_mb": round(rssMB), "peak_rss_from": rssFrom, "xlsx_bytes": fi.Size(), "user_s": round(time.Duration(ru.Utime.Nano()).Seconds()),
		"sys_s": round(time.Duration(ru.Stime.Nano()).Seconds())}
	res.Met = met(rows >= 1_000_000 && rate >= 50_000 && rssMB < 300)
	return res, os.Remove(out)
}

// exportLake opens (making it when missing) the lake of the export
// benchmark: one tenant with --xlsx-rows inquiries.
func (b *queryBench) exportLake(ctx context.Context) (*lakegen.Summary, error) {
	if sum, err := lakegen.ReadSummary(b.f.xlsxLake); err == nil {
		if sum.Tenants != 1 || sum.Inquiries < b.f.xlsxRows {
			return nil, fmt.Errorf("%s is not a lake of one tenant with %d inquiries", b.f.xlsxLake, b.f.xlsxRows)
		}
		return sum, nil
	}
	progress(b.log, "(d) generating %s: 1 tenant, %d inquiries", b.f.xlsxLake, b.f.xlsxRows)
	return lakegen.Generate(ctx, b.f.xlsxLake, lakegen.Options{Inquiries: b.f.xlsxRows, Tenants: 1,
		Days: b.sum.Days, Seed: b.sum.Seed, Now: b.sum.Now})
}
