package sinks

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// ScanColumns reads only the named columns of the Parquet file at path and
// calls fn with each row's values of them, in order. The columns must be
// flat (not in a list): each then has one value per row. The values are
// fn's to keep.
func ScanColumns(path string, columns []string, fn func(values []parquet.Value)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	file, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	idx, err := flatLeaves(file.Schema(), columns)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	row := make([]parquet.Value, len(idx))
	for _, rg := range file.RowGroups() {
		cols := make([][]parquet.Value, len(idx))
		for i, c := range idx {
			if cols[i], err = chunkValues(rg.ColumnChunks()[c], rg.NumRows()); err != nil {
				return fmt.Errorf("%s: column %s: %w", path, columns[i], err)
			}
		}
		for r := range int(rg.NumRows()) {
			for i := range cols {
				row[i] = cols[i][r]
			}
			fn(row)
		}
	}
	return nil
}

// flatLeaves are the leaf indexes of columns, which must not repeat.
func flatLeaves(sch *parquet.Schema, columns []string) ([]int, error) {
	out := make([]int, len(columns))
	for i, c := range columns {
		leaf, ok := sch.Lookup(splitPath(c)...)
		if !ok {
			return nil, fmt.Errorf("no column %q", c)
		}
		if leaf.MaxRepetitionLevel > 0 {
			return nil, fmt.Errorf("column %q is in a list", c)
		}
		out[i] = leaf.ColumnIndex
	}
	return out, nil
}

func splitPath(p string) []string { return strings.Split(p, ".") }

// chunkValues reads every value of a column chunk of n rows (cloned: the
// pages' buffers are reused).
func chunkValues(chunk parquet.ColumnChunk, n int64) ([]parquet.Value, error) {
	out := make([]parquet.Value, 0, n)
	buf := make([]parquet.Value, 512)
	pages := chunk.Pages()
	defer pages.Close()
	for {
		page, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		values := page.Values()
		for {
			k, err := values.ReadValues(buf)
			for _, v := range buf[:k] {
				out = append(out, v.Clone())
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				parquet.Release(page)
				return nil, err
			}
		}
		parquet.Release(page)
	}
	if int64(len(out)) != n {
		return nil, fmt.Errorf("%d values for %d rows", len(out), n)
	}
	return out, nil
}
