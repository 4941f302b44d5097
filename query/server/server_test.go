package server

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
)

// endpoint is one API route as the matrix calls it, on inquiries of t01.
type endpoint struct {
	name         string
	method, path string
	body         string
	role         config.Role
	ok           int // status for a token with the role
	other        int // status for a token of tenant t02 with every role
}

var endpoints = []endpoint{
	{"search", "GET", "/api/v1/search?number=070-111%2022%2033", "", config.RoleViewer, 200, 200},
	{"show", "GET", "/api/v1/inquiries/q1", "", config.RoleViewer, 200, 404},
	{"recording", "GET", "/api/v1/inquiries/q1/recording", "", config.RoleContent, 200, 404},
	{"chatlog", "GET", "/api/v1/inquiries/q2/chatlog?format=json", "", config.RoleContent, 200, 404},
	{"xlsx", "POST", "/api/v1/exports/xlsx", `{"inquiry_ids":["q1"]}`, config.RoleViewer, 200, 200},
	{"zip", "POST", "/api/v1/exports/recordings", `{"inquiry_ids":["q3"]}`, config.RoleContent, 200, 200},
	{"delete", "POST", "/api/v1/content/delete", `{"inquiry_ids":["q4"],"what":"both"}`, config.RoleContentDelete, 200, 404},
	{"anonymise", "POST", "/api/v1/anonymise", `{"numbers":["+46700000000"]}`, config.RolePrivacy, 200, 200},
	{"audit", "GET", "/api/v1/audit?inquiry=q1", "", config.RoleAudit, 200, 200},
	{"retention", "GET", "/api/v1/retention/preview", "", config.RoleViewer, 200, 200},
}

// TestAuthorisationMatrix calls every endpoint with every role, a token of
// another tenant, a support token, an unknown token and no token.
func TestAuthorisationMatrix(t *testing.T) {
	e := newEnv(t)
	tokens := []string{"", "bogus", "t01-viewer", "t01-content", "t01-content-delete", "t01-privacy",
		"t01-audit", "t02-all", "support-all"}
	for _, ep := range endpoints {
		for _, tok := range tokens {
			want := 0
			switch {
			case tok == "" || tok == "bogus":
				want = http.StatusUnauthorized
			case tok == "t02-all":
				want = ep.other
			case slices.Contains(roleTokens[tok], ep.role):
				want = ep.ok
			default:
				want = http.StatusForbidden
			}
			name := tok
			if name == "" {
				name = "no-token"
			}
			t.Run(ep.name+"/"+name, func(t *testing.T) {
				c := call{method: ep.method, path: ep.path, body: ep.body, token: tok}
				if tok == "bogus" {
					c.token = ""
					c.header = map[string]string{"Authorization": "Bearer arkiv_bogus"}
				}
				r := e.do(c)
				if r.status != want {
					t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
				}
				if r.status >= 400 {
					checkErrorBody(t, r)
				}
				if tok == "t02-all" && r.status == 200 {
					// Nothing of t01 in t02's answers.
					for _, id := range []string{`"q1"`, `"q2"`, `"q3"`, "q1/", "q3/"} {
						if bytes.Contains(r.body, []byte(id)) {
							t.Errorf("t02 sees %s of t01: %.300s", id, r.body)
						}
					}
				}
			})
		}
	}
	t.Run("openapi without token", func(t *testing.T) {
		r := e.do(call{method: "GET", path: "/api/v1/openapi.json"})
		if r.status != 200 || !json.Valid(r.body) {
			t.Fatalf("status %d", r.status)
		}
	})
}

func checkErrorBody(t *testing.T, r reply) {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("status %d: not an error body: %q", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q", ct)
	}
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}

func errorCode(r reply) string {
	var b errorBody
	_ = json.Unmarshal(r.body, &b)
	return b.Error.Code
}

// TestOtherTenantLooksAbsent: an id of t02 answers, to t01, byte for byte
// what an id that exists nowhere does.
func TestOtherTenantLooksAbsent(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/api/v1/inquiries/%s", "/api/v1/inquiries/%s/recording", "/api/v1/inquiries/%s/chatlog"} {
		other := e.do(call{method: "GET", path: strings.Replace(p, "%s", "x1", 1), token: "t01-all"})
		other2 := e.do(call{method: "GET", path: strings.Replace(p, "%s", "x2", 1), token: "t01-all"})
		none := e.do(call{method: "GET", path: strings.Replace(p, "%s", "nope", 1), token: "t01-all"})
		if other.status != 404 || none.status != 404 || !bytes.Equal(other.body, none.body) || !bytes.Equal(other2.body, none.body) {
			t.Errorf("%s: other tenant %d %q, other2 %d %q, absent %d %q", p, other.status, other.body,
				other2.status, other2.body, none.status, none.body)
		}
	}
	del := e.do(call{method: "POST", path: "/api/v1/content/delete", token: "t01-all", body: `{"inquiry_ids":["x2"],"what":"chatlog"}`})
	delNone := e.do(call{method: "POST", path: "/api/v1/content/delete", token: "t01-all", body: `{"inquiry_ids":["nope"],"what":"chatlog"}`})
	if del.status != 404 || !bytes.Equal(del.body, delNone.body) {
		t.Errorf("delete of t02's id: %d %q vs %q", del.status, del.body, delNone.body)
	}
	// t02's chat log is still there, and nothing of it was audited in t01.
	if r := e.do(call{method: "GET", path: "/api/v1/inquiries/x2/chatlog", token: "t02-all"}); r.status != 200 {
		t.Errorf("t02 chat log after t01's delete attempt: %d", r.status)
	}
	if n := len(e.audit("t01")); n != 0 {
		t.Errorf("t01 audit has %d entries", n)
	}
	// A tenant token naming another tenant in the header is refused.
	r := e.do(call{method: "GET", path: "/api/v1/search", token: "t01-all", header: map[string]string{HeaderTenant: "t02"}})
	if r.status != 403 || errorCode(r) != CodeWrongTenant {
		t.Errorf("t01 token with X-Arkiv-Tenant t02: %d %s", r.status, r.body)
	}
}

