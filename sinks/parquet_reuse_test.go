package sinks_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// mixedInquiries are n inquiry rows with nulls, lists, e-mail addresses and
// (when nonASCII) an address the e-mail filter cannot lower-case.
func mixedInquiries(n int, seed uint64, nonASCII bool) []schema.InquiryRow {
	r := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	rows := make([]schema.InquiryRow, n)
	for i := range rows {
		wait := r.Float64() * 100
		row := schema.InquiryRow{InquiryID: fmt.Sprintf("c-%d-%06d", seed, i), SessionID: fmt.Sprintf("s%d", r.IntN(1000)),
			MediaType: []string{"phone", "chat", "email"}[i%3], StartedAt: start.Add(time.Duration(r.IntN(86400)) * time.Second),
			Queue: "q", AgentID: fmt.Sprintf("a-%d", r.IntN(40)), AgentName: "Anna", WaitSeconds: &wait,
			Meta: schema.Meta{IngestedAt: start, KafkaPartition: int32(i % 6), KafkaOffset: int64(i)}}
		if r.IntN(3) > 0 {
			num := fmt.Sprintf("+4670%07d", r.IntN(50))
			row.CallerNumber = &num
		}
		if i%4 == 1 {
			mail := fmt.Sprintf("Person%d@Example.se", r.IntN(100))
			if nonASCII && i == 1 {
				mail = "åsa@example.se"
			}
			row.ChatterEmail = &mail
		}
		if i%5 == 2 {
			digits := "1234"
			row.IVRInputs = []schema.IVRInputRow{{Module: "menu", Digits: &digits}, {Module: "pin", Masked: true}}
		}
		rows[i] = row
	}
	return rows
}

// TestParquetWritersMatchWriteParquet: a reused writer (ParquetWriters)
// writes byte for byte the file a new writer (WriteParquet) writes, for
// files of different sizes and datasets written one after another, with
// the footer (flush id, e-mail filter) of each file and not the previous.
func TestParquetWritersMatchWriteParquet(t *testing.T) {
	ws := sinks.NewParquetWriters()
	for i, n := range []int{300, 1, 2500, 40, 300} {
		rows := mixedInquiries(n, uint64(i), i == 3)
		sinks.SortInquiries(rows)
		flushID := fmt.Sprintf("flush-%d", i)
		var fresh, reused bytes.Buffer
		if err := sinks.WriteParquet(&fresh, schema.DatasetInquiries, flushID, rows); err != nil {
			t.Fatal(err)
		}
		if err := sinks.WriteParquetWith(ws, &reused, schema.DatasetInquiries, flushID, rows); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh.Bytes(), reused.Bytes()) {
			t.Fatalf("file %d (%d rows): a reused writer wrote %d bytes that differ from a new writer's %d", i, n, reused.Len(), fresh.Len())
		}
		surveys := []schema.SurveyRow{{SurveyID: fmt.Sprint(i), InquiryID: "c-1", SurveyType: "sms", Score: int32(i)}}
		assertSameFile(t, ws, schema.DatasetSurveys, flushID, surveys)
		assertSameFile(t, ws, schema.DatasetChatlogs, flushID, chatlogs(n/10, uint64(i)))
	}
}

func chatlogs(n int, seed uint64) []schema.ChatlogRow {
	r := rand.New(rand.NewPCG(seed, 3))
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	rows := make([]schema.ChatlogRow, n)
	for i := range rows {
		msgs := make([]schema.ChatMessageRow, r.IntN(30))
		for j := range msgs {
			name := "Göran"
			msgs[j] = schema.ChatMessageRow{At: at.Add(time.Duration(j) * time.Minute), From: "chatter", Name: &name,
				Text: strings.Repeat("hej då ", 1+r.IntN(200))}
		}
		rows[i] = schema.ChatlogRow{InquiryID: fmt.Sprintf("c-%06d", i), InquiryStartedAt: at, Messages: msgs,
			Meta: schema.Meta{IngestedAt: at, KafkaOffset: int64(i)}}
	}
	return rows
}

