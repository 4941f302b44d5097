package sinks_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// TestScanColumns: the values of flat columns, row by row, across row
// groups and pages, nulls included, are the rows' fields; list columns and
// missing ones are errors.
func TestScanColumns(t *testing.T) {
	rows := mixedInquiries(2500, 7, false)
	sinks.SortInquiries(rows)
	var buf bytes.Buffer
	if err := sinks.WriteParquet(&buf, schema.DatasetInquiries, "f", rows,
		parquet.MaxRowsPerRowGroup(700), parquet.PageBufferSize(1024)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "f.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(f.RowGroups()) != 4 {
		t.Fatalf("want a file of 4 row groups: %v", err)
	}
	i := 0
	err = sinks.ScanColumns(path, []string{"inquiry_id", "caller_number", "started_at", "chatter_email"}, func(v []parquet.Value) {
		r := rows[i]
		if str(v[0]) != r.InquiryID || str(v[1]) != strOf(r.CallerNumber) || v[2].Int64() != r.StartedAt.UnixMicro() ||
			str(v[3]) != strOf(r.ChatterEmail) {
			t.Fatalf("row %d: values %v, row %+v", i, v, r)
		}
		i++
	})
	if err != nil || i != len(rows) {
		t.Fatalf("%d rows scanned of %d: %v", i, len(rows), err)
	}
	for _, cols := range [][]string{{"ivr_inputs.list.element.digits"}, {"no_such_column"}} {
		if err := sinks.ScanColumns(path, cols, func([]parquet.Value) {}); err == nil {
			t.Errorf("scanning %v was not an error", cols)
		}
	}
	if err := sinks.ScanColumns(filepath.Join(t.TempDir(), "missing.parquet"), []string{"inquiry_id"}, nil); !sinks.IsNotExist(err) {
		t.Errorf("a missing file: %v", err)
	}
}

func strOf(s *string) string {
	if s == nil {
		return "\x00null"
	}
	return *s
}
