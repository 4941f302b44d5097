// Package server is arkiv's HTTP API (and later its web page) over the
// query package: net/http with method patterns under /api/v1, described by
// openapi.json (embedded, served at /api/v1/openapi.json).
//
// Every request but the OpenAPI document is authenticated with a bearer
// token from the configuration (stored there as a SHA-256 hash). A token
// acts for one tenant, taken from the token and never from the request;
// a support token names the tenant and a reason in X-Arkiv-Tenant and
// X-Arkiv-Reason and is audited as support (R-U2). An inquiry of another
// tenant answers exactly like one that does not exist.
//
// Logs carry the route pattern, status, sizes, the token's name, the
// tenant and the request id: never a path, a query string, a body or an
// error message meant for the client, which may hold personal data.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/query"
)

// Options configure a Server.
type Options struct {
	Engine *query.Engine
	Config *config.Config // its tokens authenticate requests
	Logger *slog.Logger   // nil: discard
	// Now is the clock of the retention preview; nil: time.Now.
	Now func() time.Time
	// Metrics receives the server's metrics (metrics.go); nil: they are
	// kept but not registered.
	Metrics prometheus.Registerer
}

// Limits of a request.
const (
	// MaxBodyBytes bounds a JSON request body.
	MaxBodyBytes = 2 << 20
	// MaxInquiryIDs bounds the ids of one bulk request.
	MaxInquiryIDs = 10_000
	// MaxParamBytes bounds one query parameter value.
	MaxParamBytes = 1024
	// MaxQueryBytes bounds a whole query string.
	MaxQueryBytes = 8 << 10
	// MaxSearchLimit bounds a page of search results.
	MaxSearchLimit = 1000
	// requestTimeout bounds a request that does not stream content.
	requestTimeout = 60 * time.Second
)

// Server is the HTTP handler of the API.
type Server struct {
	eng    *query.Engine
	cfg    *config.Config
	log    *slog.Logger
	now    func() time.Time
	tokens map[string]*config.Token // by hash
	mux    *http.ServeMux
	// patterns are the routes registered on mux, in order (see handle).
	patterns []string
	// sessions are the web page's sign-ins (session.go).
	sessions *sessionStore
	metrics  *metrics
}

// New makes the API handler.
func New(o Options) (*Server, error) {
	if o.Engine == nil || o.Config == nil {
		return nil, errors.New("server: an engine and a configuration are required")
	}
	s := &Server{eng: o.Engine, cfg: o.Config, log: o.Logger, now: o.Now,
		tokens: map[string]*config.Token{}, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "server")
	if s.now == nil {
		s.now = time.Now
	}
	for i := range o.Config.Tokens {
		t := &o.Config.Tokens[i]
		s.tokens[t.SHA256] = t
	}
	s.sessions = newSessionStore()
	s.metrics = newMetrics(s.sessions)
	if err := s.metrics.register(o.Metrics); err != nil {
		return nil, fmt.Errorf("server: metrics: %w", err)
	}
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// NewHTTPServer returns an http.Server with the timeouts and limits arkiv
// serves with. Streaming handlers (recordings, exports) lift the write
// deadline for themselves.
func NewHTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{Addr: addr, Handler: h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
}

// Route is one API route, for the documentation and the tests.
type Route struct {
	Method, Path string
	Role         config.Role // "" = no token needed
}

// Routes lists the API routes.
func Routes() []Route {
	return []Route{
		{"GET", "/api/v1/search", config.RoleViewer},
		{"GET", "/api/v1/inquiries/{id}", config.RoleViewer},
		{"GET", "/api/v1/inquiries/{id}/recording", config.RoleContent},
		{"GET", "/api/v1/inquiries/{id}/chatlog", config.RoleContent},
		{"POST", "/api/v1/exports/xlsx", config.RoleViewer},
		{"POST", "/api/v1/exports/recordings", config.RoleContent},
		{"POST", "/api/v1/content/delete", config.RoleContentDelete},
		{"POST", "/api/v1/anonymise", config.RolePrivacy},
		{"GET", "/api/v1/audit", config.RoleAudit},
		{"GET", "/api/v1/retention/preview", config.RoleViewer},
		{"GET", "/api/v1/openapi.json", ""},
	}
}

// handle registers a route on the mux and remembers its pattern: every
// route is registered through it, so the tests can walk them all.
func (s *Server) handle(pattern string, h http.Handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, h)
}

func (s *Server) routes() error {
	handlers := map[string]handler{
		"GET /api/v1/search":                   s.search,
		"GET /api/v1/inquiries/{id}":           s.show,
		"GET /api/v1/inquiries/{id}/recording": s.recording,
		"GET /api/v1/inquiries/{id}/chatlog":   s.chatlog,
		"POST /api/v1/exports/xlsx":            s.exportXLSX,
		"POST /api/v1/exports/recordings":      s.exportRecordings,
		"POST /api/v1/content/delete":          s.deleteContent,
		"POST /api/v1/anonymise":               s.anonymiseHandler,
		"GET /api/v1/audit":                    s.audit,
		"GET /api/v1/retention/preview":        s.retentionPreview,
	}
	for _, r := range Routes() {
		pattern := r.Method + " " + r.Path
		if r.Role == "" {
			continue
		}
		h, ok := handlers[pattern]
		if !ok {
			return errors.New("server: no handler for " + pattern)
		}
		s.handle(pattern, s.authed(r.Role, h))
	}
	s.handle("GET /api/v1/openapi.json", http.HandlerFunc(serveOpenAPI))
	if err := s.webRoutes(); err != nil {
		return err
	}
	// The catch-all is not a route: it answers what no route matches.
	s.mux.HandleFunc("/", s.fallback)
	return nil
}

