package pipeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// BenchmarkBatchFill files the inquiries of three flushes of a live stream
// (10 tenants, one day, 150,000 rows a flush) as the loop does: a new
// batch per flush.
func BenchmarkBatchFill(b *testing.B) {
	tp := sinks.TopicPartition{Topic: "arkiv.inquiries"}
	number, wait := "+46701234567", 12.5
	items := make([]item, 10)
	for i := range items {
		items[i] = item{kind: itemInquiry, tp: tp, tenant: fmt.Sprintf("t%04d", i), day: "2026-11-28",
			inquiry: schema.InquiryRow{InquiryID: "c-1", SessionID: "s-1", MediaType: "phone",
				StartedAt: time.Now(), Queue: "support", AgentID: "a-1", AgentName: "Anna Berg",
				WaitSeconds: &wait, CallerNumber: &number}}
	}
	b.ReportAllocs()
	for b.Loop() {
		for range 3 {
			bt := newBatch()
			for i := range 150_000 {
				it := &items[i%len(items)]
				it.offset = int64(i)
				bt.add(it)
			}
		}
	}
}

// TestAppendRowCapacity: a partition of one row holds room for one (a
// backfill over many tenants has hundreds of thousands of them), and a
// large partition's slice doubles when full.
func TestAppendRowCapacity(t *testing.T) {
	groups := map[partKey][]schema.InquiryRow{}
	small, large := partKey{"t1", "2026-01-01"}, partKey{"t2", "2026-01-01"}
	row := schema.InquiryRow{InquiryID: "c-1"}
	appendRow(groups, small, &row)
	if c := cap(groups[small]); c != 1 {
		t.Fatalf("one row: capacity %d, want 1", c)
	}
	for range 3000 {
		appendRow(groups, large, &row)
	}
	rows := groups[large]
	for len(rows) < cap(rows) {
		rows = append(rows, row)
	}
	groups[large] = rows
	before := cap(rows)
	appendRow(groups, large, &row)
	if c := cap(groups[large]); c < 2*before {
		t.Fatalf("a full slice of %d rows grew to %d, want at least double", before, c)
	}
	if len(groups[large]) != before+1 {
		t.Fatalf("%d rows, want %d", len(groups[large]), before+1)
	}
}
