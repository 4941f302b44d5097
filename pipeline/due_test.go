package pipeline

import (
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// TestFlushIntervalStretchesWhileCatchingUp: a batch is flushed by the
// clock after ingest.flush_interval while any partition in it is caught
// up, and only after backlogFlushFactor times that while every partition in
// it is behind; a full batch is flushed at once either way.
func TestFlushIntervalStretchesWhileCatchingUp(t *testing.T) {
	cfg := config.Default()
	cfg.Ingest.FlushInterval = config.Duration(time.Second)
	a := sinks.TopicPartition{Topic: "arkiv.inquiries", Partition: 0}
	b := sinks.TopicPartition{Topic: "arkiv.inquiries", Partition: 1}
	start := time.Now()
	p := &processor{cfg: cfg, b: newBatch(), lastFlush: start, caughtUp: map[sinks.TopicPartition]bool{}}
	if p.due(start.Add(time.Hour)) {
		t.Fatal("an empty batch is due")
	}
	for i, tp := range []sinks.TopicPartition{a, b} {
		p.b.add(&item{kind: itemInquiry, tp: tp, offset: int64(i), tenant: "t1", day: "2026-01-01",
			inquiry: schema.InquiryRow{InquiryID: "c-1"}})
	}
	p.caughtUp[a], p.caughtUp[b] = false, false
	if p.due(start.Add(2 * time.Second)) {
		t.Error("due after 2 intervals while every partition is behind")
	}
	if !p.due(start.Add(backlogFlushFactor * time.Second)) {
		t.Error("not due after backlogFlushFactor intervals while behind")
	}
	p.caughtUp[b] = true
	if !p.due(start.Add(time.Second)) {
		t.Error("not due after one interval with a caught-up partition in the batch")
	}
	p.caughtUp[b] = false
	p.b.rows = cfg.Ingest.FlushRows
	if !p.due(start) {
		t.Error("a full batch is not due while behind")
	}
	p.b.rows = 1
	for _, c := range []struct{ interval, notYet, due time.Duration }{
		{30 * time.Second, maxBacklogFlushInterval - time.Second, maxBacklogFlushInterval}, // capped
		{5 * time.Minute, 5*time.Minute - time.Second, 5 * time.Minute},                    // never shortened
	} {
		p.cfg.Ingest.FlushInterval = config.Duration(c.interval)
		if p.due(start.Add(c.notYet)) || !p.due(start.Add(c.due)) {
			t.Errorf("flush_interval %v while behind: want due at %v, not before", c.interval, c.due)
		}
	}
}
