package server

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arkiv-project/arkiv/schema"
)

// TestHostileInput: path tricks, SQL text, huge values, bad Range headers
// and bad UTF-8 on every parameter get a clean 4xx (a JSON error body),
// never a 5xx, and no personal data reaches the log.
func TestHostileInput(t *testing.T) {
	e := newEnv(t)
	huge := strings.Repeat("9", 5000)
	sql := "%27%20OR%201%3D1%3B%20DROP%20TABLE%20inquiries%3B%20--"
	badUTF8 := "%FF%FE%C0%AF"
	type tc struct {
		name  string
		c     call
		codes []string // "" = any 4xx
	}
	var cases []tc
	add := func(name string, c call, codes ...string) {
		if c.token == "" {
			c.token = "t01-all"
		}
		cases = append(cases, tc{name, c, codes})
	}
	get := func(p string) call { return call{method: "GET", path: p} }
	post := func(p, body string) call { return call{method: "POST", path: p, body: body} }
	// Path tricks.
	for _, p := range []string{
		"/api/v1/inquiries/../../../etc/passwd",
		"/api/v1/inquiries/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		"/api/v1/inquiries/q1%2F..%2F..%2Fx/recording",
		"/api/v1//search",
		"/api/v1/inquiries/./q1",
		"/api/v1/inquiries/q1%00/chatlog",
		"/api/v1/inquiries/" + huge,
		"/api/v1/inquiries/" + huge + "/recording",
		"/api/v1/inquiries/" + sql + "/chatlog",
		"/api/v1/inquiries/" + badUTF8,
		"/api/v1/inquiries/q1/recording/../../../../../../etc/passwd",
		"/api/v1/nothing",
		"/api/v1/inquiries/tenant=t02",
	} {
		add("path "+p[:min(len(p), 60)], get(p))
	}
	add("wrong method", call{method: "DELETE", path: "/api/v1/inquiries/q1"}, CodeMethodNotAllowed)
	add("post on get", post("/api/v1/search", `{}`), CodeMethodNotAllowed)
	add("query too long", get("/api/v1/search?name="+strings.Repeat("a", 9000)), CodeBadPath)
	// Every search parameter with SQL text (where it is not plain text),
	// huge values and bad UTF-8.
	for _, p := range append(filterParams, "limit", "cursor") {
		add("search "+p+" huge", get("/api/v1/search?"+p+"="+huge), CodeInvalidParameter)
		add("search "+p+" bad utf8", get("/api/v1/search?"+p+"="+badUTF8), CodeInvalidParameter)
		switch p {
		case "name", "email", "queue", "agent", "session": // text: a search for it, no result
		default:
			add("search "+p+" sql", get("/api/v1/search?"+p+"="+sql))
		}
	}
	add("search twice", get("/api/v1/search?number=1&number=2"), CodeInvalidParameter)
	add("search unknown", get("/api/v1/search?tenant=t02"), CodeUnknownParameter)
	add("search limit 0", get("/api/v1/search?limit=0"), CodeInvalidParameter)
	add("search limit big", get("/api/v1/search?limit=99999999999999999999"), CodeInvalidParameter)
	add("search score", get("/api/v1/search?min_score=-1"), CodeInvalidParameter)
	add("search from year", get("/api/v1/search?from=99999-01-01"), CodeInvalidParameter)
	add("search cursor", get("/api/v1/search?cursor=eyJ0IjoxLCJpIjoiIn0"), CodeBadRequest)
	add("search media", get("/api/v1/search?media=phone'--"), CodeInvalidParameter)
	add("show param", get("/api/v1/inquiries/q1?x=1"), CodeUnknownParameter)
	// Recording parameters and Range headers.
	add("rec id sql", get("/api/v1/inquiries/q1/recording?recording_id="+sql), CodeNotFound)
	add("rec id huge", get("/api/v1/inquiries/q1/recording?recording_id="+huge), CodeInvalidParameter)
	add("rec id utf8", get("/api/v1/inquiries/q1/recording?recording_id="+badUTF8), CodeInvalidParameter)
	add("rec download", get("/api/v1/inquiries/q1/recording?download=yes%27"), CodeInvalidParameter)
	for _, rg := range []string{"bytes=abc", "bytes=5-1", "items=0-1", "bytes=-", "bytes=" + strings.Repeat("0-1,", 20) + "0-1",
		"bytes=99999999999999999999-", "bytes=0-1\xff", "bytes=" + strings.Repeat("1", 300) + "-"} {
		c := get("/api/v1/inquiries/q1/recording")
		c.header = map[string]string{"Range": rg}
		add("range "+rg[:min(len(rg), 30)], c, CodeRangeNotSatisfiable)
	}
	// Chat log format.
	add("chat format", get("/api/v1/inquiries/q2/chatlog?format=../../etc/passwd"), CodeInvalidParameter)
	add("chat format utf8", get("/api/v1/inquiries/q2/chatlog?format="+badUTF8), CodeInvalidParameter)
	// Bodies.
	for _, p := range []string{"/api/v1/exports/xlsx", "/api/v1/exports/recordings", "/api/v1/content/delete", "/api/v1/anonymise"} {
		add("body malformed "+p, post(p, `{"inquiry_ids": [`))
		add("body type "+p, post(p, `{"inquiry_ids": "q1", "numbers": 7}`))
		add("body unknown "+p, post(p, `{"tenant": "t02"}`))
		add("body two values "+p, post(p, `{} {}`))
		add("body huge "+p, post(p, `{"inquiry_ids": ["`+strings.Repeat("a", 3<<20)+`"]}`))
		c := post(p, `{"inquiry_ids": ["q1"]}`)
		c.header = map[string]string{"Content-Type": "text/plain"}
		add("body content type "+p, c)
	}
	many := `{"inquiry_ids": ["q1"` + strings.Repeat(`,"q1"`, MaxInquiryIDs) + `], "what": "both"}`
	add("delete too many", post("/api/v1/content/delete", many), CodeInvalidParameter)
	add("delete what", post("/api/v1/content/delete", `{"inquiry_ids": ["q1"], "what": "everything"}`), CodeInvalidParameter)
	add("delete no ids", post("/api/v1/content/delete", `{"inquiry_ids": [], "what": "both"}`), CodeInvalidParameter)
	add("delete sql id", post("/api/v1/content/delete", `{"inquiry_ids": ["q1' OR 1=1 --"], "what": "both"}`), CodeNotFound)
	add("delete path id", post("/api/v1/content/delete", `{"inquiry_ids": ["../../etc"], "what": "both"}`), CodeNotFound)
	add("zip ids and filter", post("/api/v1/exports/recordings", `{"inquiry_ids": ["q1"], "number": "1"}`), CodeInvalidParameter)
	add("xlsx bad number", post("/api/v1/exports/xlsx", `{"number": "`+strings.Repeat("1", 2000)+`"}`), CodeInvalidParameter)
	add("xlsx sql number", post("/api/v1/exports/xlsx", `{"number": "1' OR '1'='1"}`), CodeBadRequest)
	add("xlsx bad utf8 json", post("/api/v1/exports/xlsx", "{\"from\": \"\xff\xfe\"}"), CodeInvalidParameter)
	// Audit parameters.
	add("audit unknown", get("/api/v1/audit?tenant=t02"), CodeUnknownParameter)
	add("audit from", get("/api/v1/audit?from="+sql), CodeInvalidParameter)
	add("audit huge", get("/api/v1/audit?actor="+huge), CodeInvalidParameter)
	add("audit utf8", get("/api/v1/audit?inquiry="+badUTF8), CodeInvalidParameter)
	add("retention param", get("/api/v1/retention/preview?tenant=t02"), CodeUnknownParameter)
	// Headers.
	for name, h := range map[string]map[string]string{
		"auth scheme":    {"Authorization": "Basic " + secretOf("t01-all")},
		"auth huge":      {"Authorization": "Bearer " + huge},
		"support tenant": {"Authorization": "Bearer " + secretOf("support-all"), HeaderTenant: "../t02", HeaderReason: "x"},
		"support none":   {"Authorization": "Bearer " + secretOf("support-all")},
		"support reason": {"Authorization": "Bearer " + secretOf("support-all"), HeaderTenant: "t01", HeaderReason: "a\tb"},
		"support utf8":   {"Authorization": "Bearer " + secretOf("support-all"), HeaderTenant: "t01", HeaderReason: "\xff\xfe"},
		"support long":   {"Authorization": "Bearer " + secretOf("support-all"), HeaderTenant: "t01", HeaderReason: strings.Repeat("x", 300)},
	} {
		c := get("/api/v1/search")
		c.token = "-"
		c.header = h
		add("header "+name, c)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := c.c
			if cl.token == "-" {
				cl.token = ""
			}
			r := e.do(cl)
			if r.status < 400 || r.status >= 500 {
				if len(c.codes) == 0 && r.status == 200 && strings.Contains(c.name, "sql") {
					return // SQL text searched for as text: no match
				}
				t.Fatalf("status %d: %.300s", r.status, r.body)
			}
			checkErrorBody(t, r)
			if len(c.codes) > 0 && errorCode(r) != c.codes[0] {
				t.Errorf("code %q, want %q: %s", errorCode(r), c.codes[0], r.body)
			}
		})
	}
	// Searching hostile text finds nothing and breaks nothing.
	r := e.do(call{method: "GET", path: "/api/v1/search?name=" + sql + "&email=" + sql + "&queue=" + sql, token: "t01-all"})
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"results":[]`)) {
		t.Errorf("SQL text search: %d %s", r.status, r.body)
	}
	// Personal data: the searches above used the fixture's number, name
	// and chat text; none of it may be in the log.
	for _, q := range []string{"/api/v1/search?number=" + strings.ReplaceAll(secretNumber, "+", "%2B"),
		"/api/v1/search?name=" + strings.ReplaceAll(secretName, " ", "%20"), "/api/v1/search?email=" + secretEmail,
		"/api/v1/search?number=" + strings.ReplaceAll(secretNumber, "+", "%2B") + "x"} {
		e.do(call{method: "GET", path: q, token: "t01-all"})
	}
	e.do(call{method: "GET", path: "/api/v1/inquiries/q2/chatlog", token: "t01-all"})
	logs := e.logs.String()
	for _, secret := range []string{secretNumber, "0701112233", "701112233", secretName, "Öberg", secretEmail, secretChat, "19121212",
		"DROP TABLE", secretOf("t01-all"), "ticket 4711"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
	if !strings.Contains(logs, `"route":"GET /api/v1/search"`) {
		t.Errorf("no access log lines")
	}
}

// TestAuditFailsClosed: when the audit entry cannot be written, no
// content byte is served and nothing is deleted.
func TestAuditFailsClosed(t *testing.T) {
	e := newEnv(t)
	// A file where t01's audit folders go: every append fails.
	p := filepath.Join(e.lake.Dir, schema.DatasetAudit, "tenant=t01")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []call{
		{method: "GET", path: "/api/v1/inquiries/q1/recording"},
		{method: "GET", path: "/api/v1/inquiries/q1/recording", header: map[string]string{"Range": "bytes=0-9"}},
		{method: "GET", path: "/api/v1/inquiries/q2/chatlog?format=xml"},
		{method: "GET", path: "/api/v1/inquiries/q2/chatlog?format=text"},
		{method: "POST", path: "/api/v1/exports/recordings", body: `{"inquiry_ids":["q1","q3"]}`},
		{method: "POST", path: "/api/v1/content/delete", body: `{"inquiry_ids":["q1","q2"],"what":"both"}`},
	} {
		c.token = "t01-all"
		r := e.do(c)
		if r.status != http.StatusServiceUnavailable || errorCode(r) != CodeAuditUnavailable {
			t.Errorf("%s %s: %d %.200q", c.method, c.path, r.status, r.body)
		}
		if bytes.Contains(r.body, []byte("frame-data")) || bytes.Contains(r.body, []byte("Hej!")) {
			t.Errorf("%s %s: content served without an audit entry", c.method, c.path)
		}
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	// Nothing was deleted.
	r := e.do(call{method: "GET", path: "/api/v1/inquiries/q2/chatlog", token: "t01-all"})
	if r.status != 200 {
		t.Errorf("chat log after a refused delete: %d", r.status)
	}
}
