package sinks

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

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
	opts := parquetOptions(dataset, flushID)
	if v, ok := emailBloomFor(rows); ok {
		opts = append(opts, parquet.KeyValueMetadata(MetaEmailBloom, v))
	}
	pw := parquet.NewGenericWriter[T](w, append(opts, extra...)...)
	return writeRows(pw, dataset, rows)
}

// parquetOptions are the writer options of WriteParquet but the e-mail
// filter (which depends on the rows) and the caller's extras.
func parquetOptions(dataset, flushID string) []parquet.WriterOption {
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
	return append(opts, parquet.SortingWriterConfig(parquet.SortingColumns(sorting...)))
}

func writeRows[T any](pw *parquet.GenericWriter[T], dataset string, rows []T) error {
	if _, err := pw.Write(rows); err != nil {
		return fmt.Errorf("write %s rows: %w", dataset, err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("close %s file: %w", dataset, err)
	}
	return nil
}

// ParquetWriters writes Parquet files exactly as WriteParquet does, but
// keeps one parquet-go writer per dataset and resets it for the next file
// instead of making a new one: the writer's column, page and bloom filter
// buffers are then allocated once, not per file. That is most of the cost
// of a file when a flush fans out into thousands of small tenant-day files
// (a backfill). It is not safe for concurrent use: give each goroutine its
// own. What it holds is bounded by the datasets and the largest file
// written, not by how many files it writes.
type ParquetWriters struct {
	writers map[string]any // dataset -> *parquet.GenericWriter[T]
}

// NewParquetWriters returns an empty set of reusable writers.
func NewParquetWriters() *ParquetWriters { return &ParquetWriters{writers: map[string]any{}} }

// WriteParquetWith writes rows like WriteParquet(w, dataset, flushID, rows)
// with a writer of ws (nil ws: a new writer).
func WriteParquetWith[T any](ws *ParquetWriters, w io.Writer, dataset, flushID string, rows []T) error {
	if ws == nil {
		return WriteParquet(w, dataset, flushID, rows)
	}
	pw, ok := ws.writers[dataset].(*parquet.GenericWriter[T])
	if ok {
		pw.Reset(w)
	} else {
		opts := parquetOptions(dataset, flushID)
		if _, ok := emailBloomFor([]T(nil)); ok { // set below; declared here to keep the footer's order
			opts = append(opts, parquet.KeyValueMetadata(MetaEmailBloom, ""))
		}
		pw = parquet.NewGenericWriter[T](w, opts...)
		ws.writers[dataset] = pw
	}
	pw.SetKeyValueMetadata(MetaFlushID, flushID)
	if v, ok := emailBloomFor(rows); ok {
		pw.SetKeyValueMetadata(MetaEmailBloom, v)
	}
	if err := writeRows(pw, dataset, rows); err != nil {
		delete(ws.writers, dataset) // its state after a failure is unknown
		return err
	}
	detachPaths(pw.File())
	return nil
}

// detachPaths works around parquet-go v0.32.0's issue #602: Reset clears
// the path_in_schema and sorting_columns lists of the file just written,
// whose backing arrays the writer itself goes on using, so every later file
// would name its columns "" and declare column 0 its sort key. Dropping the
// written file's references to them first leaves the writer's intact
// (TestParquetWritersMatchWriteParquet checks the files byte for byte).
func detachPaths(f parquet.FileView) {
	if f == nil {
		return
	}
	md := f.Metadata()
	for i := range md.RowGroups {
		md.RowGroups[i].SortingColumns = nil
		for j := range md.RowGroups[i].Columns {
			md.RowGroups[i].Columns[j].MetaData.PathInSchema = nil
		}
	}
}

// SortInquiries orders rows as layoutOf(inquiries) declares: nulls first.
// Rows with equal keys keep their order.
func SortInquiries(rows []schema.InquiryRow) {
	type key struct {
		number *string
		at     time.Time
	}
	sortStable(rows, func(r *schema.InquiryRow) key { return key{r.CallerNumber, r.StartedAt} }, func(a, b key) int {
		if c := cmpOptional(a.number, b.number); c != 0 {
			return c
		}
		return a.at.Compare(b.at)
	})
}

// SortByInquiryID orders any rows by their inquiry id. Rows with equal ids
// keep their order.
func SortByInquiryID[T any](rows []T, id func(*T) string) {
	sortStable(rows, id, strings.Compare)
}

// keyed is a row's sort key and its position.
type keyed[K any] struct {
	key K
	pos int
}

// sortStable orders rows by compare over their keys, keeping the order of
// equal ones. It sorts small (key, position) pairs and then moves each row
// once, instead of moving rows of hundreds of bytes at every comparison.
func sortStable[T, K any](rows []T, key func(*T) K, compare func(a, b K) int) {
	if len(rows) < 2 {
		return
	}
	idx := make([]keyed[K], len(rows))
	for i := range rows {
		idx[i] = keyed[K]{key(&rows[i]), i}
	}
	slices.SortFunc(idx, func(a, b keyed[K]) int {
		if c := compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	permute(rows, idx)
}

// permute moves rows so that rows[i] becomes the old rows[idx[i].pos],
// following each cycle of the permutation once (idx is used up).
func permute[T, K any](rows []T, idx []keyed[K]) {
	for start := range idx {
		if idx[start].pos < 0 || idx[start].pos == start {
			continue
		}
		held := rows[start]
		at := start
		for {
			from := idx[at].pos
			idx[at].pos = -1
			if from == start {
				rows[at] = held
				break
			}
			rows[at] = rows[from]
			at = from
		}
	}
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
