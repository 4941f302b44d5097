package main

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgressQuietWhenNotATerminal: piped or redirected, a long operation
// writes nothing but its result.
func TestProgressQuietWhenNotATerminal(t *testing.T) {
	var stderr, out bytes.Buffer
	e := &env{stderr: &stderr, stdout: io.Discard}
	p := startProgress(e, "writing")
	if _, err := p.writer(&out).Write([]byte("payload")); err != nil {
		t.Fatal(err)
	}
	p.end()
	if stderr.Len() != 0 || out.String() != "payload" {
		t.Errorf("stderr %q, out %q", stderr.String(), out.String())
	}
}

// TestProgressShowsBytesAndClears: on a terminal the line shows the bytes
// written and is cleared at the end.
func TestProgressShowsBytesAndClears(t *testing.T) {
	var term syncBuffer
	var out bytes.Buffer
	p := startProgressOn(&term, "exporting")
	if _, err := p.writer(&out).Write(make([]byte, 3_000_000)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(term.String(), "3.0 MB written") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	p.end()
	got := term.String()
	if !strings.Contains(got, "exporting… 3.0 MB written") || !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("progress output %q", got)
	}
	if out.Len() != 3_000_000 {
		t.Errorf("wrote %d bytes through the progress writer", out.Len())
	}
}
