package sinks

import (
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	rwOldA = "chatlogs/tenant=t1/date=2026-01-02/f1.parquet"
	rwOldB = "chatlogs/tenant=t1/date=2026-01-03/f2.parquet"
	rwKeep = "chatlogs/tenant=t1/date=2026-01-03/f3.parquet"
	rwNew  = "chatlogs/tenant=t1/date=2026-01-03/rw-new.parquet"
	rwNew2 = "chatlogs/tenant=t1/date=2026-01-04/rw-new.parquet"
)

// rewriteFixture makes a lake with three files and returns its folder.
func rewriteFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	l, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for name, content := range map[string]string{rwOldA: "old a SECRET", rwOldB: "old b SECRET", rwKeep: "keep"} {
		if err := l.Publish(name, writeString(content)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		// Two writes, so a fault can land between them.
		if _, err := io.WriteString(w, s[:len(s)/2]); err != nil {
			return err
		}
		_, err := io.WriteString(w, s[len(s)/2:])
		return err
	}
}

func rewritePlan() RewritePlan {
	return RewritePlan{Reason: "test", Remove: []string{rwOldA, rwOldB},
		Add: []NewFile{{Name: rwNew, Write: writeString("new b")}, {Name: rwNew2, Write: writeString("new c")}}}
}

var (
	oldState = map[string]string{rwOldA: "old a SECRET", rwOldB: "old b SECRET", rwKeep: "keep"}
	newState = map[string]string{rwNew: "new b", rwNew2: "new c", rwKeep: "keep"}
)

