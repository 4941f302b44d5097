package sinks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Editing a few rows of a lake file (anonymisation, content deletion)
// without the cost of turning every row into a Go struct and back: the
// rows are read as Parquet values, only the rows an edit picks are
// reconstructed into T, changed and deconstructed again, and the whole is
// written as WriteParquet writes it. Reflection over every row was most of
// the cost of rewriting a file.

// RowEdit says which rows of a file change and how. Match gets the first
// value of each of Columns (column paths, dot-separated, in that order) of
// a row and picks the rows Edit gets; Edit changes a row in place and
// returns false to drop it.
type RowEdit[T any] struct {
	Columns []string
	Match   func(values []parquet.Value) bool
	Edit    func(row *T) (keep bool)
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
// makes the file again as WriteParquet[T] would from the edited rows: in
// the dataset's order, with its options and flushID. A file whose schema
// is not T's (written by another version) is read through T's schema; one
// that says it belongs to another dataset is an error.
func EditParquet[T any](path, dataset, flushID string, edit RowEdit[T]) (EditedFile, error) {
	sch := parquet.SchemaOf(new(T))
	match, err := leafIndexes(sch, edit.Columns)
	if err != nil {
		return EditedFile{}, err
	}
	rows, err := readRowsAs[T](path, sch, dataset)
	if err != nil {
		return EditedFile{}, err
	}
	out, kept, err := applyEdit(rows, match, edit.Match, func(_ int, row parquet.Row) (parquet.Row, bool, error) {
		return editRow(sch, row, edit.Edit)
	})
	if err != nil || out.Matched == 0 || out.Rows == 0 {
		return out, err
	}
	if err := sortRows(sch, dataset, kept); err != nil {
		return EditedFile{}, err
	}
	out.Data, err = writeRowsAs[T](sch, dataset, flushID, kept)
	return out, err
}

// applyEdit passes the rows match picks (by the first values of cols)
// through edit, and returns the rows kept.
func applyEdit(rows []parquet.Row, cols []int, match func([]parquet.Value) bool,
	edit func(i int, row parquet.Row) (parquet.Row, bool, error)) (EditedFile, []parquet.Row, error) {
	var out EditedFile
	kept := make([]parquet.Row, 0, len(rows))
	values := make([]parquet.Value, len(cols))
	for i, row := range rows {
		firstValues(row, cols, values)
		if !match(values) {
			kept = append(kept, row)
			continue
		}
		out.Matched++
		row, keep, err := edit(i, row)
		if err != nil {
			return out, nil, err
		}
		if !keep {
			out.Dropped++
			continue
		}
		kept = append(kept, row)
	}
	out.Rows = len(kept)
	return out, kept, nil
}

// readRowsAs reads every row of a file, in sch's (T's) column order: as
// they are stored, or, when the file's schema is not T's, as
// parquet.ReadFile[T] converts them.
func readRowsAs[T any](path string, sch *parquet.Schema, dataset string) ([]parquet.Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	file, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if ds, ok := file.Lookup(MetaDataset); ok && ds != dataset {
		return nil, fmt.Errorf("%s: a file of %s, not of %s", path, ds, dataset)
	}
	if !parquet.EqualNodes(file.Schema(), sch) {
		return convertedRows[T](file, sch, path)
	}
	r := parquet.NewReader(file)
	defer r.Close()
	rows := make([]parquet.Row, 0, file.NumRows())
	buf := make([]parquet.Row, 256)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			rows = append(rows, row.Clone()) // the reader reuses its buffers
		}
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// convertedRows reads the rows of a file of another schema into T, and
// gives them as T's values.
func convertedRows[T any](file *parquet.File, sch *parquet.Schema, path string) ([]parquet.Row, error) {
	if _, err := parquet.Convert(sch, file.Schema()); err != nil {
		return nil, fmt.Errorf("%s: its schema is not the dataset's: %w", path, err)
	}
	structs := make([]T, file.NumRows())
	r := parquet.NewGenericReader[T](file, sch)
	defer r.Close()
	n, err := r.Read(structs)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rows := make([]parquet.Row, n)
	for i := range rows {
		rows[i] = sch.Deconstruct(nil, &structs[i])
	}
	return rows, nil
}

// leafIndexes are the leaf column indexes of paths in sch.
func leafIndexes(sch *parquet.Schema, paths []string) ([]int, error) {
	out := make([]int, len(paths))
	for i, p := range paths {
		leaf, ok := sch.Lookup(splitPath(p)...)
		if !ok {
			return nil, fmt.Errorf("edit: no column %q in %s", p, sch.Name())
		}
		out[i] = leaf.ColumnIndex
	}
	return out, nil
}

func splitPath(p string) []string { return strings.Split(p, ".") }

// firstValues sets values[i] to the first value of column cols[i] of row
// (a null Value when the row has none).
func firstValues(row parquet.Row, cols []int, values []parquet.Value) {
	for i, c := range cols {
		values[i] = parquet.Value{}
		at, ok := slices.BinarySearchFunc(row, c, func(v parquet.Value, c int) int { return v.Column() - c })
		if ok {
			values[i] = row[at]
		}
	}
}

// editRow passes one row through fn as a T. Only the columns fn changes
// are taken from the T: the others keep the row's own values, which a
// round trip through Go types does not always give back (parquet-go turns
// timestamps outside the years 1678-2262 into other times).
func editRow[T any](sch *parquet.Schema, row parquet.Row, fn func(*T) bool) (parquet.Row, bool, error) {
	var v T
	if err := sch.Reconstruct(&v, row); err != nil {
		return nil, false, fmt.Errorf("edit: read a row: %w", err)
	}
	before := sch.Deconstruct(nil, &v)
	if !fn(&v) {
		return nil, false, nil
	}
	after := sch.Deconstruct(nil, &v)
	if before.Equal(row) {
		return after, true, nil
	}
	orig, was, now := columnsOf(row), columnsOf(before), columnsOf(after)
	if len(orig) != len(was) || len(was) != len(now) {
		return nil, false, errors.New("edit: a row's columns changed in a round trip through its type")
	}
	out := make(parquet.Row, 0, len(after))
	for c := range now {
		switch {
		case parquet.Row(was[c]).Equal(now[c]):
			out = append(out, orig[c]...) // untouched: the row's own values
		case parquet.Row(was[c]).Equal(orig[c]):
			out = append(out, now[c]...)
		default:
			return nil, false, fmt.Errorf("edit: column %d of a row changed, and its values do not survive a round trip through its type", c)
		}
	}
	return out, true, nil
}

// columnsOf splits a row into the values of each column.
func columnsOf(row parquet.Row) [][]parquet.Value {
	var cols [][]parquet.Value
	row.Range(func(_ int, values []parquet.Value) bool {
		cols = append(cols, values)
		return true
	})
	return cols
}

// sortRows orders rows as layoutOf(dataset) declares (nulls first), as
// SortInquiries and SortByInquiryID order structs; equal rows keep their
// order.
func sortRows(sch *parquet.Schema, dataset string, rows []parquet.Row) error {
	sortBy := layoutOf(dataset).sortBy
	cols, err := leafIndexes(sch, sortBy)
	if err != nil {
		return err
	}
	types := make([]parquet.Type, len(cols))
	for i, p := range sortBy {
		leaf, _ := sch.Lookup(splitPath(p)...)
		types[i] = leaf.Node.Type()
	}
	keys := make([][]parquet.Value, len(rows))
	for i, row := range rows {
		keys[i] = make([]parquet.Value, len(cols))
		firstValues(row, cols, keys[i])
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareKeys(types, keys[a], keys[b]) })
	sorted := make([]parquet.Row, len(rows))
	for i, o := range order {
		sorted[i] = rows[o]
	}
	copy(rows, sorted)
	return nil
}

