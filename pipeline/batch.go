package pipeline

import (
	"slices"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// partKey is one tenant's day: a folder of every dataset.
type partKey struct{ tenant, day string }

// batch is what has been read since the last flush: rows by dataset and
// partition, dead letters, finished recordings, and how far each
// topic-partition has been read.
type batch struct {
	inquiries map[partKey][]schema.InquiryRow
	chatlogs  map[partKey][]schema.ChatlogRow
	surveys   map[partKey][]schema.SurveyRow
	dead      []DeadLetter
	finished  []*finished
	next      map[sinks.TopicPartition]int64 // next offset to read, per partition read since the last flush
	// erased are the inquiries of the batch anonymised at ingest: their
	// chat logs and surveys in the batch are anonymised too, whichever
	// came first (the ledger covers those of later batches).
	erased map[partKey]map[string]bool
	// lateErased are the tenant-days of inquiries that revealed an erased
	// person after the anonymisation (item.lateErased).
	lateErased map[partKey]bool
	rows       int
	bytes      int64
}

func newBatch() *batch {
	return &batch{
		inquiries:  map[partKey][]schema.InquiryRow{},
		chatlogs:   map[partKey][]schema.ChatlogRow{},
		surveys:    map[partKey][]schema.SurveyRow{},
		next:       map[sinks.TopicPartition]int64{},
		erased:     map[partKey]map[string]bool{},
		lateErased: map[partKey]bool{},
	}
}

func (b *batch) empty() bool { return len(b.next) == 0 && len(b.finished) == 0 }

// add files an item's row; chunks are handled by the assembler first.
func (b *batch) add(it *item) {
	b.next[it.tp] = it.offset + 1
	b.bytes += int64(it.size)
	k := partKey{it.tenant, it.day}
	switch it.kind {
	case itemInquiry:
		appendRow(b.inquiries, k, &it.inquiry)
		b.rows++
		if it.inquiry.Anonymised {
			b.erase(k, it.inquiry.InquiryID)
		}
		if it.lateErased {
			b.lateErased[k] = true
		}
	case itemChatlog:
		if b.erased[k][it.chatlog.InquiryID] {
			sinks.AnonymiseRow(&it.chatlog, false)
		}
		appendRow(b.chatlogs, k, &it.chatlog)
		b.rows++
	case itemSurvey:
		if b.erased[k][it.survey.InquiryID] {
			sinks.AnonymiseRow(&it.survey, false)
		}
		appendRow(b.surveys, k, &it.survey)
		b.rows++
	case itemDead:
		b.dead = append(b.dead, *it.dead)
	}
}

// appendRow appends row to partition k's rows. A full slice of
// doublingFrom rows or more doubles: a batch's partitions grow to tens of
// thousands of rows of a few hundred bytes, and append's smaller steps for
// large slices (a quarter) copied each row about four times over, into
// fresh memory the collector then had to reclaim. Below that, append's own
// steps (which double) keep the many small partitions of a backfill over
// many tenants small: reserving 16 rows for each of 180,000 tenant-days
// took 600 MB.
func appendRow[T any](groups map[partKey][]T, k partKey, row *T) {
	rows := groups[k]
	if len(rows) == cap(rows) && len(rows) >= doublingFrom {
		rows = slices.Grow(rows, len(rows))
	}
	groups[k] = append(rows, *row)
}

// doublingFrom is where append stops doubling a slice's capacity.
const doublingFrom = 256

// erase anonymises the chat logs and surveys of an inquiry anonymised at
// ingest that are already in the batch, and those that follow.
func (b *batch) erase(k partKey, inquiryID string) {
	if b.erased[k] == nil {
		b.erased[k] = map[string]bool{}
	}
	b.erased[k][inquiryID] = true
	for i := range b.chatlogs[k] {
		if b.chatlogs[k][i].InquiryID == inquiryID {
			sinks.AnonymiseRow(&b.chatlogs[k][i], false)
		}
	}
	for i := range b.surveys[k] {
		if b.surveys[k][i].InquiryID == inquiryID {
			sinks.AnonymiseRow(&b.surveys[k][i], false)
		}
	}
}

func (b *batch) addFinished(f *finished) {
	b.finished = append(b.finished, f)
	if f.dead != nil {
		b.dead = append(b.dead, *f.dead)
	}
	if f.row != nil {
		b.rows++
	}
}

// recordingRows groups the completed recordings' rows by partition.
func (b *batch) recordingRows() map[partKey][]schema.RecordingRow {
	out := map[partKey][]schema.RecordingRow{}
	for _, f := range b.finished {
		if f.row == nil {
			continue
		}
		k := partKey{f.stream.TenantID, schema.Day(f.stream.InquiryStartedAt)}
		out[k] = append(out[k], *f.row)
	}
	return out
}
