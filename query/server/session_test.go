package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// signIn posts a token to /session and returns the session cookie and the
// answer.
func (e *env) signIn(body string) (reply, *http.Cookie, SessionInfo) {
	e.t.Helper()
	r := e.do(call{method: "POST", path: "/session", body: body})
	var info SessionInfo
	var cookie *http.Cookie
	if r.status == 200 {
		if err := json.Unmarshal(r.body, &info); err != nil {
			e.t.Fatal(err)
		}
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == SessionCookie {
				cookie = c
			}
		}
	}
	return r, cookie, info
}

func TestWebPageHeaders(t *testing.T) {
	e := newEnv(t)
	for path, ctype := range map[string]string{"/": "text/html", "/app.js": "text/javascript", "/app.css": "text/css"} {
		r := e.do(call{method: "GET", path: path})
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %s", path, r.status, r.header.Get("Content-Type"))
		}
		csp := r.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self'") ||
			strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
	}
	// The page has no inline script or style, and loads nothing from
	// elsewhere.
	page := string(e.do(call{method: "GET", path: "/"}).body)
	for _, bad := range []string{"<script>", "style=", "onclick", "http://", "https://", "innerHTML"} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html holds %q", bad)
		}
	}
	// The SVG namespace is a name, not an address.
	js := strings.ReplaceAll(string(e.do(call{method: "GET", path: "/app.js"}).body), "'http://www.w3.org/2000/svg'", "")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "http://", "https://"} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %q", bad)
		}
	}
	if r := e.do(call{method: "GET", path: "/nope.js"}); r.status != 404 {
		t.Errorf("/nope.js: %d", r.status)
	}
	if r := e.do(call{method: "GET", path: "/?x=1"}); r.status != 400 {
		t.Errorf("/?x=1: %d", r.status)
	}
}

