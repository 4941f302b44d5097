package query

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/schema"
)

var admin = Access{Actor: "alice@tenant"}

func TestRecordingRoundTripAndRanges(t *testing.T) {
	_, e := fixture(t)
	ctx := context.Background()
	m, err := e.Recording(ctx, "t01", "q1", "", Access{Actor: "alice", Action: ActionDownloadRecording})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(m)
	m.Close()
	if err != nil || string(got) != mp3Bytes || m.Size != int64(len(mp3Bytes)) || m.RecordingID != "r1" {
		t.Fatalf("bytes %q size %d err %v", got, m.Size, err)
	}
	// Byte ranges, as a player asks for them, through http.ServeContent.
	m, err = e.Recording(ctx, "t01", "q1", "r1", Access{Actor: "alice", Action: ActionPlayRecording})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", m.ContentType)
		http.ServeContent(w, r, "", time.Time{}, m)
	}))
	defer srv.Close()
	for _, rg := range []struct {
		header string
		want   string
	}{{"bytes=0-9", mp3Bytes[:10]}, {"bytes=10-", mp3Bytes[10:]}, {"bytes=-4", mp3Bytes[len(mp3Bytes)-4:]}} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Range", rg.header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || string(body) != rg.want {
			t.Errorf("%s: %d %q", rg.header, resp.StatusCode, body)
		}
	}
	// Missing object, unknown inquiry, hostile ids: not found, nothing audited.
	before := auditCount(t, e, "t01")
	for _, id := range []string{"q7", "q2", "nope", "' OR 1=1 --", "../../../etc/passwd", "q1/../q1"} {
		if _, err := e.Recording(ctx, "t01", id, "", admin); !errors.Is(err, ErrNotFound) {
			t.Errorf("recording %q: %v", id, err)
		}
	}
	if _, err := e.Recording(ctx, "t01", "q1", "../r1", admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("recording id path: %v", err)
	}
	if _, err := e.Recording(ctx, "t02", "q1", "", admin); !errors.Is(err, ErrNotFound) {
		t.Errorf("other tenant: %v", err)
	}
	if n := auditCount(t, e, "t01"); n != before {
		t.Errorf("refused accesses were audited: %d -> %d", before, n)
	}
}

func auditCount(t *testing.T, e *Engine, tenant string) int {
	t.Helper()
	rows, err := e.Audit(context.Background(), tenant, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

func TestAuditOneEntryPerAction(t *testing.T) {
	_, e := fixture(t)
	ctx := context.Background()
	steps := []struct {
		do     func() error
		action Action
		inq    string
		kind   string
	}{
		{func() error {
			m, err := e.Recording(ctx, "t01", "q1", "", Access{Actor: "alice", Action: ActionPlayRecording, RequestID: "req-1"})
			if err == nil {
				m.Close()
			}
			return err
		}, ActionPlayRecording, "q1", schema.ActorAdmin},
		{func() error {
			m, err := e.Recording(ctx, "t01", "q1", "", Access{Actor: "sam", Support: true, RequestID: "req-2"})
			if err == nil {
				m.Close()
			}
			return err
		}, ActionPlayRecording, "q1", schema.ActorSupport},
		{func() error {
			_, err := e.ChatLog(ctx, "t01", "q2", Access{Actor: "alice", Action: ActionViewChatlog, RequestID: "req-3"})
			return err
		}, ActionViewChatlog, "q2", schema.ActorAdmin},
		{func() error {
			_, err := e.ChatLog(ctx, "t01", "q2", Access{Actor: "alice", Action: ActionDownloadChatlog, RequestID: "req-4"})
			return err
		}, ActionDownloadChatlog, "q2", schema.ActorAdmin},
		{func() error {
			_, err := e.ChatLog(ctx, "t01", "q2", Access{Actor: "alice", Action: ActionCopyChatlog, RequestID: "req-5"})
			return err
		}, ActionCopyChatlog, "q2", schema.ActorAdmin},
	}
	for i, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		rows, err := e.Audit(ctx, "t01", AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != i+1 {
			t.Fatalf("after step %d: %d entries", i, len(rows))
		}
		r := rows[len(rows)-1]
		if r.Action != string(s.action) || r.InquiryID != s.inq || r.ActorKind != s.kind || r.Tenant != "t01" ||
			r.RequestID == "" || r.Time.IsZero() {
			t.Errorf("step %d: entry %+v", i, r)
		}
	}
	// Entries live in the audit partition of the inquiry's day.
	day := schema.Day(daysAgo(2, 9))
	matches, _ := filepath.Glob(filepath.Join(e.Dir(), "audit", "tenant=t01", "date="+day, "*.jsonl"))
	if len(matches) != 1 {
		t.Errorf("audit logs for q2's day: %v", matches)
	}
	raw, _ := os.ReadFile(matches[0])
	for _, secret := range []string{"Åsa", "Oberg", "+4670", "example"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("audit log holds a customer identifier %q", secret)
		}
	}
	// Filters.
	if rows, _ := e.Audit(ctx, "t01", AuditFilter{InquiryID: "q1"}); len(rows) != 2 {
		t.Errorf("by inquiry: %d", len(rows))
	}
	if rows, _ := e.Audit(ctx, "t01", AuditFilter{Actor: "sam"}); len(rows) != 1 || rows[0].ActorKind != "support" {
		t.Errorf("by actor: %+v", rows)
	}
	if rows, _ := e.Audit(ctx, "t01", AuditFilter{From: time.Now().Add(time.Hour)}); len(rows) != 0 {
		t.Errorf("by time: %d", len(rows))
	}
	if rows, _ := e.Audit(ctx, "t02", AuditFilter{}); len(rows) != 0 {
		t.Errorf("other tenant sees entries: %d", len(rows))
	}
	// The SQL view reads the same entries.
	conn, err := e.SQL(ctx, "t01")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM audit WHERE tenant = 't01' AND inquiry_day IS NOT NULL").Scan(&n); err != nil || n != 5 {
		t.Errorf("audit view: %d %v", n, err)
	}
}

