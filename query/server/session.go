package server

// The web page: its embedded files, served at / with a strict Content
// Security Policy, and its sign-in. The page exchanges an API token for a
// session cookie (POST /session); the auth middleware accepts that cookie
// instead of Authorization: Bearer (see authenticate). A session is bound
// to the token's tenant (for a support token: the tenant and reason given
// at sign-in) and roles, and is kept in memory only: a restart signs
// everyone out.
//
// CSRF: the cookie is SameSite=Strict and HttpOnly, and every request
// that changes state and authenticates with the cookie must carry the
// session's CSRF token in X-CSRF-Token (the page learns it from the
// sign-in answer and from GET /session; a cross-site page cannot read
// either). Requests that change state are also checked by
// http.CrossOriginProtection (Sec-Fetch-Site / Origin).

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/schema"
)

// Session names and limits.
const (
	// SessionCookie holds the session id (HttpOnly, SameSite=Strict,
	// Secure when served over TLS).
	SessionCookie = "arkiv_session"
	// HeaderCSRF carries the session's CSRF token on every request that
	// changes state.
	HeaderCSRF = "X-CSRF-Token"
	// SessionIdle ends a session not used for this long.
	SessionIdle = 30 * time.Minute
	// SessionMax ends a session this long after sign-in.
	SessionMax = 8 * time.Hour
	// MaxSessions bounds the sessions held in memory.
	MaxSessions = 10_000
	// CodeCSRF answers a state change through a session without the
	// session's CSRF token, or from another site.
	CodeCSRF = "csrf_rejected"
)

// contentSecurityPolicy is the page's policy: its own files only, no
// inline script or style, no frames, no plugins.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

//go:embed web/index.html web/app.js web/app.css
var webFS embed.FS

type session struct {
	token   *config.Token
	tenant  string
	support bool
	reason  string
	csrf    string
	created time.Time
	seen    time.Time
}

type sessionStore struct {
	mu  sync.Mutex
	m   map[string]*session // by the SHA-256 of the cookie value
	cop *http.CrossOriginProtection
}

func newSessionStore() *sessionStore {
	return &sessionStore{m: map[string]*session{}, cop: http.NewCrossOriginProtection()}
}

// Patterns of the session endpoints.
const (
	patternSignIn      = "POST /session"
	patternSessionInfo = "GET /session"
	patternSignOut     = "POST /session/logout"
)

// webRoutes adds the page's files and the session endpoints.
func (s *Server) webRoutes() error {
	for _, pf := range []struct{ pattern, file string }{
		{"GET /{$}", "web/index.html"},
		{"GET /app.js", "web/app.js"},
		{"GET /app.css", "web/app.css"},
	} {
		pattern, file := pf.pattern, pf.file
		b, err := fs.ReadFile(webFS, file)
		if err != nil {
			return fmt.Errorf("server: %w", err)
		}
		ctype := "text/html; charset=utf-8"
		switch {
		case strings.HasSuffix(file, ".js"):
			ctype = "text/javascript; charset=utf-8"
		case strings.HasSuffix(file, ".css"):
			ctype = "text/css; charset=utf-8"
		}
		s.handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("Content-Type", ctype)
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if r.URL.RawQuery != "" {
				writeError(w, errorf(http.StatusBadRequest, CodeUnknownParameter, "the page takes no query parameters"))
				return
			}
			_, _ = w.Write(b)
		}))
	}
	s.handle(patternSignIn, http.HandlerFunc(s.signIn))
	s.handle(patternSessionInfo, http.HandlerFunc(s.sessionInfo))
	s.handle(patternSignOut, http.HandlerFunc(s.signOut))
	return nil
}

