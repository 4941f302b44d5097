package query

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// deflateInput is n bytes that compress somewhat (XML-like runs with
// random bytes between).
func deflateInput(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(`<c r="A1" t="inlineStr"><is><t>`)
		for range rng.IntN(40) {
			b.WriteByte(byte(rng.IntN(256)))
		}
		b.WriteString(`</t></is></c>`)
	}
	return b.Bytes()[:n]
}

// TestParallelDeflateRoundTrip: what goes in comes out of a plain
// inflater, for sizes around the segment boundaries and odd write sizes.
func TestParallelDeflateRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 1000, deflateSegment - 1, deflateSegment, deflateSegment + 1,
		5*deflateSegment + 12345} {
		in := deflateInput(n)
		var out bytes.Buffer
		d := newParallelDeflate(&out)
		for p, step := in, 1; len(p) > 0; step = step*7%65521 + 1 {
			k := min(step, len(p))
			if m, err := d.Write(p[:k]); err != nil || m != k {
				t.Fatalf("n=%d: write %d: %d %v", n, k, m, err)
			}
			p = p[k:]
		}
		if err := d.Close(); err != nil {
			t.Fatalf("n=%d: close: %v", n, err)
		}
		got, err := io.ReadAll(flate.NewReader(&out))
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("n=%d: inflated %d bytes (%v), want the %d written", n, len(got), err, n)
		}
		if n > 2*deflateSegment && out.Len() > n/2 {
			t.Errorf("n=%d: %d bytes compressed: not compressed", n, out.Len())
		}
	}
}

// TestFastZipIsAZip: a zip written through fastZip reads back with its
// checksums.
func TestFastZipIsAZip(t *testing.T) {
	var buf bytes.Buffer
	zw := fastZip(&buf)
	files := map[string][]byte{"a.xml": deflateInput(3*deflateSegment + 5), "b.xml": []byte("<x/>"), "c": nil}
	for _, name := range []string{"a.xml", "b.xml", "c"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc) // checks the CRC at the end
		rc.Close()
		if err != nil || !bytes.Equal(got, files[f.Name]) {
			t.Errorf("%s: %d bytes (%v)", f.Name, len(got), err)
		}
	}
}

// failAfter fails every write once n bytes went through.
type failAfter struct{ n int }

var errDiskFull = errors.New("disk full")

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

// TestParallelDeflateWriteError: the output's error comes back from Write
// or Close, and again on every later call.
func TestParallelDeflateWriteError(t *testing.T) {
	d := newParallelDeflate(&failAfter{n: 1000})
	in := deflateInput(8 * deflateSegment)
	_, werr := d.Write(in)
	cerr := d.Close()
	if !errors.Is(werr, errDiskFull) && !errors.Is(cerr, errDiskFull) {
		t.Fatalf("write %v, close %v: want %v", werr, cerr, errDiskFull)
	}
	if _, err := d.Write([]byte("more")); !errors.Is(err, errDiskFull) {
		t.Errorf("write after the error: %v", err)
	}
}

// TestExportXLSXWriteError: a failing output ends the xlsx export with
// its error.
func TestExportXLSXWriteError(t *testing.T) {
	_, e := fixture(t)
	if _, err := e.ExportXLSX(context.Background(), "t01", Filter{}, &failAfter{n: 100}); !errors.Is(err, errDiskFull) {
		t.Errorf("export into a failing writer: %v", err)
	}
}
