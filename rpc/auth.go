package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretLen is the shortest HS256 secret accepted. Lotus generates 32
// random bytes; a shorter key would make HS256 weaker than its 128-bit
// security target.
const MinSecretLen = 32

// ErrWeakSecret is returned when a JWT secret is shorter than MinSecretLen.
var ErrWeakSecret = errors.New("rpc: jwt secret shorter than 32 bytes")

// RevokedFunc reports whether the token with the given jti has been revoked.
// The server calls it on every HTTP request and on every call received over
// a WebSocket, so it should be cheap (an in-memory set or a cache in front
// of the database). An error fails the request closed.
type RevokedFunc func(ctx context.Context, jti string) (revoked bool, err error)

// IssueToken signs c with HS256 under secret. It signs exactly what it is
// given: set Allow (see AllowList), and for Sealant principals Subject, Role,
// Tenant and an ID (see NewTokenID) so the token can be revoked. A token
// whose Allow is a cumulative list and that has no other claims is also a
// valid Lotus token.
func IssueToken(secret []byte, c Claims) (string, error) {
	if len(secret) < MinSecretLen {
		return "", ErrWeakSecret
	}
	if !c.Role.Valid() {
		return "", fmt.Errorf("rpc: issue token: unknown role %q", c.Role)
	}
	for _, p := range c.Allow {
		if p == PermNone || !p.Valid() {
			return "", fmt.Errorf("rpc: issue token: unknown permission %q", p)
		}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("rpc: issue token: %w", err)
	}
	return s, nil
}

// NewTokenID returns a random 128-bit hex string for Claims.ID (jti).
func NewTokenID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// verifyToken checks the signature (HS256 only, so "none" and algorithm
// confusion are rejected), exp/nbf when present, and that the role is known.
// now is the clock used for exp/nbf.
func verifyToken(secret []byte, token string, now func() time.Time) (*Claims, error) {
	c := new(Claims)
	_, err := jwt.ParseWithClaims(token, c,
		func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(now),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	if !c.Role.Valid() {
		return nil, fmt.Errorf("%w: unknown role %q", ErrUnauthenticated, c.Role)
	}
	return c, nil
}

// VerifyToken verifies token against secret (see IssueToken) and returns its
// claims. Errors wrap ErrUnauthenticated. It does not consult revocation.
func VerifyToken(secret []byte, token string) (*Claims, error) {
	if len(secret) < MinSecretLen {
		return nil, ErrWeakSecret
	}
	return verifyToken(secret, token, time.Now)
}

// bearerToken extracts the token from "Authorization: Bearer <t>" or, when
// allowQuery is set, from the ?token= query parameter (browsers cannot set
// headers on a WebSocket). found is false when neither is present.
func bearerToken(r *http.Request, allowQuery bool) (tok string, found bool, err error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(rest) == "" {
			return "", true, fmt.Errorf("%w: authorization header is not a bearer token", ErrUnauthenticated)
		}
		return strings.TrimSpace(rest), true, nil
	}
	if allowQuery {
		if t := r.URL.Query().Get("token"); t != "" {
			return t, true, nil
		}
	}
	return "", false, nil
}
