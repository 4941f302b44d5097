package sinks_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/bloom"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// secretA marks every string of tenant A's rows: none may reach a file of
// tenant B written afterwards by the same (reset) writer.
const secretA = "TENANTA-SECRET"

func ptr[T any](v T) *T { return &v }

// tenantAInquiries fill every column, lists and dictionaries included, with
// values B never has.
func tenantAInquiries(n int) []schema.InquiryRow {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	rows := make([]schema.InquiryRow, n)
	for i := range rows {
		s := func(what string) *string { return ptr(fmt.Sprintf("%s-%s-%d", secretA, what, i)) }
		rows[i] = schema.InquiryRow{InquiryID: *s("id"), SessionID: *s("session"), MediaType: *s("media"),
			StartedAt: at, EndedAt: ptr(at.Add(time.Minute)), Queue: *s("queue"), AgentID: *s("agent"),
			AgentName: *s("agent-name"), WaitSeconds: ptr(1234.5), TalkSeconds: ptr(99.5),
			CallerNumber: s("number"), ChatterName: s("name"), ChatterEmail: ptr(fmt.Sprintf("a%d-%s@a.example", i, secretA)),
			ChatterNumber: s("chatter-number"), FromAddress: ptr(fmt.Sprintf("from%d-%s@a.example", i, secretA)),
			Subject: s("subject"), ItemURL: s("url"), RecordingForced: ptr(true), DenyRecording: ptr(false),
			IVRInputs: []schema.IVRInputRow{{Module: *s("module"), Digits: s("digits")}, {Module: *s("menu"), Masked: true}},
			Meta:      schema.Meta{IngestedAt: at, KafkaPartition: 7, KafkaOffset: int64(900_000 + i)}}
	}
	return rows
}

// tenantBInquiries are fewer rows, mostly nulls and no lists: a writer that
// kept anything of A's file would have it stand out.
func tenantBInquiries() []schema.InquiryRow {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	return []schema.InquiryRow{
		{InquiryID: "b-1", SessionID: "sb", MediaType: "phone", StartedAt: at, Queue: "qb", AgentID: "ab", AgentName: "Bo",
			CallerNumber: ptr("+46700000001"), Meta: schema.Meta{IngestedAt: at, KafkaOffset: 1}},
		{InquiryID: "b-2", SessionID: "sb", MediaType: "chat", StartedAt: at, Queue: "qb", AgentID: "ab", AgentName: "Bo",
			ChatterEmail: ptr("b@b.example"), Meta: schema.Meta{IngestedAt: at, KafkaOffset: 2}},
	}
}

// TestParquetWriterResetIsolatesTenants: a writer of ParquetWriters that
// wrote tenant A's file (whole, or failing half-way) writes tenant B's file
// next with B's rows only: it reads back as B's rows, it is byte for byte
// the file a new writer writes, and nothing decoded from it (values,
// dictionaries, statistics, column indexes, footer, bloom filters) holds
// anything of A.
func TestParquetWriterResetIsolatesTenants(t *testing.T) {
	for _, aFails := range []bool{false, true} {
		t.Run(fmt.Sprintf("a_fails=%v", aFails), func(t *testing.T) {
			ws := sinks.NewParquetWriters()
			writeA(t, ws, schema.DatasetInquiries, tenantAInquiries(3000), aFails)
			b := tenantBInquiries()
			got := checkIsolated(t, ws, schema.DatasetInquiries, b)
			if len(got) != len(b) || got[0].InquiryID != "b-1" || got[1].InquiryID != "b-2" || len(got[1].IVRInputs) != 0 {
				t.Errorf("B's file read back as %+v", got)
			}
			var keys [][]byte
			for _, r := range tenantAInquiries(3000) {
				k1, _ := sinks.EmailBloomKey(*r.ChatterEmail)
				k2, _ := sinks.EmailBloomKey(*r.FromAddress)
				keys = append(keys, k1, k2)
			}
			checkEmailBloomLacks(t, ws, b, keys)
		})
	}
}

