package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOpenAPICoversRoutes: the document in the repository lists every
// route with its method and role, and every route of the document exists.
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %v", err)
	}
	n := 0
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
		n++
	}
	total := 0
	for _, ops := range doc.Paths {
		total += len(ops)
	}
	if total != n {
		t.Errorf("openapi.json has %d operations, the server %d routes", total, n)
	}
}
