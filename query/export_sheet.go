package query

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// The worksheets of an xlsx export. excelize's StreamWriter costs some
// 12 µs a row (a cell reference, a few allocations and a regular
// expression per cell): in a profile of a million-row export, 40% of the
// CPU and all of it on one goroutine. It also parks the sheet (850 MB of
// XML) in a temporary file until the workbook is written, and only then
// is it compressed. xlsxSheets writes the same bytes itself, straight into
// the export's zip as the rows come, so that the compression overlaps the
// reading; with the compression, three times as fast
// (BenchmarkXLSXWriter against BenchmarkXLSXStreamWriter):
//
//   - each worksheet's XML before and after its rows, header row included,
//     is taken from excelize: the part it writes for a workbook streamed
//     the same way without rows (sheetXML);
//   - each row is encoded as StreamWriter.SetRow encodes the cells
//     xlsxCells makes (appendRow: strings, float64, int, bool, nil);
//   - the rest of the workbook (workbook, styles, content types) is
//     excelize's, written after the worksheets into the same zip, less
//     its own copies of the worksheets (skipParts).
//
// TestSheetsAsStreamWriter and FuzzSheetCell hold the bytes to
// StreamWriter's.

// sheetFlush is how much row XML is gathered before it goes to the zip.
const sheetFlush = 64 << 10

// xlsxSheets writes the worksheets of an export into zw.
type xlsxSheets struct {
	zw     *zip.Writer
	cols   []string // column names: A, B, …
	out    io.Writer
	buf    []byte // row XML not yet written to out
	post   []byte // the current sheet's XML after its rows
	paths  []string
	sheets int
	row    int // last row written on the current sheet
}

func newXLSXSheets(zw *zip.Writer) (*xlsxSheets, error) {
	x := &xlsxSheets{zw: zw, buf: make([]byte, 0, sheetFlush+4<<10)}
	for i := range Columns {
		name, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return nil, err
		}
		x.cols = append(x.cols, name)
	}
	return x, x.nextSheet()
}

// sheetName is the name of the export's nth sheet.
func sheetName(n int) string {
	if n == 1 {
		return "inquiries"
	}
	return "inquiries " + strconv.Itoa(n)
}

// add writes a row of cells (xlsxCells), on the next sheet when this one
// is full.
func (x *xlsxSheets) add(cells []any) error {
	if x.row > SheetRows {
		if err := x.nextSheet(); err != nil {
			return err
		}
	}
	x.row++
	var err error
	if x.buf, err = appendRow(x.buf, x.cols, x.row, cells); err != nil {
		return err
	}
	if len(x.buf) >= sheetFlush {
		_, err = x.out.Write(x.buf)
		x.buf = x.buf[:0]
	}
	return err
}

// nextSheet ends the current sheet and starts the next.
func (x *xlsxSheets) nextSheet() error {
	if err := x.endSheet(); err != nil {
		return err
	}
	x.sheets++
	path, pre, post, err := sheetXML(x.sheets)
	if err != nil {
		return err
	}
	if x.out, err = x.zw.Create(path); err != nil {
		return err
	}
	x.paths, x.post, x.row = append(x.paths, path), post, 1
	_, err = x.out.Write(pre)
	return err
}

// endSheet writes the rest of the current sheet.
func (x *xlsxSheets) endSheet() error {
	if x.out == nil {
		return nil
	}
	_, err := x.out.Write(append(x.buf, x.post...))
	x.out, x.buf = nil, x.buf[:0]
	return err
}

// close ends the last sheet and writes the rest of the workbook.
func (x *xlsxSheets) close() error {
	if err := x.endSheet(); err != nil {
		return err
	}
	book, _, err := xlsxBook(x.sheets)
	if err != nil {
		return err
	}
	defer book.Close()
	skip := &skipParts{zw: x.zw, skip: map[string]bool{}}
	for _, p := range x.paths {
		skip.skip[p] = false
	}
	book.SetZipWriter(func(io.Writer) excelize.ZipWriter { return skip })
	if _, err := book.WriteToBuffer(); err != nil { // through zw; the buffer stays empty
		return err
	}
	for p, seen := range skip.skip {
		if !seen {
			return fmt.Errorf("excelize did not write worksheet %s where it was expected", p)
		}
	}
	return nil
}

// xlsxBook is an export's workbook of n sheets as the export makes it,
// without rows: each sheet streamed with the header row of Columns. It
// returns the zip path of each sheet's XML.
func xlsxBook(n int) (*excelize.File, []string, error) {
	book := excelize.NewFile()
	header := make([]any, len(Columns))
	for i, c := range Columns {
		header[i] = c
	}
	for i := 1; i <= n; i++ {
		var err error
		if i == 1 {
			err = book.SetSheetName("Sheet1", sheetName(i))
		} else {
			_, err = book.NewSheet(sheetName(i))
		}
		var sw *excelize.StreamWriter
		if err == nil {
			sw, err = book.NewStreamWriter(sheetName(i))
		}
		if err == nil {
			err = sw.SetRow("A1", header)
		}
		if err == nil {
			err = sw.Flush()
		}
		if err != nil {
			book.Close()
			return nil, nil, err
		}
	}
	ids := map[string]int{}
	for id, name := range book.GetSheetMap() {
		ids[name] = id
	}
	paths := make([]string, n)
	for i := range paths {
		paths[i] = "xl/worksheets/sheet" + strconv.Itoa(ids[sheetName(i+1)]) + ".xml"
	}
	return book, paths, nil
}

