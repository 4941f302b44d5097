package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/sinks"
)

// Options configure an Ingester.
type Options struct {
	Brokers []string
	Group   string // consumer group id
	Lake    *sinks.Lake
	Config  *config.Config
	Metrics *Metrics     // nil: unregistered metrics
	Logger  *slog.Logger // nil: discard
	// Drain makes Run return once every partition it owns has been read up
	// to the end it had when the generation started, flushed and committed.
	Drain bool
	// DeadLetters overrides the dead-letter sink (default: the Kafka topic).
	DeadLetters DeadLetterSink
	// SessionTimeout is the consumer group session timeout (default 10s):
	// how long a dead member keeps its partitions.
	SessionTimeout time.Duration
	// CompactEvery, when positive, runs Lake.Compact (merging small files
	// and sealing audit logs) on the lake this often in the background,
	// while Run runs; 0 leaves compaction to `arkiv compact`.
	CompactEvery time.Duration
	// Compact is what each periodic compaction does (its Ledger defaults
	// to the lake's erasure ledger, so late records of erased persons are
	// anonymised on the way).
	Compact sinks.CompactOptions
	// CompactMetrics count the periodic compactions (nil: unregistered).
	CompactMetrics *CompactMetrics
}

// Ingester consumes the input topics into the lake.
type Ingester struct {
	opts    Options
	log     *slog.Logger
	metrics *Metrics
	dec     *decoder
	ready   chan struct{}
}

// NewIngester checks the options and makes an Ingester.
func NewIngester(o Options) (*Ingester, error) {
	if len(o.Brokers) == 0 {
		return nil, errors.New("ingest: no brokers given (--brokers host:port)")
	}
	if o.Lake == nil || o.Config == nil {
		return nil, errors.New("ingest: a lake and a config are required")
	}
	if o.Group == "" {
		o.Group = "arkiv"
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.CompactEvery < 0 {
		return nil, errors.New("ingest: the compaction period must not be negative (0 turns it off)")
	}
	if o.CompactMetrics == nil {
		o.CompactMetrics = NewCompactMetrics(nil)
	}
	if o.Compact.Ledger == nil {
		o.Compact.Ledger = sinks.NewLedger(o.Lake)
	}
	if o.DeadLetters == nil {
		o.DeadLetters = NewKafkaDeadLetters(o.Brokers, o.Config.Topics.Deadletter)
	}
	return &Ingester{opts: o, log: o.Logger.With("component", "ingest"), metrics: o.Metrics,
		dec: newDecoder(o.Config, o.Metrics, sinks.NewLedger(o.Lake)), ready: make(chan struct{})}, nil
}

// Ready is closed once the ingester has joined its group and owns its first
// partitions.
func (ing *Ingester) Ready() <-chan struct{} { return ing.ready }

// Run consumes until ctx is cancelled (then it flushes, commits and returns
// nil) or, with Drain, until everything it owns is archived. When Kafka
// fails it (a broker restarting), it rejoins the group and reads again from
// the lake's checkpoints; an error of the lake ends it.
func (ing *Ingester) Run(ctx context.Context) error {
	group, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                ing.opts.Group,
		Brokers:           ing.opts.Brokers,
		Topics:            ing.opts.Config.Topics.Inputs(),
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: min(time.Second, ing.opts.SessionTimeout/4),
		SessionTimeout:    ing.opts.SessionTimeout,
		RebalanceTimeout:  ing.opts.SessionTimeout * 3,
		JoinGroupBackoff:  500 * time.Millisecond,
		Timeout:           10 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("join consumer group %q: %w (check --brokers and that the arkiv topics exist)", ing.opts.Group, err)
	}
	defer group.Close()
	if ing.opts.CompactEvery > 0 {
		stop := startCompactor(ctx, &compactor{lake: ing.opts.Lake, every: ing.opts.CompactEvery,
			opts: ing.opts.Compact, metrics: ing.opts.CompactMetrics, log: ing.log.With("task", "compaction")})
		defer stop()
	}
	readyOnce := false
	for {
		gen, err := group.Next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			ing.log.Warn("consumer group: waiting to rejoin", "error", err)
			continue
		}
		if !readyOnce {
			close(ing.ready)
			readyOnce = true
		}
		drained, err := ing.runGeneration(ctx, gen)
		if errors.Is(err, errKafka) && ctx.Err() == nil {
			ing.log.Warn("Kafka unavailable: rejoining the group to read again from the lake's checkpoints", "error", err)
			sleep(ctx, time.Second)
			continue
		}
		if err != nil {
			return err
		}
		if drained || ctx.Err() != nil {
			return nil
		}
	}
}

