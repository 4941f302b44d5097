package pipeline

import (
	"context"
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

// WriteDeadLetters implements DeadLetterSink.
func (k *KafkaDeadLetters) WriteDeadLetters(ctx context.Context, letters []DeadLetter) error {
	msgs := make([]kafka.Message, len(letters))
	for i, d := range letters {
		msgs[i] = kafka.Message{Key: d.Key, Value: d.Value, Headers: deadLetterHeaders(d)}
	}
	return k.w.WriteMessages(ctx, msgs...)
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
