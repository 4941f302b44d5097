package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/lakegen"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// forgetFlags are the flags of `arkiv-bench forget`.
type forgetFlags struct {
	lake, small, work, tenants, only string
	smallInquiries, compactInquiries int
	compactFlushes                   int
	keep                             bool
}

func parseForgetFlags(args []string, stderr io.Writer) (*forgetFlags, error) {
	fs := flag.NewFlagSet("arkiv-bench forget", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &forgetFlags{}
	fs.StringVar(&f.lake, "lake", "", "lake made by arkiv lakegen (required; only read)")
	fs.StringVar(&f.small, "small-lake", "/tmp/arkiv-lake-1m", "smaller lake for the expiry comparison (generated when missing)")
	fs.IntVar(&f.smallInquiries, "small-inquiries", 1_000_000, "inquiries of the smaller lake, when generated")
	fs.StringVar(&f.work, "work", "/tmp/arkiv-bench-work", "scratch folder for the copies")
	fs.StringVar(&f.tenants, "tenants", "t0001,t0050", "tenants whose planted person is anonymised (comma-separated)")
	fs.IntVar(&f.compactInquiries, "compact-inquiries", 1_000_000, "inquiries of the compaction lake (10 tenants, 30 days)")
	fs.IntVar(&f.compactFlushes, "compact-flushes", 8, "files per partition of the compaction lake")
	fs.StringVar(&f.only, "only", "anonymise,expire,compact", "benchmarks to run")
	fs.BoolVar(&f.keep, "keep", false, "keep the copies under --work")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.lake == "" || fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: forget needs --lake DIR", errUsage)
	}
	return f, nil
}

func runForget(ctx context.Context, args []string, stderr io.Writer) (*Report, error) {
	f, err := parseForgetFlags(args, stderr)
	if err != nil {
		return nil, err
	}
	sum, err := lakegen.ReadSummary(f.lake)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(f.work, 0o755); err != nil {
		return nil, err
	}
	rep := newReport("forget", f.lake)
	rep.LakeSummary = lakeInfo(sum)
	rep.Notes = append(rep.Notes, "every benchmark runs on a real copy (no hard links) under "+f.work+"; the lake given is only read")
	b := &forgetBench{f: f, sum: sum, log: stderr}
	if strings.Contains(f.only, "anonymise") {
		for _, t := range strings.Split(f.tenants, ",") {
			res, err := b.anonymise(ctx, strings.TrimSpace(t))
			for _, r := range res {
				rep.add(r)
			}
			if err != nil {
				return rep, err
			}
		}
	}
	if strings.Contains(f.only, "expire") {
		for _, lake := range []string{f.lake, f.small} {
			res, err := b.expire(ctx, lake)
			if err != nil {
				return rep, err
			}
			rep.add(res)
		}
	}
	if strings.Contains(f.only, "compact") {
		res, err := b.compact(ctx)
		if err != nil {
			return rep, err
		}
		rep.add(res)
	}
	return rep, nil
}

type forgetBench struct {
	f   *forgetFlags
	sum *lakegen.Summary
	log io.Writer
}

func (b *forgetBench) cleanup(dir string) error {
	if b.f.keep {
		return nil
	}
	return os.RemoveAll(dir)
}

// tenantDatasets are the folders of one tenant copied for anonymisation.
var tenantDatasets = []string{schema.DatasetInquiries, schema.DatasetChatlogs, schema.DatasetRecordings,
	schema.DatasetSurveys, schema.DatasetAudit, sinks.MediaDataset}

// rewrittenDatasets are the Parquet datasets the baseline rewrites.
var rewrittenDatasets = []string{schema.DatasetInquiries, schema.DatasetChatlogs, schema.DatasetRecordings,
	schema.DatasetSurveys}

// copyTenant copies every folder of one tenant into a new lake.
func copyTenant(lake, dst, tenant string) (int, error) {
	n := 0
	for _, ds := range tenantDatasets {
		src := filepath.Join(lake, ds, "tenant="+tenant)
		if _, err := os.Stat(src); os.IsNotExist(err) {
			continue
		}
		c, err := copyTree(src, filepath.Join(dst, ds, "tenant="+tenant))
		n += c
		if err != nil {
			return n, err
		}
	}
	syscall.Sync() // on disk before the timed runs, as a real lake's files are
	return n, nil
}

func (b *forgetBench) person(tenant string) (lakegen.Person, error) {
	for _, p := range b.sum.Planted {
		if p.Tenant == tenant {
			return p, nil
		}
	}
	return lakegen.Person{}, fmt.Errorf("tenant %q has no planted person in %s", tenant, b.f.lake)
}

