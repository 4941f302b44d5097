package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/broker"
	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/internal/loadgen"
	"github.com/arkiv-project/arkiv/internal/produce"
	"github.com/arkiv-project/arkiv/pipeline"
	"github.com/arkiv-project/arkiv/sinks"
)

// kafkaControl stops and starts the real Kafka broker the tests run
// against, through scripts/kafka-down and scripts/kafka-up --restart.
type kafkaControl struct {
	home string // ARKIV_KAFKA_HOME of the scripts
	port string // the broker's PLAINTEXT port
}

// controlKafka returns the control of the broker in ARKIV_KAFKA_BROKERS, or
// skips the test: it needs a real broker (ARKIV_KAFKA_BROKERS) that the
// scripts started and may restart, named by ARKIV_KAFKA_CONTROL, the
// broker's state folder $ARKIV_KAFKA_HOME/run/PORT (make integration-kafka
// sets both).
func controlKafka(t *testing.T) *kafkaControl {
	t.Helper()
	brokers, dir := os.Getenv("ARKIV_KAFKA_BROKERS"), os.Getenv("ARKIV_KAFKA_CONTROL")
	if brokers == "" || dir == "" {
		t.Skip("needs a real Kafka the test may restart: ARKIV_KAFKA_BROKERS and ARKIV_KAFKA_CONTROL " +
			"(the broker's state folder, $ARKIV_KAFKA_HOME/run/PORT; make integration-kafka sets both)")
	}
	dir, err := filepath.Abs(dir)
	must(t, err)
	port := filepath.Base(dir)
	if _, err := strconv.Atoi(port); err != nil || filepath.Base(filepath.Dir(dir)) != "run" {
		t.Fatalf("ARKIV_KAFKA_CONTROL=%s: want the broker's state folder $ARKIV_KAFKA_HOME/run/PORT", dir)
	}
	if !strings.HasSuffix(strings.Split(brokers, ",")[0], ":"+port) {
		t.Skipf("ARKIV_KAFKA_CONTROL names the broker on port %s, the tests use %s: cannot restart it", port, brokers)
	}
	if _, err := os.Stat(filepath.Join(dir, "kafka.pid")); err != nil {
		t.Skipf("no broker started by scripts/kafka-up runs on port %s (%v)", port, err)
	}
	return &kafkaControl{home: filepath.Dir(filepath.Dir(dir)), port: port}
}

func (k *kafkaControl) script(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join("..", "scripts", name), append([]string{"--port", k.port}, args...)...)
	cmd.Env = append(os.Environ(), "ARKIV_KAFKA_HOME="+k.home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// stop stops the broker process (TERM, as an orchestrator or an operator
// does); its data folder stays.
func (k *kafkaControl) stop(t *testing.T) { k.script(t, "kafka-down") }

// start starts it again on the same data folder: the topics, their
// records and the committed offsets survive.
func (k *kafkaControl) start(t *testing.T) { k.script(t, "kafka-up", "--restart") }

// TestKafkaBrokerRestart stops and starts the real Kafka broker in the middle
// of a stream, while `arkiv ingest` consumes and a producer produces. Ingest
// must ride it out by itself (no restart of ingest), and the lake must then
// hold every record exactly once: the same rows as a clean drain of the
// same topics, and every inquiry the producer got acknowledged.
func TestKafkaBrokerRestart(t *testing.T) {
	kafka := controlKafka(t)
	h := newHarness(t, testConfig)
	cfg := h.configFile("ingest: {flush_rows: 300, flush_interval: 100ms}")
	load := loadgen.Options{Tenants: 4, Count: 800, Seed: 21, Recordings: true, RecordingBytes: 24 << 10,
		ChunkBytes: 8 << 10, BadShare: 0.02}
	truths := []*loadgen.Generator{h.produceLoadTruth(load)}
	lake := filepath.Join(t.TempDir(), "lake")
	ingest := h.child(lake, cfg, "restart", "--session-timeout", "6s")
	exited := make(chan error, 1)
	go func() { exited <- ingest.Wait() }()
	t.Cleanup(func() {
		_ = ingest.Process.Kill()
		if t.Failed() {
			t.Logf("last ingest log lines:\n%s", tail(h.logs.Bytes(), 60))
		}
	})
	waitForOwners(t, lake, h.cfg.Topics.Inputs(), 1, time.Minute)

	// The second part of the stream is produced while the broker goes away
	// and comes back: the producer retries what the broker did not take.
	load.Seed, load.Count = 22, 1500
	load.Start, load.End = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	second := loadgen.New(h.loadTopics(load))
	type result struct {
		retries int
		err     error
	}
	produced := make(chan result, 1)
	go func() {
		n, err := h.produceSlowly(second, 100, 40*time.Millisecond, 4*time.Minute)
		produced <- result{n, err}
	}()
	time.Sleep(1500 * time.Millisecond)
	t0 := time.Now()
	kafka.stop(t)
	t.Logf("broker stopped in %s", time.Since(t0).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // ingest and producer meet a dead broker
	t1 := time.Now()
	kafka.start(t)
	t.Logf("broker started again in %s; down for %s", time.Since(t1).Round(time.Millisecond), time.Since(t0).Round(time.Millisecond))
	r := <-produced
	if r.err != nil || r.retries == 0 {
		t.Fatalf("producer: %d batches sent again, error %v; want it to meet the stopped broker", r.retries, r.err)
	}
	t.Logf("producer: %d batches sent again", r.retries)
	truths = append(truths, second)
	// A third part after the restart: ingest must be consuming again.
	load.Seed, load.Count = 23, 300
	load.Start, load.End = time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)
	truths = append(truths, h.produceLoadTruth(load))

	waitCaughtUp(t, h, lake, func() (bool, error) {
		select {
		case err := <-exited:
			return true, err
		default:
			return false, nil
		}
	}, 3*time.Minute)
	must(t, ingest.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("ingest after the restart: %v\n%s", err, tail(h.logs.Bytes(), 40))
		}
	case <-time.After(time.Minute):
		t.Fatal("ingest did not stop within a minute of SIGTERM")
	}

	logs := string(h.logs.Bytes())
	t.Logf("ingest took partitions %d times (a consumer-group generation each), rejoined %d times for Kafka errors",
		strings.Count(logs, `"msg":"partitions assigned"`), strings.Count(logs, `"msg":"Kafka unavailable`))

	ref := filepath.Join(t.TempDir(), "reference")
	must(t, waitTimeout(h.child(ref, cfg, "restart-reference", "--drain"), 3*time.Minute))
	want := lakeSummary(t, ref)
	assertTruthArchived(t, want, truths)
	compareLakes(t, lakeSummary(t, lake), want)
	assertNoDebrisIn(t, lake)
	assertSpoolMatchesCheckpoints(t, lake)
}

