package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// progressEvery is how often a progress line is redrawn.
const progressEvery = 250 * time.Millisecond

// progress shows a long operation's progress on one redrawn line of a
// terminal: what it does, the bytes written so far when it writes a file,
// and the time taken. When stderr is not a terminal (piped, redirected, in
// CI) it stays quiet: every method of a quiet progress does nothing.
type progress struct {
	w     io.Writer
	label string
	start time.Time
	bytes atomic.Int64
	stop  chan struct{}
	done  sync.WaitGroup
}

// startProgress starts showing progress on e.stderr when it is a terminal;
// otherwise it returns a quiet progress. Call end when the operation ends.
func startProgress(e *env, label string) *progress {
	if !isTerminal(e.stderr) {
		return nil
	}
	return startProgressOn(e.stderr, label)
}

// startProgressOn shows progress on w whatever w is (tests use it).
func startProgressOn(w io.Writer, label string) *progress {
	p := &progress{w: w, label: label, start: time.Now(), stop: make(chan struct{})}
	p.done.Add(1)
	go p.run()
	return p
}

func (p *progress) run() {
	defer p.done.Done()
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			fmt.Fprintf(p.w, "\r\033[K%s", p.line())
		}
	}
}

// line is the progress shown: the label, bytes written (if any) with their
// rate, and the time taken.
func (p *progress) line() string {
	secs := time.Since(p.start).Seconds()
	n := p.bytes.Load()
	if n == 0 {
		return fmt.Sprintf("%s… %.1f s", p.label, secs)
	}
	return fmt.Sprintf("%s… %.1f MB written (%.1f MB/s), %.1f s", p.label, float64(n)/1e6,
		float64(n)/1e6/max(secs, 1e-3), secs)
}

// writer counts what goes through w as written bytes.
func (p *progress) writer(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return progressWriter{w: w, p: p}
}

// end stops the line and clears it, leaving the terminal as it was.
func (p *progress) end() {
	if p == nil {
		return
	}
	close(p.stop)
	p.done.Wait()
	fmt.Fprint(p.w, "\r\033[K")
}

type progressWriter struct {
	w io.Writer
	p *progress
}

func (pw progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.p.bytes.Add(int64(n))
	return n, err
}

// withProgress runs a long operation with a progress line.
func withProgress[T any](e *env, label string, run func() (T, error)) (T, error) {
	p := startProgress(e, label)
	defer p.end()
	return run()
}