// anonymise: the planted person of a tenant, against rewriting all of the
// tenant's files, on a copy of the tenant. Two baselines: every file read
// into structs and written again, one after another (what anonymising
// did to each file it rewrote before sinks.EditParquet); and every file made
// again the way anonymisation now makes the files it edits, on every core
// (the ratio at equal method, bounded by the files' count ratio).
func (b *forgetBench) anonymise(ctx context.Context, tenant string) ([]Result, error) {
	res := Result{Name: "anonymise one person (20 inquiries) of " + tenant, Target: ">=20x baseline; files rewritten = files that held the person"}
	same := Result{Name: "  same, against rewriting every file as anonymise edits one", Target: "(the ratio at equal method; at most tenant files / files held)"}
	p, err := b.person(tenant)
	if err != nil {
		return nil, err
	}
	dst := filepath.Join(b.f.work, "forget-"+tenant)
	if err := os.RemoveAll(dst); err != nil {
		return nil, err
	}
	progress(b.log, "anonymise: copying tenant %s to %s", tenant, dst)
	copied, err := copyTenant(b.f.lake, dst, tenant)
	if err != nil {
		return nil, err
	}
	held, err := filesHolding(dst, p)
	if err != nil {
		return nil, err
	}
	rc, took, err := anonymisePerson(ctx, dst, p)
	if err != nil {
		return nil, err
	}
	if err := checkForgotten(ctx, dst, p); err != nil {
		return nil, err
	}
	progress(b.log, "anonymise: %d files in %s; baseline: rewriting every Parquet file of %s", rc.FilesRewritten, took, tenant)
	baseFiles, baseTook, err := rewriteTenant(dst, tenant)
	if err != nil {
		return nil, err
	}
	progress(b.log, "anonymise: baseline at equal method: editing every Parquet file of %s", tenant)
	sameFiles, sameTook, err := rewriteTenantEdited(dst, tenant)
	if err != nil {
		return nil, err
	}
	res.Arkiv, res.Baseline = measure([]time.Duration{took}), measure([]time.Duration{baseTook})
	res.compare()
	same.Arkiv, same.Baseline = res.Arkiv, measure([]time.Duration{sameTook})
	same.compare()
	same.Figures = map[string]any{"baseline_files_rewritten": sameFiles,
		"files_ratio": round(float64(sameFiles) / float64(max(rc.FilesRewritten, 1)))}
	res.Figures = map[string]any{"tenant_inquiries": b.sum.TenantInquiries[tenant], "tenant_files_copied": copied,
		"files_held_person": len(held), "files_held_per_generator": len(p.HeldIn), "files_rewritten": rc.FilesRewritten,
		"rows_anonymised": rc.RowsAnonymised, "receipt_duration_ms": rc.DurationMS, "baseline_files_rewritten": baseFiles}
	res.Met = met(res.RatioP50 >= 20 && rc.FilesRewritten == len(held) && slices.Equal(held, p.HeldIn))
	return []Result{res, same}, b.cleanup(dst)
}

// anonymisePerson runs what `arkiv anonymise` runs: rewrite recovery, then
// Engine.Anonymise, which is timed.
func anonymisePerson(ctx context.Context, dir string, p lakegen.Person) (*query.Receipt, time.Duration, error) {
	lake, err := sinks.OpenDir(dir, nil)
	if err != nil {
		return nil, 0, err
	}
	err = lake.RecoverRewrites()
	if cerr := lake.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, 0, err
	}
	eng, err := query.Open(dir, nil, nil)
	if err != nil {
		return nil, 0, err
	}
	defer eng.Close()
	start := time.Now()
	rc, err := eng.Anonymise(ctx, p.Tenant, query.Access{Actor: "arkiv-bench"},
		query.Person{Numbers: []string{p.Typed}, Emails: []string{p.Email}}, query.AnonymiseOptions{})
	took := time.Since(start)
	if err != nil {
		return nil, 0, fmt.Errorf("anonymise %s: %w", p.Tenant, err)
	}
	return rc, took, nil
}

// checkForgotten: neither the number nor the address finds anything now.
func checkForgotten(ctx context.Context, dir string, p lakegen.Person) error {
	eng, err := query.Open(dir, nil, nil)
	if err != nil {
		return err
	}
	defer eng.Close()
	from := p.Inquiries[0].StartedAt.AddDate(0, 0, -1)
	for _, f := range []query.Filter{{From: from, Number: p.Typed}, {From: from, Email: p.Email}} {
		res, err := eng.Search(ctx, p.Tenant, f, query.Page{})
		if err != nil {
			return err
		}
		if len(res.Rows) != 0 {
			return fmt.Errorf("after anonymisation a search still finds %d inquiries of %s's person", len(res.Rows), p.Tenant)
		}
	}
	return nil
}

