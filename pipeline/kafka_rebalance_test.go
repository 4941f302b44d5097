package pipeline_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/arkiv-project/arkiv/internal/loadgen"
	"github.com/arkiv-project/arkiv/pipeline"
	"github.com/arkiv-project/arkiv/sinks"
)

// gateFS holds chosen lake operations of one ingest process when armed: a
// SyncAll (the last step of a flush's publish, before the journal's
// commit: the flush is then in progress, journaled and its files written),
// or a Create, Rename or RemoveAll of a name under a folder.
type gateFS struct {
	sinks.FS
	mu    sync.Mutex
	holds []*hold
}

// hold is one armed gate.
type hold struct {
	op, prefix string
	reached    chan struct{} // closed when an operation is held
	release    chan struct{} // closing it lets the operation go on
	once       sync.Once
}

// arm holds the next op ("syncall", or "create", "rename" or "removeall"
// of a name starting with prefix). It returns a channel closed once an operation is held, and the
// function that lets it go on (also when it comes later).
func (g *gateFS) arm(op, prefix string) (reached <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	h := &hold{op: op, prefix: prefix, reached: make(chan struct{}), release: make(chan struct{})}
	g.holds = append(g.holds, h)
	return h.reached, func() { h.once.Do(func() { close(h.release) }) }
}

// pass holds the caller while an armed hold matches op and name.
func (g *gateFS) pass(op, name string) {
	g.mu.Lock()
	var h *hold
	for i, c := range g.holds {
		if c.op == op && strings.HasPrefix(name, c.prefix) {
			h = c
			g.holds = append(g.holds[:i], g.holds[i+1:]...)
			break
		}
	}
	g.mu.Unlock()
	if h != nil {
		close(h.reached)
		<-h.release
	}
}

// SyncAll implements sinks.FS.
func (g *gateFS) SyncAll() error {
	g.pass("syncall", "")
	return g.FS.SyncAll()
}

// Create implements sinks.FS.
func (g *gateFS) Create(name string) (sinks.File, error) {
	g.pass("create", name)
	return g.FS.Create(name)
}

// RemoveAll implements sinks.FS.
func (g *gateFS) RemoveAll(name string) error {
	g.pass("removeall", name)
	return g.FS.RemoveAll(name)
}

// Rename implements sinks.FS.
func (g *gateFS) Rename(oldname, newname string) error {
	g.pass("rename", newname)
	return g.FS.Rename(oldname, newname)
}

// member is one in-process ingest consumer of the test's group.
type member struct {
	ing      *pipeline.Ingester
	cancel   context.CancelFunc
	finished chan struct{} // closed when Run returned
	err      error         // Run's result, once finished
}

