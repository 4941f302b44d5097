package pipeline

import (
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// Record is one Kafka record as the pipeline sees it, free of any client's
// types.
type Record struct {
	TP      sinks.TopicPartition
	Offset  int64
	Key     []byte
	Value   []byte
	Headers []schema.Header
	Time    time.Time
}

// DeadLetter is a record that could not be archived, ready for the
// dead-letter topic. Value is already redacted (or withheld, or a reference
// for recordings); Detail holds no personal data.
type DeadLetter struct {
	Key      []byte
	Value    []byte
	Reason   schema.Reason
	Detail   string
	Source   sinks.TopicPartition
	Offset   int64
	Withheld bool // the value was withheld because it could not be masked
}

// itemKind says what a decoded record became.
type itemKind int

const (
	itemSkip itemKind = iota // nothing to store (consent refused, counted)
	itemInquiry
	itemChatlog
	itemSurvey
	itemChunk
	itemDead
)

// item is a decoded, privacy-filtered record on its way to the batch.
type item struct {
	kind    itemKind
	tp      sinks.TopicPartition
	offset  int64
	size    int
	tenant  string
	day     string
	inquiry schema.InquiryRow
	chatlog schema.ChatlogRow
	survey  schema.SurveyRow
	chunk   *schema.RecordingChunk
	deleted bool // a chunk of a recording deleted from the archive before (discarded)
	// lateErased: an inquiry that revealed, after its anonymisation, an
	// erased person; its day's chat logs and surveys already in the lake
	// are anonymised after the flush (processor.reanonymise).
	lateErased bool
	dead       *DeadLetter
	received   time.Time
	at         time.Time // the Kafka message's timestamp
	caughtUp   bool      // the partition had nothing after this record when it was read
	// err stops ingest before the record is taken (it is read again after
	// a restart): the lake could not record what it must.
	err error
}
