package laketest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// Builder builds lakes for tests the way ingest lays them out: Parquet
// files written with sinks.WriteParquet and published through the lake,
// one file per dataset, tenant and day per write.
type Builder struct {
	T    testing.TB
	Dir  string
	Lake *sinks.Lake
	seq  int
}

// NewBuilder makes an empty lake in a temporary folder of the test.
func NewBuilder(t testing.TB) *Builder {
	t.Helper()
	dir := t.TempDir()
	l, err := sinks.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &Builder{T: t, Dir: dir, Lake: l}
}

// WriteRows writes rows of a dataset of the tenant as one flush: a file
// per day (day gives a row's partition day).
func WriteRows[T any](b *Builder, dataset, tenant string, rows []T, day func(*T) string) {
	b.T.Helper()
	byDay := map[string][]T{}
	for _, r := range rows {
		byDay[day(&r)] = append(byDay[day(&r)], r)
	}
	b.seq++
	id := fmt.Sprintf("test-%04d", b.seq)
	for d, rs := range byDay {
		name := sinks.PartitionDir(dataset, tenant, d) + "/" + id + sinks.ParquetSuffix
		if err := b.Lake.Publish(name, func(w io.Writer) error {
			return sinks.WriteParquet(w, dataset, id, rs)
		}); err != nil {
			b.T.Fatal(err)
		}
	}
}

// Inquiries writes inquiry rows (sorted as ingest sorts them).
func (b *Builder) Inquiries(tenant string, rows ...schema.InquiryRow) {
	sinks.SortInquiries(rows)
	WriteRows(b, schema.DatasetInquiries, tenant, rows, func(r *schema.InquiryRow) string {
		return schema.Day(r.StartedAt)
	})
}

// Chatlogs writes chat log rows.
func (b *Builder) Chatlogs(tenant string, rows ...schema.ChatlogRow) {
	WriteRows(b, schema.DatasetChatlogs, tenant, rows, func(r *schema.ChatlogRow) string {
		return schema.Day(r.InquiryStartedAt)
	})
}

// Surveys writes survey rows.
func (b *Builder) Surveys(tenant string, rows ...schema.SurveyRow) {
	WriteRows(b, schema.DatasetSurveys, tenant, rows, func(r *schema.SurveyRow) string {
		return schema.Day(r.InquiryStartedAt)
	})
}

// Recording writes a recording's metadata row (an mp3) and, unless data is
// nil, its media object.
func (b *Builder) Recording(tenant, inquiryID, recordingID string, started time.Time, data []byte) {
	b.T.Helper()
	sum := sha256.Sum256(data)
	obj := sinks.MediaObject(tenant, schema.Day(started), inquiryID, recordingID)
	row := schema.RecordingRow{InquiryID: inquiryID, RecordingID: recordingID, InquiryStartedAt: started,
		ContentType: "audio/mpeg", SizeBytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Chunks: 1,
		Object: obj, Meta: Meta(started)}
	WriteRows(b, schema.DatasetRecordings, tenant, []schema.RecordingRow{row},
		func(r *schema.RecordingRow) string { return schema.Day(r.InquiryStartedAt) })
	if data != nil {
		if err := b.Lake.Publish(obj, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			b.T.Fatal(err)
		}
	}
}

// Meta is the metadata of a row of an inquiry started at: ingested an hour
// later.
func Meta(at time.Time) schema.Meta {
	return schema.Meta{IngestedAt: at.Add(time.Hour).UTC().Truncate(time.Microsecond)}
}
