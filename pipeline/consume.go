package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// consume reads the owned partitions and feeds the processor until ctx ends
// or, when draining, every partition reached its end as of the start. Each partition
// has its own reader goroutine that also decodes, so decoding runs on every
// core while the processor keeps each partition's order.
func (ing *Ingester) consume(ctx context.Context, proc *processor, ends map[sinks.TopicPartition]int64) (bool, error) {
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	q := newItemQueue()
	errs := make(chan error, len(proc.committed))
	var wg sync.WaitGroup
	draining := ing.opts.Drain
	for tp, cp := range proc.committed {
		end := ends[tp]
		if draining && cp.Next >= end {
			continue
		}
		wg.Go(func() {
			if err := ing.readPartition(readCtx, tp, cp.Next, end, draining, q); err != nil {
				errs <- err
			}
		})
	}
	go func() { wg.Wait(); close(q.items) }()
	drained, err := ing.loop(ctx, proc, q, errs)
	if err != nil {
		err = errors.Join(err, proc.waitFlush()) // never leave a flush running
	}
	stopReading()
	for range q.items { //nolint:revive // let readers exit
	}
	return drained, err
}

// loop takes items in order and flushes when the batch is due. When ctx ends
// it flushes what it has taken and returns.
func (ing *Ingester) loop(ctx context.Context, proc *processor, q *itemQueue, errs <-chan error) (bool, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case run, ok := <-q.items:
			if !ok {
				return ing.finish(context.WithoutCancel(ctx), proc, true)
			}
			if err := ing.takeRun(ctx, proc, run); err != nil {
				return false, err
			}
			q.put(run)
		case err := <-errs:
			return false, err
		case now := <-tick.C:
			if err := proc.pollFlush(); err != nil {
				return false, err
			}
			proc.expireIdleStreams(now)
			if proc.due(now) {
				if err := proc.startFlush(ctx); err != nil {
					return false, err
				}
			}
		case <-ctx.Done():
			return ing.finish(context.WithoutCancel(ctx), proc, false)
		}
	}
}

// takeRun takes a run of one partition's items in order, flushing whenever
// the batch is full.
func (ing *Ingester) takeRun(ctx context.Context, proc *processor, run []item) error {
	for i := range run {
		if err := proc.take(&run[i]); err != nil {
			return err
		}
		if proc.b.rows >= proc.cfg.Ingest.FlushRows || proc.b.bytes >= proc.cfg.Ingest.FlushBytes {
			if err := proc.startFlush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// Items travel from the partition readers to the loop in runs of up to
// itemRun (one channel operation per run instead of per record, which cost
// several percent of a backfill's CPU), with up to itemsQueued items queued.
const (
	itemRun     = 64
	itemsQueued = 8192
)

// itemQueue carries runs of items from the readers to the loop, and the
// runs the loop has taken back to the readers for reuse (an item is a few
// hundred bytes: allocating runs anew would double a backfill's garbage).
type itemQueue struct {
	items chan []item
	free  chan []item
}

func newItemQueue() *itemQueue {
	return &itemQueue{items: make(chan []item, itemsQueued/itemRun), free: make(chan []item, itemsQueued/itemRun+1)}
}

// get returns an empty run.
func (q *itemQueue) get() []item {
	select {
	case run := <-q.free:
		return run
	default:
		return make([]item, 0, itemRun)
	}
}

// put gives back a run whose items have been taken.
func (q *itemQueue) put(run []item) {
	clear(run) // holds no rows
	select {
	case q.free <- run[:0]:
	default:
	}
}

// finish flushes the last batch. A cancelled ctx must not stop it: this is
// the graceful part of a shutdown or rebalance.
func (ing *Ingester) finish(ctx context.Context, proc *processor, drained bool) (bool, error) {
	if drained {
		proc.expireIdleStreams(time.Now())
	}
	if err := proc.flush(ctx); err != nil {
		return false, err
	}
	return drained && ing.opts.Drain, nil
}

// readPartition fetches one partition from offset and sends decoded items.
// With draining it stops at end.
func (ing *Ingester) readPartition(ctx context.Context, tp sinks.TopicPartition, offset, end int64, draining bool, q *itemQueue) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:       ing.opts.Brokers,
		Topic:         tp.Topic,
		Partition:     tp.Partition,
		MinBytes:      1,
		MaxBytes:      32 << 20,
		MaxWait:       250 * time.Millisecond,
		QueueCapacity: 1024,
	})
	defer r.Close()
	if err := r.SetOffset(offset); err != nil {
		return fmt.Errorf("seek %s to %d: %w", tp, offset, err)
	}
	return ing.readRuns(ctx, r, tp, offset, end, draining, q)
}