// SignInRequest is the body of POST /session.
type SignInRequest struct {
	Token string `json:"token"`
	// Tenant and Reason: only for a support token, as X-Arkiv-Tenant and
	// X-Arkiv-Reason; they hold for the whole session.
	Tenant string `json:"tenant,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// SessionInfo answers POST and GET /session.
type SessionInfo struct {
	TokenName string        `json:"token_name"`
	Tenant    string        `json:"tenant"`
	Support   bool          `json:"support"`
	Roles     []config.Role `json:"roles"`
	CSRFToken string        `json:"csrf_token"`
	ExpiresAt time.Time     `json:"expires_at"`
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	info := infoOf(r)
	fail := func(ae *apiError) {
		info.code = ae.code
		writeError(w, ae)
	}
	if err := s.sessions.cop.Check(r); err != nil {
		fail(errorf(http.StatusForbidden, CodeCSRF, "sign in from arkiv's own page"))
		return
	}
	var body SignInRequest
	if err := decodeBody(w, r, &body, false); err != nil {
		fail(classify(err))
		return
	}
	secret := strings.TrimSpace(body.Token)
	if secret == "" || len(secret) > 512 {
		fail(errUnauthenticated)
		return
	}
	tok := s.tokens[config.HashToken(secret)]
	if tok == nil {
		fail(errorf(http.StatusUnauthorized, CodeUnauthenticated,
			"this token is not in the configuration; paste a token made by arkiv token"))
		return
	}
	sess := &session{token: tok, tenant: tok.Tenant}
	reason := strings.TrimSpace(body.Reason)
	if !tok.Support {
		if body.Tenant != "" && body.Tenant != tok.Tenant {
			fail(errorf(http.StatusForbidden, CodeWrongTenant, "this token acts for one tenant only; leave the tenant empty"))
			return
		}
	} else {
		switch {
		case !schema.ValidTenantID(body.Tenant) || body.Tenant == config.DefaultsKey:
			fail(errorf(http.StatusBadRequest, CodeSupportContextRequired, "a support token must name the tenant (a tenant id)"))
			return
		case reason == "" || len(reason) > MaxReasonLen || !utf8.ValidString(reason) ||
			strings.IndexFunc(reason, unicode.IsControl) >= 0:
			fail(errorf(http.StatusBadRequest, CodeSupportContextRequired,
				"a support token must state why (1-200 characters, one line); it is audited"))
			return
		}
		sess.tenant, sess.support, sess.reason = body.Tenant, true, reason
	}
	id, csrf := randomToken(), randomToken()
	now := time.Now()
	sess.csrf, sess.created, sess.seen = csrf, now, now
	if !s.sessions.add(config.HashToken(id), sess, now) {
		fail(errorf(http.StatusServiceUnavailable, CodeTimeout, "too many sessions are open; try again in a few minutes"))
		return
	}
	info.token, info.tenant, info.support = tok.Name, sess.tenant, sess.support
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: int(SessionMax / time.Second)})
	_ = writeJSON(w, http.StatusOK, sess.info())
}

func (s *Server) sessionInfo(w http.ResponseWriter, r *http.Request) {
	sess, err := s.sessions.lookup(r)
	if err != nil {
		infoOf(r).code = err.code
		writeError(w, err)
		return
	}
	info := infoOf(r)
	info.token, info.tenant, info.support = sess.token.Name, sess.tenant, sess.support
	_ = writeJSON(w, http.StatusOK, sess.info())
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if _, ok, err := s.sessionPrincipal(r); !ok || err != nil {
		ae := errUnauthenticated
		if err != nil {
			ae = classify(err)
		}
		infoOf(r).code = ae.code
		writeError(w, ae)
		return
	}
	c, _ := r.Cookie(SessionCookie)
	s.sessions.remove(config.HashToken(c.Value))
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}

// sessionPrincipal authenticates a request by its session cookie: ok is
// false when it has none. A request that changes state must carry the
// session's CSRF token and come from the page's own origin.
func (s *Server) sessionPrincipal(r *http.Request) (p *principal, ok bool, err error) {
	if c, cerr := r.Cookie(SessionCookie); cerr != nil || c.Value == "" {
		return nil, false, nil
	}
	sess, ae := s.sessions.lookup(r)
	if ae != nil {
		return nil, true, ae
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		got := r.Header.Get(HeaderCSRF)
		if s.sessions.cop.Check(r) != nil || got == "" ||
			subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) != 1 {
			return nil, true, errorf(http.StatusForbidden, CodeCSRF,
				"the request lacks the session's "+HeaderCSRF+" header; reload the page and try again")
		}
	}
	return &principal{token: sess.token, tenant: sess.tenant, support: sess.support, reason: sess.reason}, true, nil
}

var errSessionGone = errorf(http.StatusUnauthorized, CodeUnauthenticated,
	"the session has ended or is unknown; sign in again with your token")

// lookup finds the request's live session and marks it used.
func (st *sessionStore) lookup(r *http.Request) (*session, *apiError) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, errSessionGone
	}
	key := config.HashToken(c.Value)
	now := time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	sess := st.m[key]
	if sess == nil {
		return nil, errSessionGone
	}
	if sess.expired(now) {
		delete(st.m, key)
		return nil, errSessionGone
	}
	sess.seen = now
	cp := *sess
	return &cp, nil
}

func (st *sessionStore) add(key string, sess *session, now time.Time) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.m) >= MaxSessions {
		for k, v := range st.m {
			if v.expired(now) {
				delete(st.m, k)
			}
		}
		if len(st.m) >= MaxSessions {
			return false
		}
	}
	st.m[key] = sess
	return true
}

// live counts the sessions that have not expired.
func (st *sessionStore) live() int {
	now := time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for _, sess := range st.m {
		if !sess.expired(now) {
			n++
		}
	}
	return n
}

func (st *sessionStore) remove(key string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.m, key)
}

func (sess *session) expired(now time.Time) bool {
	return now.Sub(sess.seen) > SessionIdle || now.Sub(sess.created) > SessionMax
}

func (sess *session) info() SessionInfo {
	roles := sess.token.Roles
	if roles == nil {
		roles = []config.Role{}
	}
	return SessionInfo{TokenName: sess.token.Name, Tenant: sess.tenant, Support: sess.support, Roles: roles,
		CSRFToken: sess.csrf, ExpiresAt: sess.created.Add(SessionMax).UTC()}
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