func TestAuditFailsClosed(t *testing.T) {
	_, e := fixture(t)
	ctx := context.Background()
	// The audit location cannot be written: a file where the tenant's audit
	// folder should be (permissions would not stop root).
	if err := os.MkdirAll(filepath.Join(e.Dir(), "audit"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.Dir(), "audit", "tenant=t01"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := e.Recording(ctx, "t01", "q1", "", admin)
	if !errors.Is(err, ErrAuditUnavailable) || m != nil {
		t.Errorf("recording served without audit: %v", err)
	}
	c, err := e.ChatLog(ctx, "t01", "q2", admin)
	if !errors.Is(err, ErrAuditUnavailable) || c != nil {
		t.Errorf("chat log served without audit: %v", err)
	}
	// Missing actor: refused before anything.
	if _, err := e.ChatLog(ctx, "t01", "q2", Access{}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("no actor: %v", err)
	}
	if _, err := e.ChatLog(ctx, "t01", "q2", Access{Actor: "a", Action: ActionPlayRecording}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("wrong action: %v", err)
	}
}

func TestChatLogXMLAndText(t *testing.T) {
	_, e := fixture(t)
	c, err := e.ChatLog(context.Background(), "t01", "q2", admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Messages) != 2 || c.Messages[0].Text != hostileText || c.Messages[1].From != "agent" {
		t.Fatalf("messages: %+v", c.Messages)
	}
	// Every kind of hostile text, in the message and the name.
	c.Messages = append(c.Messages, ChatMessage{At: time.Now(), From: "chatter", Name: sp("\x00\x1b]0;x\x07"),
		Text: "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>&e;"},
		ChatMessage{At: time.Now(), From: "system", Text: ""},
		ChatMessage{At: time.Now(), From: "chatter", Text: "bad\xff\xfeutf8 \xed\xa0\x80 surrogate"},
		ChatMessage{At: time.Now(), From: "agent", Text: strings.Repeat("🙂", 1000) + "\U0010FFFF\uD7FF\uE000"})
	var buf bytes.Buffer
	if err := c.WriteXML(&buf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	doc := filepath.Join(dir, "chatlog.xml")
	if err := os.WriteFile(doc, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	xsd, _ := filepath.Abs("../schema/chatlog.xsd")
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("xmllint not installed")
	}
	out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", xsd, doc).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s\n%s", err, out, buf.String())
	}
	// The text survives (what XML can carry), emoji included.
	got, err := exec.Command("xmllint", "--nonet", "--xpath", "string(//*[local-name()='message'][1]/*[local-name()='text'])", doc).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<b>&amp;</b> ]]>", "emoji 😀👍🏽", "' OR 1=1 --", "tab\tnl\n"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("xml text lost %q: %q", want, got)
		}
	}
	var text bytes.Buffer
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	s := text.String()
	if strings.ContainsAny(s, "\x00\x1b\x07\r") || !strings.Contains(s, "Åsa <Öberg> (chatter): <b>&amp;</b>") ||
		!strings.Contains(s, "Hej! Hur kan jag hjälpa?") || !strings.Contains(s, "emoji 😀👍🏽") {
		t.Errorf("text:\n%s", s)
	}
}

