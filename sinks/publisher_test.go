package sinks

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
)

// publisherFiles are three tenants' survey files, published one after
// another by one Publisher.
func publisherFiles() (names []string, rows [][]schema.SurveyRow) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for k, tenant := range []string{"ta", "tb", "tc"} {
		names = append(names, PartitionDir(schema.DatasetSurveys, tenant, "2026-03-01")+"/f.parquet")
		var rs []schema.SurveyRow
		for i := range 40 / (k + 1) {
			id := fmt.Sprintf("%s-%03d", tenant, i)
			rs = append(rs, schema.SurveyRow{SurveyID: id, SurveyType: "sms", InquiryID: id, InquiryStartedAt: at,
				Comment: &id})
		}
		rows = append(rows, rs)
	}
	return names, rows
}

func publishSurveys(p *Publisher, name string, rows []schema.SurveyRow) error {
	return p.PublishUnsynced(name, func(w io.Writer) error {
		return WriteParquetWith(p.Parquet(), w, schema.DatasetSurveys, "flush-1", rows)
	})
}

// TestPublisherFaults fails the i-th filesystem operation of a Publisher
// publishing three files, for every i, as a lone error and as a crash: every
// publish that returned nil left its file whole with its own rows (also
// those after a failed one, whose reused writers must start clean), every
// one that failed left no file, and once the lake is closed (or, after a
// crash, the next process opened it) no temporary file or folder is left.
func TestPublisherFaults(t *testing.T) {
	names, rows := publisherFiles()
	n := countPublisherOps(t, names, rows)
	for _, crash := range []bool{false, true} {
		for i := range n + 1 {
			publisherFaultRun(t, i, crash, names, rows)
		}
	}
}

func countPublisherOps(t *testing.T, names []string, rows [][]schema.SurveyRow) int {
	t.Helper()
	ffs := NewFaultFS(DirFS{Root: t.TempDir()})
	l, err := Open(ffs, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := l.NewPublisher()
	ffs.Count()
	for k := range names {
		if err := publishSurveys(p, names[k], rows[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if ffs.Ops() < 10 {
		t.Fatalf("only %d operations counted", ffs.Ops())
	}
	return ffs.Ops()
}

func publisherFaultRun(t *testing.T, i int, crash bool, names []string, rows [][]schema.SurveyRow) {
	t.Helper()
	dir := t.TempDir()
	ffs := NewFaultFS(DirFS{Root: dir})
	l, err := Open(ffs, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := l.NewPublisher()
	ffs.FailAt(i, crash)
	errs := make([]error, len(names))
	for k := range names {
		errs[k] = publishSurveys(p, names[k], rows[k])
	}
	cerr := p.Close()
	ffs.Heal()
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p.tmp))); cerr == nil && !crash && !os.IsNotExist(err) {
		t.Errorf("op %d: the publisher's Close left its folder (stat error %v)", i, err)
	}
	if crash {
		_ = l.releaseTmp() // the process dies
	} else if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenDir(dir, nil) // the next process
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	failed := 0
	for k, name := range names {
		got, rerr := parquet.ReadFile[schema.SurveyRow](filepath.Join(dir, filepath.FromSlash(name)))
		switch {
		case errs[k] != nil:
			failed++
			if !os.IsNotExist(rerr) {
				t.Errorf("op %d crash=%v: failed publish %d left %s (read error %v)", i, crash, k, name, rerr)
			}
		case rerr != nil:
			t.Errorf("op %d crash=%v: published %s does not read: %v", i, crash, name, rerr)
		case !slices.EqualFunc(got, rows[k], func(a, b schema.SurveyRow) bool { return a.SurveyID == b.SurveyID }):
			t.Errorf("op %d crash=%v: %s holds other rows than its own", i, crash, name)
		}
	}
	if !crash && failed > 1 {
		t.Errorf("op %d: one fault failed %d publishes", i, failed)
	}
	assertOnlyTmp(t, dir, r)
}

// assertOnlyTmp: _arkiv/tmp holds the live lake's folder and in it only
// its lock file.
func assertOnlyTmp(t *testing.T, dir string, live *Lake) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, TmpDir))
	for _, e := range entries {
		if TmpDir+"/"+e.Name() != live.tmp {
			t.Errorf("tmp folder of no live process: %s", e.Name())
		}
	}
	inner, _ := os.ReadDir(filepath.Join(dir, live.tmp))
	for _, e := range inner {
		if e.Name() != instanceLock {
			t.Errorf("debris in the live tmp folder: %s", e.Name())
		}
	}
}

// TestPublisherFolderFollowsItsProcess: a Publisher's temporary folder is
// guarded by its process's lock like the process's own folder: another
// process's sweep leaves it while the owner lives, and removes it, with
// whatever a write interrupted by the owner's death left in it, once the
// owner is dead.
func TestPublisherFolderFollowsItsProcess(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := a.NewPublisher()
	names, rows := publisherFiles()
	if err := publishSurveys(p, names[0], rows[0]); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(dir, filepath.FromSlash(p.tmp), "interrupted"+tmpSuffix)
	if err := os.WriteFile(stray, []byte("half a file of ta"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := OpenDir(dir, nil) // sweeps at Open
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.SweepDeadTmp(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Fatalf("a live process's publisher folder was swept: %v", err)
	}
	_ = a.releaseTmp() // a dies with p's write half done
	if err := b.SweepDeadTmp(); err != nil {
		t.Fatal(err)
	}
	assertOnlyTmp(t, dir, b)
}
