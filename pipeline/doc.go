// Package pipeline turns Kafka records into lake files: it consumes the four
// input topics in a consumer group (segmentio/kafka-go), decodes and
// validates each record, applies the privacy rules of SPEC.md R-P before
// anything is written (IVR masking, consent, content that is never stored),
// assembles chunked recordings through the lake's spool, batches rows across
// the partitions it owns, and flushes them through the lake's flush journal
// so that every record is archived exactly once. What cannot be archived goes
// to the dead-letter topic with a reason, redacted like everything else.
//
// The Kafka client is confined to consumer.go and deadletter.go; the rest
// works on Record values and can be driven without a broker.
package pipeline