func compareKeys(types []parquet.Type, a, b []parquet.Value) int {
	for i, t := range types {
		switch an, bn := a[i].IsNull(), b[i].IsNull(); {
		case an && bn:
			continue
		case an:
			return -1
		case bn:
			return 1
		}
		if c := t.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// writeRowsAs writes rows as WriteParquet[T] writes a file: the same
// options, and the same e-mail filter in the footer.
func writeRowsAs[T any](sch *parquet.Schema, dataset, flushID string, rows []parquet.Row) ([]byte, error) {
	opts := parquetOptions(dataset, flushID)
	if cols := emailColumns(dataset); len(cols) > 0 {
		idx, err := leafIndexes(sch, cols)
		if err != nil {
			return nil, err
		}
		opts = append(opts, parquet.KeyValueMetadata(MetaEmailBloom, emailBloomValue(rowStrings(rows, idx))))
	}
	var buf bytes.Buffer
	pw := parquet.NewGenericWriter[T](&buf, opts...)
	if _, err := pw.WriteRows(rows); err != nil {
		return nil, fmt.Errorf("write %s rows: %w", dataset, err)
	}
	if err := pw.Close(); err != nil {
		return nil, fmt.Errorf("close %s file: %w", dataset, err)
	}
	return buf.Bytes(), nil
}

// rowStrings yields the first value of each of cols of every row, as a
// string (nil for a null).
func rowStrings(rows []parquet.Row, cols []int) func(yield func(*string) bool) {
	return func(yield func(*string) bool) {
		values := make([]parquet.Value, len(cols))
		for _, row := range rows {
			firstValues(row, cols, values)
			for _, v := range values {
				var s *string
				if !v.IsNull() {
					str := string(v.ByteArray())
					s = &str
				}
				if !yield(s) {
					return
				}
			}
		}
	}
}