// startMember runs an in-process ingester of group on a lake opened
// through fsys; opts, when given, adjust its options.
func (h *harness) startMember(fsys sinks.FS, group string, opts ...func(*pipeline.Options)) *member {
	h.t.Helper()
	lake, err := sinks.Open(fsys, nil)
	must(h.t, err)
	log := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o := pipeline.Options{Brokers: h.brokers, Group: group, Lake: lake, Config: h.cfg, Logger: log,
		SessionTimeout: 6 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	ing, err := pipeline.NewIngester(o)
	must(h.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{ing: ing, cancel: cancel, finished: make(chan struct{})}
	go func() {
		defer close(m.finished)
		m.err = ing.Run(ctx)
		lake.Close()
	}()
	h.t.Cleanup(func() {
		cancel()
		<-m.finished
	})
	return m
}

// stop cancels the member and waits for its graceful end.
func (m *member) stop(t *testing.T) {
	t.Helper()
	m.cancel()
	select {
	case <-m.finished:
		if m.err != nil {
			t.Fatalf("ingest stopped with: %v", m.err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("ingest did not stop within 2 minutes")
	}
}

// stopped reports whether Run returned, and its error.
func (m *member) stopped() (bool, error) {
	select {
	case <-m.finished:
		return true, m.err
	default:
		return false, nil
	}
}

func (m *member) ready() bool {
	select {
	case <-m.ing.Ready():
		return true
	default:
		return false
	}
}

// logOnFailure prints the last ingest log lines when t failed.
func (h *harness) logOnFailure() {
	h.t.Cleanup(func() {
		if h.t.Failed() {
			h.t.Logf("last ingest log lines:\n%s", tail(h.logs.Bytes(), 40))
		}
	})
}

// groupState asks the group coordinator for the group's state
// (Stable, PreparingRebalance, CompletingRebalance, Empty).
func (h *harness) groupState(group string) string {
	h.t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(h.brokers...), Timeout: 10 * time.Second}
	resp, err := client.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		h.t.Fatalf("describe group %s: %v", group, err)
	}
	if len(resp.Groups) != 1 {
		h.t.Fatalf("describe group %s: %d groups in the answer", group, len(resp.Groups))
	}
	if resp.Groups[0].Error != nil {
		h.t.Fatalf("describe group %s: %v", group, resp.Groups[0].Error)
	}
	return resp.Groups[0].GroupState
}

// waitGroupState waits until the group is in state.
func (h *harness) waitGroupState(group, state string, d time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := h.groupState(group)
		if got == state {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("group %s is %s after %s, want %s", group, got, d, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitReached waits until a gate holds an operation: what names it.
func waitReached(t *testing.T, reached <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-reached:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not happen within 2 minutes", what)
	}
}

// TestKafkaRebalanceDuringFlush: two ingest consumers in one group. While
// consumer A has a flush in progress (journaled, files written, not yet
// committed, held there by its filesystem), consumer B joins the group, and
// later, again while A is flushing, B leaves it. Each time the group
// rebalances while the flush is held: A must finish the flush before it
// gives its partitions up, B must not own any partition meanwhile, and in
// the end the lake must hold every record exactly once (the same rows as a
// clean drain of the same topics, and every inquiry the generators made).
func TestKafkaRebalanceDuringFlush(t *testing.T) {
	if testing.Short() {
		t.Skip("rebalances a consumer group")
	}
	h := newHarness(t, rebalanceConfig)
	h.logOnFailure()
	const group = "rebalance"
	load := loadgen.Options{Tenants: 4, Count: 600, Seed: 31, Recordings: true, RecordingBytes: 24 << 10,
		ChunkBytes: 8 << 10, BadShare: 0.02}
	gens := []*loadgen.Generator{h.produceLoadTruth(nextPart(load, 31, 0))}
	lake := t.TempDir()
	gate := &gateFS{FS: sinks.DirFS{Root: lake}}
	a := h.startMember(gate, group)
	waitOwned(t, a, "A")

	// B joins while A's flush is held.
	reached, release := gate.arm("syncall", "")
	defer release()
	gens = append(gens, h.produceLoadTruth(nextPart(load, 32, 1)))
	waitReached(t, reached, "before B joins")
	b := h.startMember(sinks.DirFS{Root: lake}, group)
	h.waitGroupState(group, "PreparingRebalance", time.Minute)
	time.Sleep(time.Second) // the rebalance waits for A's flush
	if b.ready() {
		t.Fatal("B owns partitions while A's flush of them is in progress")
	}
	release()
	waitOwned(t, b, "B")
	owners := waitForOwners(t, lake, h.cfg.Topics.Inputs(), 2, time.Minute)
	t.Logf("B joined during A's flush; %d consumers own partitions", owners)

	// B leaves while A's flush is held.
	reached, release = gate.arm("syncall", "")
	defer release()
	gens = append(gens, h.produceLoadTruth(nextPart(load, 33, 2)))
	waitReached(t, reached, "before B leaves")
	b.cancel() // B flushes its batch, commits and leaves the group
	h.waitGroupState(group, "PreparingRebalance", 2*time.Minute)
	release()
	b.stop(t)
	h.waitGroupState(group, "Stable", time.Minute)
	t.Log("B left during A's flush; A owns every partition again")

	gens = append(gens, h.produceLoadTruth(nextPart(load, 34, 3)))
	waitCaughtUp(t, h, lake, a.stopped, 3*time.Minute)
	a.stop(t)

	h.drain("rebalance-reference", nil)
	want := lakeSummary(t, h.lake)
	assertTruthArchived(t, want, gens)
	compareLakes(t, lakeSummary(t, lake), want)
	assertNoDebrisIn(t, lake)
	assertSpoolMatchesCheckpoints(t, lake)
}

// rebalanceConfig gives recordings the default chunk timeout: under load
// (and -race) the test's producer may pause longer than testConfig's 1 s
// between two chunks of a recording, which would then rightly be
// dead-lettered as incomplete, and the generators' truth would not hold.
var rebalanceConfig = strings.Replace(testConfig, "chunk_timeout: 1s", "chunk_timeout: 10m", 1)

// nextPart is part n of a stream: its own seed and two days of its own,
// so that its ids are new (and a flush writes a few files per tenant, not
// one per tenant and day of half a year).
func nextPart(o loadgen.Options, seed int64, n int) loadgen.Options {
	o.Seed = seed
	o.Start = time.Date(2027, 1, 1+2*n, 0, 0, 0, 0, time.UTC)
	o.End = o.Start.AddDate(0, 0, 2)
	return o
}

func waitOwned(t *testing.T, m *member, name string) {
	t.Helper()
	select {
	case <-m.ing.Ready():
	case <-m.finished:
		t.Fatalf("consumer %s stopped before it owned partitions: %v", name, m.err)
	case <-time.After(time.Minute):
		t.Fatalf("consumer %s owns no partitions after a minute", name)
	}
}

// TestKafkaRebalanceFlushOutlastsTimeout: A's flush is held longer than the
// group's rebalance timeout, so the coordinator drops A and gives every
// partition to B while A's flush is journaled but not committed. The test
// then forces the worst order it can: B is held at its first checkpoint
// write (claiming the partitions) while A is let go on to commit, and only
// then B goes on. A's commit must either be fenced (B claimed the
// partitions first) or be complete before B reads the checkpoints; a flush
// rolled back by B and then committed by A would lose its records. A, a
// zombie of an old generation, may stop with an error; nothing may be lost
// or archived twice.
func TestKafkaRebalanceFlushOutlastsTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a rebalance timeout")
	}
	h := newHarness(t, rebalanceConfig)
	h.logOnFailure()
	const group = "rebalance-timeout"
	load := loadgen.Options{Tenants: 3, Count: 400, Seed: 41, Recordings: true, RecordingBytes: 24 << 10,
		ChunkBytes: 8 << 10, BadShare: 0.02}
	gens := []*loadgen.Generator{h.produceLoadTruth(nextPart(load, 41, 0))}
	lake := t.TempDir()
	gateA, gateB := &gateFS{FS: sinks.DirFS{Root: lake}}, &gateFS{FS: sinks.DirFS{Root: lake}}
	a := h.startMember(gateA, group)
	waitOwned(t, a, "A")
	reachedA, releaseA := gateA.arm("syncall", "")
	defer releaseA()
	gens = append(gens, h.produceLoadTruth(nextPart(load, 42, 1)))
	waitReached(t, reachedA, "A's flush")

	// B gets every partition once the rebalance timeout (3 x 6 s) has
	// dropped A; it is held when it first writes a checkpoint.
	reachedB, releaseB := gateB.arm("rename", sinks.CheckpointDir+"/")
	defer releaseB()
	b := h.startMember(gateB, group)
	waitReached(t, reachedB, "B's takeover")
	t.Log("B took A's partitions over while A's flush is held")

	// A goes on to commit; B is let go once A wrote a checkpoint, or after
	// 3 s (A waits for B: it is fenced).
	wroteA, letA := gateA.arm("rename", sinks.CheckpointDir+"/")
	defer letA()
	releaseA()
	select {
	case <-wroteA:
		t.Log("A commits its flush before B claimed the partitions")
	case <-time.After(3 * time.Second):
		t.Log("A does not commit before B claimed the partitions")
	}
	letA()
	releaseB()

	gens = append(gens, h.produceLoadTruth(nextPart(load, 43, 2)))
	waitCaughtUp(t, h, lake, b.stopped, 3*time.Minute)
	b.stop(t)
	a.cancel()
	<-a.finished
	t.Logf("A stopped with: %v", a.err)
	h.drain("rebalance-timeout-reference", nil)
	want := lakeSummary(t, h.lake)
	assertTruthArchived(t, want, gens)
	compareLakes(t, lakeSummary(t, lake), want)
	assertNoDebrisIn(t, lake)
	assertSpoolMatchesCheckpoints(t, lake)
}