func TestViews(t *testing.T) {
	_, e := fixture(t)
	ctx := context.Background()
	for _, tenant := range []string{"t01", ""} {
		conn, err := e.SQL(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		var inq, chats, recs, surveys, aud int
		err = conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM inquiries), (SELECT count(*) FROM chatlogs),
			(SELECT count(*) FROM recordings), (SELECT count(*) FROM surveys), (SELECT count(*) FROM audit)`).
			Scan(&inq, &chats, &recs, &surveys, &aud)
		conn.Close()
		want := 7 // q1..q7, q4 collapsed
		if tenant == "" {
			want = 8
		}
		if err != nil || inq != want || chats != 1 || recs != 2 || surveys != 2 || aud != 0 {
			t.Errorf("tenant %q: %v %d %d %d %d %d", tenant, err, inq, chats, recs, surveys, aud)
		}
	}
	if _, err := e.SQL(ctx, "../x"); !errors.Is(err, ErrInvalidTenant) {
		t.Errorf("bad tenant: %v", err)
	}
	// The printable views work in a fresh DuckDB.
	if _, err := e.ChatLog(ctx, "t01", "q2", admin); err != nil {
		t.Fatal(err)
	}
	views, err := e.PrintableViews("t01")
	if err != nil {
		t.Fatal(err)
	}
	e2, err := Open(t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	for _, v := range views {
		if strings.HasPrefix(v, "--") {
			continue
		}
		if _, err := e2.db.ExecContext(ctx, v); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
	}
	var n, a int
	if err := e2.db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM inquiries), (SELECT count(*) FROM audit)").Scan(&n, &a); err != nil || n != 7 || a != 1 {
		t.Errorf("printed views: %d %d %v", n, a, err)
	}
}

// Hostile tenant and inquiry ids are inert at every entry point: refused
// or not found, and nothing is written anywhere.
func TestHostileIDsEverywhere(t *testing.T) {
	l, e := fixture(t)
	ctx := context.Background()
	outside := filepath.Dir(l.Dir)
	before, _ := os.ReadDir(outside)
	tenants := []string{"../x", "..", "t01/../t02", "t01' OR 1=1 --", "t01\x00", "*", "t0?", "T01", "t01 ", "/etc"}
	for _, tn := range tenants {
		if _, err := e.Search(ctx, tn, Filter{}, Page{}); !errors.Is(err, ErrInvalidTenant) {
			t.Errorf("search %q: %v", tn, err)
		}
		if _, err := e.Show(ctx, tn, "q1"); !errors.Is(err, ErrInvalidTenant) {
			t.Errorf("show %q: %v", tn, err)
		}
		if _, err := e.Recording(ctx, tn, "q1", "", admin); !errors.Is(err, ErrInvalidTenant) {
			t.Errorf("recording %q: %v", tn, err)
		}
		if _, err := e.ChatLog(ctx, tn, "q2", admin); !errors.Is(err, ErrInvalidTenant) {
			t.Errorf("chatlog %q: %v", tn, err)
		}
		if _, err := e.Audit(ctx, tn, AuditFilter{}); !errors.Is(err, ErrInvalidTenant) {
			t.Errorf("audit %q: %v", tn, err)
		}
		if _, err := e.Views(tn); !errors.Is(err, ErrInvalidTenant) {
			t.Errorf("views %q: %v", tn, err)
		}
	}
	inquiries := []string{"' OR 1=1 --", "q1' OR '1'='1", "../q1", "q1/../../x", "*", "q%", "q_", "", "q1\x00"}
	for _, id := range inquiries {
		if _, err := e.Show(ctx, "t01", id); !errors.Is(err, ErrNotFound) {
			t.Errorf("show %q: %v", id, err)
		}
		if _, err := e.Recording(ctx, "t01", id, "", admin); !errors.Is(err, ErrNotFound) {
			t.Errorf("recording %q: %v", id, err)
		}
		if _, err := e.ChatLog(ctx, "t01", id, admin); !errors.Is(err, ErrNotFound) {
			t.Errorf("chatlog %q: %v", id, err)
		}
		if rows, err := e.Audit(ctx, "t01", AuditFilter{InquiryID: id, Actor: id}); err != nil || len(rows) != 0 {
			t.Errorf("audit %q: %v %d", id, err, len(rows))
		}
	}
	// Hostile actor names are refused or recorded verbatim as data.
	if _, err := e.ChatLog(ctx, "t01", "q2", Access{Actor: "x\n{\"actor\":\"forged\"}"}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("actor with newline: %v", err)
	}
	if _, err := e.ChatLog(ctx, "t01", "q2", Access{Actor: "' OR 1=1 --\",\"actor_kind\":\"support"}); err != nil {
		t.Fatal(err)
	}
	rows, _ := e.Audit(ctx, "t01", AuditFilter{})
	if len(rows) != 1 || rows[0].ActorKind != "admin" || rows[0].Actor != "' OR 1=1 --\",\"actor_kind\":\"support" {
		t.Errorf("audit rows %+v", rows)
	}
	if _, err := os.Stat(filepath.Join(l.Dir, "audit", "tenant=..")); err == nil {
		t.Error("a folder was made from a hostile tenant")
	}
	after, _ := os.ReadDir(outside)
	if len(after) != len(before) {
		t.Errorf("files appeared next to the lake: %d -> %d", len(before), len(after))
	}
}
