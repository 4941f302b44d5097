package sinks_test

import (
	"bytes"
	"fmt"
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

// surveys are n survey rows with respondents' numbers, addresses and
// comments, some null.
func surveys(n int, seed uint64) []schema.SurveyRow {
	r := rand.New(rand.NewPCG(seed, 5))
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	rows := make([]schema.SurveyRow, n)
	for i := range rows {
		row := schema.SurveyRow{SurveyID: fmt.Sprintf("s-%06d", i), SurveyType: "csat", SessionID: "x",
			InquiryID: fmt.Sprintf("c-%06d", r.IntN(n)), InquiryStartedAt: at, Score: int32(r.IntN(5)),
			Meta: schema.Meta{IngestedAt: at, KafkaOffset: int64(i)}}
		if i%2 == 0 {
			row.RespondentNumber = ptr(fmt.Sprintf("+4670%07d", r.IntN(30)))
		}
		if i%3 == 0 {
			row.RespondentEmail = ptr(fmt.Sprintf("P%d@example.se", r.IntN(30)))
			row.Comment = ptr("bra")
		}
		rows[i] = row
	}
	return rows
}

// writeLakeFile writes rows (sorted as the lake sorts them) into a file
// of a temporary folder and returns its path.
func writeLakeFile[T any](t testing.TB, dataset string, rows []T) string {
	t.Helper()
	sortLike(dataset, rows)
	var buf bytes.Buffer
	if err := sinks.WriteParquet(&buf, dataset, "old-flush", rows); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "f.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func sortLike[T any](dataset string, rows []T) {
	switch rows := any(rows).(type) {
	case []schema.InquiryRow:
		sinks.SortInquiries(rows)
	case []schema.SurveyRow:
		sinks.SortByInquiryID(rows, func(r *schema.SurveyRow) string { return r.InquiryID })
	case []schema.ChatlogRow:
		sinks.SortByInquiryID(rows, func(r *schema.ChatlogRow) string { return r.InquiryID })
	}
}

// structEdit is the reference: the file read into structs, the rows pick
// says edited by fn (dropped when it returns false), sorted, written anew.
func structEdit[T any](t *testing.T, path, dataset string, pick func(*T) bool, fn func(*T) bool) (data []byte, matched int) {
	t.Helper()
	rows, err := parquet.ReadFile[T](path)
	if err != nil {
		t.Fatal(err)
	}
	kept := rows[:0]
	for _, r := range rows {
		if pick(&r) {
			matched++
			if !fn(&r) {
				continue
			}
		}
		kept = append(kept, r)
	}
	if matched == 0 || len(kept) == 0 {
		return nil, matched
	}
	sortLike(dataset, kept)
	var buf bytes.Buffer
	if err := sinks.WriteParquet(&buf, dataset, "new-flush", kept); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), matched
}

func anonymise[T any](r *T) bool { sinks.AnonymiseRow(r, false); return true }

func str(v parquet.Value) string {
	if v.IsNull() {
		return "\x00null"
	}
	return string(v.ByteArray())
}

