package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// Dead-letter headers (CONTRACT.md, arkiv.deadletter).
const (
	HeaderReason          = "arkiv-reason"
	HeaderDetail          = "arkiv-detail"
	HeaderSourceTopic     = "arkiv-source-topic"
	HeaderSourcePartition = "arkiv-source-partition"
	HeaderSourceOffset    = "arkiv-source-offset"
	HeaderRedacted        = "arkiv-redacted"
)

// KafkaDeadLetters writes dead letters to a Kafka topic.
type KafkaDeadLetters struct{ w *kafka.Writer }

// NewKafkaDeadLetters makes a sink for the dead-letter topic.
func NewKafkaDeadLetters(brokers []string, topic string) *KafkaDeadLetters {
	return &KafkaDeadLetters{w: &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
		BatchSize:    1000,
	}}
}

// WriteDeadLetters implements DeadLetterSink. While the broker is away (a
// restart, a leader moving) it writes again what was not acknowledged, with
// backoff, until ctx ends: a broker restart must not fail the flush and stop
// ingest. An error Kafka calls permanent (a message too large, no such
// topic) returns at once.
func (k *KafkaDeadLetters) WriteDeadLetters(ctx context.Context, letters []DeadLetter) error {
	msgs := make([]kafka.Message, len(letters))
	for i, d := range letters {
		msgs[i] = kafka.Message{Key: d.Key, Value: d.Value, Headers: deadLetterHeaders(d)}
	}
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := k.w.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		msgs = unacknowledged(msgs, err)
		if permanent(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d dead letters not acknowledged after %d attempts: %w", len(msgs), attempt, err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// unacknowledged returns the messages a failed write did not deliver: those
// with an error in kafka.WriteErrors, or all of them for any other error.
func unacknowledged(msgs []kafka.Message, err error) []kafka.Message {
	var werrs kafka.WriteErrors
	if !errors.As(err, &werrs) || len(werrs) != len(msgs) {
		return msgs
	}
	var out []kafka.Message
	for i, e := range werrs {
		if e != nil {
			out = append(out, msgs[i])
		}
	}
	return out
}

// permanent reports whether a write error will not go away by trying again.
func permanent(err error) bool {
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) {
		for _, e := range werrs {
			if e != nil && permanent(e) {
				return true
			}
		}
		return false
	}
	var kerr kafka.Error
	return errors.As(err, &kerr) && !kerr.Temporary()
}

// Close flushes and closes the writer.
func (k *KafkaDeadLetters) Close() error { return k.w.Close() }

func deadLetterHeaders(d DeadLetter) []kafka.Header {
	hs := []kafka.Header{
		{Key: HeaderReason, Value: []byte(d.Reason)},
		{Key: HeaderDetail, Value: []byte(d.Detail)},
		{Key: HeaderSourceTopic, Value: []byte(d.Source.Topic)},
		{Key: HeaderSourcePartition, Value: []byte(strconv.Itoa(d.Source.Partition))},
		{Key: HeaderSourceOffset, Value: []byte(strconv.FormatInt(d.Offset, 10))},
	}
	if d.Withheld {
		hs = append(hs, kafka.Header{Key: HeaderRedacted, Value: []byte(redactedWithheld)})
	}
	return hs
}