func TestSession(t *testing.T) {
	e := newEnv(t)
	// A wrong token, no token, a form post: refused.
	for _, body := range []string{`{"token":"arkiv_nope"}`, `{"token":""}`, `{}`} {
		if r, _, _ := e.signIn(body); r.status != 401 {
			t.Errorf("sign in with %s: %d %s", body, r.status, r.body)
		}
	}
	if r := e.do(call{method: "POST", path: "/session", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}); r.status != 415 {
		t.Errorf("form sign-in: %d", r.status)
	}
	r, c, info := e.signIn(`{"token":"` + secretOf("t01-viewer") + `"}`)
	if r.status != 200 || c == nil {
		t.Fatalf("sign in: %d %s", r.status, r.body)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/" {
		t.Errorf("cookie %+v", c)
	}
	if info.Tenant != "t01" || info.TokenName != "t01-viewer" || len(info.CSRFToken) < 40 || len(info.Roles) != 1 {
		t.Errorf("session info %+v", info)
	}
	if strings.Contains(string(r.body), secretOf("t01-viewer")) || strings.Contains(e.logs.String(), secretOf("t01-viewer")) {
		t.Error("the token is echoed or logged")
	}
	cookie := SessionCookie + "=" + c.Value
	// The cookie stands in for the bearer token, with the token's roles.
	if r := e.do(call{method: "GET", path: "/api/v1/search?number=0701112233", header: map[string]string{"Cookie": cookie}}); r.status != 200 ||
		!strings.Contains(string(r.body), `"q1"`) {
		t.Errorf("search with the cookie: %d %s", r.status, r.body)
	}
	if r := e.do(call{method: "GET", path: "/api/v1/audit", header: map[string]string{"Cookie": cookie}}); r.status != 403 {
		t.Errorf("audit with a viewer session: %d", r.status)
	}
	if r := e.do(call{method: "GET", path: "/session", header: map[string]string{"Cookie": cookie}}); r.status != 200 ||
		!strings.Contains(string(r.body), info.CSRFToken) {
		t.Errorf("GET /session: %d %s", r.status, r.body)
	}
	// A state change needs the session's CSRF token and the same origin.
	xlsx := call{method: "POST", path: "/api/v1/exports/xlsx", body: `{"inquiry_ids":["q1"]}`}
	for name, h := range map[string]map[string]string{
		"no csrf":     {"Cookie": cookie},
		"wrong csrf":  {"Cookie": cookie, HeaderCSRF: "x" + info.CSRFToken},
		"cross-site":  {"Cookie": cookie, HeaderCSRF: info.CSRFToken, "Sec-Fetch-Site": "cross-site"},
		"other place": {"Cookie": cookie, HeaderCSRF: info.CSRFToken, "Origin": "https://evil.example"},
	} {
		c := xlsx
		c.header = h
		if r := e.do(c); r.status != 403 || errorCode(r) != CodeCSRF {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	ok := xlsx
	ok.header = map[string]string{"Cookie": cookie, HeaderCSRF: info.CSRFToken, "Sec-Fetch-Site": "same-origin"}
	if r := e.do(ok); r.status != 200 {
		t.Errorf("xlsx with the CSRF token: %d %s", r.status, r.body)
	}
	// Another session's CSRF token does not fit.
	_, c2, _ := e.signIn(`{"token":"` + secretOf("t01-all") + `"}`)
	ok.header = map[string]string{"Cookie": SessionCookie + "=" + c2.Value, HeaderCSRF: info.CSRFToken}
	if r := e.do(ok); r.status != 403 {
		t.Errorf("CSRF token of another session: %d", r.status)
	}
	// A bearer token wins over a cookie: no CSRF token needed.
	if r := e.do(call{method: "POST", path: "/api/v1/exports/xlsx", body: `{"inquiry_ids":["q1"]}`, token: "t01-viewer",
		header: map[string]string{"Cookie": cookie}}); r.status != 200 {
		t.Errorf("bearer with a cookie: %d", r.status)
	}
	// Sign out: the cookie no longer works.
	if r := e.do(call{method: "POST", path: "/session/logout", header: map[string]string{"Cookie": cookie}}); r.status != 403 {
		t.Errorf("logout without CSRF: %d", r.status)
	}
	if r := e.do(call{method: "POST", path: "/session/logout", header: map[string]string{"Cookie": cookie, HeaderCSRF: info.CSRFToken}}); r.status != 204 {
		t.Errorf("logout: %d %s", r.status, r.body)
	}
	if r := e.do(call{method: "GET", path: "/api/v1/search", header: map[string]string{"Cookie": cookie}}); r.status != 401 {
		t.Errorf("search after logout: %d", r.status)
	}
	if r := e.do(call{method: "GET", path: "/session", header: map[string]string{"Cookie": "arkiv_session=forged"}}); r.status != 401 {
		t.Errorf("forged cookie: %d", r.status)
	}
}

func TestSupportSession(t *testing.T) {
	e := newEnv(t)
	tok := secretOf("support-all")
	for _, body := range []string{`{"token":"` + tok + `"}`, `{"token":"` + tok + `","tenant":"t01"}`,
		`{"token":"` + tok + `","tenant":"../x","reason":"r"}`} {
		if r, _, _ := e.signIn(body); r.status != 400 || errorCode(r) != CodeSupportContextRequired {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
	if r, _, _ := e.signIn(`{"token":"` + secretOf("t01-all") + `","tenant":"t02"}`); r.status != 403 {
		t.Errorf("tenant token naming another tenant: %d", r.status)
	}
	r, c, info := e.signIn(`{"token":"` + tok + `","tenant":"t01","reason":"ticket 4711"}`)
	if r.status != 200 || !info.Support || info.Tenant != "t01" {
		t.Fatalf("support sign in: %d %s", r.status, r.body)
	}
	before := len(e.audit("t01"))
	if r := e.do(call{method: "GET", path: "/api/v1/inquiries/q2/chatlog", header: map[string]string{"Cookie": SessionCookie + "=" + c.Value}}); r.status != 200 {
		t.Fatalf("chat log: %d %s", r.status, r.body)
	}
	rows := e.audit("t01")[before:]
	if len(rows) != 1 || rows[0].Actor != "support:support-all reason: ticket 4711" {
		t.Errorf("audit %+v", rows)
	}
}
