package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/loadgen"
	"github.com/arkiv-project/arkiv/internal/produce"
)

func runLoadgen(ctx context.Context, e *env, args []string) error {
	fs := newFlags("loadgen", e)
	brokers := fs.String("brokers", "", "Kafka brokers, host:port[,...] (required)")
	tenants := fs.Int("tenants", 10, "number of tenants (t0001 ...)")
	count := fs.Int("count", 10000, "number of inquiries")
	rate := fs.String("rate", "0", "messages per second, like 500 or 500/s (0: as fast as the broker takes them)")
	seed := fs.Int64("seed", 1, "random seed (same seed, same traffic)")
	days := fs.Int("days", 180, "spread inquiries over this many days up to now (0: live traffic, the last hour)")
	recordings := fs.Bool("recordings", true, "send recordings (chunked mp3 bytes)")
	badShare := fs.Float64("bad-share", 0, "share of deliberately invalid records, 0 to 0.5")
	compression := fs.String("compression", "", "gzip, snappy, lz4 or zstd")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *brokers == "" {
		return usageError("--brokers is required")
	}
	perSecond, err := parseRate(*rate)
	if err != nil {
		return usageError("--rate: %v", err)
	}
	p, err := produce.New(produce.Options{Brokers: splitList(*brokers), Compression: *compression})
	if err != nil {
		return usageError("%v", err)
	}
	defer p.Close()
	opts := loadOptions(*tenants, *count, *seed, *days, *recordings, *badShare)
	start := time.Now()
	n, err := sendLoad(ctx, p, loadgen.New(opts), perSecond)
	fmt.Fprintf(e.stderr, "loadgen: %d messages (%d inquiries, %d tenants) in %s\n", n, *count, *tenants, time.Since(start).Round(time.Millisecond))
	return err
}

func loadOptions(tenants, count int, seed int64, days int, recordings bool, badShare float64) loadgen.Options {
	t := config.Default().Topics
	end := time.Now().UTC()
	span := time.Duration(days) * 24 * time.Hour
	if days <= 0 {
		span = time.Hour
	}
	return loadgen.Options{Tenants: tenants, Count: count, Seed: seed, Start: end.Add(-span), End: end,
		Recordings: recordings, BadShare: badShare,
		Topics: loadgen.Topics{Inquiries: t.Inquiries, Chatlogs: t.Chatlogs, Recordings: t.Recordings, Surveys: t.Surveys}}
}

func parseRate(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "/s"), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a rate like 500/s", s)
	}
	return v, nil
}

// sendLoad publishes the generator's messages in batches, at most perSecond
// messages a second when perSecond > 0.
func sendLoad(ctx context.Context, p *produce.Producer, g *loadgen.Generator, perSecond float64) (int, error) {
	const batchSize = 500
	batch := make([]produce.Message, 0, batchSize)
	sent := 0
	start := time.Now()
	for {
		m, ok := g.Next()
		if ok {
			batch = append(batch, produce.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers})
		}
		full := len(batch) == batchSize || (perSecond > 0 && float64(len(batch)) >= perSecond/10)
		if len(batch) > 0 && (full || !ok) {
			if err := p.Send(ctx, batch...); err != nil {
				return sent, err
			}
			sent += len(batch)
			batch = batch[:0]
			if err := pace(ctx, start, sent, perSecond); err != nil {
				return sent, err
			}
		}
		if !ok {
			return sent, nil
		}
	}
}

// pace sleeps until sent messages are due at perSecond.
func pace(ctx context.Context, start time.Time, sent int, perSecond float64) error {
	if perSecond <= 0 {
		return ctx.Err()
	}
	due := start.Add(time.Duration(float64(sent) / perSecond * float64(time.Second)))
	select {
	case <-time.After(time.Until(due)):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
