package query

import (
	"context"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/lakegen"
	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// TestChunksBindTheirDaysMedia: a chunk that reads only its days' content
// binds only its days' media objects, and the export still gives the one
// query's rows, recordings present and deleted alike.
func TestChunksBindTheirDaysMedia(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	if _, err := lakegen.Generate(context.Background(), dir, lakegen.Options{Inquiries: 3000, Tenants: 1, Days: 10,
		Seed: 9, Now: now, AllContent: true}); err != nil {
		t.Fatal(err)
	}
	e, err := Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.chunkBytes = 60 << 10
	f := Filter{From: now.AddDate(0, 0, -12)}
	rf, days, ok, err := e.searchScope("t0001", &f)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	s, err := e.list("t0001", days, searchDatasets...)
	if err != nil {
		t.Fatal(err)
	}
	media, err := e.mediaObjects("t0001", days)
	if err != nil {
		t.Fatal(err)
	}
	// Some recordings lose their object: they must show as deleted.
	for _, obj := range media[:len(media)/4] {
		if err := e.fs.Remove(obj); err != nil {
			t.Fatal(err)
		}
	}
	chunks, err := e.exportInputs(context.Background(), "t0001", days, s, &f, rf)
	if err != nil || len(chunks) < 3 {
		t.Fatalf("%d chunks (%v): the test proves nothing", len(chunks), err)
	}
	bound := 0
	for _, c := range chunks {
		if c.days == nil {
			t.Fatalf("chunk of %v reads every day's content", c.f)
		}
		bound += len(c.media)
	}
	if all := len(media) - len(media)/4; bound != all {
		t.Errorf("chunks bind %d media objects, the range has %d", bound, all)
	}
	got, want := exportRows(t, e, "t0001", f), oneQuery(t, e, "t0001", f)
	with := 0
	for _, r := range want {
		if r.HasRecording {
			with++
		}
	}
	if with == 0 || with == len(want) || !reflect.DeepEqual(got, want) {
		t.Errorf("export %d rows, one query %d (%d with a recording): different", len(got), len(want), with)
	}
}

// TestChunksMediaElsewhere: a recording whose object lies in another
// day's folder makes every chunk bind every media object, so it still
// counts as present.
func TestChunksMediaElsewhere(t *testing.T) {
	l := laketest.NewBuilder(t)
	q1 := phone("q1", daysAgo(1, 10), "+46701112233")
	l.Inquiries("t01", q1, phone("q2", daysAgo(2, 10), "+46701112233"), phone("q3", daysAgo(3, 10), "+46701112233"),
		phone("q4", daysAgo(4, 10), "+46701112233"))
	obj := sinks.MediaObject("t01", schema.Day(daysAgo(3, 10)), "q1", "r1") // q1 started 1 day ago
	laketest.WriteRows(l, schema.DatasetRecordings, "t01", []schema.RecordingRow{{InquiryID: "q1", RecordingID: "r1",
		InquiryStartedAt: q1.StartedAt, ContentType: "audio/mpeg", Chunks: 1, Object: obj, Meta: meta(q1.StartedAt)}},
		func(r *schema.RecordingRow) string { return schema.Day(r.InquiryStartedAt) })
	if err := l.Lake.Publish(obj, func(w io.Writer) error { _, err := io.WriteString(w, mp3Bytes); return err }); err != nil {
		t.Fatal(err)
	}
	e, s, f := chunkedTenant(t, l.Dir)
	if ok, contentToo, err := e.partitionedByDay(context.Background(), s, &f); err != nil || !ok || contentToo {
		t.Errorf("object in another day: partitioned by day %v, content too %v (%v); want true, false", ok, contentToo, err)
	}
	got := exportIsOneQuery(t, e, f)
	for _, r := range got {
		if r.InquiryID == "q1" && !r.HasRecording {
			t.Error("q1's recording, filed under another day, shows as deleted")
		}
	}
}
