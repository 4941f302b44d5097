package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// plan lists the files a flush publishes: one Parquet file per dataset and
// tenant-day with rows, and one media object per completed recording.
func (p *processor) plan(b *batch, flushID string) ([]fileJob, error) {
	media, err := p.mediaJobs(b)
	if err != nil {
		return nil, err
	}
	var jobs []fileJob
	jobs = appendParquetJobs(jobs, schema.DatasetInquiries, flushID, b.inquiries, sinks.SortInquiries)
	jobs = appendParquetJobs(jobs, schema.DatasetChatlogs, flushID, b.chatlogs, func(r []schema.ChatlogRow) {
		sinks.SortByInquiryID(r, func(x *schema.ChatlogRow) string { return x.InquiryID })
	})
	jobs = appendParquetJobs(jobs, schema.DatasetSurveys, flushID, b.surveys, func(r []schema.SurveyRow) {
		sinks.SortByInquiryID(r, func(x *schema.SurveyRow) string { return x.InquiryID })
	})
	jobs = appendParquetJobs(jobs, schema.DatasetRecordings, flushID, b.recordingRows(), func(r []schema.RecordingRow) {
		sinks.SortByInquiryID(r, func(x *schema.RecordingRow) string { return x.InquiryID })
	})
	return append(jobs, media...), nil
}

func appendParquetJobs[T any](jobs []fileJob, dataset, flushID string, groups map[partKey][]T, sortRows func([]T)) []fileJob {
	for k, rows := range groups {
		jobs = append(jobs, fileJob{
			path:    sinks.PartitionDir(dataset, k.tenant, k.day) + "/" + flushID + sinks.ParquetSuffix,
			dataset: dataset,
			write: func(w io.Writer, pw *sinks.ParquetWriters) error {
				sortRows(rows) // here, by the publishing worker: the rows are this file's alone
				return sinks.WriteParquetWith(pw, w, dataset, flushID, rows)
			},
		})
	}
	return jobs
}

// mediaJobs copies each completed recording from the spool into its media
// object. An object that already exists was archived before: if upstream
// sent the same bytes again it is left as it is and not listed, so that
// rolling this flush back can never remove it; if the bytes differ, the new
// recording is dead-lettered: archived evidence is never overwritten.
func (p *processor) mediaJobs(b *batch) ([]fileJob, error) {
	var jobs []fileJob
	planned := map[string]string{} // object -> sha256 planned in this flush
	for _, f := range b.finished {
		if f.row == nil {
			continue
		}
		existing, err := p.existingMedia(f.row.Object, planned)
		if err != nil {
			return nil, err
		}
		if existing != "" {
			if existing != f.row.SHA256 {
				conflict(b, f)
			}
			continue
		}
		planned[f.row.Object] = f.row.SHA256
		tp, stream := f.tp, f.stream
		jobs = append(jobs, fileJob{path: f.row.Object, dataset: sinks.MediaDataset, write: func(w io.Writer, _ *sinks.ParquetWriters) error {
			_, _, err := p.lake.CopySpooled(w, tp, stream)
			return err
		}})
	}
	return jobs, nil
}

// existingMedia returns the sha256 of an object already in the lake or
// planned by this flush, or "" when there is none.
func (p *processor) existingMedia(object string, planned map[string]string) (string, error) {
	if sum, ok := planned[object]; ok {
		return sum, nil
	}
	f, err := p.lake.FS().Open(object)
	if sinks.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("check media object: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read media object: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// conflict turns a recording whose id is archived with other bytes into a
// dead letter.
func conflict(b *batch, f *finished) {
	d := deadStream(f.tp, &f.stream, schema.ReasonInvalidValue,
		"recording-id is already archived with different content")
	f.row, f.dead = nil, d.dead
	b.rows--
	b.dead = append(b.dead, *d.dead)
}