// TestEditParquetIsTheStructRewrite: an edit writes, byte for byte, the
// file that reading every row, editing the picked ones, sorting them and
// writing them with WriteParquet makes: for each dataset, with rows that
// move in the sort order (an anonymised caller number sorts first), with
// dropped rows, and with an e-mail filter that changes.
func TestEditParquetIsTheStructRewrite(t *testing.T) {
	numbers := map[string]bool{"+46700000007": true, "+46700000011": true}
	ids := map[string]bool{"c-2-000004": true, "c-2-000777": true, "c-000003": true, "c-000010": true}
	inqPick := func(r *schema.InquiryRow) bool {
		return ids[r.InquiryID] || r.CallerNumber != nil && numbers[*r.CallerNumber]
	}
	for _, nonASCII := range []bool{false, true} {
		path := writeLakeFile(t, schema.DatasetInquiries, mixedInquiries(2500, 2, nonASCII))
		want, matched := structEdit(t, path, schema.DatasetInquiries, inqPick, anonymise[schema.InquiryRow])
		got, err := sinks.EditParquet(path, schema.DatasetInquiries, "new-flush", sinks.RowEdit[schema.InquiryRow]{
			Match: inqPick, Edit: anonymise[schema.InquiryRow]})
		if err != nil {
			t.Fatal(err)
		}
		if matched < 3 || got.Matched != matched || got.Rows != 2500 || !bytes.Equal(got.Data, want) {
			t.Fatalf("inquiries (non-ASCII %v): %d rows matched of %d, %d rows, same bytes %v",
				nonASCII, got.Matched, matched, got.Rows, bytes.Equal(got.Data, want))
		}
	}

	survPick := func(r *schema.SurveyRow) bool {
		return ids[r.InquiryID] || r.RespondentNumber != nil && numbers[*r.RespondentNumber]
	}
	path := writeLakeFile(t, schema.DatasetSurveys, surveys(900, 1))
	want, matched := structEdit(t, path, schema.DatasetSurveys, survPick, anonymise[schema.SurveyRow])
	got, err := sinks.EditParquet(path, schema.DatasetSurveys, "new-flush", sinks.RowEdit[schema.SurveyRow]{
		Match: survPick, Edit: anonymise[schema.SurveyRow]})
	if err != nil {
		t.Fatal(err)
	}
	if matched == 0 || got.Matched != matched || !bytes.Equal(got.Data, want) {
		t.Fatalf("surveys: %d rows matched of %d, same bytes %v", got.Matched, matched, bytes.Equal(got.Data, want))
	}

	chatPick := func(r *schema.ChatlogRow) bool { return ids[r.InquiryID] }
	path = writeLakeFile(t, schema.DatasetChatlogs, chatlogs(60, 4))
	drop := func(*schema.ChatlogRow) bool { return false }
	for name, fn := range map[string]func(*schema.ChatlogRow) bool{"anonymised": anonymise[schema.ChatlogRow], "dropped": drop} {
		want, matched := structEdit(t, path, schema.DatasetChatlogs, chatPick, fn)
		got, err := sinks.EditParquet(path, schema.DatasetChatlogs, "new-flush", sinks.RowEdit[schema.ChatlogRow]{
			Match: chatPick, Edit: fn})
		if err != nil {
			t.Fatal(err)
		}
		if matched != 2 || got.Matched != 2 || !bytes.Equal(got.Data, want) {
			t.Fatalf("chat logs %s: %d rows matched of %d, same bytes %v", name, got.Matched, matched, bytes.Equal(got.Data, want))
		}
		if name == "dropped" && (got.Dropped != 2 || got.Rows != 58) {
			t.Fatalf("chat logs dropped: %d dropped, %d left", got.Dropped, got.Rows)
		}
	}
}

// TestEditParquetNothingToDo: no matching row, or no row left, means no
// new file.
func TestEditParquetNothingToDo(t *testing.T) {
	path := writeLakeFile(t, schema.DatasetChatlogs, chatlogs(5, 1))
	none, err := sinks.EditParquet(path, schema.DatasetChatlogs, "f", sinks.RowEdit[schema.ChatlogRow]{
		Match: func(*schema.ChatlogRow) bool { return false },
		Edit:  func(*schema.ChatlogRow) bool { t.Fatal("edited a row that did not match"); return true }})
	if err != nil || none.Data != nil || none.Matched != 0 || none.Rows != 5 {
		t.Fatalf("no match: %+v, %v", none, err)
	}
	all, err := sinks.EditParquet(path, schema.DatasetChatlogs, "f", sinks.RowEdit[schema.ChatlogRow]{
		Match: func(*schema.ChatlogRow) bool { return true },
		Edit:  func(*schema.ChatlogRow) bool { return false }})
	if err != nil || all.Data != nil || all.Matched != 5 || all.Dropped != 5 || all.Rows != 0 {
		t.Fatalf("all dropped: %+v, %v", all, err)
	}
}

// olderInquiry is an inquiry row as an older version might have written
// it: without some optional columns.
type olderInquiry struct {
	InquiryID    string    `parquet:"inquiry_id"`
	SessionID    string    `parquet:"session_id"`
	MediaType    string    `parquet:"media_type,dict"`
	StartedAt    time.Time `parquet:"started_at,timestamp(microsecond)"`
	CallerNumber *string   `parquet:"caller_number,optional"`
}

