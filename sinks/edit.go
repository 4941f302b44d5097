package sinks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/arkiv-project/arkiv/schema"
)

// RowEdit says which rows of a file change and how: Match picks the rows
// Edit gets; Edit changes a row in place and returns false to drop it.
type RowEdit[T any] struct {
	Match func(row *T) bool
	Edit  func(row *T) (keep bool)
}

// EditedFile is what EditParquet made of a file.
type EditedFile struct {
	// Data is the new file, or nil when none is needed: no row matched
	// (Matched 0), or no row is left (Rows 0).
	Data    []byte
	Matched int // rows Match picked
	Dropped int // of those, rows Edit dropped
	Rows    int // rows of the new file
}

// EditParquet reads the Parquet file at path, of dataset, applies edit, and
// makes the new file in memory as WriteParquet writes one: in the dataset's
// order, with flushID. A file whose schema is not T's (written by another
// version) is read as parquet.ReadFile converts it; one that says it
// belongs to another dataset is an error.
func EditParquet[T any](path, dataset, flushID string, edit RowEdit[T]) (EditedFile, error) {
	rows, err := readDataset[T](path, dataset)
	if err != nil {
		return EditedFile{}, err
	}
	var out EditedFile
	kept := rows[:0]
	for i := range rows {
		r := &rows[i]
		if edit.Match(r) {
			out.Matched++
			if !edit.Edit(r) {
				out.Dropped++
				continue
			}
		}
		kept = append(kept, *r)
	}
	out.Rows = len(kept)
	if out.Matched == 0 || out.Rows == 0 {
		return out, nil
	}
	if err := sortAs(dataset, kept); err != nil {
		return EditedFile{}, err
	}
	var buf bytes.Buffer
	if err := WriteParquet(&buf, dataset, flushID, kept); err != nil {
		return EditedFile{}, err
	}
	out.Data = buf.Bytes()
	return out, nil
}

// readDataset reads every row of the file at path, refusing a file whose
// footer names another dataset.
func readDataset[T any](path, dataset string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	file, err := parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if ds, ok := file.Lookup(MetaDataset); ok && ds != dataset {
		return nil, fmt.Errorf("%s: a file of %s, not of %s", path, ds, dataset)
	}
	if _, err := parquet.Convert(parquet.SchemaOf(new(T)), file.Schema()); err != nil {
		return nil, fmt.Errorf("%s: its schema is not the dataset's: %w", path, err)
	}
	rows := make([]T, file.NumRows())
	r := parquet.NewGenericReader[T](file)
	defer r.Close()
	n, err := r.Read(rows)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows[:n], nil
}

// sortAs orders rows as the lake's files of dataset are ordered
// (layoutOf).
func sortAs[T any](dataset string, rows []T) error {
	switch rows := any(rows).(type) {
	case []schema.InquiryRow:
		SortInquiries(rows)
	case []schema.SurveyRow:
		SortByInquiryID(rows, func(r *schema.SurveyRow) string { return r.InquiryID })
	case []schema.ChatlogRow:
		SortByInquiryID(rows, func(r *schema.ChatlogRow) string { return r.InquiryID })
	case []schema.RecordingRow:
		SortByInquiryID(rows, func(r *schema.RecordingRow) string { return r.InquiryID })
	default:
		return fmt.Errorf("edit: rows of %s cannot be sorted as %T", dataset, rows)
	}
	return nil
}
