package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// DeadLetterSink publishes dead letters. WriteDeadLetters returns only when
// they are durable on the dead-letter topic.
type DeadLetterSink interface {
	WriteDeadLetters(ctx context.Context, letters []DeadLetter) error
}

// processor owns the batch of one consumer generation: it takes decoded
// items in per-partition order and flushes them into the lake.
type processor struct {
	lake    *sinks.Lake
	cfg     *config.Config
	metrics *Metrics
	log     *slog.Logger
	dlq     DeadLetterSink
	asm     *assembler
	b       *batch
	owner   string
	workers int
	// committed is the last checkpoint of each owned partition.
	committed map[sinks.TopicPartition]sinks.Checkpoint
	onCommit  func(next map[sinks.TopicPartition]int64)
	lastFlush time.Time
	inflight  chan flushResult
	// read is the next offset to read of each partition (the loop's
	// position, ahead of the committed checkpoint while a flush runs).
	read     map[sinks.TopicPartition]int64
	caughtUp map[sinks.TopicPartition]bool
}

// fileJob is one file a flush publishes.
type fileJob struct {
	path    string
	dataset string
	// write writes the file's content; pw are the publishing worker's
	// reusable Parquet writers.
	write func(w io.Writer, pw *sinks.ParquetWriters) error
}

func (p *processor) take(it *item) error {
	if it.err != nil {
		return it.err
	}
	p.caughtUp[it.tp] = it.caughtUp
	p.read[it.tp] = it.offset + 1
	if it.kind == itemChunk {
		return p.takeChunk(it)
	}
	p.b.add(it)
	return nil
}

func (p *processor) takeChunk(it *item) error {
	p.b.add(it) // moves the offset; a chunk adds no row by itself
	f, err := p.asm.add(it.tp, it.offset, it.chunk, it.at)
	if err != nil {
		return err
	}
	switch {
	case it.deleted:
		p.metrics.DeletedDropped.WithLabelValues("recording_chunk").Inc()
	case it.chunk.DenyRecording:
		p.metrics.ConsentDropped.WithLabelValues("recording_chunk").Inc()
	}
	if f != nil {
		if f.denied && !it.deleted && len(f.stream.Chunks) > 0 {
			p.metrics.ConsentDropped.WithLabelValues("recording").Inc()
		}
		p.b.addFinished(f)
	}
	p.expire([]sinks.TopicPartition{it.tp}, it.at)
	return nil
}

// expireIdleStreams dead-letters recordings whose chunks stopped arriving,
// on partitions that are caught up: there the wall clock is the data's
// clock. (While a partition is behind, its own message times age streams.)
func (p *processor) expireIdleStreams(now time.Time) {
	var idle []sinks.TopicPartition
	for tp, caughtUp := range p.caughtUp {
		if caughtUp {
			idle = append(idle, tp)
		}
	}
	p.expire(idle, now)
}

func (p *processor) expire(tps []sinks.TopicPartition, now time.Time) {
	for _, f := range p.asm.expire(tps, now, time.Duration(p.cfg.Ingest.ChunkTimeout)) {
		p.b.addFinished(f)
		if _, moved := p.b.next[f.tp]; !moved {
			p.b.next[f.tp] = p.readPosition(f.tp) // the checkpoint must drop the stream
		}
	}
	p.metrics.OpenRecordings.Set(float64(p.asm.openCount()))
}

// due reports whether the batch is to be flushed: when it is full, or when
// ingest.flush_interval has passed since the last flush. While ingest works
// through a backlog (a backfill, or catching up after an outage) the
// interval is backlogFlushFactor times longer: its records are late anyway,
// and every flush writes a file per dataset and tenant-day it touches, so
// flushing a backfill by the clock multiplied its files (and its cost)
// without making anything visible sooner than the backlog allows.
func (p *processor) due(now time.Time) bool {
	if p.b.empty() {
		return false
	}
	ing := p.cfg.Ingest
	if p.b.rows >= ing.FlushRows || p.b.bytes >= ing.FlushBytes {
		return true
	}
	interval := time.Duration(ing.FlushInterval)
	if p.catchingUp() {
		interval = max(interval, min(interval*backlogFlushFactor, maxBacklogFlushInterval))
	}
	return now.Sub(p.lastFlush) >= interval
}

// backlogFlushFactor stretches ingest.flush_interval while catching up, to
// at most maxBacklogFlushInterval (a longer flush_interval is kept as is):
// the default 30 s becomes 2 minutes, not 5, so that what was read of a
// backlog becomes searchable within minutes still.
const (
	backlogFlushFactor      = 10
	maxBacklogFlushInterval = 2 * time.Minute
)

// catchingUp reports whether every partition read into the batch was still
// behind its end at the last record read from it (more was waiting in
// Kafka than one fetch returned).
func (p *processor) catchingUp() bool {
	for tp := range p.b.next {
		if p.caughtUp[tp] {
			return false
		}
	}
	return len(p.b.next) > 0
}

// flushResult is what a background flush reports back to the loop.
type flushResult struct {
	b     *batch
	rec   *sinks.FlushRecord
	jobs  []fileJob
	start time.Time
	err   error
}

