package config

import (
	"strings"
	"testing"
)

const goodHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestTokensDecode(t *testing.T) {
	c := mustDecode(t, `
tokens:
  - name: anna
    sha256: `+goodHash+`
    tenant: t01
    roles: [viewer, content]
  - name: support-1
    sha256: `+strings.Repeat("a", 64)+`
    tenant: "*"
    support: true
    roles: [viewer]
`)
	tok := c.TokenByHash(goodHash)
	if tok == nil || tok.Name != "anna" || tok.Tenant != "t01" || !tok.Has(RoleContent) || tok.Has(RoleAudit) {
		t.Fatalf("token: %+v", tok)
	}
	if c.TokenByHash(strings.Repeat("b", 64)) != nil {
		t.Error("unknown hash found")
	}
}

func TestTokensValidate(t *testing.T) {
	h2 := strings.Repeat("c", 64)
	for _, tc := range []struct{ name, yaml, want string }{
		{"bad name", "- {name: 'a b', sha256: " + goodHash + ", tenant: t01, roles: [viewer]}", "tokens[0].name"},
		{"dup name", "- {name: a, sha256: " + goodHash + ", tenant: t01, roles: [viewer]}\n  - {name: a, sha256: " + h2 + ", tenant: t01, roles: [viewer]}", "also the name"},
		{"clear token", "- {name: a, sha256: arkiv_secret, tenant: t01, roles: [viewer]}", "never the token itself"},
		{"upper hash", "- {name: a, sha256: " + strings.ToUpper(goodHash) + ", tenant: t01, roles: [viewer]}", ".sha256"},
		{"dup hash", "- {name: a, sha256: " + goodHash + ", tenant: t01, roles: [viewer]}\n  - {name: b, sha256: " + goodHash + ", tenant: t01, roles: [viewer]}", "same as tokens[0]"},
		{"star no support", "- {name: a, sha256: " + goodHash + ", tenant: '*', roles: [viewer]}", "only for support"},
		{"support one tenant", "- {name: a, sha256: " + goodHash + ", tenant: t01, support: true, roles: [viewer]}", "support token has tenant"},
		{"bad tenant", "- {name: a, sha256: " + goodHash + ", tenant: T01, roles: [viewer]}", ".tenant"},
		{"defaults tenant", "- {name: a, sha256: " + goodHash + ", tenant: defaults, roles: [viewer]}", ".tenant"},
		{"no roles", "- {name: a, sha256: " + goodHash + ", tenant: t01, roles: []}", ".roles"},
		{"bad role", "- {name: a, sha256: " + goodHash + ", tenant: t01, roles: [admin]}", ".roles[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeString(t, "tokens:\n  "+tc.yaml+"\n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestNewToken(t *testing.T) {
	s1, h1, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	s2, _, _ := NewToken()
	if s1 == s2 || !strings.HasPrefix(s1, TokenPrefix) || len(s1) < 40 {
		t.Fatalf("tokens %q %q", s1, s2)
	}
	if h1 != HashToken(s1) || !sha256Pattern.MatchString(h1) {
		t.Fatalf("hash %q", h1)
	}
	roles, err := ParseRoles("viewer, content,viewer")
	if err != nil || len(roles) != 2 {
		t.Fatalf("roles %v %v", roles, err)
	}
	if _, err := ParseRoles("viewer,root"); err == nil {
		t.Fatal("root accepted")
	}
}