// dataFiles maps every file outside _arkiv to its content.
func dataFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == MetaDir {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertNoDebris: no journals of any kind, and nothing in _arkiv/tmp but
// the folders of live lakes.
func assertNoDebris(t *testing.T, dir string, live ...*Lake) {
	t.Helper()
	for _, d := range []string{RewriteDir, FlushDir} {
		entries, _ := os.ReadDir(filepath.Join(dir, d))
		for _, e := range entries {
			t.Errorf("journal left: %s/%s", d, e.Name())
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, TmpDir))
	for _, e := range entries {
		alive := false
		for _, l := range live {
			if TmpDir+"/"+e.Name() == l.tmp {
				alive = true
				inner, _ := os.ReadDir(filepath.Join(dir, l.tmp))
				for _, f := range inner {
					if f.Name() != instanceLock {
						t.Errorf("debris in a live tmp folder: %s", f.Name())
					}
				}
			}
		}
		if !alive {
			t.Errorf("tmp folder of no live process: %s", e.Name())
		}
	}
}

func TestRewrite(t *testing.T) {
	dir := rewriteFixture(t)
	l, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Rewrite("t1", rewritePlan()); err != nil {
		t.Fatal(err)
	}
	if got := dataFiles(t, dir); !maps.Equal(got, newState) {
		t.Fatalf("state %v", got)
	}
	assertNoDebris(t, dir, l)
	// Once more: the old files are gone, so the plan conflicts.
	err = l.Rewrite("t1", RewritePlan{Remove: []string{rwOldA}})
	if !errors.Is(err, ErrRewriteConflict) {
		t.Errorf("stale plan: %v", err)
	}
	err = l.Rewrite("t1", RewritePlan{Add: []NewFile{{Name: rwKeep, Write: writeString("x")}}})
	if !errors.Is(err, ErrRewriteConflict) {
		t.Errorf("adding over an existing file: %v", err)
	}
	if got := dataFiles(t, dir); !maps.Equal(got, newState) {
		t.Fatalf("refused plans changed the lake: %v", got)
	}
}

func TestRewriteRefusesBadPlans(t *testing.T) {
	dir := rewriteFixture(t)
	l, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	w := writeString("x")
	for name, plan := range map[string]RewritePlan{
		"empty":          {},
		"other tenant":   {Remove: []string{"chatlogs/tenant=t2/date=2026-01-02/f1.parquet"}},
		"meta":           {Remove: []string{"_arkiv/checkpoints/x/0.json"}},
		"escape":         {Remove: []string{"chatlogs/tenant=t1/date=2026-01-02/../../../x"}},
		"absolute":       {Remove: []string{"/etc/passwd"}},
		"twice":          {Remove: []string{rwOldA, rwOldA}},
		"add and remove": {Remove: []string{rwOldA}, Add: []NewFile{{Name: rwOldA, Write: w}}},
		"no writer":      {Add: []NewFile{{Name: rwNew}}},
		"shallow":        {Remove: []string{"chatlogs/tenant=t1/f1.parquet"}},
	} {
		if err := l.Rewrite("t1", plan); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := l.Rewrite("../t1", rewritePlan()); !errors.Is(err, ErrBadPath) {
		t.Errorf("bad tenant: %v", err)
	}
	if got := dataFiles(t, dir); !maps.Equal(got, oldState) {
		t.Fatalf("refused plans changed the lake: %v", got)
	}
	assertNoDebris(t, dir, l)
}

// TestRewriteFaults fails the i-th filesystem operation of a rewrite, for
// every i, once as a lone error and once as a crash (every later operation
// fails too, then a new process recovers). Afterwards the lake holds
// exactly the old or the new state, and no debris.
func TestRewriteFaults(t *testing.T) {
	// Count the operations of a clean run.
	dir := rewriteFixture(t)
	ffs := NewFaultFS(DirFS{Root: dir})
	l, err := Open(ffs, nil)
	if err != nil {
		t.Fatal(err)
	}
	ffs.Count()
	if err := l.Rewrite("t1", rewritePlan()); err != nil {
		t.Fatal(err)
	}
	n := ffs.Ops()
	l.Close()
	if n < 10 {
		t.Fatalf("only %d operations counted", n)
	}
	for _, crash := range []bool{false, true} {
		for i := range n + 1 {
			newSeen := faultRun(t, i, crash)
			if i == n && !newSeen {
				t.Errorf("crash=%v: a run without faults did not reach the new state", crash)
			}
		}
	}
}

// faultRun runs one rewrite that fails at operation i, recovers, checks
// the lake, and says whether it holds the new state.
func faultRun(t *testing.T, i int, crash bool) bool {
	t.Helper()
	dir := rewriteFixture(t)
	ffs := NewFaultFS(DirFS{Root: dir})
	l, err := Open(ffs, nil)
	if err != nil {
		t.Fatal(err)
	}
	ffs.FailAt(i, crash)
	rerr := l.Rewrite("t1", rewritePlan())
	ffs.Heal()
	if crash {
		// The process dies: its lock goes, its tmp folder stays for the
		// next process to sweep.
		_ = l.releaseTmp()
	} else {
		defer l.Close()
	}
	if rerr == nil && i < ffs.Ops() {
		t.Errorf("op %d crash=%v: the fault was swallowed", i, crash)
	}
	if rerr != nil && !errors.Is(rerr, ErrInjected) {
		t.Errorf("op %d crash=%v: unexpected error %v", i, crash, rerr)
	}
	// Recovery, in a new process (crash) or the same one (lone error).
	r, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatalf("op %d crash=%v: reopen: %v", i, crash, err)
	}
	defer r.Close()
	if err := r.RecoverRewrites(); err != nil {
		t.Fatalf("op %d crash=%v: recover: %v", i, crash, err)
	}
	got := dataFiles(t, dir)
	isNew := maps.Equal(got, newState)
	if !isNew && !maps.Equal(got, oldState) {
		t.Errorf("op %d crash=%v: neither old nor new state: %v (rewrite error %v)", i, crash, got, rerr)
	}
	if rerr == nil && !isNew {
		t.Errorf("op %d crash=%v: rewrite succeeded but the lake is old", i, crash)
	}
	live := []*Lake{r}
	if !crash {
		live = append(live, l)
	}
	assertNoDebris(t, dir, live...)
	for name, content := range got {
		if strings.Contains(content, "SECRET") && isNew {
			t.Errorf("op %d: old bytes in %s", i, name)
		}
	}
	return isNew
}

// A journal left by a dead rewriter is finished by the next rewrite of the
// same tenant, before it does its own work.
func TestRewriteFinishesLeftovers(t *testing.T) {
	dir := rewriteFixture(t)
	l, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rec := &RewriteRecord{ID: NewRewriteID(), Tenant: "t1", State: RewriteCommitted, Remove: []string{rwOldA}, Add: []string{}}
	if err := l.writeRewriteRecord(rec); err != nil {
		t.Fatal(err)
	}
	if err := l.Rewrite("t1", RewritePlan{Remove: []string{rwOldB}}); err != nil {
		t.Fatal(err)
	}
	if got := dataFiles(t, dir); !maps.Equal(got, map[string]string{rwKeep: "keep"}) {
		t.Errorf("state %v", got)
	}
	assertNoDebris(t, dir, l)
	// A journal that names a file outside the tenant is corrupt, not obeyed.
	bad := &RewriteRecord{ID: NewRewriteID(), Tenant: "t1", State: RewriteCommitted, Remove: []string{"chatlogs/tenant=t2/date=2026-01-02/x.parquet"}}
	if err := l.writeRewriteRecord(bad); err != nil {
		t.Fatal(err)
	}
	if err := l.RecoverRewrites(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("corrupt journal: %v", err)
	}
}

// A file of an uncommitted flush is not rewritten.
func TestRewriteWaitsForFlushRecovery(t *testing.T) {
	dir := rewriteFixture(t)
	l, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fl := &FlushRecord{ID: NewFlushID(), Files: []string{rwOldA}}
	if err := l.BeginFlush(fl); err != nil {
		t.Fatal(err)
	}
	if err := l.Rewrite("t1", rewritePlan()); !errors.Is(err, ErrFlushInFlight) {
		t.Errorf("rewrite of a pending flush's file: %v", err)
	}
	if got := dataFiles(t, dir); !maps.Equal(got, oldState) {
		t.Errorf("state %v", got)
	}
}
