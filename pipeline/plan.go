package pipeline

import (
	"fmt"
	"io"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// plan lists the files a flush publishes: one Parquet file per dataset and
// tenant-day with rows, and one media object per completed recording.
func (p *processor) plan(flushID string) ([]fileJob, error) {
	var jobs []fileJob
	jobs = appendParquetJobs(jobs, schema.DatasetInquiries, flushID, p.b.inquiries, sinks.SortInquiries)
	jobs = appendParquetJobs(jobs, schema.DatasetChatlogs, flushID, p.b.chatlogs, func(r []schema.ChatlogRow) {
		sinks.SortByInquiryID(r, func(x *schema.ChatlogRow) string { return x.InquiryID })
	})
	jobs = appendParquetJobs(jobs, schema.DatasetSurveys, flushID, p.b.surveys, func(r []schema.SurveyRow) {
		sinks.SortByInquiryID(r, func(x *schema.SurveyRow) string { return x.InquiryID })
	})
	jobs = appendParquetJobs(jobs, schema.DatasetRecordings, flushID, p.b.recordingRows(), func(r []schema.RecordingRow) {
		sinks.SortByInquiryID(r, func(x *schema.RecordingRow) string { return x.InquiryID })
	})
	media, err := p.mediaJobs()
	if err != nil {
		return nil, err
	}
	return append(jobs, media...), nil
}

func appendParquetJobs[T any](jobs []fileJob, dataset, flushID string, groups map[partKey][]T, sortRows func([]T)) []fileJob {
	for k, rows := range groups {
		sortRows(rows)
		jobs = append(jobs, fileJob{
			path:    sinks.PartitionDir(dataset, k.tenant, k.day) + "/" + flushID + sinks.ParquetSuffix,
			dataset: dataset,
			write:   func(w io.Writer) error { return sinks.WriteParquet(w, dataset, flushID, rows) },
		})
	}
	return jobs
}

// mediaJobs copies each completed recording from the spool into its media
// object. An object that already exists was archived before (upstream sent
// the recording again): it is left as it is and not listed, so that rolling
// this flush back can never remove it.
func (p *processor) mediaJobs() ([]fileJob, error) {
	var jobs []fileJob
	for _, f := range p.b.finished {
		if f.row == nil {
			continue
		}
		if _, err := p.lake.FS().Stat(f.row.Object); err == nil {
			continue
		} else if !sinks.IsNotExist(err) {
			return nil, fmt.Errorf("check media object: %w", err)
		}
		tp, stream := f.tp, f.stream
		jobs = append(jobs, fileJob{path: f.row.Object, dataset: sinks.MediaDataset, write: func(w io.Writer) error {
			_, _, err := p.lake.CopySpooled(w, tp, stream)
			return err
		}})
	}
	return jobs, nil
}
