package sinks_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

var auditStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// sealNow seals every audit log, however recently it was appended to.
var sealNow = sinks.CompactOptions{AuditIdle: -1}

// auditDay is the n-th day of the audit fixtures.
func auditDay(n int) string { return schema.Day(auditStart.AddDate(0, 0, n)) }

// appendEntries appends n entries (request ids prefix-0 ...) to host's log of
// the tenant's day, through the appender the query engine uses.
func appendEntries(t testing.TB, dir, tenant, day, host, prefix string, n int) {
	t.Helper()
	for i := range n {
		row := schema.AuditRow{Time: auditStart.Add(time.Duration(i) * time.Second), Tenant: tenant,
			Actor: "admin-" + host, ActorKind: schema.ActorAdmin, Action: "recording.play",
			InquiryID: fmt.Sprintf("q-%s-%d", day, i%3), RequestID: fmt.Sprintf("%s-%d", prefix, i)}
		if err := sinks.AppendAudit(sinks.DirFS{Root: dir}, day, "log-"+host+".jsonl", row); err != nil {
			t.Fatal(err)
		}
	}
}

// auditState reads every audit partition of the lake through
// ReadAuditPartition: partition -> its entries as sorted JSON lines.
func auditState(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	parts, err := filepath.Glob(filepath.Join(dir, schema.DatasetAudit, "tenant=*", "date=*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		rel, _ := filepath.Rel(dir, p)
		part, err := sinks.ReadAuditPartition(sinks.DirFS{Root: dir}, filepath.ToSlash(rel))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, r := range part.Rows {
			b, _ := json.Marshal(r)
			lines = append(lines, string(b))
		}
		slices.Sort(lines)
		out[filepath.ToSlash(rel)] = strings.Join(lines, "\n")
	}
	return out
}

// auditFileNames lists an audit partition's files.
func auditFileNames(t testing.TB, dir, part string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, part))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// assertSealed: every audit partition is one sealed Parquet file, no log.
func assertSealed(t *testing.T, dir string) {
	t.Helper()
	parts, _ := filepath.Glob(filepath.Join(dir, schema.DatasetAudit, "tenant=*", "date=*"))
	if len(parts) == 0 {
		t.Fatal("no audit partitions")
	}
	for _, p := range parts {
		rel, _ := filepath.Rel(dir, p)
		names := auditFileNames(t, dir, rel)
		if len(names) != 1 || !strings.HasSuffix(names[0], sinks.ParquetSuffix) {
			t.Errorf("%s after sealing: %v", rel, names)
		}
	}
}

// assertNoReplacedLeft: no file that a sealed file replaces is still there
// (after a rewrite or recovery finished, never both are on disk).
func assertNoReplacedLeft(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, schema.DatasetAudit, "tenant=*", "date=*", "*.parquet"))
	for _, f := range files {
		pf, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := pf.Stat()
		p, err := parquet.OpenFile(pf, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		v, _ := p.Lookup(sinks.MetaSealedFrom)
		pf.Close()
		var from []string
		if err := json.Unmarshal([]byte(v), &from); err != nil || len(from) == 0 {
			t.Fatalf("%s: footer %s = %q", f, sinks.MetaSealedFrom, v)
		}
		for _, n := range from {
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), n)); err == nil {
				t.Errorf("%s and the file it replaces, %s, are both there", filepath.Base(f), n)
			}
		}
	}
}

func assertNoRewriteJournals(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, sinks.RewriteDir))
	for _, e := range entries {
		t.Errorf("rewrite journal left: %s", e.Name())
	}
}