// TestParquetWriterResetIsolatesTenantsAllDatasets: the same for the other
// datasets ingest writes.
func TestParquetWriterResetIsolatesTenantsAllDatasets(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	ws := sinks.NewParquetWriters()
	var aChats []schema.ChatlogRow
	var aSurveys []schema.SurveyRow
	var aRecs []schema.RecordingRow
	for i := range 500 {
		id := fmt.Sprintf("%s-%d", secretA, i)
		aChats = append(aChats, schema.ChatlogRow{InquiryID: id, InquiryStartedAt: at, Messages: []schema.ChatMessageRow{
			{At: at, From: secretA + "-from", Name: ptr(secretA + "-name"), Text: strings.Repeat(secretA+" text ", 50)}}})
		aSurveys = append(aSurveys, schema.SurveyRow{SurveyID: id, SurveyType: secretA, SessionID: id, InquiryID: id,
			InquiryStartedAt: at, Score: 9, Comment: ptr(secretA + " comment"), RespondentNumber: ptr(id + "-n"),
			RespondentEmail: ptr(id + "@a.example")})
		aRecs = append(aRecs, schema.RecordingRow{InquiryID: id, RecordingID: id, InquiryStartedAt: at,
			ContentType: secretA, SizeBytes: 1 << 20, SHA256: secretA + "-sha", Chunks: 3, Object: secretA + "/obj"})
	}
	for _, aFails := range []bool{false, true} {
		writeA(t, ws, schema.DatasetChatlogs, aChats, aFails)
		checkIsolated(t, ws, schema.DatasetChatlogs, []schema.ChatlogRow{{InquiryID: "b-1", InquiryStartedAt: at}})
		writeA(t, ws, schema.DatasetSurveys, aSurveys, aFails)
		checkIsolated(t, ws, schema.DatasetSurveys, []schema.SurveyRow{{SurveyID: "s", SurveyType: "sms", InquiryID: "b-1", InquiryStartedAt: at}})
		writeA(t, ws, schema.DatasetRecordings, aRecs, aFails)
		checkIsolated(t, ws, schema.DatasetRecordings, []schema.RecordingRow{{InquiryID: "b-1", RecordingID: "r", InquiryStartedAt: at,
			ContentType: schema.ContentTypeMP3, Object: "media/x.mp3"}})
	}
}

// writeA writes A's file with a writer of ws; with fail, its output breaks
// half-way and the write must fail.
func writeA[T any](t *testing.T, ws *sinks.ParquetWriters, dataset string, rows []T, fail bool) {
	t.Helper()
	var full bytes.Buffer
	if err := sinks.WriteParquetWith(ws, &full, dataset, "flush-a", rows); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(decodedStrings(t, full.Bytes()), "\n"), secretA) {
		t.Fatalf("%s: decodedStrings finds nothing of A in A's own file", dataset)
	}
	if !fail {
		return
	}
	w := &failingWriter{left: full.Len() / 2}
	if err := sinks.WriteParquetWith(ws, w, dataset, "flush-a", rows); err == nil {
		t.Fatal("a write to a broken output succeeded")
	}
}

var errBroken = errors.New("output broken")

// failingWriter takes left bytes, then fails.
type failingWriter struct{ left int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errBroken
	}
	w.left -= len(p)
	return len(p), nil
}

// checkIsolated writes B's rows with a writer of ws and checks the file
// against a new writer's and for A's values; it returns the rows read back.
func checkIsolated[T any](t *testing.T, ws *sinks.ParquetWriters, dataset string, rows []T) []T {
	t.Helper()
	var reused, fresh bytes.Buffer
	if err := sinks.WriteParquetWith(ws, &reused, dataset, "flush-b", rows); err != nil {
		t.Fatal(err)
	}
	if err := sinks.WriteParquet(&fresh, dataset, "flush-b", rows); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(reused.Bytes(), fresh.Bytes()) {
		t.Errorf("%s: B's file from the reset writer differs from a new writer's", dataset)
	}
	for _, s := range decodedStrings(t, reused.Bytes()) {
		if strings.Contains(s, secretA) {
			t.Fatalf("%s: B's file holds %q of tenant A", dataset, s)
		}
	}
	checkBloomFiltersLack(t, reused.Bytes())
	got, err := parquet.Read[T](bytes.NewReader(reused.Bytes()), int64(reused.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%s: B's file has %d rows, want %d", dataset, len(got), len(rows))
	}
	return got
}

// decodedStrings is everything a reader can decode from a file: footer
// metadata, statistics, column indexes, every page's values and dictionary.
func decodedStrings(t *testing.T, data []byte) []string {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	md := f.Metadata()
	for _, kv := range md.KeyValueMetadata {
		out = append(out, kv.Key, kv.Value)
	}
	for _, rg := range md.RowGroups {
		for _, c := range rg.Columns {
			st := c.MetaData.Statistics
			out = append(out, string(st.Min), string(st.Max), string(st.MinValue), string(st.MaxValue))
		}
	}
	for _, rg := range f.RowGroups() {
		for _, cc := range rg.ColumnChunks() {
			out = append(out, chunkStrings(t, cc)...)
		}
	}
	return out
}

func chunkStrings(t *testing.T, cc parquet.ColumnChunk) []string {
	t.Helper()
	var out []string
	if ci, err := cc.ColumnIndex(); err == nil && ci != nil {
		for i := range ci.NumPages() {
			out = append(out, ci.MinValue(i).String(), ci.MaxValue(i).String())
		}
	}
	pages := cc.Pages()
	defer pages.Close()
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if d := p.Dictionary(); d != nil {
			for i := range d.Len() {
				out = append(out, d.Index(int32(i)).String())
			}
		}
		vals := make([]parquet.Value, p.NumValues())
		n, err := p.Values().ReadValues(vals)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		for _, v := range vals[:n] {
			out = append(out, v.String())
		}
		parquet.Release(p)
	}
}

