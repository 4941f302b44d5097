package query

import (
	"archive/zip"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/xuri/excelize/v2"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// exportPage is how many rows an Arrow export puts in one record batch.
const exportPage = 10_000

// SheetRows is how many data rows an xlsx sheet takes before the export
// continues on the next sheet: Excel's 1,048,576 rows less the header.
var SheetRows = excelize.TotalRows - 1

// EachInquiry calls fn for every inquiry that matches the filter, newest
// first (as Search pages them), streamed from search queries: one query
// for a selective filter (narrowed as Search is), else one per run of days
// (chunks.go), so that memory follows a chunk, not the export. It stops at
// fn's first error. A file that vanishes before the first row retries the
// queries on a fresh file list; once rows have gone to fn, an error ends
// the export.
func (e *Engine) EachInquiry(ctx context.Context, tenant string, f Filter, fn func(*Inquiry) error) error {
	rf, days, ok, err := e.searchScope(tenant, &f)
	if err != nil || !ok {
		return err
	}
	var stop error // fn's error, or a failure after rows went out: never retried
	err = e.withSources(ctx, tenant, days, searchDatasets, func(s sources) error {
		chunks, err := e.exportInputs(ctx, tenant, days, s, &f, rf)
		if err != nil {
			return err
		}
		sent := 0
		emit := func(r *Inquiry) error {
			if err := fn(r); err != nil {
				stop = err
				return err
			}
			sent++
			return nil
		}
		for _, c := range chunks {
			if err = e.eachRow(ctx, tenant, e.searchSQL(c.s, c.media, &c.f, rf, nil, 0), emit); err != nil {
				break
			}
		}
		if err != nil && (stop != nil || sent > 0) {
			stop = cmp.Or(stop, err)
			return nil
		}
		return err
	})
	return cmp.Or(stop, err)
}

// exportInputs plans an export's queries, each with the media objects it
// reads.
func (e *Engine) exportInputs(ctx context.Context, tenant string, days dayRange, s sources, f *Filter,
	rf *rowFilter) ([]chunk, error) {
	n, err := e.narrow(ctx, tenant, days, s, f, rf)
	if err != nil || n != nil {
		if n == nil {
			return nil, err
		}
		return []chunk{{f: *f, s: n.s, media: n.media}}, nil
	}
	media, err := e.mediaObjects(tenant, days)
	if err != nil {
		return nil, err
	}
	chunks, err := e.exportChunks(ctx, s, f)
	return withMedia(chunks, media), err
}

// ExportXLSX writes the general information of every matching inquiry as
// an xlsx workbook to w, streamed: a header row of Columns, then one row
// per inquiry; past SheetRows rows the export continues on sheet
// "inquiries 2", and so on. Times are RFC 3339 text in UTC, so they read
// back exactly. The rows are read on another goroutine, some thousands
// ahead (eachAhead); the worksheets are written as excelize's StreamWriter
// writes them, straight into the zip (export_sheet.go), which is
// compressed on every core (parallelDeflate). It returns the number of
// rows written.
func (e *Engine) ExportXLSX(ctx context.Context, tenant string, f Filter, w io.Writer) (int, error) {
	if err := e.checkTenant(tenant); err != nil {
		return 0, err
	}
	x, err := newXLSXSheets(fastZip(w))
	n := 0
	if err == nil {
		cells := make([]any, len(Columns))
		n, err = eachAhead(ctx, e, tenant, f, ahead{aheadRows, aheadBatches}, func(r *Inquiry) error {
			xlsxCells(r, cells)
			return x.add(cells)
		})
	}
	if err == nil {
		err = x.close()
	}
	if err != nil {
		return n, fmt.Errorf("export xlsx: %w", err)
	}
	return n, nil
}

// fastZip is a zip writer into w that deflates at the fastest level, on
// every core: the default level costs as much time as everything else of
// a large export, for a file about a fifth smaller.
func fastZip(w io.Writer) *zip.Writer {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return newParallelDeflate(out), nil
	})
	return zw
}

// XLSXValues are a row's cells in an xlsx export: text, numbers and
// booleans; times as RFC 3339 text; nil for null.
func XLSXValues(r *Inquiry) []any {
	cells := make([]any, len(Columns))
	xlsxCells(r, cells)
	return cells
}