func TestSealAudit(t *testing.T) {
	dir := t.TempDir()
	for _, tenant := range []string{"t1", "t2"} {
		for d := range 3 {
			for _, host := range []string{"h1", "h2"} {
				appendEntries(t, dir, tenant, auditDay(d), host, tenant+host+auditDay(d), 5)
			}
		}
	}
	// A line cut short by a crash: skipped, and the next entry still reads.
	torn := filepath.Join(dir, sinks.PartitionDir(schema.DatasetAudit, "t1", auditDay(0)), "log-h1.jsonl")
	f, err := os.OpenFile(torn, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"time":"2026-03-0`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	appendEntries(t, dir, "t1", auditDay(0), "h1", "after-torn", 1)
	before := auditState(t, dir)
	if n := strings.Count(before["audit/tenant=t1/date="+auditDay(0)], "\n") + 1; n != 11 {
		t.Fatalf("fixture: %d entries in the torn partition, want 11", n)
	}
	l := openLake(t, dir)

	// One tenant only: the other's logs stay as they are.
	rep, err := l.Compact(sinks.CompactOptions{Tenant: "t1", AuditIdle: -1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.AuditPartitions != 3 || rep.AuditFilesIn != 6 || rep.AuditFilesOut != 3 || rep.AuditRows != 31 {
		t.Errorf("report %+v", rep)
	}
	if names := auditFileNames(t, dir, sinks.PartitionDir(schema.DatasetAudit, "t2", auditDay(0))); !slices.Equal(names,
		[]string{"log-h1.jsonl", "log-h2.jsonl"}) {
		t.Errorf("t2 was touched: %v", names)
	}
	if _, err := l.Compact(sealNow); err != nil {
		t.Fatal(err)
	}
	assertSealed(t, dir)
	assertNoReplacedLeft(t, dir)
	if got := auditState(t, dir); !maps.Equal(got, before) {
		t.Fatalf("entries changed by sealing:\n%v\nwant\n%v", got, before)
	}

	// Appends go on into a fresh live log; the next run merges it with the
	// sealed file into one.
	appendEntries(t, dir, "t1", auditDay(1), "h1", "later", 2)
	want := auditState(t, dir)
	rep, err = l.Compact(sealNow)
	if err != nil {
		t.Fatal(err)
	}
	if rep.AuditPartitions != 1 || rep.AuditFilesIn != 2 || rep.AuditFilesOut != 1 || rep.AuditRows != 12 {
		t.Errorf("second run: %+v", rep)
	}
	assertSealed(t, dir)
	if got := auditState(t, dir); !maps.Equal(got, want) {
		t.Fatalf("entries changed by the second sealing")
	}
	if rep, err = l.Compact(sealNow); err != nil || rep.AuditPartitions != 0 {
		t.Errorf("third run is not a no-op: %+v %v", rep, err)
	}
	assertNoRewriteJournals(t, dir)
	assertSealedTypes(t, dir)
}

// assertSealedTypes: a sealed file has the audit schema analysts see, with
// microsecond UTC timestamps.
func assertSealedTypes(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, schema.DatasetAudit, "tenant=t1", "date=*", "*.parquet"))
	if len(files) == 0 {
		t.Fatal("no sealed files")
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	col, ok := pf.Schema().Lookup("time")
	if lt := col.Node.Type().LogicalType(); !ok || lt == nil || lt.String() != "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)" {
		t.Errorf("time column: %v", pf.Schema())
	}
	if _, ok := pf.Schema().Lookup("tenant"); ok {
		t.Error("the sealed file repeats the tenant, which is its folder")
	}
	if v, _ := pf.Lookup(sinks.MetaDataset); v != schema.DatasetAudit {
		t.Errorf("dataset footer %q", v)
	}
}

// sealFixture is a lake whose audit partitions are in every state sealing
// meets: day 0 sealed with a fresh live log beside it, day 1 two live logs,
// day 2 a log closed by a sealer that died before it sealed.
func sealFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	appendEntries(t, dir, "t1", auditDay(0), "h1", "d0-first", 4)
	l, err := sinks.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Compact(sealNow); err != nil {
		t.Fatal(err)
	}
	l.Close()
	appendEntries(t, dir, "t1", auditDay(0), "h1", "d0-later", 2)
	appendEntries(t, dir, "t1", auditDay(1), "h1", "d1-h1", 3)
	appendEntries(t, dir, "t1", auditDay(1), "h2", "d1-h2", 3)
	appendEntries(t, dir, "t1", auditDay(2), "h1", "d2", 3)
	part := filepath.Join(dir, sinks.PartitionDir(schema.DatasetAudit, "t1", auditDay(2)))
	if err := os.Rename(filepath.Join(part, "log-h1.jsonl"), filepath.Join(part, "closed-x-log-h1.jsonl")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyLake(t *testing.T, template string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(template)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSealAuditFaults fails the i-th filesystem operation of a sealing run,
// for every i, once alone and once as a crash (every later one fails too).
// The audit log reads the same entries right after the fault, after
// recovery and after a clean rerun; after recovery no file and its
// replacement are both on disk, and nothing is left over.
func TestSealAuditFaults(t *testing.T) {
	template := sealFixture(t)
	want := auditState(t, template)
	n := sealFaultRun(t, template, want, -1, false)
	if n < 15 {
		t.Fatalf("only %d operations counted", n)
	}
	t.Logf("%d filesystem operations in a sealing run", n)
	for _, crash := range []bool{false, true} {
		for i := range n + 1 {
			t.Run(fmt.Sprintf("op%d/crash=%v", i, crash), func(t *testing.T) {
				t.Parallel()
				sealFaultRun(t, template, want, i, crash)
			})
		}
	}
}

// sealFaultRun runs one compaction failing at operation i (none if i < 0)
// and checks the outcome; it returns the operations counted.
func sealFaultRun(t *testing.T, template string, want map[string]string, i int, crash bool) int {
	t.Helper()
	dir := copyLake(t, template)
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
	_, runErr := l.Compact(sealNow)
	ops := ffs.Ops()
	label := fmt.Sprintf("fault at %d (crash %v, %d ops)", i, crash, ops)
	if i >= 0 && i < ops && runErr == nil {
		t.Fatalf("%s: not reported", label)
	}
	if runErr != nil && !errors.Is(runErr, sinks.ErrInjected) {
		t.Fatalf("%s: %v", label, runErr)
	}
	if got := auditState(t, dir); !maps.Equal(got, want) {
		t.Fatalf("%s: entries differ before recovery:\n%v\nwant\n%v", label, got, want)
	}
	ffs.Heal()
	_ = l.Close()

	r, err := sinks.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.RecoverRewrites(); err != nil {
		t.Fatalf("%s: recover: %v", label, err)
	}
	assertNoReplacedLeft(t, dir)
	if got := auditState(t, dir); !maps.Equal(got, want) {
		t.Fatalf("%s: entries differ after recovery", label)
	}
	if _, err := r.Compact(sealNow); err != nil {
		t.Fatalf("%s: rerun: %v", label, err)
	}
	assertSealed(t, dir)
	assertNoReplacedLeft(t, dir)
	assertNoRewriteJournals(t, dir)
	if got := auditState(t, dir); !maps.Equal(got, want) {
		t.Fatalf("%s: entries differ after the rerun", label)
	}
	if tmp, _ := os.ReadDir(filepath.Join(dir, sinks.TmpDir)); len(tmp) != 1 { // r's own
		t.Errorf("%s: tmp folders left: %d", label, len(tmp))
	}
	return ops
}

// TestSealWhileAppending seals over and over while appenders write and a
// reader reads: no acknowledged entry is ever missing from a read, none is
// read twice, and in the end every entry is sealed exactly once.
func TestSealWhileAppending(t *testing.T) {
	dir := t.TempDir()
	l := openLake(t, dir)
	const writers, each = 4, 100
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				row := schema.AuditRow{Time: auditStart, Tenant: "t1", Actor: "a", ActorKind: schema.ActorAdmin,
					Action: "chatlog.view", InquiryID: "q", RequestID: id}
				if err := sinks.AppendAudit(sinks.DirFS{Root: dir}, auditDay(i%3), fmt.Sprintf("log-h%d.jsonl", w%2),
					row); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		})
	}
	var aux sync.WaitGroup
	runs := 0
	aux.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := l.Compact(sealNow); err != nil {
				t.Error(err)
				return
			}
			runs++
		}
	})
	reads := 0
	aux.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			mu.Lock()
			must := maps.Clone(acked)
			mu.Unlock()
			checkEntries(t, dir, must, false)
			reads++
		}
	})
	wg.Wait()
	close(done)
	aux.Wait()
	if _, err := l.Compact(sealNow); err != nil {
		t.Fatal(err)
	}
	assertSealed(t, dir)
	if len(acked) != writers*each {
		t.Fatalf("%d entries acknowledged, want %d", len(acked), writers*each)
	}
	checkEntries(t, dir, acked, true)
	t.Logf("%d sealing runs and %d reads while %d entries were appended", runs, reads, len(acked))
}