// TestEditParquetOtherSchema: a file whose schema is not the dataset's
// is read through it, as parquet.ReadFile reads it; a file that is not
// Parquet, or whose footer names another dataset, is an error.
func TestEditParquetOtherSchema(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var old []olderInquiry
	for i := range 50 {
		old = append(old, olderInquiry{InquiryID: fmt.Sprintf("c-%03d", i), SessionID: "s", MediaType: "phone",
			StartedAt: at.Add(time.Duration(i) * time.Minute), CallerNumber: ptr(fmt.Sprintf("+467000000%02d", i%7))})
	}
	path := filepath.Join(t.TempDir(), "old.parquet")
	if err := parquet.WriteFile(path, old); err != nil {
		t.Fatal(err)
	}
	pick := func(r *schema.InquiryRow) bool { return *r.CallerNumber == "+46700000003" }
	want, matched := structEdit(t, path, schema.DatasetInquiries, pick, anonymise[schema.InquiryRow])
	got, err := sinks.EditParquet(path, schema.DatasetInquiries, "new-flush", sinks.RowEdit[schema.InquiryRow]{
		Match: pick, Edit: anonymise[schema.InquiryRow]})
	if err != nil {
		t.Fatal(err)
	}
	if matched != 7 || got.Matched != 7 || !bytes.Equal(got.Data, want) {
		t.Fatalf("older file: %d rows matched of %d, same bytes %v", got.Matched, matched, bytes.Equal(got.Data, want))
	}

	edit := sinks.RowEdit[schema.InquiryRow]{Match: func(*schema.InquiryRow) bool { return true },
		Edit: anonymise[schema.InquiryRow]}
	junk := filepath.Join(t.TempDir(), "junk.parquet")
	if err := os.WriteFile(junk, []byte("PAR1 not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := sinks.EditParquet(junk, schema.DatasetInquiries, "f", edit); err == nil {
		t.Fatal("a file that is not Parquet was edited")
	}
	chat := writeLakeFile(t, schema.DatasetChatlogs, chatlogs(3, 1))
	if _, err := sinks.EditParquet(chat, schema.DatasetInquiries, "f", edit); err == nil {
		t.Fatal("a chat log file was edited as inquiries")
	}
}

// TestEditParquetKeepsOtherRows: the rows an edit does not pick are read
// back value for value as they were, nested lists included; the picked
// row differs only in its identifiers and flag.
func TestEditParquetKeepsOtherRows(t *testing.T) {
	path := writeLakeFile(t, schema.DatasetInquiries, mixedInquiries(700, 9, false))
	got, err := sinks.EditParquet(path, schema.DatasetInquiries, "f", sinks.RowEdit[schema.InquiryRow]{
		Edit:  anonymise[schema.InquiryRow],
		Match: func(r *schema.InquiryRow) bool { return r.InquiryID == "c-9-000005" || r.InquiryID == "c-9-000001" }})
	if err != nil {
		t.Fatal(err)
	}
	if got.Matched != 2 {
		t.Fatalf("%d rows matched, want 2", got.Matched)
	}
	checkOnlyPickedChanged(t, path, got.Data, "inquiry_id", map[string]bool{"c-9-000005": true, "c-9-000001": true},
		"inquiry_id", "caller_number", "chatter_name", "chatter_email", "chatter_number", "from_address", "subject", "anonymised")
}

// rawRows reads a file's rows as values, by the value of column key.
func rawRows(t *testing.T, data []byte, key string) map[string]map[string][]parquet.Value {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]parquet.Value{}
	r := parquet.NewReader(f)
	for {
		buf := make([]parquet.Row, 1)
		n, err := r.ReadRows(buf)
		if n == 1 {
			cols := map[string][]parquet.Value{}
			row := buf[0].Clone()
			row.Range(func(c int, values []parquet.Value) bool {
				cols[strings.Join(f.Schema().Columns()[c], ".")] = values
				return true
			})
			out[str(cols[key][0])] = cols
		}
		if err != nil {
			return out
		}
	}
}

// checkOnlyPickedChanged: the rows of the edited file are the old file's
// rows, value for value, but that the rows whose keyed column had a
// picked value differ in the changed columns.
func checkOnlyPickedChanged(t *testing.T, oldPath string, data []byte, key string, picked map[string]bool, changed ...string) {
	t.Helper()
	old, err := os.ReadFile(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	before, after := rawRows(t, old, key), rawRows(t, data, key)
	if len(before) != len(after) {
		t.Fatalf("%d rows became %d", len(before), len(after))
	}
	for k, cols := range before {
		isPicked := false
		for name, values := range cols {
			if !slices.Contains(changed, name) {
				if !parquet.Row(values).Equal(after[k][name]) {
					t.Fatalf("row %s: column %s changed from %v to %v", k, name, values, after[k][name])
				}
			} else if picked[str(values[0])] {
				isPicked = true
			}
		}
		if isPicked && parquet.Row(cols["anonymised"]).Equal(after[k]["anonymised"]) {
			t.Fatalf("row %s was picked but not anonymised", k)
		}
	}
}
