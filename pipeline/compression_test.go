package pipeline_test

import (
	"testing"

	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/internal/loadgen"
	"github.com/arkiv-project/arkiv/internal/produce"
	"github.com/arkiv-project/arkiv/schema"
)

// TestKafkaCompressionCodecs: upstream producers may compress their
// batches with any codec Kafka knows; ingest reads them all.
func TestKafkaCompressionCodecs(t *testing.T) {
	h := newHarness(t, testConfig)
	tp := h.cfg.Topics
	want := 0
	for i, codec := range []string{"gzip", "snappy", "lz4", "zstd"} {
		p, err := produce.New(produce.Options{Brokers: h.brokers, Compression: codec})
		must(t, err)
		g := loadgen.New(loadgen.Options{Tenants: 2, Count: 100, Seed: int64(100 + i), Recordings: true,
			RecordingBytes: 8 << 10, ChunkBytes: 4 << 10,
			Topics: loadgen.Topics{Inquiries: tp.Inquiries, Chatlogs: tp.Chatlogs, Recordings: tp.Recordings, Surveys: tp.Surveys}})
		var batch []produce.Message
		for m, ok := g.Next(); ok; m, ok = g.Next() {
			batch = append(batch, produce.Message{Topic: m.Topic, Key: m.Key, Value: m.Value, Headers: m.Headers})
		}
		h.send2(p, batch)
		must(t, p.Close())
		want += g.Truth().InquiryCount()
	}
	h.drain("codecs", nil)
	rows, err := laketest.ReadRows[schema.InquiryRow](h.lake, schema.DatasetInquiries)
	must(t, err)
	// The four runs may reuse inquiry ids (same tenants, same days), so
	// count rows: every record once.
	if len(rows) != want {
		t.Fatalf("%d inquiry rows archived from four codecs, want %d", len(rows), want)
	}
}

func (h *harness) send2(p *produce.Producer, msgs []produce.Message) {
	h.t.Helper()
	for len(msgs) > 0 {
		n := min(500, len(msgs))
		saved := h.prod
		h.prod = p
		h.send(msgs[:n]...)
		h.prod = saved
		msgs = msgs[n:]
	}
}
