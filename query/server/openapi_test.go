package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// TestOpenAPICoversRoutes: the document lists every API route with the
// role the server checks.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, r := range Routes() {
		op, ok := doc.Paths[r.Path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s is not in openapi.json", r.Method, r.Path)
			continue
		}
		var o struct {
			Role string `json:"x-arkiv-role"`
		}
		_ = json.Unmarshal(op, &o)
		if o.Role != string(r.Role) {
			t.Errorf("%s %s: x-arkiv-role %q, the server checks %q", r.Method, r.Path, o.Role, r.Role)
		}
	}
}

// TestOpenAPIMatchesServedRoutes walks every route the server registers
// (API, session and page) and finds it in the document, and routes a
// request of every documented operation to the route it documents.
func TestOpenAPIMatchesServedRoutes(t *testing.T) {
	e := newEnv(t)
	doc := loadOpenAPI(t)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+muxPath(path)] = true
		}
	}
	served := map[string]bool{}
	for _, p := range e.api.patterns {
		served[p] = true
		if !documented[p] {
			t.Errorf("%s is served, not in openapi.json", p)
		}
	}
	if len(served) < len(Routes())+6 {
		t.Fatalf("only %d routes registered: %v", len(served), e.api.patterns)
	}
	for p := range documented {
		if !served[p] {
			t.Errorf("%s is in openapi.json, not served", p)
			continue
		}
		method, path, _ := strings.Cut(p, " ")
		path = strings.ReplaceAll(strings.TrimSuffix(path, "{$}"), "{id}", "q1")
		if _, got := e.api.mux.Handler(httptest.NewRequest(method, path, nil)); got != p {
			t.Errorf("%s %s goes to %q, documented as %q", method, path, got, p)
		}
	}
	// And the document served is the one in the repository.
	r := e.do(call{method: "GET", path: "/api/v1/openapi.json"})
	if r.status != 200 || string(r.body) != string(OpenAPI()) {
		t.Errorf("GET /api/v1/openapi.json: %d, %d bytes", r.status, len(r.body))
	}
}

// muxPath turns a documented path into its ServeMux pattern: "/" is the
// page itself, not the subtree.
func muxPath(p string) string {
	if strings.HasSuffix(p, "/") {
		return p + "{$}"
	}
	return p
}
