package pipeline_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/arkiv-project/arkiv/internal/broker"
	"github.com/arkiv-project/arkiv/internal/produce"
	"github.com/arkiv-project/arkiv/pipeline"
)

// TestCheckpointPastPartitionEnd: a lake archived from one broker, then
// pointed at a fresh one (another cluster, or topics made again) whose
// partitions end before the lake's checkpoints. Ingest cannot tell those
// records from archived ones; it must say so loudly, in the log and in a
// metric, instead of skipping them in silence. Both brokers are embedded:
// the case needs a second, empty cluster.
func TestCheckpointPastPartitionEnd(t *testing.T) {
	h := newHarness(t, testConfig)
	first, err := broker.Start(broker.Options{Partitions: 1, Topics: h.cfg.Topics.All()})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	inquiries := func(n int) []produce.Message {
		var out []produce.Message
		for i := range n {
			out = append(out, jsonMsg(h.cfg.Topics.Inquiries, phone(fmt.Sprintf("cp-%d", i), "2026-11-28T09:14:03Z", nil)))
		}
		return out
	}
	h.brokers = []string{first.Addr()}
	sendTo(t, h.brokers, inquiries(5))
	h.drain("g-first", nil)
	if got := countPrefix(lakeSummary(t, h.lake), "inquiry|"); got != 5 {
		t.Fatalf("first cluster: %d inquiry rows archived, want 5", got)
	}

	second, err := broker.Start(broker.Options{Partitions: 1, Topics: h.cfg.Topics.All()})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	h.brokers = []string{second.Addr()}
	sendTo(t, h.brokers, inquiries(2))
	m := pipeline.NewMetrics(nil)
	h.drain("g-second", m)
	if n := testutil.ToFloat64(m.CheckpointPastEnd.WithLabelValues(h.cfg.Topics.Inquiries)); n != 1 {
		t.Errorf("arkiv_ingest_checkpoint_past_end_total{topic=inquiries} = %v, want 1", n)
	}
	logs := h.logs.Bytes()
	if !bytes.Contains(logs, []byte("checkpoint lies past the end of the partition")) ||
		!bytes.Contains(logs, []byte(`"checkpoint":5,"partition_end":2`)) {
		t.Errorf("no error names the partition, its checkpoint (5) and its end (2); log:\n%s", tail(logs, 20))
	}
}

// sendTo produces msgs to the given brokers.
func sendTo(t *testing.T, brokers []string, msgs []produce.Message) {
	t.Helper()
	p, err := produce.New(produce.Options{Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	h := &harness{t: t, prod: p}
	h.send(msgs...)
}
