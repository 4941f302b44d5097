package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/arkiv-project/arkiv/sinks"
)

// TestDemoServe: the demo serves the page on a free port when asked for
// one, and each printed token signs in to it with its role.
func TestDemoServe(t *testing.T) {
	dir := t.TempDir()
	lake, err := sinks.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	var out bytes.Buffer
	e := &env{stdout: &out, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
	stop, err := startDemoServe(e, dir, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(out.String())
	lines := regexp.MustCompile(`(?m)^  (\S+(?: role)?)\s+(arkiv_[A-Za-z0-9_-]{43})$`).FindAllStringSubmatch(out.String(), -1)
	if url == "" || len(lines) != 6 {
		t.Fatalf("output:\n%s", out.String())
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("page: %d", resp.StatusCode)
	}
	for _, l := range lines {
		resp, err := http.Post(url+"session", "application/json", strings.NewReader(`{"token":"`+l[2]+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := `"roles":["` + l[1] + `"]`
		if l[1] == "every role" {
			want = `"roles":["viewer","content","content-delete","privacy","audit"]`
		}
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte(want)) || !bytes.Contains(b, []byte(`"tenant":"t0001"`)) {
			t.Errorf("%s: %d %s", l[1], resp.StatusCode, b)
		}
	}
}