// flush writes the batch into the lake and waits for it.
func (p *processor) flush(ctx context.Context) error {
	if err := p.startFlush(ctx); err != nil {
		return err
	}
	return p.waitFlush()
}

// startFlush seals the batch and flushes it in the background, so that
// reading and decoding go on while files are written. At most one flush is
// in flight: it first waits for the previous one. The batch becomes one
// journaled step in the lake; on error nothing of it is visible.
func (p *processor) startFlush(ctx context.Context) error {
	if err := p.waitFlush(); err != nil {
		return err
	}
	p.lastFlush = time.Now()
	if p.b.empty() {
		return nil
	}
	if err := p.asm.syncOpen(); err != nil {
		return err
	}
	b := p.b
	p.b = newBatch()
	cps, spools := p.nextCheckpoints(b), doneSpools(b)
	done := make(chan flushResult, 1)
	p.inflight = done
	// A flush is not interrupted by shutdown: finishing it is the graceful
	// part. Its Kafka writes have their own timeouts.
	fctx := context.WithoutCancel(ctx)
	go func() { done <- p.runFlush(fctx, b, cps, spools) }()
	return nil
}

func (p *processor) runFlush(ctx context.Context, b *batch, cps []sinks.Checkpoint, spools []string) flushResult {
	start := time.Now()
	id := sinks.NewFlushID()
	jobs, err := p.plan(b, id)
	if err != nil {
		return flushResult{err: err}
	}
	rec := &sinks.FlushRecord{ID: id, Files: jobPaths(jobs), Checkpoints: cps, DoneSpools: spools}
	if err := p.commit(ctx, b, rec, jobs); err != nil {
		return flushResult{err: err}
	}
	p.reanonymise(b)
	return flushResult{b: b, rec: rec, jobs: jobs, start: start}
}

// reanonymise anonymises the chat logs and surveys that earlier flushes
// wrote for inquiries this batch found to be of an erased person (they
// carry the chatter's name but no identifier ingest could match). It runs
// after the commit; a failure is logged, not fatal: the ledger holds the
// inquiry ids, so `arkiv compact --min-files 1` finishes it.
func (p *processor) reanonymise(b *batch) {
	if len(b.lateErased) == 0 {
		return
	}
	var dirs []string
	for k := range b.lateErased {
		dirs = append(dirs, sinks.PartitionDir(schema.DatasetChatlogs, k.tenant, k.day),
			sinks.PartitionDir(schema.DatasetSurveys, k.tenant, k.day))
	}
	slices.Sort(dirs)
	rep, err := p.lake.ReanonymisePartitions(sinks.NewLedger(p.lake), dirs)
	if err != nil || rep.Skipped > 0 {
		p.log.Error("could not re-anonymise earlier chat logs and surveys of an erased person; run arkiv compact --min-files 1",
			"partitions", len(dirs), "skipped", rep.Skipped, "error", err)
		return
	}
	p.log.Info("re-anonymised earlier chat logs and surveys of an erased person", "partitions", len(dirs),
		"rows_anonymised", rep.Anonymised)
}

// waitFlush waits for the flush in flight, if any, and applies its result.
func (p *processor) waitFlush() error {
	if p.inflight == nil {
		return nil
	}
	return p.applyFlush(<-p.inflight)
}

// pollFlush applies the result of the flush in flight if it has ended, so
// that a failed flush stops the loop even when no next batch comes to wait
// for it (its records would otherwise sit unarchived and unreported).
func (p *processor) pollFlush() error {
	select {
	case r := <-p.inflight: // none in flight: a nil channel, never ready
		return p.applyFlush(r)
	default:
		return nil
	}
}

func (p *processor) applyFlush(r flushResult) error {
	p.inflight = nil
	if r.err != nil {
		p.metrics.FlushFailures.Inc()
		return r.err
	}
	p.afterCommit(r.b, r.rec, r.jobs)
	p.metrics.FlushDuration.Observe(time.Since(r.start).Seconds())
	p.log.Debug("flushed", "flush", r.rec.ID, "files", len(r.jobs), "rows", r.b.rows, "seconds", time.Since(r.start).Seconds())
	return nil
}

func (p *processor) commit(ctx context.Context, b *batch, rec *sinks.FlushRecord, jobs []fileJob) error {
	if err := p.lake.BeginFlush(rec); err != nil {
		return fmt.Errorf("begin flush: %w", err)
	}
	err := p.dlqWrite(ctx, b)
	if err == nil {
		err = p.publish(jobs)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("flush %s: %w", rec.ID, err), p.lake.AbortFlush(rec))
	}
	release, err := p.lake.FS().Lock(ownersLock)
	if err != nil {
		return errors.Join(fmt.Errorf("flush %s: %w", rec.ID, err), p.lake.AbortFlush(rec))
	}
	err = p.lake.CommitFlush(rec, p.owner)
	if rerr := release(); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("commit flush %s: %w", rec.ID, err)
	}
	return nil
}

