package query

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/lakegen"
	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/schema"
)

// exportRows collects what EachInquiry hands over.
func exportRows(t *testing.T, e *Engine, tenant string, f Filter) []Inquiry {
	t.Helper()
	var out []Inquiry
	if err := e.EachInquiry(context.Background(), tenant, f, func(r *Inquiry) error {
		out = append(out, *r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// oneQuery is the answer of one unnarrowed search query over the range.
func oneQuery(t *testing.T, e *Engine, tenant string, f Filter) []Inquiry {
	t.Helper()
	res, err := e.search(context.Background(), tenant, f, Page{Limit: MaxLimit}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Next != "" {
		t.Fatal("more than one page")
	}
	return res.Rows
}

// TestChunkedExportIsTheSame: an export read in chunks of a few days gives
// the rows, in the order, of the one search query over the range.
func TestChunkedExportIsTheSame(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().UTC()
	if _, err := lakegen.Generate(context.Background(), dir, lakegen.Options{Inquiries: 5000, Tenants: 2, Days: 20,
		Seed: 3, Now: now, Flushes: 2, Duplicates: 0.05}); err != nil {
		t.Fatal(err)
	}
	e, err := Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.chunkBytes = 60 << 10 // a day or so per chunk
	from := now.AddDate(0, 0, -30)
	yes := true
	for _, f := range []Filter{{From: from}, {From: from, Media: "chat"}, {From: from, HasRecording: &yes},
		{From: now.AddDate(0, 0, -7).Add(5 * time.Hour), To: now.AddDate(0, 0, -2).Add(3 * time.Hour)}} {
		s, err := e.list("t0001", daysOf(f.From, f.To), searchDatasets...)
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := e.exportChunks(context.Background(), s, &f)
		if err != nil || len(chunks) < 3 {
			t.Fatalf("%+v: %d chunks (%v): the test proves nothing", f, len(chunks), err)
		}
		got, want := exportRows(t, e, "t0001", f), oneQuery(t, e, "t0001", f)
		if len(want) < 100 || !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: export gives %d rows, one query %d (or different rows or order)", f, len(got), len(want))
		}
	}
}

// TestChunkingChecksItsAssumptions: when an inquiry has versions in two
// partitions, or its content lies in another day's partition, the export
// still gives the one query's answer.
func TestChunkingChecksItsAssumptions(t *testing.T) {
	l := laketest.NewBuilder(t)
	var rows []schema.InquiryRow
	for d := 1; d <= 6; d++ {
		for h := 8; h < 12; h++ {
			rows = append(rows, phone("q"+string(rune('a'+d))+string(rune('a'+h)), daysAgo(d, h), "+46701112233"))
		}
	}
	l.Inquiries("t01", rows...)
	moved := rows[0] // started a day later in a newer version
	moved.StartedAt, moved.Queue = daysAgo(2, 9), "moved"
	moved.IngestedAt = moved.IngestedAt.Add(48 * time.Hour)
	l.Inquiries("t01", moved)
	survey := schema.SurveyRow{SurveyID: "v1", SurveyType: schema.SurveySMS, InquiryID: rows[5].InquiryID,
		InquiryStartedAt: daysAgo(4, 9), Score: 7, Meta: meta(daysAgo(4, 9))} // in another day than its inquiry
	l.Surveys("t01", survey)
	e, s, f := chunkedTenant(t, l.Dir)
	ok, contentToo, err := e.partitionedByDay(context.Background(), s, &f)
	if err != nil || ok || contentToo {
		t.Errorf("moved inquiry: partitioned by day %v, content too %v (%v); want false, false", ok, contentToo, err)
	}
	if got, want := exportRows(t, e, "t01", f), oneQuery(t, e, "t01", f); !reflect.DeepEqual(got, want) {
		t.Errorf("export %v, one query %v", ids(got), ids(want))
	}
	// Without the moved version, only the survey is out of place: chunks,
	// each reading every survey file.
	l2 := laketest.NewBuilder(t)
	l2.Inquiries("t01", rows...)
	l2.Surveys("t01", survey)
	e2, err := Open(l2.Dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	e2.chunkBytes = 1
	s2, _ := e2.list("t01", daysOf(f.From, f.To), searchDatasets...)
	if ok, contentToo, err := e2.partitionedByDay(context.Background(), s2, &f); err != nil || !ok || contentToo {
		t.Errorf("misplaced survey: partitioned by day %v, content too %v (%v); want true, false", ok, contentToo, err)
	}
	got := exportIsOneQuery(t, e2, f)
	for _, r := range got {
		if r.InquiryID == rows[5].InquiryID && (r.SurveyScore == nil || *r.SurveyScore != 7) {
			t.Errorf("the survey in another partition was not joined: %+v", r)
		}
	}
}

// TestExportStopsAtFnError: fn's error ends the export and is returned.
func TestExportStopsAtFnError(t *testing.T) {
	_, e := fixture(t)
	boom := errors.New("disk full")
	n := 0
	err := e.EachInquiry(context.Background(), "t01", Filter{}, func(*Inquiry) error {
		n++
		return boom
	})
	if !errors.Is(err, boom) || n != 1 {
		t.Errorf("err %v after %d rows, want disk full after 1", err, n)
	}
}

// chunkedTenant opens an engine over dir that cuts exports into the
// smallest chunks, and lists tenant t01's files of the last ten days for
// the filter it returns. The engine closes with the test.
func chunkedTenant(t *testing.T, dir string) (*Engine, sources, Filter) {
	t.Helper()
	e, err := Open(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	e.chunkBytes = 1
	f := Filter{From: daysAgo(10, 0)}
	s, err := e.list("t01", daysOf(f.From, f.To), searchDatasets...)
	if err != nil {
		t.Fatal(err)
	}
	return e, s, f
}

// exportIsOneQuery fails unless tenant t01's export of f gives the rows
// of the search query over the whole range, in order; it returns them.
func exportIsOneQuery(t *testing.T, e *Engine, f Filter) []Inquiry {
	t.Helper()
	got, want := exportRows(t, e, "t01", f), oneQuery(t, e, "t01", f)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("export %v, one query %v", ids(got), ids(want))
	}
	return got
}
