package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/sinks"
)

// fakeFetcher returns its messages, then waits for the context like a
// reader with nothing to fetch.
type fakeFetcher struct{ msgs []kafka.Message }

func (f *fakeFetcher) FetchMessage(ctx context.Context) (kafka.Message, error) {
	if len(f.msgs) == 0 {
		<-ctx.Done()
		return kafka.Message{}, ctx.Err()
	}
	m := f.msgs[0]
	f.msgs = f.msgs[1:]
	return m, nil
}

func messages(n int, highWatermark int64) []kafka.Message {
	out := make([]kafka.Message, n)
	for i := range out {
		out[i] = kafka.Message{Offset: int64(i), HighWaterMark: highWatermark, Value: []byte(`{}`), Time: time.Now()}
	}
	return out
}

func testIngester() *Ingester {
	m := NewMetrics(nil)
	return &Ingester{metrics: m, dec: newDecoder(config.Default(), m, nil)}
}

// TestReadRunsNeverHoldsARecord: records go to the loop in runs of
// itemRun; a partial run goes out within runLinger even when the partition
// is behind its high watermark and no next record ever comes (offsets taken
// by transaction markers), and at once at the drain's end.
func TestReadRunsNeverHoldsARecord(t *testing.T) {
	tp := sinks.TopicPartition{Topic: config.Default().Topics.Inquiries}
	t.Run("behind", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		q := newItemQueue()
		go func() {
			_ = testIngester().readRuns(ctx, &fakeFetcher{messages(itemRun*2+3, 1000)}, tp, 0, 0, false, q)
		}()
		var next int64
		for _, want := range []int{itemRun, itemRun, 3} {
			select {
			case run := <-q.items:
				if len(run) != want || run[0].offset != next || run[len(run)-1].caughtUp {
					t.Fatalf("run of %d from offset %d (caught up %v), want %d from %d", len(run), run[0].offset,
						run[len(run)-1].caughtUp, want, next)
				}
				next += int64(len(run))
			case <-time.After(10 * runLinger):
				t.Fatalf("no run of %d from offset %d within %v", want, next, 10*runLinger)
			}
		}
	})
	t.Run("drain", func(t *testing.T) {
		q := newItemQueue()
		start := time.Now()
		err := testIngester().readRuns(t.Context(), &fakeFetcher{messages(3, 1000)}, tp, 0, 3, true, q)
		if err != nil {
			t.Fatal(err)
		}
		if run := <-q.items; len(run) != 3 || time.Since(start) >= runLinger {
			t.Fatalf("drain sent a run of %d after %v", len(run), time.Since(start))
		}
	})
}