// assertSameFile writes rows with a new writer and with one of ws and
// fails unless the two files are the same bytes.
func assertSameFile[T any](t *testing.T, ws *sinks.ParquetWriters, dataset, flushID string, rows []T) {
	t.Helper()
	var fresh, reused bytes.Buffer
	if err := sinks.WriteParquet(&fresh, dataset, flushID, rows); err != nil {
		t.Fatal(err)
	}
	if err := sinks.WriteParquetWith(ws, &reused, dataset, flushID, rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh.Bytes(), reused.Bytes()) {
		t.Fatalf("%s file of %d rows differs when written by a reused writer", dataset, len(rows))
	}
}

// TestPublisherFilesReadBack: files published by one Publisher, one after
// another with its reused buffer and writers, each read back with their own
// rows and footer only, and its Close leaves no temporary folder.
func TestPublisherFilesReadBack(t *testing.T) {
	dir := t.TempDir()
	lake, err := sinks.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	pub := lake.NewPublisher()
	want := map[string][]schema.InquiryRow{}
	for i, n := range []int{50, 3, 700} {
		rows := mixedInquiries(n, uint64(10+i), false)
		sinks.SortInquiries(rows)
		name := sinks.PartitionDir(schema.DatasetInquiries, "t1", fmt.Sprintf("2026-03-0%d", i+1)) + "/f.parquet"
		id := fmt.Sprintf("flush-%d", i)
		err := pub.PublishUnsynced(name, func(w io.Writer) error {
			return sinks.WriteParquetWith(pub.Parquet(), w, schema.DatasetInquiries, id, rows)
		})
		if err != nil {
			t.Fatal(err)
		}
		want[name] = rows
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, sinks.TmpDir, "*", "*"))
	for _, f := range left {
		if strings.HasPrefix(filepath.Base(f), "p-") || strings.HasSuffix(f, ".tmp") {
			t.Errorf("left in the tmp folder after Close: %s", f)
		}
	}
	for name, rows := range want {
		path := filepath.Join(dir, filepath.FromSlash(name))
		got, err := parquet.ReadFile[schema.InquiryRow](path)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rows) || got[0].InquiryID != rows[0].InquiryID || got[len(got)-1].InquiryID != rows[len(rows)-1].InquiryID {
			t.Errorf("%s: read %d rows, want %d in the written order", name, len(got), len(rows))
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size())
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := pf.Lookup(sinks.MetaFlushID); !strings.HasPrefix(v, "flush-") || pf.NumRows() != int64(len(rows)) {
			t.Errorf("%s: footer flush id %q, %d rows", name, v, pf.NumRows())
		}
		f.Close()
	}
}

// TestSortsAreStable: the sorts order rows as a stable sort by the same key
// does (rows with equal keys keep their order).
func TestSortsAreStable(t *testing.T) {
	for seed := range uint64(20) {
		rows := mixedInquiries(int(seed*37%400), seed, false)
		r := rand.New(rand.NewPCG(seed, 2))
		for i := range rows { // many equal keys
			rows[i].StartedAt = rows[i].StartedAt.Truncate(6 * time.Hour)
			rows[i].InquiryID = fmt.Sprintf("c-%d", r.IntN(7))
		}
		want := slices.Clone(rows)
		slices.SortStableFunc(want, func(a, b schema.InquiryRow) int {
			switch {
			case a.CallerNumber == nil && b.CallerNumber != nil:
				return -1
			case a.CallerNumber != nil && b.CallerNumber == nil:
				return 1
			case a.CallerNumber != nil:
				if c := strings.Compare(*a.CallerNumber, *b.CallerNumber); c != 0 {
					return c
				}
			}
			return a.StartedAt.Compare(b.StartedAt)
		})
		got := slices.Clone(rows)
		sinks.SortInquiries(got)
		if !slices.EqualFunc(got, want, func(a, b schema.InquiryRow) bool { return a.KafkaOffset == b.KafkaOffset }) {
			t.Fatalf("seed %d: SortInquiries differs from a stable sort", seed)
		}
		want = slices.Clone(rows)
		slices.SortStableFunc(want, func(a, b schema.InquiryRow) int { return strings.Compare(a.InquiryID, b.InquiryID) })
		got = slices.Clone(rows)
		sinks.SortByInquiryID(got, func(r *schema.InquiryRow) string { return r.InquiryID })
		if !slices.EqualFunc(got, want, func(a, b schema.InquiryRow) bool { return a.KafkaOffset == b.KafkaOffset }) {
			t.Fatalf("seed %d: SortByInquiryID differs from a stable sort", seed)
		}
	}
}