// waitCaughtUp waits until every input partition's checkpoint in lake is
// at the partition's end, failing at once when ingest stopped (stopped
// reports that, and how).
func waitCaughtUp(t *testing.T, h *harness, lake string, stopped func() (bool, error), d time.Duration) {
	t.Helper()
	l, err := sinks.OpenDir(lake, nil)
	must(t, err)
	defer l.Close()
	deadline := time.Now().Add(d)
	for {
		if done, err := stopped(); done {
			t.Fatalf("ingest stopped before it caught up: %v", err)
		}
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

// loadTopics points loadgen options at the harness's topics.
func (h *harness) loadTopics(o loadgen.Options) loadgen.Options {
	tp := h.cfg.Topics
	o.Topics = loadgen.Topics{Inquiries: tp.Inquiries, Chatlogs: tp.Chatlogs, Recordings: tp.Recordings, Surveys: tp.Surveys}
	return o
}

// produceSlowly publishes g's stream in batches of n, pausing between them
// so that it spans a broker restart. A batch the broker does not take is
// sent again until it is acknowledged (it may then be in the topic twice;
// the reference drain counts it as often as the topic holds it). It runs
// in its own goroutine, so it returns its error instead of failing t, and
// how many batches it sent again.
func (h *harness) produceSlowly(g *loadgen.Generator, n int, pause, limit time.Duration) (int, error) {
	p, err := produce.New(produce.Options{Brokers: h.brokers})
	if err != nil {
		return 0, err
	}
	defer p.Close()
	deadline := time.Now().Add(limit)
	var batch []produce.Message
	retries := 0
	for {
		m, ok := g.Next()
		if ok {
			batch = append(batch, produce.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers})
		}
		if len(batch) < n && ok {
			continue
		}
		for len(batch) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			err := p.Send(ctx, batch...)
			cancel()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return retries, fmt.Errorf("producer gave up after %d retries: %w", retries, err)
			}
			retries++
			time.Sleep(500 * time.Millisecond)
		}
		batch = batch[:0]
		if !ok {
			return retries, nil
		}
		time.Sleep(pause)
	}
}