// fallback answers what no route matches: 405 when the path has a route
// under another method, else 404, both as JSON.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" && p != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"use "+strings.Join(allowed, " or ")+" on this path"))
		return
	}
	writeError(w, errorf(http.StatusNotFound, CodeNotFound, "no such API path; see /api/v1/openapi.json"))
}

// ServeHTTP runs every request through the request id, the security
// headers, the path check, panic recovery and the access log.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := r.Header.Get("X-Request-Id")
	if !validRequestID(rid) {
		rid = query.NewRequestID()
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	h := w.Header()
	h.Set("X-Request-Id", rid)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	info := &requestInfo{id: rid}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				s.finish(r, rec, info, start)
				panic(v)
			}
			s.log.Error("handler panic", "request_id", rid, "route", r.Pattern, "panic", fmt.Sprintf("%T", v))
			if !rec.wrote {
				writeError(rec, classify(errors.New("panic")))
			}
		}
		s.finish(r, rec, info, start)
	}()
	if ae := checkPath(r); ae != nil {
		writeError(rec, ae)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// checkPath refuses paths that are not clean (dot segments, double
// slashes) instead of redirecting: an API client never sends them.
func checkPath(r *http.Request) *apiError {
	p := r.URL.Path
	if p == "" || p[0] != '/' || path.Clean(p) != p && !(strings.HasSuffix(p, "/") && path.Clean(p)+"/" == p) ||
		strings.Contains(r.URL.EscapedPath(), "%2e") || strings.Contains(r.URL.EscapedPath(), "%2E") ||
		strings.ContainsRune(p, 0) || len(r.URL.RawQuery) > MaxQueryBytes {
		return errorf(http.StatusBadRequest, CodeBadPath, "the path or query is malformed or too long; use the paths of /api/v1/openapi.json")
	}
	return nil
}

// finish logs and counts a request that has ended.
func (s *Server) finish(r *http.Request, rec *recorder, info *requestInfo, start time.Time) {
	elapsed := time.Since(start)
	s.logRequest(r, rec, info, elapsed)
	s.metrics.observe(r, rec, info, elapsed)
}

func (s *Server) logRequest(r *http.Request, rec *recorder, info *requestInfo, elapsed time.Duration) {
	attrs := []any{"request_id", info.id, "method", r.Method, "route", r.Pattern, "status", rec.status,
		"bytes", rec.bytes, "duration_ms", elapsed.Milliseconds()}
	if info.token != "" {
		attrs = append(attrs, "token", info.token, "tenant", info.tenant, "support", info.support)
	}
	if info.code != "" {
		attrs = append(attrs, "error_code", info.code)
	}
	level := slog.LevelInfo
	if rec.status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "request", attrs...)
}

// requestInfo is what the access log learns about a request as it runs.
type requestInfo struct {
	id, token, tenant, code string
	support                 bool
}

type infoKey struct{}

func infoOf(r *http.Request) *requestInfo {
	if i, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{id: query.NewRequestID()}
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' ||
			c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// recorder remembers the status and whether anything was written, so an
// error after the first byte aborts the response instead of appending
// JSON to a body.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// handler is an authenticated API handler; an error it returns before
// writing is answered as JSON.
type handler func(w http.ResponseWriter, r *http.Request, p *principal) error

func (s *Server) authed(role config.Role, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(r)
		p, err := s.authenticate(r)
		if err == nil {
			info.token, info.tenant, info.support = p.token.Name, p.tenant, p.support
			if !p.token.Has(role) {
				err = errorf(http.StatusForbidden, CodeForbidden,
					"this token lacks the "+string(role)+" role; ask an administrator for a token that has it")
			}
		}
		if err == nil {
			err = withCtx(r.Context(), h(w, r, p))
		}
		if err == nil {
			return
		}
		ae := classify(err)
		info.code = ae.code
		if ae.status >= 500 && ae.code != CodeAuditUnavailable {
			// Errors of the query package are redacted of values.
			s.log.Error("request failed", "request_id", info.id, "route", r.Pattern, "error", err)
		}
		if rec, ok := w.(*recorder); ok && rec.wrote {
			// The body has begun: cut the connection so the client sees a
			// broken download, never one that looks complete.
			s.log.Warn("response aborted after its first byte", "request_id", info.id, "route", r.Pattern,
				"error_code", ae.code)
			panic(http.ErrAbortHandler)
		}
		writeError(w, ae)
	})
}
