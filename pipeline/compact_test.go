package pipeline_test

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/internal/loadgen"
	"github.com/arkiv-project/arkiv/internal/produce"
	"github.com/arkiv-project/arkiv/pipeline"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// compactConfig makes many small flushes: a few dozen rows, or 50 ms.
const compactConfig = `
tenants:
  defaults:
    masked_ivr_modules: []
ingest:
  flush_rows: 40
  flush_interval: 50ms
  chunk_timeout: 30s
`

// TestIngestCompactsPeriodically runs ingest with compaction every second
// over a stream of many small flushes while audit entries are appended:
// every record ends up in the lake exactly once, the lake has fewer files
// than a drain of the same stream without compaction, the audit entries
// are sealed, each once, and nothing is left over.
func TestIngestCompactsPeriodically(t *testing.T) {
	if testing.Short() {
		t.Skip("streams a few thousand records")
	}
	h := newHarness(t, compactConfig)
	lakeDir := filepath.Join(t.TempDir(), "lake")
	lake, err := sinks.OpenDir(lakeDir, nil)
	must(t, err)
	metrics := pipeline.NewCompactMetrics(nil)
	ing, err := pipeline.NewIngester(pipeline.Options{Brokers: h.brokers, Group: "compacting", Lake: lake,
		Config: h.cfg, Logger: slog.New(slog.NewJSONHandler(h.logs, nil)), CompactEvery: time.Second,
		Compact: sinks.CompactOptions{MinFiles: 2, AuditIdle: -1}, CompactMetrics: metrics})
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- ing.Run(ctx) }()

	// One day of traffic: every flush lands in the partitions compaction
	// rewrites. The second half is sent once compaction has merged files,
	// in small batches, so that flushes and compaction runs interleave.
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	g, msgs := generate(h, loadgen.Options{Tenants: 3, Count: 1600, Seed: 30, Start: day, End: day.AddDate(0, 0, 1),
		Recordings: true, RecordingBytes: 8 << 10, ChunkBytes: 4 << 10})
	audited := appendAuditWhile(t, lakeDir, day, func() {
		h.send(msgs[:len(msgs)/2]...)
		waitFor(t, "compaction of data files", 2*time.Minute, func() bool {
			return testutil.ToFloat64(metrics.FilesIn.WithLabelValues("data")) > 0
		})
		for rest := msgs[len(msgs)/2:]; len(rest) > 0; rest = rest[min(len(rest), 100):] {
			h.send(rest[:min(len(rest), 100)]...)
			time.Sleep(20 * time.Millisecond)
		}
		waitForCheckpointsAtEnd(t, h, lakeDir, 2*time.Minute)
	})
	// Two more runs: the second starts after everything arrived.
	runs := testutil.ToFloat64(metrics.Runs)
	waitFor(t, "two more compaction runs", 2*time.Minute, func() bool { return testutil.ToFloat64(metrics.Runs) >= runs+2 })
	cancel()
	must(t, <-ran)
	must(t, lake.Close())

	got := lakeSummary(t, lakeDir)
	assertExactlyTruth(t, lakeDir, got, g)
	h.drain("reference", nil) // the same stream, no compaction
	compareLakes(t, got, lakeSummary(t, h.lake))
	files, refFiles := countParquet(t, lakeDir), countParquet(t, h.lake)
	t.Logf("%d Parquet files with compaction, %d without; %v runs", files, refFiles, testutil.ToFloat64(metrics.Runs))
	if files >= refFiles {
		t.Errorf("compaction left %d files, a drain without it %d", files, refFiles)
	}
	assertAuditSealed(t, lakeDir, audited)
	assertCompactionClean(t, lakeDir, metrics, h.logs.Bytes())
}

// appendAuditWhile appends audit entries to tenant t0001's partitions of
// day and the next days while during runs, and returns their request ids.
func appendAuditWhile(t *testing.T, lake string, day time.Time, during func()) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			id := fmt.Sprintf("req-%d", i)
			if err := sinks.AppendAudit(sinks.DirFS{Root: lake}, schema.Day(day.AddDate(0, 0, i%3)), "log-test.jsonl", schema.AuditRow{
				Time: time.Now().UTC(), Tenant: "t0001", Actor: "admin", ActorKind: schema.ActorAdmin,
				Action: "recording.play", InquiryID: "x", RequestID: id}); err != nil {
				t.Error(err)
				return
			}
			ids[id] = true
		}
	})
	during()
	close(stop)
	wg.Wait()
	return ids
}