// xlsxCells writes XLSXValues into cells (len(Columns) of them), column for
// column Inquiry.Values, without boxing the values it converts.
func xlsxCells(r *Inquiry, cells []any) {
	copy(cells, []any{r.Tenant, r.InquiryID, r.SessionID, r.MediaType, FormatTime(r.StartedAt),
		textOrNil(r.EndedAt), r.Queue, r.AgentID, r.AgentName, valueOrNil(r.WaitSeconds),
		valueOrNil(r.TalkSeconds), valueOrNil(r.CallerNumber), valueOrNil(r.ChatterName),
		valueOrNil(r.ChatterEmail), valueOrNil(r.ChatterNumber), valueOrNil(r.FromAddress),
		valueOrNil(r.Subject), valueOrNil(r.ItemURL), r.Anonymised, r.HasRecording, r.HasChatlog,
		valueOrNil(r.SurveyScore)})
}

// valueOrNil is *p, or nil (an empty cell) for a nil p.
func valueOrNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// textOrNil is FormatTime(*t), or nil for a nil t.
func textOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return FormatTime(*t)
}

// FormatTime is how exports write a time: RFC 3339 in UTC, microseconds
// when there are any.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// TextValues are a row's values as text (CSV): "" for null, times as
// FormatTime, booleans as true/false.
func TextValues(r *Inquiry) []string {
	vals := XLSXValues(r)
	out := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
		case string:
			out[i] = x
		case float64:
			out[i] = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			out[i] = fmt.Sprint(x)
		}
	}
	return out
}

// ExportJSONLines writes one JSON object per matching inquiry (the fields
// of Inquiry) and returns how many.
func (e *Engine) ExportJSONLines(ctx context.Context, tenant string, f Filter, w io.Writer) (int, error) {
	enc := json.NewEncoder(w)
	n := 0
	err := e.EachInquiry(ctx, tenant, f, func(r *Inquiry) error {
		n++
		return enc.Encode(r)
	})
	return n, err
}

// ExportCSV writes the matching inquiries as CSV with a header of Columns.
// Cells are the data as stored: a spreadsheet that evaluates a cell
// starting with "=" is the reader's concern (use the xlsx export there).
func (e *Engine) ExportCSV(ctx context.Context, tenant string, f Filter, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return 0, err
	}
	n := 0
	err := e.EachInquiry(ctx, tenant, f, func(r *Inquiry) error {
		n++
		return cw.Write(TextValues(r))
	})
	cw.Flush()
	return n, errors.Join(err, cw.Error())
}

