package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/golang-jwt/jwt/v5"
)

// Perm is a Lotus-compatible API permission. The strings are the ones Lotus
// puts in a token's "Allow" list, so Sealant tokens and Lotus tokens are
// interchangeable on the permission axis.
type Perm string

// Permissions, weakest first. Holding a permission grants every weaker one:
// admin ⊃ sign ⊃ write ⊃ read. PermNone marks a method anyone may call
// (health, version); it is never granted by a token.
const (
	PermNone  Perm = ""
	PermRead  Perm = "read"
	PermWrite Perm = "write"
	PermSign  Perm = "sign"
	PermAdmin Perm = "admin"
)

// allPerms lists the grantable permissions in increasing strength; Lotus
// tokens carry a prefix of this list.
var allPerms = []Perm{PermRead, PermWrite, PermSign, PermAdmin}

// rank orders permissions; -1 marks an unknown string.
func (p Perm) rank() int {
	switch p {
	case PermNone:
		return 0
	case PermRead:
		return 1
	case PermWrite:
		return 2
	case PermSign:
		return 3
	case PermAdmin:
		return 4
	}
	return -1
}

// Valid reports whether p is one of the defined permissions (PermNone included).
func (p Perm) Valid() bool { return p.rank() >= 0 }

// Includes reports whether a caller holding p may call a method that
// requires q. An unknown permission on either side never matches.
func (p Perm) Includes(q Perm) bool {
	pr, qr := p.rank(), q.rank()
	return pr >= 0 && qr >= 0 && pr >= qr
}

// String returns the Lotus spelling, or "none" for PermNone.
func (p Perm) String() string {
	if p == PermNone {
		return "none"
	}
	return string(p)
}

// AllowList returns the cumulative Lotus "Allow" list for p, e.g. PermSign →
// [read write sign], which is what `lotus auth create-token --perm sign`
// issues. A Lotus server checks the method's permission literally against
// this list, so only cumulative lists behave the same on Lotus and Sealant.
func AllowList(p Perm) []Perm {
	r := p.rank()
	if r <= 0 {
		return nil
	}
	return slices.Clone(allPerms[:r])
}

// Role is the kind of principal a Sealant token was issued to. The transport
// does not interpret roles; services (or RequireRole) do.
type Role string

// Roles known to Sealant. Tokens without a role (Lotus tokens) have Role "".
const (
	RoleAdmin    Role = "admin"
	RoleTenant   Role = "tenant"
	RoleWorker   Role = "worker"
	RoleSigner   Role = "signer"
	RoleProvider Role = "provider"
	// RoleMetrics may only scrape a service's /metrics (a Prometheus
	// bearer token); it carries PermRead but services give it no method.
	RoleMetrics Role = "metrics"
)

// Valid reports whether r is a known role or empty.
func (r Role) Valid() bool {
	switch r {
	case "", RoleAdmin, RoleTenant, RoleWorker, RoleSigner, RoleProvider, RoleMetrics:
		return true
	}
	return false
}

// Claims is the JWT payload. Allow has the Lotus name and meaning; Role and
// Tenant are Sealant additions; the registered claims supply sub (principal
// id), jti (revocation handle) and optionally exp/nbf/iat. Lotus tokens
// decode into Claims with only Allow set.
type Claims struct {
	Allow  []Perm `json:"Allow,omitempty"`
	Role   Role   `json:"role,omitempty"`
	Tenant string `json:"tenant,omitempty"`
	jwt.RegisteredClaims
}

// Perm returns the strongest permission in c.Allow, ignoring unknown strings
// (Lotus ignores them too). A nil Claims has PermNone.
func (c *Claims) Perm() Perm {
	best := PermNone
	if c == nil {
		return best
	}
	for _, p := range c.Allow {
		if p.rank() > best.rank() {
			best = p
		}
	}
	return best
}

type claimsKey struct{}

// WithClaims returns a context carrying c, as the server does before calling
// a handler. Services use it to unit-test handlers without a transport.
func WithClaims(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// ClaimsFrom returns the verified claims of the caller, or (nil, false) for an
// anonymous caller. The returned value must not be modified.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// RequireRole wraps h so it only runs for callers whose token has one of the
// given roles; others get ErrPermissionDenied. It complements the per-method
// Perm: Perm says how much a caller may do, the role says which API a token
// belongs to (a worker token must not reach the tenant API even though both
// may hold "write").
func RequireRole(h Handler, roles ...Role) Handler {
	return func(ctx context.Context, params []json.RawMessage) (any, error) {
		c, _ := ClaimsFrom(ctx)
		if c == nil || !slices.Contains(roles, c.Role) {
			got := Role("anonymous")
			if c != nil {
				got = c.Role
			}
			return nil, fmt.Errorf("%w: role %q may not call this method", ErrPermissionDenied, got)
		}
		return h(ctx, params)
	}
}
