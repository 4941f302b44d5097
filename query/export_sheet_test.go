package query

import (
	"archive/zip"
	"bytes"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// streamWriterXLSX writes rows of cells as an export's workbook through
// excelize's StreamWriter, sheet after sheet as ExportXLSX lays them out:
// the reference that xlsxSheets must match byte for byte.
func streamWriterXLSX(w io.Writer, rows [][]any) error {
	book := excelize.NewFile()
	defer book.Close()
	book.SetZipWriter(func(io.Writer) excelize.ZipWriter { return fastZip(w) })
	header := make([]any, len(Columns))
	for i, c := range Columns {
		header[i] = c
	}
	var sw *excelize.StreamWriter
	sheets, row := 0, 0
	nextSheet := func() error {
		if sw != nil {
			if err := sw.Flush(); err != nil {
				return err
			}
		}
		sheets++
		var err error
		if sheets == 1 {
			err = book.SetSheetName("Sheet1", sheetName(1))
		} else {
			_, err = book.NewSheet(sheetName(sheets))
		}
		if err == nil {
			sw, err = book.NewStreamWriter(sheetName(sheets))
		}
		if err == nil {
			err = sw.SetRow("A1", header)
		}
		row = 1
		return err
	}
	if err := nextSheet(); err != nil {
		return err
	}
	for _, r := range rows {
		if row > SheetRows {
			if err := nextSheet(); err != nil {
				return err
			}
		}
		row++
		cell, err := excelize.CoordinatesToCellName(1, row)
		if err == nil {
			err = sw.SetRow(cell, r)
		}
		if err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err := book.WriteToBuffer()
	return err
}

// sheetsXLSX writes rows of cells through xlsxSheets.
func sheetsXLSX(w io.Writer, rows [][]any) error {
	x, err := newXLSXSheets(fastZip(w))
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := x.add(r); err != nil {
			return err
		}
	}
	return x.close()
}

// zipParts reads every part of a zip.
func zipParts(t testing.TB, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		if _, dup := out[f.Name]; dup {
			t.Errorf("part %s twice", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// hostileCells are values that try every rule of excelize's cell
// encoding.
func hostileCells() [][]any {
	long := strings.Repeat("ab😀", 12000) // beyond 32,767 UTF-16 units
	texts := []string{"", " ", " lead", "trail\t", "\nboth\r", "a\nb", "a\r\nb", hostileText, "<&>\"'",
		"_x0041_", "_x005F_x0041_", "_x005f_", "a_x00zz_b_xABCD_", "_x005F_", "_x005F_xZZZZ_", "\xff\xfe bad utf-8",
		"\uFFFE\uFFFF\U0010FFFF", "\x00\x1f\x7f", "Åsa Öberg", "&#xA;", long, long[:32767], "😀" + long[:32766]}
	floats := []float64{0, -0.0, 1, -1, 12.5, 0.1, 1.0 / 3, 2.0 / 3, 123456789012345678, 1234567890.123456789,
		1e-7, 1e21, -1e300, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(),
		math.Inf(1), math.Inf(-1), 0.000123456789012345678}
	var rows [][]any
	for i := 0; i < max(len(texts), len(floats)); i++ {
		r := make([]any, len(Columns))
		r[0], r[1] = texts[i%len(texts)], floats[i%len(floats)]
		r[2], r[3], r[4] = i*1_000_003-5, i%2 == 0, nil
		r[len(r)-1] = texts[(i+7)%len(texts)]
		rows = append(rows, r)
	}
	return rows
}

// TestSheetsAsStreamWriter: the workbook xlsxSheets writes holds the very
// parts, worksheets byte for byte, that excelize's StreamWriter writes for
// the same rows, over several sheets.
func TestSheetsAsStreamWriter(t *testing.T) {
	old := SheetRows
	SheetRows = 9
	t.Cleanup(func() { SheetRows = old })
	bench := benchRows(25)
	for _, rows := range [][][]any{nil, hostileCells(), func() (out [][]any) {
		for i := range bench {
			out = append(out, XLSXValues(&bench[i]))
		}
		return out
	}()} {
		var want, got bytes.Buffer
		if err := streamWriterXLSX(&want, rows); err != nil {
			t.Fatal(err)
		}
		if err := sheetsXLSX(&got, rows); err != nil {
			t.Fatal(err)
		}
		wp, gp := zipParts(t, want.Bytes()), zipParts(t, got.Bytes())
		names := func(m map[string][]byte) []string {
			return slices.Sorted(func(y func(string) bool) {
				for k := range m {
					if !y(k) {
						return
					}
				}
			})
		}
		if !slices.Equal(names(gp), names(wp)) {
			t.Fatalf("%d rows: parts %v, want %v", len(rows), names(gp), names(wp))
		}
		for name, w := range wp {
			if !bytes.Equal(gp[name], w) {
				t.Errorf("%d rows: %s differs:\n got %.300s\nwant %.300s", len(rows), name, diffFrom(gp[name], w), diffFrom(w, gp[name]))
			}
		}
	}
}

// diffFrom is a from where it first differs from b.
func diffFrom(a, b []byte) []byte {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[max(0, i-40):]
}

// FuzzSheetCell: any text, number and flag is encoded as StreamWriter
// encodes it.
func FuzzSheetCell(f *testing.F) {
	f.Add("_x0041_ <&> \t", 12.5, 7, true)
	f.Add(hostileText, math.Inf(1), -1, false)
	f.Fuzz(func(t *testing.T, s string, x float64, i int, b bool) {
		rows := [][]any{make([]any, len(Columns))}
		rows[0][0], rows[0][1], rows[0][2], rows[0][3], rows[0][5] = s, x, i, b, " "+s
		var want, got bytes.Buffer
		if err := streamWriterXLSX(&want, rows); err != nil {
			t.Skip(err)
		}
		if err := sheetsXLSX(&got, rows); err != nil {
			t.Fatal(err)
		}
		const sheet = "xl/worksheets/sheet1.xml"
		if w, g := zipParts(t, want.Bytes())[sheet], zipParts(t, got.Bytes())[sheet]; !bytes.Equal(g, w) {
			t.Errorf("%q %v %d %v:\n got %s\nwant %s", s, x, i, b, diffFrom(g, w), diffFrom(w, g))
		}
	})
}
