package delivery

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sealant/sealant/rpc"
)

// IssueProviderToken signs a token that lets provider deliver sectors to
// the receiver holding secret: role "provider", subject = provider, a
// fresh id (to revoke it, list the id in the receiver's revoked tokens)
// and, when ttl > 0, an expiry.
func IssueProviderToken(secret []byte, provider string, ttl time.Duration) (string, error) {
	if provider == "" {
		return "", fmt.Errorf("%w: provider name is empty", ErrInvalid)
	}
	now := time.Now()
	c := rpc.Claims{
		Allow: rpc.AllowList(rpc.PermWrite),
		Role:  rpc.RoleProvider,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: provider, ID: rpc.NewTokenID(), IssuedAt: jwt.NewNumericDate(now),
		},
	}
	if ttl > 0 {
		c.ExpiresAt = jwt.NewNumericDate(now.Add(ttl))
	}
	tok, err := rpc.IssueToken(secret, c)
	if err != nil {
		return "", fmt.Errorf("delivery: %w", err)
	}
	return tok, nil
}
