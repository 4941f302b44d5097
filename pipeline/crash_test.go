package pipeline_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/internal/loadgen"
	"github.com/arkiv-project/arkiv/internal/produce"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

var (
	buildOnce sync.Once
	arkivBin  string
	buildErr  error
)

// arkivBinary builds cmd/arkiv once per test run: the crash tests need a
// process they can SIGKILL.
func arkivBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "arkiv-bin-")
		if err != nil {
			buildErr = err
			return
		}
		arkivBin = filepath.Join(dir, "arkiv")
		out, err := exec.Command("go", "build", "-o", arkivBin, "../cmd/arkiv").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build arkiv: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return arkivBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if arkivBin != "" {
		os.RemoveAll(filepath.Dir(arkivBin))
	}
	os.Exit(code)
}

func (h *harness) configFile(extra string) string {
	h.t.Helper()
	path := filepath.Join(h.t.TempDir(), "arkiv.yaml")
	tp := h.cfg.Topics
	body := fmt.Sprintf(`tenants:
  defaults:
    masked_ivr_modules: [enter_card]
topics: {inquiries: %s, chatlogs: %s, recordings: %s, surveys: %s, deadletter: %s}
%s`, tp.Inquiries, tp.Chatlogs, tp.Recordings, tp.Surveys, tp.Deadletter, extra)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return path
}

// child starts `arkiv ingest` as a separate process.
func (h *harness) child(lake, cfgPath, group string, extra ...string) *exec.Cmd {
	h.t.Helper()
	args := append([]string{"ingest", "--brokers", strings.Join(h.brokers, ","), "--lake", lake,
		"--config", cfgPath, "--group", group}, extra...)
	cmd := exec.Command(arkivBinary(h.t), args...)
	cmd.Stdout, cmd.Stderr = h.logs, h.logs
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	return cmd
}

func (h *harness) produceLoad(o loadgen.Options) { h.produceLoadTruth(o) }

// produceLoadTruth publishes a loadgen stream and returns the generator,
// whose Truth says what the lake must hold.
func (h *harness) produceLoadTruth(o loadgen.Options) *loadgen.Generator {
	h.t.Helper()
	tp := h.cfg.Topics
	o.Topics = loadgen.Topics{Inquiries: tp.Inquiries, Chatlogs: tp.Chatlogs, Recordings: tp.Recordings, Surveys: tp.Surveys}
	g := loadgen.New(o)
	var batch []produce.Message
	for {
		m, ok := g.Next()
		if ok {
			batch = append(batch, produce.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers})
		}
		if len(batch) == 500 || (!ok && len(batch) > 0) {
			h.send(batch...)
			batch = batch[:0]
		}
		if !ok {
			return g
		}
	}
}

