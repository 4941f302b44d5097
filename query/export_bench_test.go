package query

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/lakegen"
)

// benchLake is the lake of the export benchmarks: $ARKIV_BENCH_XLSX_LAKE
// (a lakegen lake of one tenant, e.g. /tmp/arkiv-lake-xlsx) when set, else
// a generated one of 50,000 inquiries over 30 days.
func benchLake(b *testing.B) (*Engine, string, Filter) {
	b.Helper()
	dir := os.Getenv("ARKIV_BENCH_XLSX_LAKE")
	if dir == "" {
		dir = b.TempDir()
		if _, err := lakegen.Generate(context.Background(), dir, lakegen.Options{Inquiries: 50_000,
			Tenants: 1, Days: 30, Seed: 1, Now: time.Now().UTC()}); err != nil {
			b.Fatal(err)
		}
	}
	sum, err := lakegen.ReadSummary(dir)
	if err != nil {
		b.Fatal(err)
	}
	e, err := Open(dir, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	first, err := time.Parse(time.DateOnly, sum.FirstDay)
	if err != nil {
		b.Fatal(err)
	}
	return e, sum.Planted[0].Tenant, Filter{From: first}
}

// BenchmarkExportXLSX is the whole xlsx export (DuckDB, rows, workbook)
// into io.Discard; it reports rows/s.
func BenchmarkExportXLSX(b *testing.B) {
	e, tenant, f := benchLake(b)
	rows := 0
	b.ResetTimer()
	for b.Loop() {
		n, err := e.ExportXLSX(context.Background(), tenant, f, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		rows += n
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkEachInquiry is the export's read side alone (DuckDB and row
// decoding), for comparison with BenchmarkExportXLSX.
func BenchmarkEachInquiry(b *testing.B) {
	e, tenant, f := benchLake(b)
	rows := 0
	b.ResetTimer()
	for b.Loop() {
		if err := e.EachInquiry(context.Background(), tenant, f, func(*Inquiry) error {
			rows++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// benchRows are n inquiries like the generated lakes' (calls, chats and
// e-mails, some fields empty).
func benchRows(n int) []Inquiry {
	out := make([]Inquiry, n)
	start := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	for i := range out {
		at := start.Add(time.Duration(i) * 1234567 * time.Microsecond)
		end := at.Add(5 * time.Minute)
		wait, talk, score := 12.5, 301.25, i%11
		r := Inquiry{Tenant: "t0001", InquiryID: fmt.Sprintf("c-20261101-%06d", i), SessionID: fmt.Sprintf("s-%08x", i*7919),
			MediaType: "phone", StartedAt: at, EndedAt: &end, Queue: "support", AgentID: "a017",
			AgentName: "Åsa Agentsson", WaitSeconds: &wait, TalkSeconds: &talk, HasRecording: i%3 == 0}
		switch i % 3 {
		case 0:
			r.CallerNumber = sp("+4670" + strconv.Itoa(1000000+i))
		case 1:
			r.MediaType, r.ChatterName, r.ChatterEmail = "chat", sp("Björn Ängström"), sp("bjorn@example.com")
			r.HasChatlog = true
		default:
			r.MediaType, r.FromAddress, r.Subject = "email", sp("kund@exempel.se"), sp("Faktura <1234> & påminnelse")
			r.ItemURL = sp("https://mail.example/item/" + strconv.Itoa(i))
		}
		if i%4 == 0 {
			r.SurveyScore = &score
		}
		out[i] = r
	}
	return out
}

// BenchmarkXLSXWriter is the workbook side alone: cells, worksheets and
// the zip, for rows already in memory; it reports rows/s.
func BenchmarkXLSXWriter(b *testing.B) {
	rows := benchRows(100_000)
	cells := make([]any, len(Columns))
	for b.Loop() {
		x, err := newXLSXSheets(fastZip(io.Discard))
		if err != nil {
			b.Fatal(err)
		}
		for i := range rows {
			xlsxCells(&rows[i], cells)
			if err := x.add(cells); err != nil {
				b.Fatal(err)
			}
		}
		if err := x.close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkXLSXStreamWriter is BenchmarkXLSXWriter through excelize's
// StreamWriter (streamWriterXLSX), the way the export wrote its sheets
// before export_sheet.go: the cost it saves.
func BenchmarkXLSXStreamWriter(b *testing.B) {
	rows := benchRows(100_000)
	cells := make([][]any, len(rows))
	for i := range rows {
		cells[i] = XLSXValues(&rows[i])
	}
	for b.Loop() {
		if err := streamWriterXLSX(io.Discard, cells); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
}