// ownersLock orders a flush's commit against another process claiming the
// flush's partitions (a rebalance that outlasted the flush). A commit checks
// the owners, commits and moves the checkpoints under it; claim writes the
// new owner under it before it recovers anything. So the old owner's flush is
// either wholly committed before the claim or fenced, and never committed
// after the new owner rolled it back.
const ownersLock = sinks.LockDir + "/owners.lock"

// claim writes owner into the checkpoints of the owned partitions, under
// ownersLock: from then on a flush of the previous owner is fenced.
func claim(lake *sinks.Lake, owned []sinks.TopicPartition, owner string) error {
	release, err := lake.FS().Lock(ownersLock)
	if err != nil {
		return fmt.Errorf("claim partitions: %w", err)
	}
	defer release()
	for _, tp := range owned {
		cp, err := lake.ReadCheckpoint(tp)
		if err != nil {
			return err
		}
		cp.Owner = owner
		if err := lake.WriteCheckpoint(cp); err != nil {
			return fmt.Errorf("claim %s: %w", tp, err)
		}
	}
	return nil
}

func (p *processor) dlqWrite(ctx context.Context, b *batch) error {
	if len(b.dead) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := p.dlq.WriteDeadLetters(ctx, b.dead); err != nil {
		return kafkaError(fmt.Errorf("write dead letters: %w", err))
	}
	return nil
}

func (p *processor) afterCommit(b *batch, rec *sinks.FlushRecord, jobs []fileJob) {
	for _, d := range b.dead {
		p.metrics.DeadLettered.WithLabelValues(string(d.Reason)).Inc()
	}
	p.countRows(b)
	next := map[sinks.TopicPartition]int64{}
	for _, cp := range rec.Checkpoints {
		p.committed[cp.TopicPartition] = cp
		next[cp.TopicPartition] = cp.Next
		p.metrics.CheckpointAt.WithLabelValues(cp.Topic, partitionLabel(cp.Partition)).Set(float64(cp.Next))
	}
	for _, j := range jobs {
		p.metrics.FilesWritten.WithLabelValues(j.dataset).Inc()
		if fi, err := p.lake.FS().Stat(j.path); err == nil {
			p.metrics.BytesWritten.WithLabelValues(j.dataset).Add(float64(fi.Size()))
		}
	}
	if p.onCommit != nil {
		p.onCommit(next)
	}
}

func (p *processor) countRows(b *batch) {
	count := func(dataset string, n int) { p.metrics.Archived.WithLabelValues(dataset).Add(float64(n)) }
	for _, rows := range b.inquiries {
		count(schema.DatasetInquiries, len(rows))
	}
	for _, rows := range b.chatlogs {
		count(schema.DatasetChatlogs, len(rows))
	}
	for _, rows := range b.surveys {
		count(schema.DatasetSurveys, len(rows))
	}
	for _, f := range b.finished {
		if f.row != nil {
			count(schema.DatasetRecordings, 1)
			p.metrics.RecordingsSaved.Inc()
		}
	}
}

// nextCheckpoints is the state each partition read since the last flush
// moves to.
func (p *processor) nextCheckpoints(b *batch) []sinks.Checkpoint {
	tps := slices.SortedFunc(maps.Keys(b.next), cmpTP)
	out := make([]sinks.Checkpoint, 0, len(tps))
	for _, tp := range tps {
		cp := sinks.Checkpoint{TopicPartition: tp, Next: b.next[tp], Owner: p.owner, Open: p.asm.snapshot(tp)}
		out = append(out, cp)
	}
	return out
}

func cmpTP(a, b sinks.TopicPartition) int {
	if a.Topic != b.Topic {
		if a.Topic < b.Topic {
			return -1
		}
		return 1
	}
	return a.Partition - b.Partition
}

func doneSpools(b *batch) []string {
	var out []string
	for _, f := range b.finished {
		out = append(out, sinks.SpoolStreamDir(f.tp, f.stream.ID))
	}
	return out
}

func jobPaths(jobs []fileJob) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.path
	}
	return out
}

// publish writes the files with a few workers (per-file overhead, not
// bandwidth, dominates when a batch fans out over many tenant-days) and
// makes them durable with one filesystem sync.
func (p *processor) publish(jobs []fileJob) error {
	work := make(chan fileJob)
	errs := make(chan error, p.workers)
	var wg sync.WaitGroup
	for range p.workers {
		wg.Go(func() {
			var first error
			pub := p.lake.NewPublisher()
			for j := range work {
				if first == nil {
					first = pub.PublishUnsynced(j.path, func(w io.Writer) error { return j.write(w, pub.Parquet()) })
				}
			}
			if err := pub.Close(); err != nil {
				// Harmless: the lake's Close (or the next Open) removes it.
				p.log.Warn("could not remove a publisher's temporary folder", "error", err)
			}
			errs <- first
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	start := time.Now()
	if err := p.lake.SyncAll(); err != nil { // before the journal's commit names them
		return err
	}
	p.log.Debug("published", "files", len(jobs), "sync_seconds", time.Since(start).Seconds())
	return nil
}

func (p *processor) readPosition(tp sinks.TopicPartition) int64 {
	if n, ok := p.read[tp]; ok {
		return n
	}
	return p.committed[tp].Next
}
