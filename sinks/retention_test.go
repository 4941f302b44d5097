package sinks_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// expDatasets are the datasets of a generated lake with their retention
// class.
var expDatasets = map[string]string{
	schema.DatasetInquiries: sinks.ClassGeneral, schema.DatasetSurveys: sinks.ClassGeneral,
	schema.DatasetAudit: sinks.ClassGeneral, schema.DatasetRecordings: sinks.ClassRecordings,
	sinks.MediaDataset: sinks.ClassRecordings, schema.DatasetChatlogs: sinks.ClassChatlogs,
}

// noSyncFS skips fsyncs while a test lake is generated (tens of thousands
// of them would take minutes on a real disk); expiry itself runs on DirFS.
type noSyncFS struct{ sinks.FS }

func (n noSyncFS) Create(name string) (sinks.File, error) {
	f, err := n.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return noSyncFile{f}, nil
}
func (noSyncFS) SyncDir(string) error { return nil }
func (noSyncFS) SyncAll() error       { return nil }

type noSyncFile struct{ sinks.File }

func (noSyncFile) Sync() error { return nil }

// genLake writes, for each tenant and each of days days from first on, one
// small real file per dataset: Parquet of the schema row types with rows
// rows (through WriteParquet and Publish), a media object and an audit log.
func genLake(tb testing.TB, dir string, tenants []string, first time.Time, days, rows int) {
	tb.Helper()
	l, err := sinks.Open(noSyncFS{sinks.DirFS{Root: dir}}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	for _, tenant := range tenants {
		for d := range days {
			if err := genDay(l, tenant, first.AddDate(0, 0, d).Add(9*time.Hour), rows); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

func genDay(l *sinks.Lake, tenant string, start time.Time, rows int) error {
	day := schema.Day(start)
	inq := make([]schema.InquiryRow, rows)
	chat := make([]schema.ChatlogRow, rows)
	rec := make([]schema.RecordingRow, rows)
	sur := make([]schema.SurveyRow, rows)
	for i := range rows {
		id := fmt.Sprintf("%s-%s-%06d", tenant, day, i)
		at := start.Add(time.Duration(i) * time.Second)
		num := fmt.Sprintf("+4670%07d", i)
		inq[i] = schema.InquiryRow{InquiryID: id, SessionID: "s" + id, MediaType: "call", StartedAt: at,
			Queue: "support", AgentID: "a1", CallerNumber: &num}
		chat[i] = schema.ChatlogRow{InquiryID: id, InquiryStartedAt: at,
			Messages: []schema.ChatMessageRow{{At: at, From: "customer", Text: "hello"}}}
		rec[i] = schema.RecordingRow{InquiryID: id, RecordingID: "r1", InquiryStartedAt: at,
			ContentType: "audio/mpeg", SizeBytes: 4, Object: sinks.MediaObject(tenant, day, id, "r1")}
		sur[i] = schema.SurveyRow{SurveyID: "v" + id, SurveyType: "csat", InquiryID: id, InquiryStartedAt: at, Score: 4}
	}
	sinks.SortInquiries(inq)
	flush := "f-" + day
	name := func(ds string) string { return sinks.PartitionDir(ds, tenant, day) + "/" + flush + sinks.ParquetSuffix }
	writes := map[string]func(io.Writer) error{
		name(schema.DatasetInquiries): func(w io.Writer) error {
			return sinks.WriteParquet(w, schema.DatasetInquiries, flush, inq)
		},
		name(schema.DatasetChatlogs): func(w io.Writer) error {
			return sinks.WriteParquet(w, schema.DatasetChatlogs, flush, chat)
		},
		name(schema.DatasetRecordings): func(w io.Writer) error {
			return sinks.WriteParquet(w, schema.DatasetRecordings, flush, rec)
		},
		name(schema.DatasetSurveys): func(w io.Writer) error {
			return sinks.WriteParquet(w, schema.DatasetSurveys, flush, sur)
		},
		sinks.MediaObject(tenant, day, inq[0].InquiryID, "r1"): func(w io.Writer) error {
			_, err := w.Write([]byte("ID3\x04 mp3 bytes of " + day))
			return err
		},
		sinks.PartitionDir(schema.DatasetAudit, tenant, day) + "/log-test.jsonl": func(w io.Writer) error {
			return json.NewEncoder(w).Encode(schema.AuditRow{Time: start, Tenant: tenant, Actor: "admin1",
				ActorKind: schema.ActorAdmin, Action: "play", InquiryID: inq[0].InquiryID, RequestID: "q1"})
		},
	}
	for _, n := range slices.Sorted(maps.Keys(writes)) {
		if err := l.Publish(n, writes[n]); err != nil {
			return err
		}
	}
	return nil
}

// partitions lists the partition folders of the lake with the names and
// sizes of their files: dataset/tenant=t/date=d -> "file:size,...".
func partitions(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for ds := range expDatasets {
		matches, err := filepath.Glob(filepath.Join(dir, ds, "tenant=*", "date=*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			entries, err := os.ReadDir(m)
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, e := range entries {
				info, err := e.Info()
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, fmt.Sprintf("%s:%d", e.Name(), info.Size()))
			}
			rel, _ := filepath.Rel(dir, m)
			out[filepath.ToSlash(rel)] = strings.Join(files, ",")
		}
	}
	return out
}

// treeListing is every path below dir with its type, size and mtime.
func treeListing(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%v %d %d", info.Mode(), info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertTrashEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, sinks.TrashDir))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("debris in trash: %s", e.Name())
	}
}

func mustConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	c, err := config.Decode(strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func openLake(t testing.TB, dir string) *sinks.Lake {
	t.Helper()
	l, err := sinks.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// epochDay numbers a UTC day independently of the code under test.
func epochDay(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// kept says, from the rule written in the spec, whether the partition
// dataset/tenant=t/date=d survives at now: d >= today - retention, with
// recordings and chat logs capped at general.
func kept(t *testing.T, cfg *config.Config, part string, now time.Time) bool {
	t.Helper()
	var ds, tenant, day string
	parts := strings.Split(part, "/")
	ds, tenant, day = parts[0], strings.TrimPrefix(parts[1], "tenant="), strings.TrimPrefix(parts[2], "date=")
	p := cfg.Policy(tenant)
	days := int64(p.General)
	switch expDatasets[ds] {
	case sinks.ClassRecordings:
		days = min(days, int64(p.Recordings))
	case sinks.ClassChatlogs:
		days = min(days, int64(p.Chatlogs))
	}
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		t.Fatal(err)
	}
	return epochDay(d) >= epochDay(now)-days
}

func expectedAt(t *testing.T, cfg *config.Config, all map[string]string, now time.Time) map[string]string {
	want := map[string]string{}
	for p, files := range all {
		if kept(t, cfg, p, now) {
			want[p] = files
		}
	}
	return want
}

func diffKeys(a, b map[string]string) (onlyA, onlyB []string) {
	for k := range a {
		if _, ok := b[k]; !ok {
			onlyA = append(onlyA, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			onlyB = append(onlyB, k)
		}
	}
	slices.Sort(onlyA)
	slices.Sort(onlyB)
	return onlyA, onlyB
}

func assertPartitions(t *testing.T, label string, got, want map[string]string) {
	t.Helper()
	extra, missing := diffKeys(got, want)
	if len(extra) > 0 || len(missing) > 0 {
		t.Fatalf("%s: %d partitions should be gone %v; %d should be present %v", label,
			len(extra), head(extra), len(missing), head(missing))
	}
	for p, files := range want {
		if got[p] != files {
			t.Fatalf("%s: partition %s changed: %s, want %s", label, p, got[p], files)
		}
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }

// droppedOf lists the partitions a plan marks dropped (or would drop).
func droppedOf(plan *sinks.ExpiryPlan, all bool) map[string]string {
	out := map[string]string{}
	for _, te := range plan.Tenants {
		for _, ce := range te.Classes {
			for _, p := range ce.Partitions {
				if p.Dropped || all {
					out[p.Dir] = ce.Class
				}
			}
		}
	}
	return out
}

const expConfig = `
tenants:
  defaults:
    retention: {general: 90d, recordings: 10d, chatlogs: 20d}
  acme:
    retention: {general: 180d, recordings: 14d, chatlogs: 30d}
  beta:
    retention: {general: 365d, recordings: 500d, chatlogs: 7d}
  delta:
    retention: {general: 30d, recordings: 60d}
`

func TestExpiryCutoff(t *testing.T) {
	for _, now := range []string{"2026-11-28T00:00:00Z", "2026-11-28T23:59:59.999Z",
		"2026-11-29T00:30:00+01:00", "2026-11-28T20:00:00-03:59"} {
		at, err := time.Parse(time.RFC3339Nano, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := sinks.Cutoff(at, 180).Format(time.DateOnly); got != "2026-06-01" {
			t.Errorf("Cutoff(%s, 180d) = %s, want 2026-06-01", now, got)
		}
	}
	// On a lake: 2026-05-31 goes, 2026-06-01 stays.
	dir := t.TempDir()
	genLake(t, dir, []string{"acme"}, time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC), 3, 1)
	l := openLake(t, dir)
	cfg := mustConfig(t, "tenants: {acme: {retention: {general: 180d, recordings: 180d, chatlogs: 180d}}}")
	plan, err := l.Expire(time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC), cfg.Policy, false)
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	for p := range droppedOf(plan, false) {
		days = append(days, p[strings.LastIndex(p, "=")+1:])
	}
	slices.Sort(days)
	days = slices.Compact(days)
	if !slices.Equal(days, []string{"2026-05-30", "2026-05-31"}) {
		t.Fatalf("dropped days %v, want 2026-05-30 and 2026-05-31", days)
	}
	if got := plan.Tenants[0].Classes[0].OldestKept; got != "2026-06-01" {
		t.Fatalf("oldest kept %s", got)
	}
}

// TestExpiryDayByDay steps now one day at a time over a lake of 400 days
// and four tenants (one missing from the configuration) and checks after
// every run that exactly the expired partitions are gone.
func TestExpiryDayByDay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := time.Date(2025, 10, 25, 0, 0, 0, 0, time.UTC)
	genLake(t, dir, []string{"acme", "beta", "delta", "gamma"}, first, 400, 1)
	all := partitions(t, dir)
	if len(all) != 4*400*6 {
		t.Fatalf("generated %d partitions", len(all))
	}
	cfg := mustConfig(t, expConfig)
	l := openLake(t, dir)
	prev := all
	for step := range 45 {
		now := first.AddDate(0, 0, 399+step).Add(time.Duration(step%24)*time.Hour + 17*time.Minute)
		plan, err := l.Expire(now, cfg.Policy, false)
		if err != nil {
			t.Fatal(err)
		}
		got := partitions(t, dir)
		label := "now " + now.Format(time.RFC3339)
		assertPartitions(t, label, got, expectedAt(t, cfg, all, now))
		gone, _ := diffKeys(prev, got)
		if dropped := droppedOf(plan, false); !slices.Equal(slices.Sorted(maps.Keys(dropped)), gone) {
			t.Fatalf("%s: plan says it dropped %d partitions, %d went", label, len(dropped), len(gone))
		}
		if step > 0 {
			assertOneDayEach(t, label, gone)
		}
		assertAuditFollowsInquiries(t, got)
		assertTrashEmpty(t, dir)
		prev = got

		if step%5 != 0 {
			continue
		}
		// A second run at the same instant is a no-op.
		before := treeListing(t, filepath.Join(dir, "inquiries"))
		again, err := l.Expire(now, cfg.Policy, false)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(droppedOf(again, true)); n != 0 {
			t.Fatalf("%s: second run planned %d partitions", label, n)
		}
		if !maps.Equal(before, treeListing(t, filepath.Join(dir, "inquiries"))) {
			t.Fatalf("%s: second run changed the lake", label)
		}
	}
	// gamma is not in the configuration: the defaults (90d) apply.
	now := first.AddDate(0, 0, 399+44)
	if _, ok := prev[sinks.PartitionDir("inquiries", "gamma", sinks.Cutoff(now, 91).Format(time.DateOnly))]; ok {
		t.Fatal("gamma kept a day older than the default retention")
	}
	if _, ok := prev[sinks.PartitionDir("inquiries", "gamma", sinks.Cutoff(now, 90).Format(time.DateOnly))]; !ok {
		t.Fatal("gamma lost its oldest day within the default retention")
	}
}

// assertOneDayEach: a step of one day drops at most one day of each
// dataset of each tenant.
func assertOneDayEach(t *testing.T, label string, gone []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, p := range gone {
		key := p[:strings.LastIndex(p, "/")]
		if seen[key] {
			t.Fatalf("%s: more than one day of %s went: %v", label, key, gone)
		}
		seen[key] = true
	}
	if len(gone) == 0 {
		t.Fatalf("%s: nothing went", label)
	}
}

// assertAuditFollowsInquiries: an audit partition exists exactly when its
// tenant's inquiries of that day do.
func assertAuditFollowsInquiries(t *testing.T, parts map[string]string) {
	t.Helper()
	for p := range parts {
		if rest, ok := strings.CutPrefix(p, "audit/"); ok {
			if _, ok := parts["inquiries/"+rest]; !ok {
				t.Fatalf("audit partition %s outlived its inquiries", p)
			}
		}
		if rest, ok := strings.CutPrefix(p, "inquiries/"); ok {
			if _, ok := parts["audit/"+rest]; !ok {
				t.Fatalf("audit partition of %s went before its inquiries", p)
			}
		}
	}
}

func TestExpiryShortenedRetention(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	genLake(t, dir, []string{"acme"}, first, 200, 1)
	all := partitions(t, dir)
	now := first.AddDate(0, 0, 199)
	l := openLake(t, dir)
	long := mustConfig(t, expConfig)
	if _, err := l.Expire(now, long.Policy, false); err != nil {
		t.Fatal(err)
	}
	assertPartitions(t, "180d", partitions(t, dir), expectedAt(t, long, all, now))
	short := mustConfig(t, strings.Replace(expConfig, "general: 180d", "general: 60d", 1))
	plan, err := l.Expire(now, short.Policy, false)
	if err != nil {
		t.Fatal(err)
	}
	assertPartitions(t, "60d", partitions(t, dir), expectedAt(t, short, all, now))
	if plan.Tenants[0].Tenant != "acme" || plan.Tenants[0].Classes[0].OldestKept != sinks.Cutoff(now, 60).Format(time.DateOnly) {
		t.Fatalf("plan %+v", plan.Tenants[0].Classes[0])
	}
	if n := len(plan.Tenants[0].Classes[0].Partitions); n != 3*(180-60) {
		t.Fatalf("acme general: %d partitions dropped, want %d", n, 3*(180-60))
	}
}

func TestExpiryDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	genLake(t, dir, []string{"acme"}, first, 60, 1)
	cfg := mustConfig(t, expConfig)
	now := first.AddDate(0, 0, 59)
	before := treeListing(t, dir)
	plan, err := sinks.PlanExpiryFS(sinks.DirFS{Root: dir}, now, cfg.Policy)
	if err != nil {
		t.Fatal(err)
	}
	if len(droppedOf(plan, true)) == 0 || len(droppedOf(plan, false)) != 0 {
		t.Fatal("dry run planned nothing, or marked partitions dropped")
	}
	if !maps.Equal(before, treeListing(t, dir)) {
		t.Fatal("planning changed the lake")
	}
	l := openLake(t, dir)
	before = treeListing(t, dir)
	if _, err := l.Expire(now, cfg.Policy, true); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(before, treeListing(t, dir)) {
		t.Fatal("Expire with dryRun changed the lake")
	}
}

func TestExpiryRefusesBadRetention(t *testing.T) {
	dir := t.TempDir()
	genLake(t, dir, []string{"acme"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 3, 1)
	before := treeListing(t, dir)
	zero := func(tenant string) config.Policy { return config.Policy{Tenant: tenant} }
	if _, err := sinks.PlanExpiryFS(sinks.DirFS{Root: dir}, time.Now(), zero); !errors.Is(err, sinks.ErrBadRetention) {
		t.Fatalf("err = %v, want ErrBadRetention", err)
	}
	if !maps.Equal(before, treeListing(t, dir)) {
		t.Fatal("lake changed")
	}
}

// TestExpiryLeavesStrangersAlone: only real tenant=<id>/date=YYYY-MM-DD
// folders are touched; symbolic links are never followed.
func TestExpiryLeavesStrangersAlone(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	genLake(t, dir, []string{"acme"}, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), 1, 1)
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p, "x.parquet"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("inquiries/tenant=Bad!/date=2020-01-01")
	mk("inquiries/tenant=acme/date=2020-13-01")
	mk("inquiries/tenant=acme/date=2020-1-02")
	mk("inquiries/tenant=acme/old-2020-01-01")
	mk("inquiries/notes")
	if err := os.WriteFile(filepath.Join(outside, "keep.parquet"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"inquiries/tenant=acme/date=2019-12-31": outside,                                     // an old day that is a link
		"chatlogs/tenant=zed":                   filepath.Join(dir, "inquiries/tenant=acme"), // a tenant that is a link
	}
	if err := os.RemoveAll(filepath.Join(dir, "surveys")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "surveys")); err != nil { // a dataset that is a link
		t.Fatal(err)
	}
	for p, target := range links {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "inquiries/tenant=acme/stray.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	outsideBefore := treeListing(t, outside)
	l := openLake(t, dir)
	plan, err := l.Expire(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), mustConfig(t, expConfig).Policy, false)
	if err != nil {
		t.Fatal(err)
	}
	skipped := map[string]string{}
	for _, s := range plan.Skipped {
		skipped[s.Path] = s.Reason
	}
	want := map[string]string{
		"surveys":                               sinks.SkipSymlink,
		"chatlogs/tenant=zed":                   sinks.SkipSymlink,
		"inquiries/tenant=acme/date=2019-12-31": sinks.SkipSymlink,
		"inquiries/tenant=Bad!":                 sinks.SkipBadTenant,
		"inquiries/tenant=acme/date=2020-13-01": sinks.SkipBadDate,
		"inquiries/tenant=acme/date=2020-1-02":  sinks.SkipBadDate,
		"inquiries/tenant=acme/old-2020-01-01":  sinks.SkipBadDate,
		"inquiries/notes":                       sinks.SkipBadTenant,
		"inquiries/tenant=acme/stray.txt":       sinks.SkipNotDir,
	}
	if !maps.Equal(skipped, want) {
		t.Fatalf("skipped %v\nwant %v", skipped, want)
	}
	if !maps.Equal(outsideBefore, treeListing(t, outside)) {
		t.Fatal("a folder behind a symbolic link changed")
	}
	for p := range want {
		if _, err := os.Lstat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for ds := range expDatasets {
		p := sinks.PartitionDir(ds, "acme", "2020-01-01")
		if _, err := os.Lstat(filepath.Join(dir, p)); ds != schema.DatasetSurveys && !os.IsNotExist(err) {
			t.Errorf("expired partition %s is still there (%v)", p, err)
		}
	}
	assertTrashEmpty(t, dir)
}

// TestExpiryWaitsForTenantLock: expiry holds off while a rewrite of the
// tenant holds its lock.
func TestExpiryWaitsForTenantLock(t *testing.T) {
	dir := t.TempDir()
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	genLake(t, dir, []string{"acme"}, first, 3, 1)
	release, err := sinks.DirFS{Root: dir}.Lock(sinks.TenantLock("acme"))
	if err != nil {
		t.Fatal(err)
	}
	l := openLake(t, dir)
	done := make(chan error, 1)
	go func() {
		_, err := l.Expire(first.AddDate(1, 0, 0), mustConfig(t, expConfig).Policy, false)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("expiry finished while the tenant was locked: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if n := len(partitions(t, dir)); n != 18 {
		t.Fatalf("%d partitions left while locked, want 18", n)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(partitions(t, dir)); n != 0 {
		t.Fatalf("%d partitions left, want 0", n)
	}
}

// TestExpiryFaults fails the i-th filesystem operation of an expiry, for
// every i, once alone and once as a crash (every later operation fails
// too). After a restart (SweepTrash) every partition is either intact or
// gone, kept partitions are untouched, the trash is empty, and a rerun
// reaches exactly the expected state.
func TestExpiryFaults(t *testing.T) {
	t.Parallel()
	template := t.TempDir()
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	genLake(t, template, []string{"acme", "beta"}, first, 4, 2)
	cfg := mustConfig(t, `tenants: {defaults: {retention: {general: 2d, recordings: 1d, chatlogs: 1d}}}`)
	now := first.AddDate(0, 0, 3)
	all := partitions(t, template)
	want := expectedAt(t, cfg, all, now)

	ops := faultRunExpiry(t, template, cfg, now, -1, false, all, want)
	if ops < 10 {
		t.Fatalf("only %d operations counted", ops)
	}
	for i := range ops + 1 {
		for _, crash := range []bool{false, true} {
			t.Run(fmt.Sprintf("op%d/crash=%v", i, crash), func(t *testing.T) {
				t.Parallel()
				faultRunExpiry(t, template, cfg, now, i, crash, all, want)
			})
		}
	}
}

// faultRunExpiry copies the template lake, runs an expiry that fails at
// operation i (never when i < 0), restarts and checks. It returns the
// number of operations counted.
func faultRunExpiry(t *testing.T, template string, cfg *config.Config, now time.Time, i int, crash bool,
	all, want map[string]string) int {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(template)); err != nil {
		t.Fatal(err)
	}
	ffs := sinks.NewFaultFS(sinks.DirFS{Root: dir})
	l, err := sinks.Open(ffs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if i < 0 {
		ffs.Count()
	} else {
		ffs.FailAt(i, crash)
	}
	_, runErr := l.Expire(now, cfg.Policy, false)
	ops := ffs.Ops()
	if i >= 0 && i < ops && runErr == nil {
		t.Fatalf("fault at operation %d of %d was not reported", i, ops)
	}
	if runErr != nil && !errors.Is(runErr, sinks.ErrInjected) {
		t.Fatal(runErr)
	}
	ffs.Heal()
	_ = l.Close()

	// Restart: sweep the trash, then every partition is intact or gone.
	l2 := openLake(t, dir)
	if err := l2.SweepTrash(); err != nil {
		t.Fatal(err)
	}
	assertTrashEmpty(t, dir)
	got := partitions(t, dir)
	for p, files := range got {
		if all[p] != files {
			t.Fatalf("partition %s is partial after a fault at %d: %s, want %s", p, i, files, all[p])
		}
	}
	for p := range want {
		if _, ok := got[p]; !ok {
			t.Fatalf("kept partition %s lost after a fault at %d", p, i)
		}
	}
	// Rerun: exactly the expected state.
	if _, err := l2.Expire(now, cfg.Policy, false); err != nil {
		t.Fatal(err)
	}
	assertPartitions(t, "rerun", partitions(t, dir), want)
	assertTrashEmpty(t, dir)
	return ops
}

func TestSweepTrashFinishesPartialRemoval(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"x-inquiries.acme.2026-01-01/a/b", "y-media.acme.2026-01-01"} {
		if err := os.MkdirAll(filepath.Join(dir, sinks.TrashDir, p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sinks.TrashDir, p, "f"), []byte("bytes"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := openLake(t, dir)
	if err := l.SweepTrash(); err != nil {
		t.Fatal(err)
	}
	assertTrashEmpty(t, dir)
}