// filesHolding finds with plain DuckDB (not the engine) the Parquet files
// that hold rows of the person: by identifier in inquiries and surveys, by
// inquiry id in chat logs. Lake-relative, sorted.
func filesHolding(dir string, p lakegen.Person) ([]string, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	src := func(ds string) string {
		files, _ := filepath.Glob(filepath.Join(dir, ds, "tenant="+p.Tenant, "date=*", "*.parquet"))
		if len(files) == 0 {
			return "(SELECT NULL AS filename, NULL AS inquiry_id WHERE false)"
		}
		return "read_parquet(['" + strings.Join(files, "', '") + "'], filename = true)"
	}
	q := `SELECT filename FROM ` + src(schema.DatasetInquiries) + ` WHERE caller_number = $1 OR chatter_number = $1
		OR lower(chatter_email) = $2 OR lower(from_address) = $2
	UNION SELECT filename FROM ` + src(schema.DatasetSurveys) + ` WHERE respondent_number = $1 OR lower(respondent_email) = $2
	UNION SELECT filename FROM ` + src(schema.DatasetChatlogs) + ` WHERE inquiry_id IN (
		SELECT inquiry_id FROM ` + src(schema.DatasetInquiries) + ` WHERE chatter_number = $1 OR lower(chatter_email) = $2)`
	rows, err := db.Query(q, p.Number, p.Email)
	if err != nil {
		return nil, fmt.Errorf("find the person's files: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			return nil, err
		}
		out = append(out, filepath.ToSlash(rel))
	}
	slices.Sort(out)
	return out, rows.Err()
}

// tenantFile is one Parquet file of a tenant, lake-relative.
type tenantFile struct{ rel, dataset string }

// tenantFiles lists the Parquet files of the tenant that the baselines
// rewrite.
func tenantFiles(dir, tenant string) ([]tenantFile, error) {
	var out []tenantFile
	for _, ds := range rewrittenDatasets {
		files, err := filepath.Glob(filepath.Join(dir, ds, "tenant="+tenant, "date=*", "*.parquet"))
		if err != nil {
			return nil, err
		}
		for _, abs := range files {
			rel, err := filepath.Rel(dir, abs)
			if err != nil {
				return nil, err
			}
			out = append(out, tenantFile{filepath.ToSlash(rel), ds})
		}
	}
	return out, nil
}

// rewriteEvery replaces every file of the tenant by what write(i) writes
// for files[i], in one journaled rewrite (the same sinks.Lake.Rewrite that
// anonymisation uses).
func rewriteEvery(dir, tenant string, files []tenantFile, id string, write func(i int) func(io.Writer) error) error {
	lake, err := sinks.OpenDir(dir, nil)
	if err != nil {
		return err
	}
	defer lake.Close()
	plan := sinks.RewritePlan{Reason: "benchmark baseline"}
	for i, f := range files {
		plan.Remove = append(plan.Remove, f.rel)
		plan.Add = append(plan.Add, sinks.NewFile{
			Name:  fmt.Sprintf("%s/%s-%d%s", filepath.ToSlash(filepath.Dir(f.rel)), id, i, sinks.ParquetSuffix),
			Write: write(i)})
	}
	if err := lake.Rewrite(tenant, plan); err != nil {
		return fmt.Errorf("baseline rewrite: %w", err)
	}
	return nil
}

// rewriteTenant is the baseline: every Parquet file of the tenant read
// into structs and written again unchanged, one after another, in one
// journaled rewrite.
func rewriteTenant(dir, tenant string) (int, time.Duration, error) {
	start := time.Now()
	files, err := tenantFiles(dir, tenant)
	if err != nil {
		return 0, 0, err
	}
	id := sinks.NewRewriteID()
	err = rewriteEvery(dir, tenant, files, id, func(i int) func(io.Writer) error {
		return rewriteFile(files[i].dataset, id, filepath.Join(dir, files[i].rel))
	})
	return len(files), time.Since(start), err
}

