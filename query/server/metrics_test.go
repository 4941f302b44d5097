package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/arkiv-project/arkiv/schema"
)

// TestMetrics makes requests of every kind over HTTP, then reads /metrics
// over HTTP: the counts are there, by route pattern and status class, and
// no label holds an id, a number or an e-mail address.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	ms := httptest.NewServer(promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}))
	t.Cleanup(ms.Close)

	// While the audit log cannot be written, content is refused and counted.
	p := filepath.Join(e.lake.Dir, schema.DatasetAudit, "tenant=t01")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/inquiries/q1/recording", "/api/v1/inquiries/q2/chatlog"} {
		if r := e.do(call{method: "GET", path: path, token: "t01-content"}); r.status != http.StatusServiceUnavailable {
			t.Fatalf("%s with a broken audit log: %d", path, r.status)
		}
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}

	number := "/api/v1/search?number=" + url.QueryEscape(secretNumber)
	email := "/api/v1/search?email=" + url.QueryEscape(secretEmail)
	want := map[string]int{} // "path status" -> 1
	for _, c := range []call{
		{method: "GET", path: number, token: "t01-viewer"},
		{method: "GET", path: email, token: "t01-viewer"},
		{method: "GET", path: number},
		{method: "GET", path: "/api/v1/inquiries/q1", token: "t01-viewer"},
		{method: "GET", path: "/api/v1/inquiries/unknown-4711", token: "t01-viewer"},
		{method: "GET", path: "/api/v1/inquiries/q1/recording", token: "t01-content"},
		{method: "GET", path: "/api/v1/inquiries/q1/recording", token: "t01-content", header: map[string]string{"Range": "bytes=0-9"}},
		{method: "GET", path: "/api/v1/inquiries/q2/chatlog?format=text", token: "t01-content"},
		{method: "GET", path: "/nothing/46701112233"},
		{method: "GET", path: "/api/v1/%2e%2e/inquiries"},
		{method: "POST", path: "/session", body: `{"token":"` + secretOf("t01-viewer") + `"}`},
		{method: "POST", path: "/session", body: `{"token":"arkiv_bogus_46701112233"}`},
	} {
		r := e.do(c)
		want[c.path+" "+strconv.Itoa(r.status)]++
	}
	for k, n := range map[string]int{number + " 200": 1, email + " 200": 1, number + " 401": 1,
		"/api/v1/inquiries/unknown-4711 404": 1, "/api/v1/inquiries/q1/recording 206": 1,
		"/nothing/46701112233 404": 1, "/api/v1/%2e%2e/inquiries 400": 1, "/session 200": 1, "/session 401": 1} {
		if want[k] != n {
			t.Fatalf("fixture: %q answered %d times, want %d (%v)", k, want[k], n, want)
		}
	}
	chatText := e.do(call{method: "GET", path: "/api/v1/inquiries/q2/chatlog?format=text", token: "t01-content"}).body

	text := scrape(t, ms.URL)
	for _, line := range []string{
		`arkiv_http_requests_total{class="2xx",route="GET /api/v1/search"} 2`,
		`arkiv_http_requests_total{class="4xx",route="GET /api/v1/search"} 1`,
		`arkiv_http_requests_total{class="2xx",route="GET /api/v1/inquiries/{id}"} 1`,
		`arkiv_http_requests_total{class="4xx",route="GET /api/v1/inquiries/{id}"} 1`,
		`arkiv_http_requests_total{class="2xx",route="GET /api/v1/inquiries/{id}/recording"} 2`,
		`arkiv_http_requests_total{class="5xx",route="GET /api/v1/inquiries/{id}/recording"} 1`,
		`arkiv_http_requests_total{class="2xx",route="GET /api/v1/inquiries/{id}/chatlog"} 2`,
		`arkiv_http_requests_total{class="4xx",route="unmatched"} 1`,
		`arkiv_http_requests_total{class="4xx",route="rejected"} 1`,
		`arkiv_http_requests_total{class="2xx",route="POST /session"} 1`,
		`arkiv_http_requests_total{class="4xx",route="POST /session"} 1`,
		`arkiv_http_request_duration_seconds_count{route="GET /api/v1/search"} 3`,
		`arkiv_http_content_bytes_total{kind="recording"} ` + strconv.Itoa(len(mp3)+10),
		`arkiv_http_content_bytes_total{kind="chatlog"} ` + strconv.Itoa(2*len(chatText)),
		`arkiv_http_content_bytes_total{kind="zip"} 0`,
		`arkiv_http_audit_write_failures_total 2`,
		`arkiv_http_content_refused_total{kind="recording"} 1`,
		`arkiv_http_content_refused_total{kind="chatlog"} 1`,
		`arkiv_http_sign_ins_total{result="ok"} 1`,
		`arkiv_http_sign_ins_total{result="refused"} 1`,
		`arkiv_http_sessions_signed_in 1`,
	} {
		if !slices.Contains(strings.Split(text, "\n"), line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	checkMetricLabels(t, text, []string{"q1", "q2", "unknown", "4711", "nothing", "..", "%2e", "bogus"})
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

var (
	labelRE  = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)
	digitsRE = regexp.MustCompile(`[0-9]{3,}`)
)

// checkMetricLabels fails on a label value that holds an e-mail address,
// a run of digits (a number, an id), a query, or one of the fixture's ids.
func checkMetricLabels(t *testing.T, text string, ids []string) {
	t.Helper()
	n := 0
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, m := range labelRE.FindAllStringSubmatch(line, -1) {
			name, v := m[1], m[2]
			if name == "le" {
				continue
			}
			n++
			bad := strings.ContainsAny(v, "@?+") || digitsRE.MatchString(v)
			for _, id := range ids {
				bad = bad || strings.Contains(v, id)
			}
			if bad {
				t.Errorf("label %s=%q holds personal data or an id", name, v)
			}
		}
	}
	if n == 0 {
		t.Fatal("no labels in /metrics")
	}
}