// generate makes a loadgen stream for the harness's topics.
func generate(h *harness, o loadgen.Options) (*loadgen.Generator, []produce.Message) {
	tp := h.cfg.Topics
	o.Topics = loadgen.Topics{Inquiries: tp.Inquiries, Chatlogs: tp.Chatlogs, Recordings: tp.Recordings, Surveys: tp.Surveys}
	g := loadgen.New(o)
	var out []produce.Message
	for m, ok := g.Next(); ok; m, ok = g.Next() {
		out = append(out, produce.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers})
	}
	return g, out
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// assertExactlyTruth: the lake holds each inquiry, survey, stored chat log
// and stored recording the generators made exactly once, and nothing else.
func assertExactlyTruth(t *testing.T, lake string, got map[string]int, gens ...*loadgen.Generator) {
	t.Helper()
	want := map[string]int{}
	chats := map[string]int{}
	for _, g := range gens {
		for tenant, tt := range g.Truth().Tenants {
			for _, id := range tt.Inquiries {
				want["inquiry|"+tenant+"|"+id]++
			}
			for _, id := range tt.Surveys {
				want["survey|"+tenant+"|"+id]++
			}
			for _, r := range tt.RecordingsStored {
				want["recording|"+tenant+"|"+r.InquiryID+"|"+r.RecordingID+"|"+r.SHA256]++
			}
			for _, id := range tt.ChatlogsStored {
				chats[tenant+"|"+id]++
			}
		}
	}
	rows, err := laketest.ReadTenantRows[schema.ChatlogRow](lake, schema.DatasetChatlogs)
	must(t, err)
	for tenant, rs := range rows {
		for _, r := range rs {
			chats[tenant+"|"+r.InquiryID]--
		}
	}
	for k, n := range chats {
		if n != 0 {
			t.Errorf("chat log %s: %d rows fewer than one each (negative: more)", k, n)
		}
	}
	nonChat := map[string]int{}
	for k, n := range got {
		if !strings.HasPrefix(k, "chatlog|") {
			nonChat[k] = n
		}
	}
	if len(want) == 0 {
		t.Fatal("the generators made nothing")
	}
	compareLakes(t, nonChat, want)
}

func countParquet(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, sinks.ParquetSuffix) &&
			!strings.Contains(p, string(filepath.Separator)+schema.DatasetAudit+string(filepath.Separator)) {
			n++
		}
		return err
	})
	must(t, err)
	return n
}

// assertAuditSealed: every audit partition is one sealed file, and the
// entries read are exactly those appended.
func assertAuditSealed(t *testing.T, lake string, ids map[string]bool) {
	t.Helper()
	parts, _ := filepath.Glob(filepath.Join(lake, schema.DatasetAudit, "tenant=t0001", "date=*"))
	if len(ids) == 0 || len(parts) == 0 {
		t.Fatalf("%d audit entries appended into %d partitions", len(ids), len(parts))
	}
	seen := map[string]int{}
	for _, p := range parts {
		entries, _ := os.ReadDir(p)
		if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), sinks.ParquetSuffix) {
			t.Errorf("%s is not sealed into one file: %d files", p, len(entries))
		}
		rel, _ := filepath.Rel(lake, p)
		part, err := sinks.ReadAuditPartition(sinks.DirFS{Root: lake}, filepath.ToSlash(rel))
		must(t, err)
		for _, r := range part.Rows {
			seen[r.RequestID]++
		}
	}
	for id := range ids {
		if seen[id] != 1 {
			t.Errorf("audit entry %s read %d times", id, seen[id])
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("%d audit entries read, %d appended", len(seen), len(ids))
	}
}

// assertCompactionClean: compaction did work, never failed, logged its
// summary, and left no debris, journal or closed log behind.
func assertCompactionClean(t *testing.T, lake string, m *pipeline.CompactMetrics, logs []byte) {
	t.Helper()
	in, out := testutil.ToFloat64(m.FilesIn.WithLabelValues("data")), testutil.ToFloat64(m.FilesOut.WithLabelValues("data"))
	if in == 0 || out >= in || testutil.ToFloat64(m.FilesIn.WithLabelValues("audit")) == 0 {
		t.Errorf("compaction metrics: data files in %v out %v, audit in %v", in, out,
			testutil.ToFloat64(m.FilesIn.WithLabelValues("audit")))
	}
	if f := testutil.ToFloat64(m.Failures); f != 0 {
		t.Errorf("%v compaction runs failed:\n%s", f, tail(logs, 20))
	}
	if !strings.Contains(string(logs), `"msg":"compaction done"`) {
		t.Error("no compaction summary in the log")
	}
	debris, err := laketest.Debris(lake)
	must(t, err)
	journals, _ := os.ReadDir(filepath.Join(lake, sinks.RewriteDir))
	closed, _ := filepath.Glob(filepath.Join(lake, schema.DatasetAudit, "*", "*", "closed-*"))
	if len(debris)+len(journals)+len(closed) > 0 {
		t.Errorf("left over: %v, %d rewrite journals, closed logs %v", debris, len(journals), closed)
	}
}
