package config

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/arkiv-project/arkiv/schema"
)

// Role is a permission an API token grants.
type Role string

// The roles (issue 5; SPEC R-S, R-G, R-U3).
const (
	// RoleViewer searches, reads general information and exports xlsx.
	RoleViewer Role = "viewer"
	// RoleContent plays and downloads recordings, views, downloads and
	// copies chat logs (every access audited).
	RoleContent Role = "content"
	// RoleContentDelete deletes recordings and chat logs.
	RoleContentDelete Role = "content-delete"
	// RolePrivacy anonymises a person (R-G).
	RolePrivacy Role = "privacy"
	// RoleAudit reads the audit log (R-U3).
	RoleAudit Role = "audit"
)

// Roles lists every role, in a fixed order.
var Roles = []Role{RoleViewer, RoleContent, RoleContentDelete, RolePrivacy, RoleAudit}

// AnyTenant is the tenant of a support token: it acts for any tenant, one
// named per request.
const AnyTenant = "*"

// Token is one API token of the tokens: list. The token itself is never
// stored: only the SHA-256 of its text, in hex. `arkiv token` makes one.
type Token struct {
	// Name identifies the token's holder in the audit log and in logs.
	Name string `yaml:"name"`
	// SHA256 is the lower-case hex SHA-256 of the token text.
	SHA256 string `yaml:"sha256"`
	// Tenant is the one tenant the token acts for, or "*" for a support
	// token (Support must then be true).
	Tenant string `yaml:"tenant"`
	// Support marks the operator's own support staff (R-U2): they act for
	// any tenant, naming it and a reason in every request, and are audited
	// as support.
	Support bool   `yaml:"support,omitempty"`
	Roles   []Role `yaml:"roles"`
}

// Has reports whether the token grants the role.
func (t *Token) Has(r Role) bool { return slices.Contains(t.Roles, r) }

var (
	tokenNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)
	sha256Pattern    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// TokenPrefix starts every token `arkiv token` makes, so that a leaked
// token is recognisable (secret scanners) and not mistaken for a hash.
const TokenPrefix = "arkiv_"

// NewToken returns a new random token (256 bits) and the hex SHA-256 to
// put in the configuration.
func NewToken() (secret, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("random token: %w", err)
	}
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashToken(secret), nil
}

// HashToken is the hex SHA-256 of a token's text, as stored in tokens:.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ParseRoles reads a comma-separated list of roles.
func ParseRoles(s string) ([]Role, error) {
	var out []Role
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(Roles, Role(p)) {
			return nil, fmt.Errorf("role %q: want one of %s", p, rolesText())
		}
		if !slices.Contains(out, Role(p)) {
			out = append(out, Role(p))
		}
	}
	return out, nil
}

func rolesText() string {
	s := make([]string, len(Roles))
	for i, r := range Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// validateTokens checks the tokens: list: names and hashes unique, a tenant
// id or "*" with support: true, known roles. Messages name the entry.
func (c *Config) validateTokens() error {
	names := map[string]int{}
	hashes := map[string]int{}
	for i, t := range c.Tokens {
		key := fmt.Sprintf("tokens[%d]", i)
		if !tokenNamePattern.MatchString(t.Name) {
			return fmt.Errorf("%s.name: %q must be 1-64 letters, digits or ._@- (it is written to the audit log)", key, t.Name)
		}
		key = fmt.Sprintf("tokens[%d] (%s)", i, t.Name)
		if j, dup := names[t.Name]; dup {
			return fmt.Errorf("%s.name: also the name of tokens[%d]", key, j)
		}
		names[t.Name] = i
		if !sha256Pattern.MatchString(t.SHA256) {
			return fmt.Errorf("%s.sha256: must be 64 lower-case hex digits (the SHA-256 of the token, as `arkiv token` prints it; never the token itself)", key)
		}
		if j, dup := hashes[t.SHA256]; dup {
			return fmt.Errorf("%s.sha256: same as tokens[%d]: make a new token with `arkiv token`", key, j)
		}
		hashes[t.SHA256] = i
		switch {
		case t.Tenant == AnyTenant && !t.Support:
			return fmt.Errorf("%s.tenant: \"*\" is only for support tokens (support: true)", key)
		case t.Tenant != AnyTenant && t.Support:
			return fmt.Errorf("%s.tenant: a support token has tenant \"*\" (it names the tenant per request)", key)
		case t.Tenant != AnyTenant && (t.Tenant == DefaultsKey || !schema.ValidTenantID(t.Tenant)):
			return fmt.Errorf("%s.tenant: %q is not a tenant id (^[a-z0-9][a-z0-9_-]{0,62}$) or \"*\"", key, t.Tenant)
		}
		if len(t.Roles) == 0 {
			return fmt.Errorf("%s.roles: give at least one of %s", key, rolesText())
		}
		for j, r := range t.Roles {
			if !slices.Contains(Roles, r) {
				return fmt.Errorf("%s.roles[%d]: %q: want one of %s", key, j, r, rolesText())
			}
		}
	}
	return nil
}

// TokenByHash returns the token whose hash is hash, or nil.
func (c *Config) TokenByHash(hash string) *Token {
	for i := range c.Tokens {
		if c.Tokens[i].SHA256 == hash {
			return &c.Tokens[i]
		}
	}
	return nil
}