// runGeneration owns gen's partitions until the generation ends, ctx is
// cancelled or, with Drain, they are all read to their end.
func (ing *Ingester) runGeneration(ctx context.Context, gen *kafka.Generation) (drained bool, err error) {
	owned := ownedPartitions(gen)
	owner := ing.opts.Group + "/" + gen.MemberID + "/" + strconv.Itoa(int(gen.ID))
	proc, err := ing.takeOver(owned, owner)
	if err != nil {
		return false, err
	}
	proc.onCommit = func(next map[sinks.TopicPartition]int64) { commitKafkaOffsets(gen, next, ing.log) }
	ends, err := highWatermarks(ctx, ing.opts.Brokers, owned)
	if err != nil {
		gen.Start(func(context.Context) {}) // ends the generation, so that Run can rejoin
		return false, kafkaError(err)
	}
	for tp, end := range ends {
		next := proc.committed[tp].Next
		proc.caughtUp[tp] = next >= end
		if next > end {
			ing.checkpointPastEnd(tp, next, end)
		}
	}
	type result struct {
		drained bool
		err     error
	}
	done := make(chan result, 1)
	gen.Start(func(gctx context.Context) {
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-gctx.Done():
				cancel()
			case <-runCtx.Done():
			}
		}()
		d, err := ing.consume(runCtx, proc, ends)
		done <- result{d, err}
	})
	r := <-done
	return r.drained, r.err
}

// takeOver recovers the lake's state for newly owned partitions: journaled
// flushes are finished, the spool is trimmed to the checkpoint, and the
// checkpoint is claimed for this owner.
func (ing *Ingester) takeOver(owned []sinks.TopicPartition, owner string) (*processor, error) {
	lake := ing.opts.Lake
	if err := claim(lake, owned, owner); err != nil {
		return nil, err
	}
	rolledBack, err := lake.RecoverFlushes(owned)
	if err != nil {
		return nil, fmt.Errorf("recover flushes: %w", err)
	}
	proc := &processor{lake: lake, cfg: ing.opts.Config, metrics: ing.metrics, log: ing.log,
		dlq: ing.opts.DeadLetters, asm: newAssembler(lake, ing.opts.Config.Ingest.MaxRecordingBytes),
		b: newBatch(), owner: owner, workers: publishWorkers,
		committed: map[sinks.TopicPartition]sinks.Checkpoint{}, lastFlush: time.Now(),
		caughtUp: map[sinks.TopicPartition]bool{}, read: map[sinks.TopicPartition]int64{}}
	for _, tp := range owned {
		cp, err := lake.ReadCheckpoint(tp)
		if err != nil {
			return nil, err
		}
		if err := lake.RecoverSpool(cp); err != nil {
			return nil, err
		}
		cp.Owner = owner
		if err := lake.WriteCheckpoint(cp); err != nil {
			return nil, fmt.Errorf("claim %s: %w", tp, err)
		}
		proc.asm.restore(cp)
		proc.committed[tp] = cp
	}
	ing.log.Info("partitions assigned", "partitions", len(owned), "rolled_back_flushes", rolledBack)
	return proc, nil
}

func ownedPartitions(gen *kafka.Generation) []sinks.TopicPartition {
	var out []sinks.TopicPartition
	for topic, parts := range gen.Assignments {
		for _, p := range parts {
			out = append(out, sinks.TopicPartition{Topic: topic, Partition: p.ID})
		}
	}
	return out
}

func commitKafkaOffsets(gen *kafka.Generation, next map[sinks.TopicPartition]int64, log *slog.Logger) {
	offsets := map[string]map[int]int64{}
	for tp, off := range next {
		if offsets[tp.Topic] == nil {
			offsets[tp.Topic] = map[int]int64{}
		}
		offsets[tp.Topic][tp.Partition] = off
	}
	// Kafka's committed offsets only follow the lake's checkpoints, for lag
	// monitoring; a failure here loses nothing.
	if err := gen.CommitOffsets(offsets); err != nil {
		log.Debug("commit offsets to Kafka", "error", err)
	}
}

func highWatermarks(ctx context.Context, brokers []string, tps []sinks.TopicPartition) (map[sinks.TopicPartition]int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, tp := range tps {
		req.Topics[tp.Topic] = append(req.Topics[tp.Topic], kafka.LastOffsetOf(tp.Partition))
	}
	resp, err := client.ListOffsets(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("read partition ends: %w", err)
	}
	out := map[sinks.TopicPartition]int64{}
	for topic, parts := range resp.Topics {
		for _, p := range parts {
			if p.Error != nil {
				return nil, fmt.Errorf("read end of %s/%d: %w", topic, p.Partition, p.Error)
			}
			out[sinks.TopicPartition{Topic: topic, Partition: p.Partition}] = p.LastOffset
		}
	}
	return out, nil
}

// checkpointPastEnd reports a partition whose lake checkpoint lies past
// its end. On one Kafka cluster a partition's end never moves back, so the
// broker is another cluster, or the topic was deleted and made again (or
// its log was truncated): the records it holds below the checkpoint are
// taken as archived and skipped, as exactly-once demands of the offsets
// the lake has committed. Operators must know.
func (ing *Ingester) checkpointPastEnd(tp sinks.TopicPartition, next, end int64) {
	ing.metrics.CheckpointPastEnd.WithLabelValues(tp.Topic).Inc()
	ing.log.Error("the lake's checkpoint lies past the end of the partition: the records this broker holds "+
		"below it are skipped as already archived. Is ingest pointed at another Kafka cluster, or was the topic "+
		"made again? A new cluster needs a new lake",
		"topic", tp.Topic, "partition", tp.Partition, "checkpoint", next, "partition_end", end)
}

// publishWorkers is how many files a flush writes at once. Creating,
// renaming and making folders cost kernel time that overlaps well: on the
// 2-core reference machine 8 workers wrote a backfill's files about twice
// as fast as 2.
const publishWorkers = 8