// assertTruthArchived: every inquiry, survey and stored recording the
// generators made is in the lake summary (the reference drain's): nothing
// the producer got acknowledged was lost by Kafka.
func assertTruthArchived(t *testing.T, lake map[string]int, gens []*loadgen.Generator) {
	t.Helper()
	present := map[string]bool{}
	for k := range lake {
		f := strings.Split(k, "|")
		present[strings.Join(f[:min(3, len(f))], "|")] = true
	}
	missing, total := []string{}, 0
	for _, g := range gens {
		for tenant, tt := range g.Truth().Tenants {
			for _, id := range tt.Inquiries {
				total++
				if !present["inquiry|"+tenant+"|"+id] {
					missing = append(missing, tenant+"/"+id)
				}
			}
			for _, id := range tt.Surveys {
				if !present["survey|"+tenant+"|"+id] {
					missing = append(missing, "survey "+tenant+"/"+id)
				}
			}
			for _, r := range tt.RecordingsStored {
				if lake["recording|"+tenant+"|"+r.InquiryID+"|"+r.RecordingID+"|"+r.SHA256] == 0 {
					missing = append(missing, "recording "+tenant+"/"+r.InquiryID+"/"+r.RecordingID)
				}
			}
		}
	}
	if total == 0 {
		t.Fatal("the generators made no inquiries")
	}
	if len(missing) > 0 {
		t.Errorf("%d produced records are not in the lake, e.g. %v", len(missing), missing[:min(10, len(missing))])
	}
}

func assertNoDebrisIn(t *testing.T, root string) {
	t.Helper()
	debris, err := laketest.Debris(root)
	must(t, err)
	if len(debris) > 0 {
		t.Errorf("debris left in the lake: %v", debris)
	}
}

// TestRecordingResentWhileItsFlushCommits: a producer that retries after a
// broker restart sends a recording again that ingest has already
// assembled. The copy starts a new stream while the flush of the first
// copy is still committing, and that commit removes the first copy's spool
// folder: the copy's chunks must not be in it. (They were, and ingest then
// stopped with "sync spooled chunk: ... no such file or directory".) The
// recording is archived as often as it was sent, like any record upstream
// sends twice.
func TestRecordingResentWhileItsFlushCommits(t *testing.T) {
	h := newHarness(t, testConfig)
	tp := h.cfg.Topics
	audio := []byte(strings.Repeat("ID3-resent-audio-", 3000))
	chunks := recordingChunks(tp.Recordings, "acme", "c-resent", "r1", "2026-11-28T09:14:03Z", audio, 20000, false, true)
	if len(chunks) != 3 {
		t.Fatalf("%d chunks, want 3", len(chunks))
	}
	gate := &gateFS{FS: sinks.DirFS{Root: h.lake}}
	removing, letRemove := gate.arm("removeall", sinks.SpoolDir+"/")
	defer letRemove()
	ing := h.startMember(gate, "resent")
	h.send(chunks...)
	waitReached(t, removing, "the first copy's commit")

	// The first two chunks again while the commit is about to remove the
	// first copy's spool folder.
	spooled1, let1 := gate.arm("create", sinks.SpoolDir+"/")
	spooled2, let2 := gate.arm("create", sinks.SpoolDir+"/")
	defer let1()
	defer let2()
	h.send(chunks[:2]...)
	waitReached(t, spooled1, "the copy's chunk 0")
	let1()
	waitReached(t, spooled2, "the copy's chunk 1")
	let2()
	time.Sleep(200 * time.Millisecond) // the chunks are written
	letRemove()
	h.send(chunks[2])

	waitCaughtUp(t, h, h.lake, ing.stopped, time.Minute)
	ing.stop(t)
	sum := lakeSummary(t, h.lake)
	if n := countPrefix(sum, "recording|acme|c-resent|r1|"); n != 2 {
		t.Errorf("the recording sent twice is archived %d times, want 2 (%v)", n, sum)
	}
	assertSpoolMatchesCheckpoints(t, h.lake)
}