func TestSearchAndShow(t *testing.T) {
	e := newEnv(t)
	r := e.do(call{method: "GET", path: "/api/v1/search?number=%2B46%2070-111%2022%2033", token: "t01-viewer"})
	var res SearchResponse
	if err := json.Unmarshal(r.body, &res); err != nil || r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if len(res.Results) != 1 || res.Results[0].InquiryID != "q1" || !res.Results[0].HasRecording {
		t.Fatalf("results %+v", res.Results)
	}
	// Paging: every inquiry of t01, one per page.
	var ids []string
	cursor := ""
	for range 10 {
		r := e.do(call{method: "GET", path: "/api/v1/search?limit=1&cursor=" + cursor, token: "t01-viewer"})
		var page SearchResponse
		if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		for _, q := range page.Results {
			ids = append(ids, q.InquiryID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(ids, []string{"q1", "q2", "q4", "q3"}) {
		t.Errorf("pages: %v", ids)
	}
	r = e.do(call{method: "GET", path: "/api/v1/inquiries/q1", token: "t01-viewer"})
	var d query.Detail
	if err := json.Unmarshal(r.body, &d); err != nil || d.InquiryID != "q1" || len(d.Recordings) != 1 || !d.Recordings[0].Available {
		t.Fatalf("show: %d %s", r.status, r.body)
	}
}

// TestContentIsAudited: every content endpoint writes one audit entry per
// inquiry (and kind), with the token's name and the request id.
func TestContentIsAudited(t *testing.T) {
	e := newEnv(t)
	type want struct {
		inquiry string
		action  query.Action
	}
	for _, tc := range []struct {
		name  string
		c     call
		check func(t *testing.T, r reply)
		want  []want
	}{
		{"play", call{method: "GET", path: "/api/v1/inquiries/q1/recording"}, func(t *testing.T, r reply) {
			if !bytes.Equal(r.body, mp3) || r.header.Get("Content-Type") != "audio/mpeg" {
				t.Errorf("recording: %d bytes, %s", len(r.body), r.header.Get("Content-Type"))
			}
		}, []want{{"q1", query.ActionPlayRecording}}},
		{"range", call{method: "GET", path: "/api/v1/inquiries/q1/recording", header: map[string]string{"Range": "bytes=10-19"}},
			func(t *testing.T, r reply) {
				if r.status != http.StatusPartialContent || !bytes.Equal(r.body, mp3[10:20]) {
					t.Errorf("range: %d %q", r.status, r.body)
				}
			}, []want{{"q1", query.ActionPlayRecording}}},
		{"download", call{method: "GET", path: "/api/v1/inquiries/q1/recording?download=true"}, func(t *testing.T, r reply) {
			if !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
				t.Errorf("disposition %q", r.header.Get("Content-Disposition"))
			}
		}, []want{{"q1", query.ActionDownloadRecording}}},
		{"chat json", call{method: "GET", path: "/api/v1/inquiries/q2/chatlog"}, func(t *testing.T, r reply) {
			var cl query.ChatLog
			if err := json.Unmarshal(r.body, &cl); err != nil || len(cl.Messages) != 2 || cl.Messages[0].Text != secretChat {
				t.Errorf("chat log: %s", r.body)
			}
		}, []want{{"q2", query.ActionViewChatlog}}},
		{"chat xml", call{method: "GET", path: "/api/v1/inquiries/q2/chatlog?format=xml"}, func(t *testing.T, r reply) {
			if !bytes.Contains(r.body, []byte(`<chatlog xmlns="urn:arkiv:chatlog:1"`)) {
				t.Errorf("xml: %s", r.body)
			}
		}, []want{{"q2", query.ActionDownloadChatlog}}},
		{"chat text", call{method: "GET", path: "/api/v1/inquiries/q2/chatlog?format=text"}, func(t *testing.T, r reply) {
			if !bytes.Contains(r.body, []byte("Hej! Hur kan jag hjälpa?")) {
				t.Errorf("text: %s", r.body)
			}
		}, []want{{"q2", query.ActionCopyChatlog}}},
		{"zip by ids", call{method: "POST", path: "/api/v1/exports/recordings", body: `{"inquiry_ids":["q1","q3","q2"]}`},
			func(t *testing.T, r reply) { checkZip(t, r, "q1/r1.mp3", "q3/r3.mp3") },
			[]want{{"q1", query.ActionDownloadRecording}, {"q3", query.ActionDownloadRecording}}},
		{"zip by filter", call{method: "POST", path: "/api/v1/exports/recordings", body: `{"media":"phone"}`},
			func(t *testing.T, r reply) { checkZip(t, r, "q1/r1.mp3", "q3/r3.mp3") },
			[]want{{"q1", query.ActionDownloadRecording}, {"q3", query.ActionDownloadRecording}}},
		{"bulk delete", call{method: "POST", path: "/api/v1/content/delete", body: `{"inquiry_ids":["q3","q2"],"what":"both"}`},
			func(t *testing.T, r reply) {
				var rep query.DeleteReport
				if err := json.Unmarshal(r.body, &rep); err != nil || rep.Inquiries != 2 || rep.MediaObjects != 1 {
					t.Errorf("delete: %s", r.body)
				}
			}, []want{{"q2", query.ActionDeleteChatlog}, {"q2", query.ActionDeleteRecording},
				{"q3", query.ActionDeleteChatlog}, {"q3", query.ActionDeleteRecording}}},
	} {
		for _, tok := range []string{"t01-all", "support-all"} {
			t.Run(tc.name+"/"+tok, func(t *testing.T) {
				if tc.name == "bulk delete" && tok == "support-all" {
					t.Skip("the content is gone after the first run")
				}
				before := len(e.audit("t01"))
				c := tc.c
				c.token = tok
				c.header = map[string]string{"X-Request-Id": "req-" + strings.ReplaceAll(tc.name, " ", "-")}
				for k, v := range tc.c.header {
					c.header[k] = v
				}
				r := e.do(c)
				if r.status >= 300 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				tc.check(t, r)
				rows := e.audit("t01")[before:]
				var got []want
				for _, row := range rows {
					got = append(got, want{row.InquiryID, query.Action(row.Action)})
					if row.RequestID != c.header["X-Request-Id"] {
						t.Errorf("request id %q", row.RequestID)
					}
					wantKind, wantActor := schema.ActorAdmin, "t01-all"
					if tok == "support-all" {
						wantKind, wantActor = schema.ActorSupport, "support:support-all reason: ticket 4711"
					}
					if row.ActorKind != wantKind || row.Actor != wantActor {
						t.Errorf("actor %q kind %q", row.Actor, row.ActorKind)
					}
				}
				slices.SortFunc(got, func(a, b want) int { return strings.Compare(a.inquiry+string(a.action), b.inquiry+string(b.action)) })
				if !slices.Equal(got, tc.want) {
					t.Errorf("audit entries %v, want %v", got, tc.want)
				}
			})
		}
	}
	// The audit role reads them back through the API.
	r := e.do(call{method: "GET", path: "/api/v1/audit?inquiry=q1", token: "t01-audit"})
	var a struct{ Entries []schema.AuditRow }
	if err := json.Unmarshal(r.body, &a); err != nil || len(a.Entries) == 0 {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	for _, row := range a.Entries {
		if row.InquiryID != "q1" || row.Tenant != "t01" {
			t.Errorf("audit row %+v", row)
		}
	}
}

func checkZip(t *testing.T, r reply, names ...string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatalf("zip: %v (%d %.200q)", err, r.status, r.body)
	}
	var got []string
	for _, f := range zr.File {
		got = append(got, f.Name)
	}
	slices.Sort(got)
	if !slices.Equal(got, names) {
		t.Errorf("zip holds %v, want %v", got, names)
	}
}

// TestAnonymise: the privacy role forgets a person in its own tenant only,
// one audit entry per affected inquiry, and gets the receipt.
func TestAnonymise(t *testing.T) {
	e := newEnv(t)
	r := e.do(call{method: "POST", path: "/api/v1/anonymise", token: "t01-privacy",
		body: `{"numbers":["070-111 22 33"],"emails":[],"delete_content":false}`})
	var rc query.Receipt
	if err := json.Unmarshal(r.body, &rc); err != nil || r.status != 200 || rc.Inquiries != 1 || rc.Tenant != "t01" {
		t.Fatalf("anonymise: %d %s", r.status, r.body)
	}
	if bytes.Contains(r.body, []byte("701112233")) {
		t.Errorf("the receipt holds the number: %s", r.body)
	}
	var got []string
	for _, row := range e.audit("t01") {
		got = append(got, row.InquiryID+" "+row.Action)
	}
	if !slices.Equal(got, []string{"q1 " + string(query.ActionAnonymise)}) {
		t.Errorf("audit %v", got)
	}
	for tok, want := range map[string]string{"t01-viewer": `"results":[]`, "t02-all": `"x1"`} {
		r := e.do(call{method: "GET", path: "/api/v1/search?number=0701112233", token: tok})
		if r.status != 200 || !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("%s search after anonymise: %d %s", tok, r.status, r.body)
		}
	}
}