// checkEntries reads every audit partition: no entry twice, every one of
// must there, and (exact) nothing else.
func checkEntries(t *testing.T, dir string, must map[string]bool, exact bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, d := range []int{0, 1, 2} {
		part, err := sinks.ReadAuditPartition(sinks.DirFS{Root: dir}, sinks.PartitionDir(schema.DatasetAudit, "t1", auditDay(d)))
		if err != nil {
			t.Error(err)
			return
		}
		for _, r := range part.Rows {
			if seen[r.RequestID] {
				t.Errorf("entry %s read twice", r.RequestID)
			}
			seen[r.RequestID] = true
		}
	}
	for id := range must {
		if !seen[id] {
			t.Errorf("acknowledged entry %s missing", id)
		}
	}
	if exact && len(seen) != len(must) {
		t.Errorf("%d entries read, %d appended", len(seen), len(must))
	}
}

// TestExpiryDropsSealedAudit: a sealed audit partition still goes with its
// inquiries' general information, and no sooner.
func TestExpiryDropsSealedAudit(t *testing.T) {
	dir := t.TempDir()
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	genLake(t, dir, []string{"acme"}, first, 4, 2)
	for d := range 4 {
		appendEntries(t, dir, "acme", schema.Day(first.AddDate(0, 0, d)), "h1", fmt.Sprint("e", d), 3)
	}
	l := openLake(t, dir)
	rep, err := l.Compact(sealNow)
	if err != nil || rep.AuditPartitions != 4 {
		t.Fatalf("sealing: %+v %v", rep, err)
	}
	assertSealed(t, dir)
	cfg := mustConfig(t, `tenants: {defaults: {retention: {general: 2d, recordings: 1d, chatlogs: 1d}}}`)
	if _, err := l.Expire(first.AddDate(0, 0, 4), cfg.Policy, false); err != nil {
		t.Fatal(err)
	}
	parts := partitions(t, dir)
	assertAuditFollowsInquiries(t, parts)
	var audit []string
	for p := range parts {
		if strings.HasPrefix(p, schema.DatasetAudit+"/") {
			audit = append(audit, p)
		}
	}
	slices.Sort(audit)
	wantLeft := []string{"audit/tenant=acme/date=2026-01-03", "audit/tenant=acme/date=2026-01-04"}
	if !slices.Equal(audit, wantLeft) {
		t.Errorf("audit partitions after expiry: %v, want %v", audit, wantLeft)
	}
	assertTrashEmpty(t, dir)
}

