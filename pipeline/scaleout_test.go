package pipeline_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/loadgen"
	"github.com/arkiv-project/arkiv/sinks"
)

// TestScaleOut runs two ingest processes in one consumer group: they share
// the partitions; one is killed mid-stream; the other takes its partitions
// over and finishes; every record is archived exactly once.
func TestScaleOut(t *testing.T) {
	skipUnderRace(t)
	if testing.Short() {
		t.Skip("runs child processes")
	}
	h := newHarness(t, testConfig)
	cfg := h.configFile("ingest: {flush_rows: 200, flush_interval: 100ms}")
	load := loadgen.Options{Tenants: 4, Count: 1500, Seed: 11, Recordings: true, RecordingBytes: 32 << 10, ChunkBytes: 8 << 10}
	h.produceLoad(load)
	lake := filepath.Join(t.TempDir(), "lake")

	a := h.child(lake, cfg, "scale", "--session-timeout", "6s")
	b := h.child(lake, cfg, "scale", "--session-timeout", "6s")
	owners := waitForOwners(t, lake, h.cfg.Topics.Inputs(), 2, 60*time.Second)
	t.Logf("partitions shared by %d processes", owners)

	// more traffic while both run, then kill one
	load.Seed, load.Count = 12, 1500
	load.Start, load.End = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	h.produceLoad(load)
	must(t, a.Process.Signal(syscall.SIGKILL))
	_ = a.Wait()

	// The survivor takes a's partitions over after the session timeout (6s:
	// Kafka's group.min.session.timeout.ms refuses less) and
	// catches up; then it stops gracefully.
	waitForCheckpointsAtEnd(t, h, lake, 2*time.Minute)
	must(t, b.Process.Signal(syscall.SIGTERM))
	must(t, waitTimeout(b, time.Minute))

	ref := filepath.Join(t.TempDir(), "reference")
	must(t, waitTimeout(h.child(ref, cfg, "scale-reference", "--drain"), 3*time.Minute))
	compareLakes(t, lakeSummary(t, lake), lakeSummary(t, ref))
}

// waitForOwners waits until the checkpoints of the input topics name at
// least n distinct owners, and returns how many.
func waitForOwners(t *testing.T, lake string, topics []string, n int, d time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		owners := map[string]bool{}
		for _, topic := range topics {
			files, _ := filepath.Glob(filepath.Join(lake, sinks.CheckpointDir, topic, "*.json"))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					continue
				}
				if i := strings.Index(string(b), `"owner":"`); i >= 0 {
					rest := string(b)[i+9:]
					owners[rest[:strings.Index(rest, `"`)]] = true
				}
			}
		}
		members := map[string]bool{}
		for o := range owners {
			// group/member/generation; the member id may itself hold slashes
			first, last := strings.Index(o, "/"), strings.LastIndex(o, "/")
			if first >= 0 && last > first {
				members[o[first+1:last]] = true
			}
		}
		if len(members) >= n {
			return len(members)
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d ingest processes own partitions after %s, want %d", len(members), d, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForCheckpointsAtEnd waits until every input partition's checkpoint
// is at the partition's end.
func waitForCheckpointsAtEnd(t *testing.T, h *harness, lake string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	l, err := sinks.OpenDir(lake, nil)
	must(t, err)
	defer l.Close()
	for {
		behind := 0
		for _, topic := range h.cfg.Topics.Inputs() {
			for p, end := range partitionEnds(t, h.brokers, topic) {
				cp, err := l.ReadCheckpoint(sinks.TopicPartition{Topic: topic, Partition: p})
				must(t, err)
				if cp.Next < end {
					behind++
				}
			}
		}
		if behind == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d partitions still behind after %s", behind, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