// checkBloomFiltersLack: no column bloom filter of the file says it may
// hold a value of A (A's values are distinct enough that a false positive
// would be a surprise, and the check is deterministic).
func checkBloomFiltersLack(t *testing.T, data []byte) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	probes := []string{secretA + "-id-0", secretA + "-number-0", secretA + "-0", "a0-" + secretA + "@a.example"}
	for _, rg := range f.RowGroups() {
		for _, cc := range rg.ColumnChunks() {
			bf := cc.BloomFilter()
			if bf == nil {
				continue
			}
			for _, p := range probes {
				if ok, err := bf.Check(parquet.ValueOf(p)); err != nil || ok {
					t.Errorf("bloom filter of column %d may hold A's %q (err %v)", cc.Column(), p, err)
				}
			}
		}
	}
}

// checkEmailBloomLacks: the footer's lower-case e-mail filter of B's file
// holds B's addresses and none of A's.
func checkEmailBloomLacks(t *testing.T, ws *sinks.ParquetWriters, rows []schema.InquiryRow, aKeys [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := sinks.WriteParquetWith(ws, &buf, schema.DatasetInquiries, "flush-b", rows); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := f.Lookup(sinks.MetaEmailBloom)
	filter, ok := sinks.DecodeEmailBloom(v)
	if !ok {
		t.Fatalf("B's file has no e-mail filter: %q", v)
	}
	if k, _ := sinks.EmailBloomKey("b@b.example"); !filter.Check(bloom.XXH64{}.Sum64(k)) {
		t.Error("B's e-mail filter lacks B's address")
	}
	hits := 0
	for _, k := range aKeys {
		if filter.Check(bloom.XXH64{}.Sum64(k)) {
			hits++
		}
	}
	// A small filter has false positives; A's own filter would hold all.
	if hits > len(aKeys)/10 {
		t.Errorf("B's e-mail filter holds %d of A's %d addresses", hits, len(aKeys))
	}
}

// TestParquetWritersManyRowGroups: a reused writer that wrote a file of
// several row groups (a tenant-day of more than RowGroupRows rows: flushes
// hold up to ingest.flush_rows) writes that file and the next small one
// as a new writer does.
func TestParquetWritersManyRowGroups(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	big := make([]schema.SurveyRow, sinks.RowGroupRows+10)
	for i := range big {
		big[i] = schema.SurveyRow{SurveyID: fmt.Sprint(i), SurveyType: "sms", InquiryID: fmt.Sprintf("c-%07d", i),
			InquiryStartedAt: at, Score: int32(i % 11), RespondentEmail: ptr(fmt.Sprintf("p%d@x.example", i%1000))}
	}
	var buf bytes.Buffer
	if err := sinks.WriteParquet(&buf, schema.DatasetSurveys, "flush-0", big); err != nil {
		t.Fatal(err)
	}
	if f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil || len(f.RowGroups()) < 2 {
		t.Fatalf("the big file is not several row groups (error %v)", err)
	}
	ws := sinks.NewParquetWriters()
	assertSameFile(t, ws, schema.DatasetSurveys, "flush-1", big)
	assertSameFile(t, ws, schema.DatasetSurveys, "flush-2", big[:3])
	assertSameFile(t, ws, schema.DatasetSurveys, "flush-3", big)
}
