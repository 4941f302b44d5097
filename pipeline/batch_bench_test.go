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
