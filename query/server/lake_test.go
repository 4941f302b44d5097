package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/internal/laketest"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
)

// testLake is a laketest.Builder with the shorthands of this fixture.
type testLake struct{ *laketest.Builder }

func newTestLake(t *testing.T) *testLake { return &testLake{laketest.NewBuilder(t)} }

func (l *testLake) inquiries(tenant string, rows ...schema.InquiryRow) { l.Inquiries(tenant, rows...) }

func (l *testLake) chatlog(tenant string, q schema.InquiryRow, text string) {
	l.Chatlogs(tenant, schema.ChatlogRow{InquiryID: q.InquiryID, InquiryStartedAt: q.StartedAt,
		Meta: meta(q.StartedAt), Messages: []schema.ChatMessageRow{
			{At: q.StartedAt.Add(time.Minute), From: schema.FromChatter, Name: sp("Åsa"), Text: text},
			{At: q.StartedAt.Add(2 * time.Minute), From: schema.FromAgent, Name: sp("Bo"), Text: "Hej! Hur kan jag hjälpa?"},
		}})
}

func (l *testLake) recording(tenant string, q schema.InquiryRow, recordingID string, data []byte) {
	l.Recording(tenant, q.InquiryID, recordingID, q.StartedAt, data)
}

func meta(at time.Time) schema.Meta { return laketest.Meta(at) }

func sp(s string) *string { return &s }

var base = time.Now().UTC().Truncate(time.Hour)

func daysAgo(d, hour int) time.Time {
	return base.AddDate(0, 0, -d).Truncate(24 * time.Hour).Add(time.Duration(hour) * time.Hour)
}

func phone(id string, started time.Time, number string) schema.InquiryRow {
	f := 12.0
	return schema.InquiryRow{InquiryID: id, SessionID: "s-" + id, MediaType: schema.MediaPhone,
		StartedAt: started, Queue: "support", AgentID: "a1", AgentName: "Anna Agent",
		WaitSeconds: &f, CallerNumber: sp(number), Meta: meta(started)}
}

func chat(id string, started time.Time, name, email string) schema.InquiryRow {
	return schema.InquiryRow{InquiryID: id, SessionID: "s-" + id, MediaType: schema.MediaChat,
		StartedAt: started, Queue: "chat", AgentID: "a2", AgentName: "Bo Agent",
		ChatterName: sp(name), ChatterEmail: sp(email), Meta: meta(started)}
}

// Personal data of the fixture: none of it may reach a log line.
const (
	secretNumber = "+46701112233"
	secretName   = "Åsa Öberg"
	secretEmail  = "asa.oberg@example.com"
	secretChat   = "mitt personnummer är 19121212-1212"
)

// mp3 is a recording long enough for ranges.
var mp3 = []byte("ID3\x03\x00\x00\x00\x00\x00\x00" + strings.Repeat("\xff\xfb\x90\x64frame-data-", 400))

// The tokens of the fixture, by name.
var roleTokens = map[string][]config.Role{
	"t01-viewer":         {config.RoleViewer},
	"t01-content":        {config.RoleContent},
	"t01-content-delete": {config.RoleContentDelete},
	"t01-privacy":        {config.RolePrivacy},
	"t01-audit":          {config.RoleAudit},
	"t01-all":            config.Roles,
	"t02-all":            config.Roles,
	"support-all":        config.Roles,
}

func secretOf(name string) string { return "arkiv_test_" + name }

// env is a running server over a fixture lake.
type env struct {
	t    *testing.T
	lake *testLake
	eng  *query.Engine
	srv  *httptest.Server
	logs *syncBuffer
	reg  *prometheus.Registry // the server's metrics
	api  *Server
}

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

// newEnv builds the fixture: tenant t01 with a call with a recording (q1),
// a chat with a chat log (q2), another call with a recording (q3) and an
// e-mail (q4); tenant t02 with a call (x1) with a recording and a chat
// (x2) with a chat log, the same number as q1.
func newEnv(t *testing.T, before ...func(*testLake)) *env {
	t.Helper()
	l := newTestLake(t)
	q1 := phone("q1", daysAgo(1, 10), secretNumber)
	q2 := chat("q2", daysAgo(2, 9), secretName, secretEmail)
	q3 := phone("q3", daysAgo(3, 8), "+46709998877")
	q4 := schema.InquiryRow{InquiryID: "q4", SessionID: "s-q4", MediaType: schema.MediaEmail, StartedAt: daysAgo(3, 9),
		Queue: "mail", AgentID: "a1", AgentName: "Anna Agent", FromAddress: sp("kund@exempel.se"), Meta: meta(daysAgo(3, 9))}
	l.inquiries("t01", q1, q2, q3, q4)
	l.recording("t01", q1, "r1", mp3)
	l.recording("t01", q3, "r3", mp3[:100])
	l.chatlog("t01", q2, secretChat)
	x1 := phone("x1", daysAgo(1, 10), secretNumber)
	x2 := chat("x2", daysAgo(1, 11), "Other Person", "other@example.com")
	l.inquiries("t02", x1, x2)
	l.recording("t02", x1, "rx1", mp3)
	l.chatlog("t02", x2, "t02 chat")
	for _, f := range before {
		f(l)
	}
	var yml strings.Builder
	yml.WriteString("tenants:\n  t01: {}\n  t02: {}\ntokens:\n")
	for name, roles := range roleTokens {
		tenant, support := strings.SplitN(name, "-", 2)[0], ""
		if tenant == "support" {
			tenant, support = `"*"`, ", support: true"
		}
		rs := make([]string, len(roles))
		for i, r := range roles {
			rs[i] = string(r)
		}
		fmt.Fprintf(&yml, "  - {name: %s, sha256: %s, tenant: %s%s, roles: [%s]}\n", name,
			config.HashToken(secretOf(name)), tenant, support, strings.Join(rs, ", "))
	}
	cfg, err := config.Decode(strings.NewReader(yml.String()))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	eng, err := query.Open(l.Dir, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	reg := prometheus.NewRegistry()
	api, err := New(Options{Engine: eng, Config: cfg, Logger: log, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(api)
	srv.Config = NewHTTPServer("", api, log)
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, lake: l, eng: eng, srv: srv, logs: logs, reg: reg, api: api}
}

// call is one request.
type call struct {
	method, path string
	body         string
	token        string // a name of roleTokens, "" for none
	header       map[string]string
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(c call) reply {
	e.t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, e.srv.URL+c.path, body)
	if err != nil {
		e.t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+secretOf(c.token))
		if strings.HasPrefix(c.token, "support") {
			req.Header.Set(HeaderTenant, "t01")
			req.Header.Set(HeaderReason, "ticket 4711")
		}
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read: %v", c.method, c.path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// auditCount counts t01's audit entries of an inquiry and action.
func (e *env) audit(tenant string) []schema.AuditRow {
	e.t.Helper()
	rows, err := e.eng.Audit(e.t.Context(), tenant, query.AuditFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}
