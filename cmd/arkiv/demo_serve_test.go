package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/internal/mp3"
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

// TestDemoRecordingsAreMP3: the recordings of `arkiv demo`, ingested and
// served by its API, are valid MP3 streams (what a browser plays), and a
// Range request gets the bytes of the whole at that offset.
func TestDemoRecordingsAreMP3(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo's broker, ingest and server")
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb syncWriter
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"demo", "--lake", t.TempDir(), "--count", "80", "--tenants", "1", "--rate", "0",
			"--listen", "127.0.0.1:0"}, nil, &out, &errb)
	}()
	var base, token string
	for base == "" || token == "" {
		base = regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(out.String())
		if m := regexp.MustCompile(`(?m)^  every role\s+(arkiv_\S+)$`).FindStringSubmatch(out.String()); m != nil {
			token = m[1]
		}
		if !sleepOrExit(t, exit) {
			t.Fatalf("demo stopped: %s", errb.String())
		}
	}
	// Ingest flushes every 2 s: wait until a recording is searchable.
	var id string
	for id == "" {
		_, body := get(t, base+"api/v1/search?has_recording=true&limit=1", token)
		if m := regexp.MustCompile(`"inquiry_id":"([^"]+)"`).FindStringSubmatch(body); m != nil {
			id = m[1]
		} else if !sleepOrExit(t, exit) {
			t.Fatalf("demo stopped: %s", errb.String())
		}
	}
	code, whole := get(t, base+"api/v1/inquiries/"+id+"/recording", token)
	if code != 200 {
		t.Fatalf("recording: %d", code)
	}
	info, err := mp3.Check([]byte(whole))
	if err != nil {
		t.Fatalf("the demo's recording is not valid MP3: %v", err)
	}
	if info.Duration < time.Second {
		t.Errorf("recording of %s", info.Duration)
	}
	req, _ := http.NewRequest("GET", base+"api/v1/inquiries/"+id+"/recording", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Range", "bytes=1000-")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(part) != whole[1000:] {
		t.Errorf("Range bytes=1000-: %d, %d bytes of %d", resp.StatusCode, len(part), len(whole)-1000)
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Errorf("demo exited %d: %s", code, errb.String())
	}
}

// sleepOrExit waits a moment; false when the command exited or the test's
// deadline nears.
func sleepOrExit(t *testing.T, exit <-chan int) bool {
	select {
	case <-exit:
		return false
	case <-t.Context().Done():
		return false
	case <-time.After(100 * time.Millisecond):
		return true
	}
}
