// Package produce publishes records to Kafka the way upstream platforms do:
// keyed by tenant and inquiry, so that all of an inquiry lands in order on
// one partition. It serves the produce, loadgen and demo commands and tests.
package produce

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"

	"github.com/arkiv-project/arkiv/schema"
)

// Message is one record to publish.
type Message struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []schema.Header
}

// Producer publishes messages to any topic.
type Producer struct{ w *kafka.Writer }

// Options configure a Producer.
type Options struct {
	Brokers     []string
	Compression string // "", gzip, snappy, lz4, zstd
	BatchSize   int
}

// New makes a Producer.
func New(o Options) (*Producer, error) {
	codec, err := compression(o.Compression)
	if err != nil {
		return nil, err
	}
	if o.BatchSize == 0 {
		o.BatchSize = 1000
	}
	return &Producer{w: &kafka.Writer{
		Addr:         kafka.TCP(o.Brokers...),
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchSize:    o.BatchSize,
		BatchTimeout: 2 * time.Millisecond,
		Compression:  codec,
		MaxAttempts:  5,
	}}, nil
}

func compression(name string) (kafka.Compression, error) {
	switch strings.ToLower(name) {
	case "", "none":
		return 0, nil
	case "gzip":
		return compress.Gzip, nil
	case "snappy":
		return compress.Snappy, nil
	case "lz4":
		return compress.Lz4, nil
	case "zstd":
		return compress.Zstd, nil
	}
	return 0, fmt.Errorf("unknown compression %q (use gzip, snappy, lz4 or zstd)", name)
}

// Send publishes messages and returns when the broker has them all.
func (p *Producer) Send(ctx context.Context, msgs ...Message) error {
	km := make([]kafka.Message, len(msgs))
	for i, m := range msgs {
		km[i] = kafka.Message{Topic: m.Topic, Key: m.Key, Value: m.Value}
		for _, h := range m.Headers {
			km[i].Headers = append(km[i].Headers, kafka.Header{Key: h.Key, Value: h.Value})
		}
	}
	if err := p.w.WriteMessages(ctx, km...); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	return nil
}

// Close flushes and closes the producer.
func (p *Producer) Close() error { return p.w.Close() }