// sheetXML is the zip path of the export's nth sheet and its XML before
// and after the data rows, as excelize writes them.
func sheetXML(n int) (path string, pre, post []byte, err error) {
	book, paths, err := xlsxBook(n)
	if err != nil {
		return "", nil, nil, err
	}
	defer book.Close()
	c := &captureParts{parts: map[string]*bytes.Buffer{}}
	book.SetZipWriter(func(io.Writer) excelize.ZipWriter { return c })
	if _, err := book.WriteToBuffer(); err != nil {
		return "", nil, nil, err
	}
	path = paths[n-1]
	part := c.parts[path]
	if part == nil {
		return "", nil, nil, fmt.Errorf("excelize wrote no worksheet %s", path)
	}
	i := bytes.LastIndex(part.Bytes(), []byte("</sheetData>"))
	if i < 0 {
		return "", nil, nil, fmt.Errorf("excelize's worksheet %s has no </sheetData>", path)
	}
	return path, part.Bytes()[:i], part.Bytes()[i:], nil
}

// captureParts is an excelize.ZipWriter that keeps the parts in memory.
type captureParts struct{ parts map[string]*bytes.Buffer }

func (c *captureParts) Create(name string) (io.Writer, error) {
	b := &bytes.Buffer{}
	c.parts[name] = b
	return b, nil
}

func (c *captureParts) AddFS(fs.FS) error { return nil }

func (c *captureParts) Close() error { return nil }

// skipParts is an excelize.ZipWriter into zw that drops the parts named in
// skip (and notes that they came).
type skipParts struct {
	zw   *zip.Writer
	skip map[string]bool
}

func (s *skipParts) Create(name string) (io.Writer, error) {
	if _, ok := s.skip[name]; ok {
		s.skip[name] = true
		return io.Discard, nil
	}
	return s.zw.Create(name)
}

func (s *skipParts) AddFS(fsys fs.FS) error { return s.zw.AddFS(fsys) }

func (s *skipParts) Close() error { return s.zw.Close() }

// appendRow appends a row of cells as StreamWriter.SetRow writes it.
func appendRow(b []byte, cols []string, row int, cells []any) ([]byte, error) {
	b = append(b, `<row r="`...)
	b = strconv.AppendInt(b, int64(row), 10)
	b = append(b, `">`...)
	for i, v := range cells {
		if v == nil {
			continue
		}
		b = append(b, `<c r="`...)
		b = append(b, cols[i]...)
		b = strconv.AppendInt(b, int64(row), 10)
		b = append(b, '"')
		var err error
		if b, err = appendCellValue(b, v); err != nil {
			return b, fmt.Errorf("xlsx column %s: %w", Columns[i], err)
		}
	}
	return append(b, `</row>`...), nil
}

// appendCellValue appends the rest of a cell after its reference.
func appendCellValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendInlineString(b, x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) { // excelize writes them as text
			return appendInlineString(b, fmt.Sprint(x)), nil
		}
		b = append(b, `><v>`...)
		b = append(b, formatCellFloat(x)...)
		return append(b, `</v></c>`...), nil
	case int:
		b = append(b, `><v>`...)
		b = strconv.AppendInt(b, int64(x), 10)
		return append(b, `</v></c>`...), nil
	case bool:
		if x {
			return append(b, ` t="b"><v>1</v></c>`...), nil
		}
		return append(b, ` t="b"><v>0</v></c>`...), nil
	}
	return b, fmt.Errorf("no cell encoding for %T", v)
}

// appendInlineString appends a text cell as excelize's setInlineStr and
// writeCell write it: at most TotalCellChars UTF-16 units, xml:space
// "preserve" when it starts or ends with white space, escaped as
// xml.EscapeText escapes but for new lines, and with _xHHHH_ escaped.
func appendInlineString(b []byte, s string) []byte {
	if len(s) > excelize.TotalCellChars { // a UTF-16 unit takes at least a byte
		s = truncateUTF16(s, excelize.TotalCellChars)
	}
	b = append(b, ` t="inlineStr"><is><t`...)
	if s != "" && (xmlSpace(s[0]) || xmlSpace(s[len(s)-1])) {
		b = append(b, ` xml:space="preserve"`...)
	}
	b = append(b, '>')
	start := len(b)
	b = appendEscaped(b, s)
	if strings.Contains(s, "_x") { // escaping neither makes nor breaks one
		b = append(b[:start], bstrMarshal(string(b[start:]))...)
	}
	return append(b, `</t></is></c>`...)
}

func xmlSpace(c byte) bool { return c == '\t' || c == '\n' || c == '\r' || c == ' ' }
