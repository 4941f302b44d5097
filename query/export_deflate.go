package query

import (
	"bytes"
	"errors"
	"io"
	"runtime"

	"github.com/klauspost/compress/flate"
)

// Parallel deflate for the xlsx zip. A million-row sheet is some 850 MB of
// XML; compressing it costs as much as writing it. The data is cut into
// segments that goroutines compress independently (each ends with a sync
// flush, so the concatenation is one valid deflate stream; only the last
// block is final), written in order, as pigz does, while the writer goes
// on. The cost: no match reaches back across a segment boundary, a few
// bytes in a megabyte.
// klauspost/compress's flate at BestSpeed writes the same format as the
// standard library's, at about twice its speed on this XML.

// deflateSegment is how many input bytes one goroutine compresses at once.
const deflateSegment = 1 << 20

// parallelDeflate is an io.WriteCloser that deflates at flate.BestSpeed
// with up to workers segments in flight.
type parallelDeflate struct {
	out     io.Writer
	workers int
	seg     *segment      // being filled
	pending []*segment    // compressing, in output order
	free    chan *segment // segments to reuse
	writers chan *flate.Writer
	err     error // first error: every later call returns it
}

// segment is one slice of the input and, once done, its compressed bytes.
type segment struct {
	in   []byte
	out  bytes.Buffer
	err  error
	done chan struct{}
}

// newParallelDeflate writes the deflate stream of what is written to it
// to out; Close ends the stream (it does not close out).
func newParallelDeflate(out io.Writer) *parallelDeflate {
	n := max(1, min(runtime.GOMAXPROCS(0), 4))
	return &parallelDeflate{out: out, workers: n, free: make(chan *segment, n+1),
		writers: make(chan *flate.Writer, n+1)}
}

func (d *parallelDeflate) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n := len(p)
	for len(p) > 0 {
		if d.seg == nil {
			d.seg = d.newSegment()
		}
		k := min(len(p), deflateSegment-len(d.seg.in))
		d.seg.in = append(d.seg.in, p[:k]...)
		p = p[k:]
		if len(d.seg.in) == deflateSegment {
			if err := d.start(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// Close compresses what is left, writes everything in order and ends the
// stream with a final empty block.
func (d *parallelDeflate) Close() error {
	if d.err != nil {
		return d.err
	}
	if d.seg != nil && len(d.seg.in) > 0 {
		if err := d.start(); err != nil {
			return err
		}
	}
	for len(d.pending) > 0 {
		if err := d.writeOldest(); err != nil {
			return err
		}
	}
	fw, err := d.writer(d.out)
	if err == nil {
		err = fw.Close() // the final block: empty, stored
	}
	if err == nil {
		d.err = errors.New("deflate: write after close")
	}
	return err
}

func (d *parallelDeflate) newSegment() *segment {
	select {
	case s := <-d.free:
		s.in, s.err = s.in[:0], nil
		s.out.Reset()
		return s
	default: // small at first: most parts of a workbook are
		return &segment{in: make([]byte, 0, 64<<10)}
	}
}

// start compresses the filled segment on a goroutine, first writing out
// the oldest one when workers are already busy.
func (d *parallelDeflate) start() error {
	for len(d.pending) >= d.workers {
		if err := d.writeOldest(); err != nil {
			return err
		}
	}
	s := d.seg
	d.seg = nil
	s.done = make(chan struct{})
	d.pending = append(d.pending, s)
	go d.compress(s)
	return nil
}

func (d *parallelDeflate) compress(s *segment) {
	defer close(s.done)
	fw, err := d.writer(&s.out)
	if err != nil {
		s.err = err
		return
	}
	if _, err := fw.Write(s.in); err != nil {
		s.err = err
		return
	}
	s.err = fw.Flush() // a sync flush: byte-aligned, not final
	select {
	case d.writers <- fw:
	default:
	}
}

// writer is a BestSpeed flate writer onto w, reused when one is free.
func (d *parallelDeflate) writer(w io.Writer) (*flate.Writer, error) {
	select {
	case fw := <-d.writers:
		fw.Reset(w)
		return fw, nil
	default:
		return flate.NewWriter(w, flate.BestSpeed)
	}
}

// writeOldest waits for the oldest segment in flight and writes it out.
func (d *parallelDeflate) writeOldest() error {
	s := d.pending[0]
	d.pending = d.pending[1:]
	<-s.done
	err := s.err
	if err == nil {
		_, err = d.out.Write(s.out.Bytes())
	}
	if err != nil {
		d.fail(err)
		return err
	}
	select {
	case d.free <- s:
	default:
	}
	return nil
}

// fail records the first error and waits for the segments in flight, so
// that no goroutine outlives the writer.
func (d *parallelDeflate) fail(err error) {
	d.err = err
	for _, s := range d.pending {
		<-s.done
	}
	d.pending = nil
}
