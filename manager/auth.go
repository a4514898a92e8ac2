package manager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

// File names inside the data directory.
const (
	SecretFile     = "jwt.secret"
	AdminTokenFile = "admin.token"
)

// LoadOrCreateSecret returns the JWT secret kept in dataDir, creating it
// (32 random bytes, hex, mode 0600) on first run. A secret file readable by
// others is refused: anyone who reads it can mint admin tokens.
func LoadOrCreateSecret(dataDir string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("manager: data dir: %w", err)
	}
	path := filepath.Join(dataDir, SecretFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("manager: generate secret: %w", err)
		}
		enc := hex.EncodeToString(b[:])
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("manager: create secret: %w", err)
		}
		if _, err := f.WriteString(enc + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("manager: write secret: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("manager: write secret: %w", err)
		}
		return b[:], nil
	}
	if err != nil {
		return nil, fmt.Errorf("manager: read secret: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("manager: %s is accessible by group or others (mode %v); chmod 600 it", path, st.Mode().Perm())
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(secret) < rpc.MinSecretLen {
		return nil, fmt.Errorf("manager: %s: want at least %d hex-encoded bytes", path, rpc.MinSecretLen)
	}
	return secret, nil
}

// EnsureAdminToken makes sure dataDir holds a usable admin token (issuing
// and recording one if the file is missing or its token was revoked) and
// returns it. This is how an operator bootstraps: `sealant admin …` on the
// same machine reads the file.
func (s *Service) EnsureAdminToken(ctx context.Context, dataDir string) (string, error) {
	path := filepath.Join(dataDir, AdminTokenFile)
	if raw, err := os.ReadFile(path); err == nil {
		tok := strings.TrimSpace(string(raw))
		if c, err := rpc.VerifyToken(s.secret, tok); err == nil && c.Role == rpc.RoleAdmin {
			if _, err := s.st.CheckToken(ctx, c.ID, s.now()); err == nil {
				return tok, nil
			}
		}
	}
	it, err := s.IssueToken(ctx, api.TokenRequest{Role: string(rpc.RoleAdmin), Subject: "admin", Note: "bootstrap admin token (" + AdminTokenFile + ")"})
	if err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(it.Token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("manager: write admin token: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("manager: write admin token: %w", err)
	}
	return it.Token, nil
}

// rolePerm is the Lotus permission a role's tokens carry.
func rolePerm(r rpc.Role) (rpc.Perm, bool) {
	switch r {
	case rpc.RoleAdmin:
		return rpc.PermAdmin, true
	case rpc.RoleTenant, rpc.RoleWorker:
		return rpc.PermWrite, true
	case rpc.RoleSigner:
		return rpc.PermSign, true
	case rpc.RoleMetrics:
		return rpc.PermRead, true
	}
	return rpc.PermNone, false
}

// IssueToken issues a token and records its id and hash (never the token).
func (s *Service) IssueToken(ctx context.Context, req api.TokenRequest) (api.IssuedToken, error) {
	role := rpc.Role(req.Role)
	perm, ok := rolePerm(role)
	if !ok {
		return api.IssuedToken{}, fmt.Errorf("%w: role %q: want admin, tenant, worker, signer or metrics", ErrInvalid, req.Role)
	}
	switch role {
	case rpc.RoleTenant, rpc.RoleSigner:
		if req.Tenant == "" {
			return api.IssuedToken{}, fmt.Errorf("%w: a %s token needs a tenant", ErrInvalid, role)
		}
	case rpc.RoleAdmin, rpc.RoleMetrics:
		if req.Tenant != "" {
			return api.IssuedToken{}, fmt.Errorf("%w: an %s token has no tenant", ErrInvalid, role)
		}
	case rpc.RoleWorker:
		if req.Subject == "" || strings.Contains(req.Subject, "/") {
			return api.IssuedToken{}, fmt.Errorf("%w: a worker token needs a subject (the worker name, without '/')", ErrInvalid)
		}
	}
	if req.Tenant != "" {
		if _, err := s.st.GetTenant(ctx, req.Tenant); err != nil {
			return api.IssuedToken{}, mapStoreErr(err)
		}
	}
	if req.TTL < 0 {
		return api.IssuedToken{}, fmt.Errorf("%w: negative ttl", ErrInvalid)
	}
	now := s.now()
	subject := req.Subject
	if subject == "" {
		subject = string(role)
		if req.Tenant != "" {
			subject = req.Tenant
		}
	}
	c := rpc.Claims{Allow: rpc.AllowList(perm), Role: role, Tenant: req.Tenant}
	c.Subject = subject
	c.ID = rpc.NewTokenID()
	c.IssuedAt = jwt.NewNumericDate(now)
	var exp time.Time
	if req.TTL > 0 {
		exp = now.Add(time.Duration(req.TTL))
		c.ExpiresAt = jwt.NewNumericDate(exp)
	}
	tok, err := rpc.IssueToken(s.secret, c)
	if err != nil {
		return api.IssuedToken{}, fmt.Errorf("manager: issue token: %w", err)
	}
	rec := store.TokenRecord{ID: c.ID, TenantID: req.Tenant, Role: string(role), SecretHash: store.HashToken(tok),
		IssuedAt: now, ExpiresAt: exp, Note: req.Note}
	if err := s.st.RecordToken(ctx, rec); err != nil {
		return api.IssuedToken{}, mapStoreErr(err)
	}
	s.log.Info("token issued", "jti", c.ID, "role", role, "tenant", req.Tenant, "subject", subject)
	return api.IssuedToken{ID: c.ID, Token: tok, Role: string(role), Tenant: req.Tenant, Subject: subject, ExpiresAt: exp}, nil
}

// RevokeToken revokes a token id; the next call made with it fails.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	if err := s.st.RevokeToken(ctx, id, s.now()); err != nil {
		return mapStoreErr(err)
	}
	s.revoked.forget(id)
	s.log.Info("token revoked", "jti", id)
	return nil
}

// Revoked is the rpc.RevokedFunc of the manager's server: a token is
// accepted only if the store issued it and it is neither revoked nor
// expired. Answers are cached for a couple of seconds, because the check
// runs on every call; a revocation made through this manager takes effect
// at once, one made through another manager within the cache lifetime.
func (s *Service) Revoked(ctx context.Context, jti string) (bool, error) {
	return s.revoked.check(ctx, jti, s.now())
}

type revEntry struct {
	revoked bool
	at      time.Time
}

type revocationCache struct {
	st      *store.Store
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]revEntry
	// loads shares one read among the calls of a token that miss at
	// once (a worker's threads all call with the same token).
	loads singleflight.Group
}

func (c *revocationCache) check(ctx context.Context, jti string, now time.Time) (bool, error) {
	c.mu.Lock()
	e, ok := c.entries[jti]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl && !now.Before(e.at) {
		return e.revoked, nil
	}
	ch := c.loads.DoChan(jti, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedLoadTimeout)
		defer cancel()
		_, err := c.st.CheckToken(lctx, jti, now)
		revoked := false
		switch {
		case err == nil:
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrTokenRevoked), errors.Is(err, store.ErrTokenExpired):
			revoked = true
		default:
			return false, err
		}
		c.mu.Lock()
		if len(c.entries) > 100_000 {
			clear(c.entries)
		}
		c.entries[jti] = revEntry{revoked: revoked, at: now}
		c.mu.Unlock()
		return revoked, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return false, r.Err
		}
		return r.Val.(bool), nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (c *revocationCache) forget(jti string) {
	c.mu.Lock()
	delete(c.entries, jti)
	c.mu.Unlock()
	c.loads.Forget(jti)
}
