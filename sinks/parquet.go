package sinks

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/arkiv-project/arkiv/schema"
)

// RowGroupRows is the largest row group written: DuckDB parallelises over row
// groups and prunes them by statistics; ~100k rows is its own default.
const RowGroupRows = 100_000

// Meta keys written into every Parquet file's footer.
const (
	MetaFormatVersion = "arkiv.format_version"
	MetaFlushID       = "arkiv.flush_id"
	MetaDataset       = "arkiv.dataset"
	FormatVersion     = "1"
)

// layout is how one dataset's rows are sorted and indexed in its files.
type layout struct {
	sortBy []string // column paths, ascending
	bloom  []string // columns with a split-block bloom filter
}

// layouts: inquiries sorted by caller number for number lookups (then start),
// with bloom filters on the numbers (a tenant-day file is one row group, so
// min/max cannot rule a number out) and the other secondary keys; the other
// datasets by inquiry id, which is how they are joined and fetched, with a
// bloom filter on it (a narrowed search skips the files without its
// inquiries; surveys also on the respondent's identifiers).
func layoutOf(dataset string) layout {
	switch dataset {
	case schema.DatasetInquiries:
		return layout{
			sortBy: []string{"caller_number", "started_at"},
			bloom:  []string{"caller_number", "chatter_email", "chatter_number", "from_address", "inquiry_id", "session_id"},
		}
	case schema.DatasetSurveys:
		return layout{sortBy: []string{"inquiry_id"}, bloom: []string{"inquiry_id", "respondent_number", "respondent_email"}}
	default:
		return layout{sortBy: []string{"inquiry_id"}, bloom: []string{"inquiry_id"}}
	}
}

// WriteParquet writes rows as one Parquet file of the dataset: rows sorted
// for lookup (the caller sorts with SortRows), row groups of RowGroupRows,
// snappy pages (cheap to write and DuckDB's own default), bloom filters on
// secondary keys, and the flush id (and, for inquiries and surveys, the
// lower-case e-mail filter of emailbloom.go) in the footer.
// extra writer options (e.g. more footer metadata) are applied last.
func WriteParquet[T any](w io.Writer, dataset, flushID string, rows []T, extra ...parquet.WriterOption) error {
	lay := layoutOf(dataset)
	opts := []parquet.WriterOption{
		parquet.MaxRowsPerRowGroup(RowGroupRows),
		parquet.Compression(&snappy.Codec{}),
		parquet.KeyValueMetadata(MetaFormatVersion, FormatVersion),
		parquet.KeyValueMetadata(MetaDataset, dataset),
		parquet.KeyValueMetadata(MetaFlushID, flushID),
		parquet.CreatedBy("arkiv", FormatVersion, ""),
	}
	if len(lay.bloom) > 0 {
		filters := make([]parquet.BloomFilterColumn, len(lay.bloom))
		for i, c := range lay.bloom {
			filters[i] = parquet.SplitBlockFilter(10, c)
		}
		opts = append(opts, parquet.BloomFilters(filters...))
	}
	sorting := make([]parquet.SortingColumn, len(lay.sortBy))
	for i, c := range lay.sortBy {
		sorting[i] = parquet.Ascending(c)
	}
	opts = append(opts, parquet.SortingWriterConfig(parquet.SortingColumns(sorting...)))
	if v, ok := emailBloomFor(rows); ok {
		opts = append(opts, parquet.KeyValueMetadata(MetaEmailBloom, v))
	}
	opts = append(opts, extra...)
	pw := parquet.NewGenericWriter[T](w, opts...)
	if _, err := pw.Write(rows); err != nil {
		return fmt.Errorf("write %s rows: %w", dataset, err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("close %s file: %w", dataset, err)
	}
	return nil
}

// SortInquiries orders rows as layoutOf(inquiries) declares: nulls first.
func SortInquiries(rows []schema.InquiryRow) {
	slices.SortFunc(rows, func(a, b schema.InquiryRow) int {
		if c := cmpOptional(a.CallerNumber, b.CallerNumber); c != 0 {
			return c
		}
		return a.StartedAt.Compare(b.StartedAt)
	})
}

// SortByInquiryID orders any rows by their inquiry id.
func SortByInquiryID[T any](rows []T, id func(*T) string) {
	slices.SortFunc(rows, func(a, b T) int { return strings.Compare(id(&a), id(&b)) })
}

func cmpOptional(a, b *string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}
