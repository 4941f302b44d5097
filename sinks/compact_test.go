package sinks

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
)

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	part := PartitionDir(schema.DatasetInquiries, "t1", schema.Day(at))
	num := func(s string) *string { return &s }
	write := func(name string, rows ...schema.InquiryRow) {
		t.Helper()
		if err := l.Publish(part+"/"+name, func(w io.Writer) error {
			return WriteParquet(w, schema.DatasetInquiries, name, rows)
		}); err != nil {
			t.Fatal(err)
		}
	}
	row := func(id, number string, ingested int) schema.InquiryRow {
		return schema.InquiryRow{InquiryID: id, MediaType: schema.MediaPhone, StartedAt: at, Queue: "q",
			CallerNumber: num(number), Meta: schema.Meta{IngestedAt: at.Add(time.Duration(ingested) * time.Minute)}}
	}
	write("f1.parquet", row("a", "+46700000001", 1), row("b", "+46700000002", 1))
	write("f2.parquet", row("a", "+46700000001", 5)) // later version of a
	older := row("c", "+46700000003", 9)
	older.Queue = "newest"
	write("f3.parquet", older)
	stale := row("c", "+46700000003", 2)
	stale.Queue = "stale"
	write("f4.parquet", stale)
	write("f5.parquet", row("late", "+46709999999", 3)) // an erased person, arrived late
	// A file of a flush that is not committed is left alone.
	write("f6.parquet", row("d", "+46700000004", 1))
	if err := l.BeginFlush(&FlushRecord{ID: "pending-1", Files: []string{part + "/f6.parquet"}}); err != nil {
		t.Fatal(err)
	}
	lg := NewLedger(l)
	h, err := lg.Hash("t1", ErasureIdentifier, "+46709999999", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := lg.Append("t1", []LedgerEntry{{Kind: ErasureIdentifier, Hash: h, Receipt: "r"}}); err != nil {
		t.Fatal(err)
	}
	rep, err := l.Compact(CompactOptions{MinFiles: 2, Ledger: lg})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Partitions != 1 || rep.FilesIn != 5 || rep.FilesOut != 1 || rep.RowsIn != 6 || rep.RowsOut != 4 || rep.Anonymised != 1 {
		t.Errorf("report %+v", rep)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, part))
	var names []string
	var rows []schema.InquiryRow
	for _, e := range entries {
		names = append(names, e.Name())
		if e.Name() != "f6.parquet" {
			r, err := parquet.ReadFile[schema.InquiryRow](filepath.Join(dir, part, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r...)
		}
	}
	if len(names) != 2 || !slices.Contains(names, "f6.parquet") {
		t.Fatalf("files after compaction: %v", names)
	}
	got := map[string]schema.InquiryRow{}
	for _, r := range rows {
		got[r.InquiryID] = r
	}
	if len(got) != 4 || got["a"].IngestedAt != at.Add(5*time.Minute) || got["c"].Queue != "newest" ||
		!got["late"].Anonymised || got["late"].CallerNumber != nil || got["b"].Anonymised {
		t.Errorf("rows after compaction: %+v", got)
	}
	// Nothing left to do: a second run is a no-op.
	rep, err = l.Compact(CompactOptions{MinFiles: 2, Ledger: lg})
	if err != nil || rep.Partitions != 0 {
		t.Errorf("second run: %+v %v", rep, err)
	}
	assertNoRewriteJournal(t, dir)
}

func assertNoRewriteJournal(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, RewriteDir))
	for _, e := range entries {
		t.Errorf("journal left: %s", e.Name())
	}
}