// lakeSummary counts every archived row by its key and hashes every media
// object, so two lakes can be compared for exactly-once.
func lakeSummary(t *testing.T, root string) map[string]int {
	t.Helper()
	out := map[string]int{}
	inq, err := laketest.ReadTenantRows[schema.InquiryRow](root, schema.DatasetInquiries)
	must(t, err)
	for tenant, rows := range inq {
		for _, r := range rows {
			out["inquiry|"+tenant+"|"+r.InquiryID]++
		}
	}
	chats, err := laketest.ReadTenantRows[schema.ChatlogRow](root, schema.DatasetChatlogs)
	must(t, err)
	for tenant, rows := range chats {
		for _, r := range rows {
			out[fmt.Sprintf("chatlog|%s|%s|%d", tenant, r.InquiryID, len(r.Messages))]++
		}
	}
	surveys, err := laketest.ReadTenantRows[schema.SurveyRow](root, schema.DatasetSurveys)
	must(t, err)
	for tenant, rows := range surveys {
		for _, r := range rows {
			out["survey|"+tenant+"|"+r.SurveyID]++
		}
	}
	recs, err := laketest.ReadTenantRows[schema.RecordingRow](root, schema.DatasetRecordings)
	must(t, err)
	for tenant, rows := range recs {
		for _, r := range rows {
			b, err := os.ReadFile(filepath.Join(root, r.Object))
			must(t, err)
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != r.SHA256 {
				t.Errorf("media %s does not match its row's sha256", r.Object)
			}
			out["recording|"+tenant+"|"+r.InquiryID+"|"+r.RecordingID+"|"+r.SHA256]++
		}
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// compareLakes asserts that got holds exactly the rows of want, as many
// times each (upstream may legitimately send a key twice; a clean drain of
// the same topics is the oracle).
func compareLakes(t *testing.T, got, want map[string]int) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("reference lake is empty")
	}
	bad := 0
	for k, n := range want {
		if got[k] != n && bad < 10 {
			t.Errorf("%s archived %d times, want %d", k, got[k], n)
			bad++
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && bad < 20 {
			t.Errorf("unexpected row %s", k)
			bad++
		}
	}
}

func TestCrashExactlyOnce(t *testing.T) {
	skipUnderRace(t)
	if testing.Short() {
		t.Skip("kills a child process many times")
	}
	h := newHarness(t, testConfig)
	kills := 20
	cfg := h.configFile("ingest: {flush_rows: 300, flush_interval: 50ms}")
	load := loadgen.Options{Tenants: 5, Count: 1500, Seed: 7, Recordings: true, RecordingBytes: 48 << 10, ChunkBytes: 8 << 10}
	start := time.Now()
	h.produceLoad(load)
	t.Logf("produced first half in %s", time.Since(start))
	lake := filepath.Join(t.TempDir(), "lake")

	// Second half of the stream arrives while ingest is being killed.
	var wg sync.WaitGroup
	wg.Go(func() {
		// other days, so that the second half's ids are new
		load.Seed, load.Count = 8, 1500
		load.Start, load.End = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
		h.produceLoad(load)
	})
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range kills {
		// A fresh group id per run: arkiv resumes from the lake's checkpoints,
		// not from Kafka's committed offsets, so it need not wait for the
		// dead member's session to expire.
		cmd := h.child(lake, cfg, fmt.Sprintf("crash-%d", i))
		time.Sleep(time.Duration(150+rng.IntN(600)) * time.Millisecond)
		must(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
	}
	wg.Wait()
	t.Logf("kills done at %s", time.Since(start))
	final := h.child(lake, cfg, "crash-final", "--drain")
	if err := waitTimeout(final, 3*time.Minute); err != nil {
		t.Fatalf("%v\nlast log lines:\n%s", err, tail(h.logs.Bytes(), 40))
	}

	t.Logf("final drain done at %s", time.Since(start))
	ref := filepath.Join(t.TempDir(), "reference")
	must(t, waitTimeout(h.child(ref, cfg, "reference", "--drain"), 3*time.Minute))
	want := lakeSummary(t, ref)
	if n := countPrefix(want, "inquiry|"); n != 3000 {
		t.Fatalf("reference lake has %d inquiries, want the 3000 produced", n)
	}
	compareLakes(t, lakeSummary(t, lake), want)
	debris, err := laketest.Debris(lake)
	must(t, err)
	if len(debris) > 0 {
		t.Errorf("debris after recovery: %v", debris)
	}
	assertSpoolMatchesCheckpoints(t, lake)
}

// assertSpoolMatchesCheckpoints: every spooled stream is listed as open in
// its partition's checkpoint, and nothing else is in the spool.
func assertSpoolMatchesCheckpoints(t *testing.T, root string) {
	t.Helper()
	l, err := sinks.OpenDir(root, nil)
	must(t, err)
	topics, _ := os.ReadDir(filepath.Join(root, sinks.SpoolDir))
	for _, topic := range topics {
		parts, _ := os.ReadDir(filepath.Join(root, sinks.SpoolDir, topic.Name()))
		for _, p := range parts {
			var n int
			fmt.Sscan(p.Name(), &n)
			cp, err := l.ReadCheckpoint(sinks.TopicPartition{Topic: topic.Name(), Partition: n})
			must(t, err)
			open := map[string]bool{}
			for _, s := range cp.Open {
				open[s.ID] = true
			}
			streams, _ := os.ReadDir(filepath.Join(root, sinks.SpoolDir, topic.Name(), p.Name()))
			for _, s := range streams {
				if !open[s.Name()] {
					t.Errorf("spool stream %s/%s/%s is not in the checkpoint", topic.Name(), p.Name(), s.Name())
				}
			}
		}
	}
}

func waitTimeout(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		return fmt.Errorf("%s did not finish in %s", cmd.Args, d)
	}
}

func countPrefix(m map[string]int, prefix string) int {
	n := 0
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

func tail(b []byte, lines int) string {
	parts := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(parts[max(0, len(parts)-lines):], "\n")
}

// skipUnderRace skips the child-process tests under -race: the embedded
// broker runs inside the race-instrumented test binary and becomes too
// slow for their time limits. make test runs them without -race, against
// the embedded broker and against a real Kafka.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("child-process test: run without -race (make test does)")
	}
}
