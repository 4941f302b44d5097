package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/sinks"
)

func TestTokenCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"token", "--tenant", "t01", "--roles", "viewer,content"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	secret := regexp.MustCompile(`arkiv_[A-Za-z0-9_-]{43}`).FindString(out.String())
	if secret == "" {
		t.Fatalf("no token in %q", out.String())
	}
	// The snippet, under tokens:, is a valid configuration with the hash.
	i := strings.Index(out.String(), "  - ")
	cfg, err := config.Decode(strings.NewReader("tokens:\n" + out.String()[i:]))
	if err != nil {
		t.Fatalf("snippet: %v\n%s", err, out.String())
	}
	tok := cfg.TokenByHash(config.HashToken(secret))
	if tok == nil || tok.Tenant != "t01" || !tok.Has(config.RoleContent) || tok.Support {
		t.Fatalf("token %+v", tok)
	}
	if strings.Count(out.String(), secret) != 1 {
		t.Error("the token is printed more than once")
	}
	out.Reset()
	if code := run(t.Context(), []string{"token", "--support", "--roles", "viewer"}, nil, &out, &errb); code != 0 {
		t.Fatalf("support: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `tenant: '*'`) || !strings.Contains(out.String(), "support: true") {
		t.Errorf("support snippet: %s", out.String())
	}
	for _, args := range [][]string{{"token", "--roles", "viewer"}, {"token", "--tenant", "t01"},
		{"token", "--tenant", "t01", "--roles", "root"}, {"token", "--tenant", "T 1", "--roles", "viewer"},
		{"token", "--support", "--tenant", "t01", "--roles", "viewer"}} {
		if code := run(t.Context(), args, nil, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

func TestServeFlags(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{"serve"}, {"serve", "--lake", t.TempDir()},
		{"serve", "--lake", t.TempDir(), "--config", "x.yaml", "--expire-at", "25:00"}} {
		if code := run(t.Context(), args, nil, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

func TestNextRun(t *testing.T) {
	at := 2*time.Hour + 30*time.Minute
	for now, want := range map[string]string{
		"2026-11-28T01:00:00Z": "2026-11-28T02:30:00Z",
		"2026-11-28T02:30:00Z": "2026-11-29T02:30:00Z",
		"2026-11-28T23:59:00Z": "2026-11-29T02:30:00Z",
	} {
		n, _ := time.Parse(time.RFC3339, now)
		if got := nextRun(n, at).Format(time.RFC3339); got != want {
			t.Errorf("nextRun(%s) = %s, want %s", now, got, want)
		}
	}
}

// TestServeMetrics runs arkiv serve with --metrics: /healthz, /readyz and
// /metrics answer on the metrics address, and /metrics counts the API's
// requests by route pattern.
func TestServeMetrics(t *testing.T) {
	dir := t.TempDir()
	lake, err := sinks.OpenDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := lake.Close(); err != nil {
		t.Fatal(err)
	}
	secret, hash, err := config.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "arkiv.yaml")
	yml := "tokens:\n  - {name: ops, sha256: " + hash + ", tenant: t01, roles: [viewer]}\n"
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	api, ops := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb syncWriter
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "--lake", dir, "--config", cfgPath, "--listen", api, "--metrics", ops}, nil, &out, &errb)
	}()
	if !waitFor(t, "http://"+ops+"/readyz", exit) {
		t.Fatalf("serve did not become ready: %s", errb.String())
	}
	if code, body := get(t, "http://"+ops+"/healthz", ""); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	for range 2 {
		if code, body := get(t, "http://"+api+"/api/v1/search?number=0701234567", secret); code != 200 {
			t.Fatalf("search: %d %s", code, body)
		}
	}
	_, metrics := get(t, "http://"+ops+"/metrics", "")
	for _, want := range []string{`arkiv_http_requests_total{class="2xx",route="GET /api/v1/search"} 2`,
		`arkiv_http_request_duration_seconds_count{route="GET /api/v1/search"} 2`, "go_goroutines "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, "0701234567") {
		t.Error("/metrics holds the number searched")
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Errorf("serve exited %d: %s", code, errb.String())
	}
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor polls url until it answers 200, or the command exits, or the
// test's deadline nears.
func waitFor(t *testing.T, url string, exit <-chan int) bool {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		select {
		case code := <-exit:
			t.Logf("exited %d", code)
			return false
		case <-t.Context().Done():
			return false
		case <-tick.C:
		}
	}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// syncWriter is a buffer the command and the test share.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestExpiryMetrics: serve's nightly expiry exports when it last succeeded
// (the ArkivExpiryNotRun alert reads it) and its runs by result.
func TestExpiryMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newExpiryMetrics(reg)
	at := time.Date(2026, 11, 29, 2, 30, 0, 0, time.UTC)
	m.observe(nil, at)
	m.observe(errors.New("disk full"), at.Add(24*time.Hour))
	if got := testutil.ToFloat64(m.lastSuccess); got != float64(at.Unix()) {
		t.Errorf("last success = %v, want %d (a failed run must not move it)", got, at.Unix())
	}
	if ok, failed := testutil.ToFloat64(m.runs.WithLabelValues("ok")), testutil.ToFloat64(m.runs.WithLabelValues("failed")); ok != 1 || failed != 1 {
		t.Errorf("runs ok=%v failed=%v", ok, failed)
	}
	if n, err := testutil.GatherAndCount(reg, "arkiv_expire_last_success_timestamp_seconds", "arkiv_expire_runs_total"); err != nil || n != 3 {
		t.Errorf("registered series %d, %v", n, err)
	}
}
