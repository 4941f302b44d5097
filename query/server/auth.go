package server

import (
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
)

// Headers of a support request.
const (
	HeaderTenant = "X-Arkiv-Tenant"
	HeaderReason = "X-Arkiv-Reason"
	// MaxReasonLen bounds a support reason (it goes into the audit entry).
	MaxReasonLen = 200
)

// principal is who makes a request and for which tenant.
type principal struct {
	token   *config.Token
	tenant  string
	support bool
	reason  string
}

// access is the audit identity of a content action of the request.
func (p *principal) access(r *http.Request, action query.Action) query.Access {
	actor := p.token.Name
	if p.support {
		actor = "support:" + p.token.Name + " reason: " + p.reason
	}
	if len(actor) > query.MaxActorLen {
		actor = strings.ToValidUTF8(actor[:query.MaxActorLen], "")
	}
	return query.Access{Actor: actor, Support: p.support, Action: action, RequestID: infoOf(r).id}
}

var errUnauthenticated = errorf(http.StatusUnauthorized, CodeUnauthenticated,
	"send Authorization: Bearer <token> with a token from the configuration (arkiv token makes one)")

// authenticate finds the request's token and tenant.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		// The web page's session cookie stands in for the token.
		if p, ok, err := s.sessionPrincipal(r); ok {
			return p, err
		}
	}
	scheme, secret, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" || len(secret) > 512 {
		return nil, errUnauthenticated
	}
	// The lookup is by hash: a timing difference tells nothing about
	// the secret of any configured token.
	tok := s.tokens[config.HashToken(strings.TrimSpace(secret))]
	if tok == nil {
		return nil, errUnauthenticated
	}
	tenantHdr := r.Header.Get(HeaderTenant)
	if !tok.Support {
		if tenantHdr != "" && tenantHdr != tok.Tenant {
			return nil, errorf(http.StatusForbidden, CodeWrongTenant,
				"this token acts for one tenant only; leave out "+HeaderTenant+" or use a token of that tenant")
		}
		return &principal{token: tok, tenant: tok.Tenant}, nil
	}
	reason := strings.TrimSpace(r.Header.Get(HeaderReason))
	switch {
	case !schema.ValidTenantID(tenantHdr) || tenantHdr == config.DefaultsKey:
		return nil, errorf(http.StatusBadRequest, CodeSupportContextRequired,
			"a support token must name the tenant in "+HeaderTenant+" (a tenant id)")
	case reason == "" || len(reason) > MaxReasonLen || !utf8.ValidString(reason) ||
		strings.IndexFunc(reason, unicode.IsControl) >= 0:
		return nil, errorf(http.StatusBadRequest, CodeSupportContextRequired,
			"a support token must state why in "+HeaderReason+" (1-200 characters, one line); it is audited")
	}
	return &principal{token: tok, tenant: tenantHdr, support: true, reason: reason}, nil
}
