package query

import "context"

// Reading ahead. An export has two halves: DuckDB's queries with the
// decoding of their rows, and the writing of the rows (xlsx worksheets,
// export_sheet.go). eachAhead runs the first on a goroutine, ahead of the
// second, so that the two use two cores. A chunk's
// query (chunks.go) runs to its end before its first row comes, so the
// reader must be far enough ahead to keep the writer busy meanwhile: up to
// aheadBatches of aheadRows rows, some 8,000 rows of a few hundred bytes,
// a third of a chunk of defaultChunkBytes.
const (
	aheadRows    = 512
	aheadBatches = 16
)

// ahead is how far the reader may get ahead of the writer: batches of rows
// in flight (filling, queued, in use).
type ahead struct{ rows, batches int }

// eachAhead calls fn for every inquiry EachInquiry gives, in order, with
// the reading done on another goroutine; fn must not keep r. It stops at
// the first error of either side (fn's is returned as is) and returns the
// number of rows fn took. When ctx ends, the error is ctx's.
func eachAhead(parent context.Context, e *Engine, tenant string, f Filter, a ahead,
	fn func(r *Inquiry) error) (int, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	full := make(chan []Inquiry, a.batches)
	free := make(chan []Inquiry, a.batches)
	for range a.batches {
		free <- make([]Inquiry, 0, a.rows)
	}
	done := make(chan error, 1)
	go func() {
		defer close(full)
		done <- readAhead(ctx, e, tenant, f, full, free)
	}()
	n, err := drainAhead(full, free, fn)
	if err != nil {
		cancel() // the reader stops at its next batch
		for range full {
		}
		<-done
		return n, err
	}
	if err = <-done; err != nil && parent.Err() != nil {
		return n, parent.Err() // DuckDB's report of the interruption does not wrap it
	}
	return n, err
}

// readAhead fills batches from EachInquiry and queues them on full.
func readAhead(ctx context.Context, e *Engine, tenant string, f Filter, full, free chan []Inquiry) error {
	var batch []Inquiry
	next := func() error {
		if err := ctx.Err(); err != nil {
			return err // the writer stopped: read no further
		}
		select {
		case batch = <-free:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := next(); err != nil {
		return err
	}
	err := e.EachInquiry(ctx, tenant, f, func(r *Inquiry) error {
		if batch = append(batch, *r); len(batch) < cap(batch) {
			return nil
		}
		full <- batch
		return next()
	})
	if err == nil && len(batch) > 0 {
		full <- batch
	}
	return err
}

// drainAhead calls fn for each row of the queued batches and recycles
// them.
func drainAhead(full, free chan []Inquiry, fn func(*Inquiry) error) (int, error) {
	n := 0
	for batch := range full {
		for i := range batch {
			if err := fn(&batch[i]); err != nil {
				return n, err
			}
			n++
		}
		clear(batch) // let the rows' strings go
		free <- batch[:0]
	}
	return n, nil
}