// TestBrokerRestartEmbedded is TestKafkaBrokerRestart against the embedded
// broker, so that the normal suite covers ingest's recovery too: the
// broker is closed in the middle of a stream and started again on the same
// address and data folder while an in-process ingester consumes and a
// producer produces.
func TestBrokerRestartEmbedded(t *testing.T) {
	if os.Getenv("ARKIV_KAFKA_BROKERS") != "" {
		t.Skip("TestKafkaBrokerRestart restarts the real broker")
	}
	cfg, err := config.Decode(strings.NewReader(rebalanceConfig))
	must(t, err)
	data := t.TempDir()
	start := func(addr string) *broker.Broker {
		b, err := broker.Start(broker.Options{Listen: addr, Partitions: 3, Topics: cfg.Topics.All(), DataDir: data})
		must(t, err)
		return b
	}
	b := start("127.0.0.1:0")
	t.Cleanup(func() { b.Close() })
	h := &harness{t: t, brokers: []string{b.Addr()}, lake: t.TempDir(), cfg: cfg, logs: &lockedBuffer{}}
	h.prod, err = produce.New(produce.Options{Brokers: h.brokers})
	must(t, err)
	t.Cleanup(func() { h.prod.Close() })
	h.logOnFailure()

	load := loadgen.Options{Tenants: 3, Count: 400, Seed: 51, Recordings: true, RecordingBytes: 24 << 10,
		ChunkBytes: 8 << 10, BadShare: 0.02}
	gens := []*loadgen.Generator{h.produceLoadTruth(nextPart(load, 51, 0))}
	lake := t.TempDir()
	ing := h.startMember(sinks.DirFS{Root: lake}, "restart-embedded")
	waitOwned(t, ing, "ingest")

	second := loadgen.New(h.loadTopics(nextPart(load, 52, 1)))
	produced := make(chan error, 1)
	go func() {
		n, err := h.produceSlowly(second, 50, 100*time.Millisecond, 3*time.Minute)
		t.Logf("producer: %d batches sent again", n) // kafka-go's writer may ride a short outage out itself
		produced <- err
	}()
	time.Sleep(time.Second)
	b.Close()
	time.Sleep(2 * time.Second)
	b = start(h.brokers[0])
	must(t, <-produced)
	gens = append(gens, second, h.produceLoadTruth(nextPart(load, 53, 2)))

	waitCaughtUp(t, h, lake, ing.stopped, 3*time.Minute)
	ing.stop(t)
	logs := string(h.logs.Bytes())
	t.Logf("ingest took partitions %d times, rejoined %d times for Kafka errors",
		strings.Count(logs, `"msg":"partitions assigned"`), strings.Count(logs, `"msg":"Kafka unavailable`))
	h.drain("restart-embedded-reference", nil)
	want := lakeSummary(t, h.lake)
	assertTruthArchived(t, want, gens)
	compareLakes(t, lakeSummary(t, lake), want)
	assertNoDebrisIn(t, lake)
	assertSpoolMatchesCheckpoints(t, lake)
}

// flakyDeadLetters fails its first writes, as the dead-letter topic does
// while the broker is away for longer than the writer retries.
type flakyDeadLetters struct {
	inner pipeline.DeadLetterSink
	mu    sync.Mutex
	fails int // writes still to fail
}

func (f *flakyDeadLetters) WriteDeadLetters(ctx context.Context, letters []pipeline.DeadLetter) error {
	f.mu.Lock()
	fail := f.fails > 0
	if fail {
		f.fails--
	}
	f.mu.Unlock()
	if fail {
		return errors.New("dial tcp: connection refused (injected)")
	}
	return f.inner.WriteDeadLetters(ctx, letters)
}

// TestKafkaUnavailableRejoins: a flush whose dead letters Kafka does not
// take fails (nothing of it becomes visible); ingest then does not stop but
// rejoins its group and reads the batch again from the lake's checkpoints,
// and the lake ends up with every record once.
func TestKafkaUnavailableRejoins(t *testing.T) {
	h := newHarness(t, rebalanceConfig)
	h.logOnFailure()
	load := loadgen.Options{Tenants: 3, Count: 300, Seed: 61, BadShare: 0.05}
	gens := []*loadgen.Generator{h.produceLoadTruth(nextPart(load, 61, 0))}
	lake := t.TempDir()
	kdl := pipeline.NewKafkaDeadLetters(h.brokers, h.cfg.Topics.Deadletter)
	t.Cleanup(func() { kdl.Close() })
	dlq := &flakyDeadLetters{inner: kdl, fails: 3}
	metrics := pipeline.NewMetrics(nil)
	m := h.startMember(sinks.DirFS{Root: lake}, "unavailable", func(o *pipeline.Options) {
		o.DeadLetters, o.Metrics = dlq, metrics
	})
	gens = append(gens, h.produceLoadTruth(nextPart(load, 62, 1)))
	waitCaughtUp(t, h, lake, m.stopped, 3*time.Minute)
	m.stop(t)
	logs := string(h.logs.Bytes())
	if n := strings.Count(logs, `"msg":"Kafka unavailable`); n != 3 {
		t.Errorf("ingest rejoined %d times after failed dead-letter writes, want 3", n)
	}
	if n := testutil.ToFloat64(metrics.FlushFailures); n != 3 {
		t.Errorf("%v flush failures counted, want 3", n)
	}
	h.drain("unavailable-reference", nil)
	want := lakeSummary(t, h.lake)
	assertTruthArchived(t, want, gens)
	compareLakes(t, lakeSummary(t, lake), want)
	assertNoDebrisIn(t, lake)
}