// fetcher is what readRuns needs of a kafka.Reader.
type fetcher interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
}

// readRuns fetches from r and sends decoded items in runs (see itemRun).
// With draining it stops at end.
func (ing *Ingester) readRuns(ctx context.Context, r fetcher, tp sinks.TopicPartition, offset, end int64, draining bool, q *itemQueue) error {
	// The partition's series, looked up once, not per record.
	lag := ing.metrics.Lag.WithLabelValues(tp.Topic, partitionLabel(tp.Partition))
	consumed := ing.metrics.Consumed.WithLabelValues(tp.Topic)
	run := q.get()
	wait := runWait{parent: ctx}
	defer wait.stop()
	for !draining || offset < end {
		m, err := r.FetchMessage(wait.ctx(len(run) > 0))
		switch {
		case err != nil && (ctx.Err() != nil || errors.Is(err, context.Canceled)):
			return nil
		case err != nil && !wait.expired(err):
			return kafkaError(fmt.Errorf("read %s: %w", tp, err))
		case err == nil:
			offset = m.Offset + 1
			lag.Set(float64(max(0, m.HighWaterMark-offset)))
			consumed.Inc()
			it := ing.dec.decode(toRecord(tp, m))
			it.caughtUp = offset >= m.HighWaterMark
			run = append(run, it)
			// A run goes out when full, and whenever the next fetch may wait
			// (the partition is caught up) or a record must stop ingest.
			if len(run) < itemRun && !it.caughtUp && it.err == nil && (!draining || offset < end) {
				continue
			}
		}
		select { // full, or due, or the next record is runLinger late
		case q.items <- run:
		case <-ctx.Done():
			return nil
		}
		run = q.get()
		wait.stop()
	}
	return nil
}

// runLinger bounds how long a record waits in a partial run for the next
// one. A record read behind the high watermark is normally followed at
// once, but not always (transaction markers and aborted records take
// offsets no message comes with); a record never waits for upstream to
// send the next.
const runLinger = 100 * time.Millisecond

// runWait gives the fetches of a partial run a deadline runLinger after the
// first; the fetches of an empty run wait as long as parent.
type runWait struct {
	parent context.Context
	run    context.Context
	cancel context.CancelFunc
}

func (w *runWait) ctx(pending bool) context.Context {
	if !pending {
		return w.parent
	}
	if w.run == nil {
		w.run, w.cancel = context.WithTimeout(w.parent, runLinger)
	}
	return w.run
}

// expired reports whether err is the partial run's deadline passing.
func (w *runWait) expired(err error) bool {
	return w.run != nil && errors.Is(err, context.DeadlineExceeded) && w.run.Err() != nil
}

// stop ends the deadline of the run just sent.
func (w *runWait) stop() {
	if w.cancel != nil {
		w.cancel()
		w.run, w.cancel = nil, nil
	}
}

func toRecord(tp sinks.TopicPartition, m kafka.Message) Record {
	hs := make([]schema.Header, len(m.Headers))
	for i, h := range m.Headers {
		hs[i] = schema.Header{Key: h.Key, Value: h.Value}
	}
	return Record{TP: tp, Offset: m.Offset, Key: m.Key, Value: m.Value, Headers: hs, Time: m.Time}
}

// errKafka marks an error of talking to Kafka (a broker restarting, a
// partition leader moving): Run then rejoins the group and reads again from
// the lake's checkpoints, instead of stopping. An error of the lake stops
// Run.
var errKafka = errors.New("kafka unavailable")

// kafkaError marks err (not nil) with errKafka.
func kafkaError(err error) error { return kafkaErr{err} }

type kafkaErr struct{ err error }

func (e kafkaErr) Error() string   { return e.err.Error() }
func (e kafkaErr) Unwrap() []error { return []error{e.err, errKafka} }

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
