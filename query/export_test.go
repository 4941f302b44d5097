package query

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/xuri/excelize/v2"
)

// jsonResults is what the JSON export holds, decoded: the reference the
// other formats are compared with.
func jsonResults(t *testing.T, e *Engine, tenant string, f Filter) []Inquiry {
	t.Helper()
	var buf bytes.Buffer
	n, err := e.ExportJSONLines(context.Background(), tenant, f, &buf)
	if err != nil {
		t.Fatal(err)
	}
	var out []Inquiry
	dec := json.NewDecoder(&buf)
	for {
		var r Inquiry
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if len(out) != n {
		t.Fatalf("json: %d rows, reported %d", len(out), n)
	}
	return out
}

// xlsxCell is how a value reads back from the workbook as text.
func xlsxCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "TRUE"
		}
		return "FALSE"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// trimRow drops trailing empty cells, as excelize's GetRows does.
func trimRow(r []string) []string {
	for len(r) > 0 && r[len(r)-1] == "" {
		r = r[:len(r)-1]
	}
	return r
}

func TestExportXLSXEqualsJSON(t *testing.T) {
	_, e := fixture(t)
	old := SheetRows
	SheetRows = 2 // six rows: three sheets
	t.Cleanup(func() { SheetRows = old })
	want := jsonResults(t, e, "t01", Filter{})
	if len(want) != 6 {
		t.Fatalf("fixture: %d rows", len(want))
	}
	var buf bytes.Buffer
	n, err := e.ExportXLSX(context.Background(), "t01", Filter{}, &buf)
	if err != nil || n != len(want) {
		t.Fatalf("export: %d %v", n, err)
	}
	book, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	if sheets := book.GetSheetList(); !slices.Equal(sheets, []string{"inquiries", "inquiries 2", "inquiries 3"}) {
		t.Fatalf("sheets %v", sheets)
	}
	var got [][]string
	for _, sheet := range book.GetSheetList() {
		rows, err := book.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], Columns) {
			t.Errorf("%s header %v", sheet, rows[0])
		}
		got = append(got, rows[1:]...)
	}
	if len(got) != len(want) {
		t.Fatalf("xlsx %d rows, json %d", len(got), len(want))
	}
	for i := range want {
		var cells []string
		for _, v := range XLSXValues(&want[i]) {
			cells = append(cells, xlsxCell(v))
		}
		if w := trimRow(cells); !slices.Equal(got[i], w) {
			t.Errorf("row %d:\nxlsx %q\njson %q", i, got[i], w)
		}
	}
}

func TestExportCSVAndArrow(t *testing.T) {
	_, e := fixture(t)
	ctx := context.Background()
	want := jsonResults(t, e, "t01", Filter{})
	var buf bytes.Buffer
	if _, err := e.ExportCSV(ctx, "t01", Filter{}, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != len(want)+1 || !slices.Equal(recs[0], Columns) {
		t.Fatalf("csv: %d rows %v", len(recs), err)
	}
	for i := range want {
		if !slices.Equal(recs[i+1], TextValues(&want[i])) {
			t.Errorf("csv row %d: %q", i, recs[i+1])
		}
	}
	buf.Reset()
	n, err := e.ExportArrow(ctx, "t01", Filter{}, &buf)
	if err != nil || n != len(want) {
		t.Fatalf("arrow: %d %v", n, err)
	}
	rd, err := ipc.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	if !rd.Schema().Equal(ArrowSchema) {
		t.Errorf("schema %v", rd.Schema())
	}
	i := 0
	for rd.Next() {
		rec := rd.RecordBatch()
		ids := rec.Column(1).(*array.String)
		started := rec.Column(4).(*array.Timestamp)
		score := rec.Column(len(Columns) - 1).(*array.Int32)
		hasRec := rec.Column(19).(*array.Boolean)
		for j := 0; j < int(rec.NumRows()); j, i = j+1, i+1 {
			w := want[i]
			if ids.Value(j) != w.InquiryID || started.Value(j) != arrow.Timestamp(w.StartedAt.UnixMicro()) ||
				hasRec.Value(j) != w.HasRecording || (w.SurveyScore == nil) != score.IsNull(j) ||
				(w.SurveyScore != nil && int(score.Value(j)) != *w.SurveyScore) {
				t.Errorf("arrow row %d differs from %+v", i, w)
			}
		}
	}
	if rd.Err() != nil || i != len(want) {
		t.Errorf("arrow rows %d %v", i, rd.Err())
	}
}

func TestExportRecordingsZip(t *testing.T) {
	l, e := fixture(t)
	ctx := context.Background()
	q8 := phone("q8", daysAgo(5, 10), "+46701234567")
	l.Inquiries("t01", q8)
	second := []byte("ID3 second recording of q8")
	l.Recording("t01", "q8", "r8a", q8.StartedAt, []byte(mp3Bytes+" q8"))
	l.Recording("t01", "q8", "r8b", q8.StartedAt, second)
	for _, sel := range []Selection{{}, {InquiryIDs: []string{"q8", "q1", "q7", "q2"}}} {
		var buf bytes.Buffer
		before := auditCount(t, e, "t01")
		rep, err := e.ExportRecordingsZip(ctx, "t01", Access{Actor: "alice", RequestID: "zip-1"}, sel, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Inquiries != 2 || rep.Recordings != 3 {
			t.Errorf("report %+v", rep)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			got[f.Name] = string(b)
		}
		want := map[string]string{"q1/r1.mp3": mp3Bytes, "q8/r8a.mp3": mp3Bytes + " q8", "q8/r8b.mp3": string(second)}
		if len(got) != len(want) {
			t.Errorf("entries %v", got)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q", k, got[k])
			}
		}
		// One entry per inquiry with recordings (q7's object is missing, q2
		// has none): two.
		rows, _ := e.Audit(ctx, "t01", AuditFilter{})
		if len(rows)-before != 2 {
			t.Errorf("audit entries: %d", len(rows)-before)
		}
		for _, r := range rows[before:] {
			if r.Action != string(ActionDownloadRecording) || r.RequestID != "zip-1" {
				t.Errorf("entry %+v", r)
			}
		}
	}
	// Audit fails closed: no bytes of the refused inquiry are written.
	if err := os.MkdirAll(filepath.Join(e.Dir(), "audit"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(e.Dir(), "audit", "tenant=t01")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.Dir(), "audit", "tenant=t01"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := e.ExportRecordingsZip(ctx, "t01", admin, Selection{}, &buf); !errors.Is(err, ErrAuditUnavailable) {
		t.Errorf("zip without audit: %v", err)
	}
	if bytes.Contains(buf.Bytes(), []byte("fake mp3 frames")) {
		t.Error("recording bytes written without an audit entry")
	}
}