// rewriteTenantEdited is the baseline at equal method: every Parquet file
// of the tenant made again as anonymisation makes a file it edits
// (sinks.EditParquet, every core at once, in memory), then one journaled
// rewrite of them all.
func rewriteTenantEdited(dir, tenant string) (int, time.Duration, error) {
	start := time.Now()
	files, err := tenantFiles(dir, tenant)
	if err != nil {
		return 0, 0, err
	}
	id := sinks.NewRewriteID()
	data := make([][]byte, len(files))
	err = sinks.InParallel(len(files), runtime.GOMAXPROCS(0), func(i int) (err error) {
		data[i], err = editFirstRow(files[i].dataset, id, filepath.Join(dir, files[i].rel))
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	err = rewriteEvery(dir, tenant, files, id, func(i int) func(io.Writer) error {
		return func(w io.Writer) error { _, err := w.Write(data[i]); return err }
	})
	return len(files), time.Since(start), err
}

// editFirstRow makes a file again with sinks.EditParquet, its first row
// picked and left as it was.
func editFirstRow(dataset, id, path string) ([]byte, error) {
	switch dataset {
	case schema.DatasetInquiries:
		return editFirst[schema.InquiryRow](dataset, id, path)
	case schema.DatasetChatlogs:
		return editFirst[schema.ChatlogRow](dataset, id, path)
	case schema.DatasetRecordings:
		return editFirst[schema.RecordingRow](dataset, id, path)
	default:
		return editFirst[schema.SurveyRow](dataset, id, path)
	}
}

func editFirst[T any](dataset, id, path string) ([]byte, error) {
	first := true
	ed, err := sinks.EditParquet(path, dataset, id, sinks.RowEdit[T]{
		Match: func(*T) bool { m := first; first = false; return m },
		Edit:  func(*T) bool { return true }})
	if err == nil && ed.Data == nil {
		err = fmt.Errorf("%s: nothing written", path)
	}
	return ed.Data, err
}

// rewriteFile reads a file when the rewrite writes its replacement, so
// that memory holds one file's rows at a time.
func rewriteFile(dataset, id, path string) func(w io.Writer) error {
	switch dataset {
	case schema.DatasetInquiries:
		return rewriteRows[schema.InquiryRow](dataset, id, path, sinks.SortInquiries)
	case schema.DatasetChatlogs:
		return rewriteRows(dataset, id, path, byID(func(r *schema.ChatlogRow) string { return r.InquiryID }))
	case schema.DatasetRecordings:
		return rewriteRows(dataset, id, path, byID(func(r *schema.RecordingRow) string { return r.InquiryID }))
	default:
		return rewriteRows(dataset, id, path, byID(func(r *schema.SurveyRow) string { return r.InquiryID }))
	}
}

func byID[T any](id func(*T) string) func([]T) {
	return func(rows []T) { sinks.SortByInquiryID(rows, id) }
}

func rewriteRows[T any](dataset, id, path string, sortRows func([]T)) func(w io.Writer) error {
	return func(w io.Writer) error {
		rows, err := parquet.ReadFile[T](path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		sortRows(rows)
		return sinks.WriteParquet(w, dataset, id, rows)
	}
}

// expire: one day of every class across all tenants, on a copy of lake.
func (b *forgetBench) expire(ctx context.Context, lakeDir string) (Result, error) {
	sum, err := b.lakeSummary(ctx, lakeDir)
	if err != nil {
		return Result{}, err
	}
	res := Result{Name: fmt.Sprintf("expire one day, all %d tenants, %d-inquiry lake", sum.Tenants, sum.Inquiries),
		Target: "< 1 s, independent of rows"}
	dst := filepath.Join(b.f.work, "expire-"+filepath.Base(lakeDir))
	if err := os.RemoveAll(dst); err != nil {
		return res, err
	}
	progress(b.log, "expire: copying %s to %s", lakeDir, dst)
	copied, err := copyLake(lakeDir, dst)
	if err != nil {
		return res, err
	}
	at := sum.Now.AddDate(0, 0, 2) // each class then holds one day too many
	cfg := config.Default()
	lake, err := sinks.OpenDir(dst, nil)
	if err != nil {
		return res, err
	}
	defer lake.Close()
	start := time.Now()
	if err := lake.SweepTrash(); err != nil {
		return res, err
	}
	plan, err := lake.PlanExpiry(at, cfg.Policy)
	if err != nil {
		return res, err
	}
	planned := time.Since(start)
	if err := lake.ApplyExpiry(plan); err != nil {
		return res, err
	}
	took := time.Since(start)
	st := expiryStats(plan)
	res.Arkiv = measure([]time.Duration{took})
	res.Figures = map[string]any{"lake_files_copied": copied, "plan_ms": round(float64(planned.Microseconds()) / 1000),
		"committed_ms":       round(float64(plan.Committed.Sub(start).Microseconds()) / 1000),
		"partitions_dropped": st.partitions, "files_dropped": st.files, "bytes_dropped": st.bytes,
		"days_dropped": st.days, "expired_at": at.Format(time.RFC3339)}
	wantDays := map[string][]string{sinks.ClassGeneral: {sum.FirstDay}, sinks.ClassRecordings: {sum.RecordingsFrom},
		sinks.ClassChatlogs: {sum.ChatlogsFrom}}
	one := true
	for c, days := range wantDays {
		one = one && slices.Equal(st.days[c], days)
	}
	res.Met = met(took < time.Second && one)
	return res, b.cleanup(dst)
}

type expiryFigures struct {
	partitions, files int
	bytes             int64
	days              map[string][]string
}

func expiryStats(plan *sinks.ExpiryPlan) expiryFigures {
	st := expiryFigures{days: map[string][]string{}}
	for _, te := range plan.Tenants {
		for _, ce := range te.Classes {
			for _, p := range ce.Partitions {
				if !p.Dropped {
					continue
				}
				st.partitions++
				st.files += p.Files
				st.bytes += p.Bytes
				if !slices.Contains(st.days[ce.Class], p.Day) {
					st.days[ce.Class] = append(st.days[ce.Class], p.Day)
				}
			}
		}
	}
	return st
}

// copyLake copies every dataset folder of a lake (not its _arkiv).
func copyLake(src, dst string) (int, error) {
	entries, err := os.ReadDir(src)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if !e.IsDir() || e.Name() == sinks.MetaDir {
			continue
		}
		c, err := copyTree(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()))
		n += c
		if err != nil {
			return n, err
		}
	}
	syscall.Sync() // on disk before the timed run: a real lake's files were written long before
	return n, nil
}

// lakeSummary reads a lake's generator summary; the smaller lake is
// generated (as of the same instant) when missing.
func (b *forgetBench) lakeSummary(ctx context.Context, dir string) (*lakegen.Summary, error) {
	if sum, err := lakegen.ReadSummary(dir); err == nil {
		return sum, nil
	}
	if dir != b.f.small {
		return nil, fmt.Errorf("%s has no generator summary", dir)
	}
	progress(b.log, "generating %s (%d inquiries)", dir, b.f.smallInquiries)
	return lakegen.Generate(ctx, dir, lakegen.Options{Inquiries: b.f.smallInquiries, Tenants: b.sum.Tenants,
		Days: b.sum.Days, Seed: b.sum.Seed, Now: b.sum.Now})
}

// compact: a lake whose partitions hold several flushes each (and 1%
// duplicates), compacted as `arkiv compact` does.
func (b *forgetBench) compact(ctx context.Context) (Result, error) {
	res := Result{Name: "compaction", Target: "(none set; rows/s reported)"}
	dst := filepath.Join(b.f.work, "compact")
	if err := os.RemoveAll(dst); err != nil {
		return res, err
	}
	progress(b.log, "compact: generating %s (%d inquiries, 10 tenants, 30 days, %d flushes per partition)", dst,
		b.f.compactInquiries, b.f.compactFlushes)
	sum, err := lakegen.Generate(ctx, dst, lakegen.Options{Inquiries: b.f.compactInquiries, Tenants: 10, Days: 30,
		Seed: b.sum.Seed, Now: b.sum.Now, Flushes: b.f.compactFlushes, Duplicates: 0.01, NoMedia: true})
	if err != nil {
		return res, err
	}
	lake, err := sinks.OpenDir(dst, nil)
	if err != nil {
		return res, err
	}
	defer lake.Close()
	if err := lake.RecoverRewrites(); err != nil {
		return res, err
	}
	start := time.Now()
	cr, err := lake.Compact(sinks.CompactOptions{MinFiles: 4, Ledger: sinks.NewLedger(lake)})
	took := time.Since(start)
	if err != nil {
		return res, err
	}
	rowsIn := 0
	for _, n := range sum.Rows {
		rowsIn += n
	}
	res.Arkiv = measure([]time.Duration{took})
	res.Figures = map[string]any{"rows_in": cr.RowsIn, "rows_out": cr.RowsOut, "files_in": cr.FilesIn,
		"files_out": cr.FilesOut, "partitions": cr.Partitions, "skipped": cr.Skipped, "seconds": round(took.Seconds()),
		"rows_per_s": int(float64(cr.RowsIn) / took.Seconds()), "lake_rows": rowsIn}
	return res, b.cleanup(dst)
}
