package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLatencyOf(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	l := latencyOf(d)
	if l.P50 != 50 || l.P90 != 90 || l.P99 != 99 || l.Max != 100 || l.Mean != 50.5 {
		t.Errorf("%+v", l)
	}
	if (latencyOf(nil) != Latency{}) {
		t.Error("no durations, some latency")
	}
}

// fakeServe answers like arkiv serve: searches as JSON, recordings with
// Range; status is what searches answer.
func fakeServe(t *testing.T, status int, searches *atomic.Int64) *httptest.Server {
	recording := bytes.Repeat([]byte("0123456789"), 20_000)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/search", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(401)
			return
		}
		searches.Add(1)
		q := r.URL.Query()
		if q.Get("number") == "" && (q.Get("from") != "2026-11-27" || q.Get("to") != "2026-11-28") {
			t.Errorf("day search %q", r.URL.RawQuery)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"results":[{"inquiry_id":"i1","has_recording":true},{"inquiry_id":"i2","has_recording":false}]}`))
	})
	mux.HandleFunc("GET /api/v1/inquiries/{id}/recording", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "i1" {
			t.Errorf("played %s, which has no recording", r.PathValue("id"))
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(recording))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func writeTargets(t *testing.T) (targets, token string) {
	dir := t.TempDir()
	targets, token = filepath.Join(dir, "targets.json"), filepath.Join(dir, "token")
	if err := os.WriteFile(targets, []byte(`{"numbers":["+46701234567"],"days":["2026-11-27"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(token, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return targets, token
}

func TestRun(t *testing.T) {
	var searches atomic.Int64
	srv := fakeServe(t, 200, &searches)
	targets, token := writeTargets(t)
	out := filepath.Join(t.TempDir(), "report.json")
	var text strings.Builder
	err := run(t.Context(), []string{"--url", srv.URL, "--token-file", token, "--targets", targets, "--clients", "4",
		"--duration", "300ms", "--players", "3", "--play-duration", "300ms", "--json", out}, &text)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	s, p := rep.Search, rep.Play
	if s == nil || p == nil {
		t.Fatalf("report %s", b)
	}
	if s.Errors != 0 || s.Requests == 0 || s.NumberSearches == 0 || s.DaySearches == 0 ||
		s.NumberSearches+s.DaySearches != s.Requests || int64(s.Requests) > searches.Load() {
		t.Errorf("search %+v (server saw %d)", s, searches.Load())
	}
	if p.Errors != 0 || p.Plays == 0 || p.Seeks == 0 || p.Recordings != 1 || p.Bytes < int64(p.Plays-p.Seeks)*200_000 {
		t.Errorf("play %+v", p)
	}
	if !strings.Contains(text.String(), "requests/s") || !strings.Contains(text.String(), "MB/s") {
		t.Errorf("output %s", text.String())
	}
}

// TestRunCountsErrors: searches answered 500 are errors, each of them.
func TestRunCountsErrors(t *testing.T) {
	var searches atomic.Int64
	srv := fakeServe(t, 500, &searches)
	targets, token := writeTargets(t)
	out := filepath.Join(t.TempDir(), "report.json")
	err := run(t.Context(), []string{"--url", srv.URL, "--token-file", token, "--targets", targets, "--clients", "2",
		"--duration", "200ms", "--players", "0", "--json", out}, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	var rep Report
	if err := json.Unmarshal(b, &rep); err != nil || rep.Search == nil {
		t.Fatalf("%s %v", b, err)
	}
	if rep.Search.Requests == 0 || rep.Search.Errors != rep.Search.Requests || rep.Search.ErrorsByKind["status 500"] != rep.Search.Errors {
		t.Errorf("%+v", rep.Search)
	}
	if rep.Play != nil {
		t.Error("a play phase with --players 0")
	}
	if err := run(t.Context(), []string{"--url", srv.URL, "--targets", targets}, &strings.Builder{}); err == nil &&
		os.Getenv("ARKIV_TOKEN") == "" {
		t.Error("no token, no error")
	}
}