// TestAuditLockSerialises: an append in progress (the audit lock held, the
// live log open) holds sealing back until its line is written, and an
// append waits while the lock is held. The pauses only give a sealer or an
// appender that ignored the lock the time to do harm; a correct one passes
// however long they are.
func TestAuditLockSerialises(t *testing.T) {
	dir := t.TempDir()
	day := auditDay(0)
	appendEntries(t, dir, "t1", day, "h1", "first", 1)
	d := sinks.DirFS{Root: dir}
	l := openLake(t, dir)

	release, err := d.Lock(sinks.AuditLock("t1"))
	if err != nil {
		t.Fatal(err)
	}
	live, err := os.OpenFile(filepath.Join(dir, sinks.PartitionDir(schema.DatasetAudit, "t1", day), "log-h1.jsonl"),
		os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	sealed := make(chan error, 1)
	go func() {
		_, err := l.Compact(sealNow)
		sealed <- err
	}()
	time.Sleep(300 * time.Millisecond)
	line, _ := json.Marshal(schema.AuditRow{Time: auditStart, Tenant: "t1", Actor: "a", RequestID: "in-progress"})
	if _, err := live.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(live.Sync(), live.Close(), release()); err != nil {
		t.Fatal(err)
	}
	if err := <-sealed; err != nil {
		t.Fatal(err)
	}
	checkEntries(t, dir, map[string]bool{"first-0": true, "in-progress": true}, true)
	assertSealed(t, dir)

	// The other way round: an append waits for the lock.
	release, err = d.Lock(sinks.AuditLock("t1"))
	if err != nil {
		t.Fatal(err)
	}
	appended := make(chan error, 1)
	go func() {
		appended <- sinks.AppendAudit(d, day, "log-h1.jsonl", schema.AuditRow{Time: auditStart, Tenant: "t1",
			Actor: "a", RequestID: "waited"})
	}()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-appended:
		t.Errorf("appended while the audit lock was held (%v)", err)
		appended <- err
	default:
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	checkEntries(t, dir, map[string]bool{"first-0": true, "in-progress": true, "waited": true}, true)
}

// TestSealWaitsForIdleLogs: by default a live log is sealed only once it has
// had no append for a minute; a closed one at once.
func TestSealWaitsForIdleLogs(t *testing.T) {
	dir := t.TempDir()
	for d := range 3 {
		appendEntries(t, dir, "t1", auditDay(d), "h1", fmt.Sprint("d", d), 2)
	}
	part := func(d int) string {
		return filepath.Join(dir, sinks.PartitionDir(schema.DatasetAudit, "t1", auditDay(d)))
	}
	old := time.Now().Add(-2 * sinks.DefaultAuditIdle)
	if err := os.Chtimes(filepath.Join(part(0), "log-h1.jsonl"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(part(2), "log-h1.jsonl"), filepath.Join(part(2), "closed-x-log-h1.jsonl")); err != nil {
		t.Fatal(err)
	}
	want := auditState(t, dir)
	l := openLake(t, dir)
	rep, err := l.Compact(sinks.CompactOptions{})
	if err != nil || rep.AuditPartitions != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
	if names := auditFileNames(t, dir, sinks.PartitionDir(schema.DatasetAudit, "t1", auditDay(1))); !slices.Equal(names,
		[]string{"log-h1.jsonl"}) {
		t.Errorf("a log appended to just now was sealed: %v", names)
	}
	if rep, err := l.Compact(sinks.CompactOptions{AuditIdle: time.Hour}); err != nil || rep.AuditPartitions != 0 {
		t.Errorf("with an hour's idle time: %+v %v", rep, err)
	}
	if _, err := l.Compact(sealNow); err != nil {
		t.Fatal(err)
	}
	assertSealed(t, dir)
	if got := auditState(t, dir); !maps.Equal(got, want) {
		t.Error("entries changed")
	}
}

// TestAppendAuditBatch: a batch's entries land in their days' partitions,
// each once; a batch with an entry of another tenant or a bad day writes
// nothing.
func TestAppendAuditBatch(t *testing.T) {
	dir := t.TempDir()
	d := sinks.DirFS{Root: dir}
	entry := func(tenant string, day int, id string) sinks.AuditEntry {
		return sinks.AuditEntry{Day: auditDay(day), Row: schema.AuditRow{Time: auditStart, Tenant: tenant,
			Actor: "admin", ActorKind: schema.ActorAdmin, Action: "anonymise", InquiryID: id, RequestID: "r1"}}
	}
	batch := []sinks.AuditEntry{entry("t1", 0, "a"), entry("t1", 5, "b"), entry("t1", 0, "c"), entry("t1", 9, "d")}
	if err := sinks.AppendAuditBatch(d, "log-h.jsonl", batch); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, day := range []int{0, 5, 9} {
		part, err := sinks.ReadAuditPartition(d, sinks.PartitionDir(schema.DatasetAudit, "t1", auditDay(day)))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range part.Rows {
			got[auditDay(day)] = append(got[auditDay(day)], r.InquiryID)
		}
	}
	want := map[string][]string{auditDay(0): {"a", "c"}, auditDay(5): {"b"}, auditDay(9): {"d"}}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("entries by day %v, want %v", got, want)
	}
	for _, bad := range [][]sinks.AuditEntry{
		{entry("t1", 20, "x"), entry("t2", 20, "y")},
		{entry("t1", 20, "x"), {Day: "2026-02-30", Row: entry("t1", 0, "z").Row}},
		{entry("t1", 20, "x"), {Day: "../../x", Row: entry("t1", 0, "z").Row}},
	} {
		if err := sinks.AppendAuditBatch(d, "log-h.jsonl", bad); !errors.Is(err, sinks.ErrBadPath) {
			t.Errorf("bad batch: %v, want ErrBadPath", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, sinks.PartitionDir(schema.DatasetAudit, "t1", auditDay(20)))); !os.IsNotExist(err) {
		t.Errorf("a refused batch wrote its good entries: %v", err)
	}
}