// ArrowSchema is the schema of the Arrow export, column for column Columns.
var ArrowSchema = arrow.NewSchema([]arrow.Field{
	{Name: "tenant", Type: arrow.BinaryTypes.String},
	{Name: "inquiry_id", Type: arrow.BinaryTypes.String},
	{Name: "session_id", Type: arrow.BinaryTypes.String},
	{Name: "media_type", Type: arrow.BinaryTypes.String},
	{Name: "started_at", Type: arrow.FixedWidthTypes.Timestamp_us},
	{Name: "ended_at", Type: arrow.FixedWidthTypes.Timestamp_us, Nullable: true},
	{Name: "queue", Type: arrow.BinaryTypes.String},
	{Name: "agent_id", Type: arrow.BinaryTypes.String},
	{Name: "agent_name", Type: arrow.BinaryTypes.String},
	{Name: "wait_seconds", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "talk_seconds", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "caller_number", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "chatter_name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "chatter_email", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "chatter_number", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "from_address", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "subject", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "item_url", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "anonymised", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "has_recording", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "has_chatlog", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "survey_score", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
}, nil)

// ExportArrow writes the matching inquiries as an Arrow IPC stream
// (ArrowSchema), one record batch per search page, and returns how many.
func (e *Engine) ExportArrow(ctx context.Context, tenant string, f Filter, w io.Writer) (int, error) {
	if err := e.checkTenant(tenant); err != nil {
		return 0, err
	}
	iw := ipc.NewWriter(w, ipc.WithSchema(ArrowSchema))
	b := array.NewRecordBuilder(memory.DefaultAllocator, ArrowSchema)
	defer b.Release()
	n, batch := 0, 0
	flush := func() error {
		if batch == 0 {
			return nil
		}
		rec := b.NewRecordBatch()
		defer rec.Release()
		batch = 0
		return iw.Write(rec)
	}
	err := e.EachInquiry(ctx, tenant, f, func(r *Inquiry) error {
		appendArrow(b, r)
		n++
		batch++
		if batch == exportPage {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if cerr := iw.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("export arrow: %w", err)
	}
	return n, nil
}

func appendArrow(b *array.RecordBuilder, r *Inquiry) {
	for i, v := range r.Values() {
		fb := b.Field(i)
		switch x := v.(type) {
		case string:
			fb.(*array.StringBuilder).Append(x)
		case *string:
			if x == nil {
				fb.AppendNull()
			} else {
				fb.(*array.StringBuilder).Append(*x)
			}
		case time.Time:
			fb.(*array.TimestampBuilder).Append(arrow.Timestamp(x.UnixMicro()))
		case *time.Time:
			if x == nil {
				fb.AppendNull()
			} else {
				fb.(*array.TimestampBuilder).Append(arrow.Timestamp(x.UnixMicro()))
			}
		case *float64:
			if x == nil {
				fb.AppendNull()
			} else {
				fb.(*array.Float64Builder).Append(*x)
			}
		case bool:
			fb.(*array.BooleanBuilder).Append(x)
		case *int:
			if x == nil {
				fb.AppendNull()
			} else {
				fb.(*array.Int32Builder).Append(int32(*x))
			}
		default:
			panic(fmt.Sprintf("query: no Arrow type for column %s (%T)", Columns[i], v))
		}
	}
}

// Selection picks inquiries for a bulk action: the given ids, or (when
// there are none) every inquiry the filter matches.
type Selection struct {
	Filter     Filter
	InquiryIDs []string
}

// ZipReport says what a recordings zip holds.
type ZipReport struct {
	Inquiries  int `json:"inquiries"`
	Recordings int `json:"recordings"`
}

// ExportRecordingsZip writes the available recordings of the selected
// inquiries as one zip to w, streamed, as "<inquiry>/<recording>.mp3"
// (stored: mp3 does not compress). Per inquiry, an audit entry
// (recording.download) is made durable before any of its bytes are
// written; if it cannot be, the export stops there with ErrAuditUnavailable
// and the zip is left unfinished (the caller discards it). Inquiries
// without an available recording are skipped and not audited.
func (e *Engine) ExportRecordingsZip(ctx context.Context, tenant string, acc Access, sel Selection,
	w io.Writer) (*ZipReport, error) {
	if err := e.checkTenant(tenant); err != nil {
		return nil, err
	}
	acc.Action = ActionDownloadRecording
	if err := acc.check(ActionDownloadRecording); err != nil {
		return nil, err
	}
	zw := zip.NewWriter(w)
	rep := &ZipReport{}
	each := func(id string) error { return e.zipInquiry(ctx, zw, tenant, id, acc, rep) }
	var err error
	if len(sel.InquiryIDs) > 0 {
		var ids []string
		if ids, err = cleanIDs(sel.InquiryIDs); err == nil {
			for _, id := range ids {
				if err = each(id); err != nil {
					break
				}
			}
		}
	} else {
		f := sel.Filter
		yes := true
		f.HasRecording = &yes
		err = e.EachInquiry(ctx, tenant, f, func(r *Inquiry) error { return each(r.InquiryID) })
	}
	if err != nil {
		return rep, err
	}
	if err := zw.Close(); err != nil {
		return rep, fmt.Errorf("recordings zip: %w", err)
	}
	return rep, nil
}

func (e *Engine) zipInquiry(ctx context.Context, zw *zip.Writer, tenant, id string, acc Access, rep *ZipReport) error {
	recs, err := e.recordings(ctx, tenant, id)
	if err != nil {
		return err
	}
	var avail []recordingRow
	for _, r := range recs {
		if r.Available {
			avail = append(avail, r)
		}
	}
	if len(avail) == 0 {
		return nil
	}
	if err := e.appendAudit(tenant, schema.Day(avail[0].startedAt), id, acc); err != nil {
		return err
	}
	rep.Inquiries++
	for _, r := range avail {
		if err := e.zipRecording(zw, id, r); err != nil {
			return err
		}
		rep.Recordings++
	}
	return nil
}

func (e *Engine) zipRecording(zw *zip.Writer, id string, r recordingRow) error {
	f, err := e.fs.Open(r.object)
	if sinks.IsNotExist(err) {
		return nil // deleted after it was listed
	}
	if err != nil {
		return fmt.Errorf("open recording of inquiry %s: %w", id, err)
	}
	defer f.Close()
	hw, err := zw.CreateHeader(&zip.FileHeader{Name: id + "/" + r.RecordingID + sinks.MediaSuffix,
		Method: zip.Store, Modified: r.startedAt.UTC()})
	if err != nil {
		return fmt.Errorf("recordings zip: %w", err)
	}
	if _, err := io.Copy(hw, f); err != nil {
		return fmt.Errorf("recordings zip: inquiry %s: %w", id, err)
	}
	return nil
}
