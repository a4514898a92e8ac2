package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TokenRecord is what the store keeps about an issued API token: its id
// (the JWT "jti"), scope and a SHA-256 hash of the token string, so an
// operator can match a leaked token to its record without the store ever
// holding a usable secret.
type TokenRecord struct {
	ID string `json:"id"`
	// TenantID is "" for admin tokens.
	TenantID   string    `json:"tenant_id,omitempty"`
	Role       string    `json:"role"`
	SecretHash []byte    `json:"secret_hash"`
	IssuedAt   time.Time `json:"issued_at"`
	// ExpiresAt zero means no expiry.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt zero means not revoked.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Note      string    `json:"note,omitempty"`
}

// HashToken returns the hash stored in TokenRecord.SecretHash.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

const tokenCols = `id, tenant_id, role, secret_hash, issued_ms, expires_ms, revoked_ms, note`

func scanToken(sc interface{ Scan(...any) error }) (TokenRecord, error) {
	var (
		t               TokenRecord
		issued, expires int64
		revoked         sql.NullInt64
	)
	if err := sc.Scan(&t.ID, &t.TenantID, &t.Role, &t.SecretHash, &issued, &expires, &revoked, &t.Note); err != nil {
		return TokenRecord{}, err
	}
	t.IssuedAt, t.ExpiresAt, t.RevokedAt = fromMS(issued), fromMS(expires), fromNullMS(revoked)
	return t, nil
}

// RecordToken stores a newly issued token. A duplicate id is ErrConflict;
// a tenant token for an unknown tenant is ErrNotFound.
func (s *Store) RecordToken(ctx context.Context, t TokenRecord) error {
	if t.ID == "" || t.Role == "" || len(t.SecretHash) != sha256.Size {
		return fmt.Errorf("store: record token: need id, role and a sha-256 hash: %w", ErrInvalid)
	}
	return s.tx(ctx, func(d db) error {
		if t.TenantID != "" {
			var x string
			err := d.queryRow(ctx, `SELECT id FROM tenants WHERE id = ?`, t.TenantID).Scan(&x)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("store: record token %q: tenant %q: %w", t.ID, t.TenantID, ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("store: record token %q: %w", t.ID, err)
			}
		}
		_, err := d.exec(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.TenantID, t.Role, t.SecretHash, ms(t.IssuedAt), ms(t.ExpiresAt), nullMS(t.RevokedAt), t.Note)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: record token %q: %w", t.ID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("store: record token %q: %w", t.ID, err)
		}
		return nil
	})
}

// GetToken returns the record of a token id, or ErrNotFound.
func (s *Store) GetToken(ctx context.Context, id string) (TokenRecord, error) {
	t, err := scanToken(s.reader().queryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return TokenRecord{}, fmt.Errorf("store: token %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return TokenRecord{}, fmt.Errorf("store: get token %q: %w", id, err)
	}
	return t, nil
}

// ListTokens returns the tokens of a tenant ("" = admin tokens), newest
// first.
func (s *Store) ListTokens(ctx context.Context, tenantID string) ([]TokenRecord, error) {
	rows, err := s.reader().query(ctx, `SELECT `+tokenCols+` FROM tokens WHERE tenant_id = ? ORDER BY issued_ms DESC, id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	defer rows.Close()
	var out []TokenRecord
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes a token id. Revoking twice keeps the first time.
func (s *Store) RevokeToken(ctx context.Context, id string, now time.Time) error {
	return s.tx(ctx, func(d db) error {
		res, err := d.exec(ctx, `UPDATE tokens SET revoked_ms = COALESCE(revoked_ms, ?) WHERE id = ?`, ms(now), id)
		if err != nil {
			return fmt.Errorf("store: revoke token %q: %w", id, err)
		}
		if n, err := affected(res); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("store: revoke token %q: %w", id, ErrNotFound)
		}
		return nil
	})
}

// CheckToken is the per-request check after the JWT signature verified:
// it returns the record, or ErrNotFound for an id the store never issued
// (reject it), ErrTokenRevoked, or ErrTokenExpired (by the stored expiry,
// compared with now).
func (s *Store) CheckToken(ctx context.Context, id string, now time.Time) (TokenRecord, error) {
	t, err := s.GetToken(ctx, id)
	if err != nil {
		return TokenRecord{}, err
	}
	if !t.RevokedAt.IsZero() {
		return t, fmt.Errorf("store: token %q: %w", id, ErrTokenRevoked)
	}
	if !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt) {
		return t, fmt.Errorf("store: token %q: %w", id, ErrTokenExpired)
	}
	return t, nil
}

// IsTokenRevoked reports whether token id is revoked. An unknown id is
// ErrNotFound, which callers must treat as "reject".
func (s *Store) IsTokenRevoked(ctx context.Context, id string) (bool, error) {
	t, err := s.GetToken(ctx, id)
	if err != nil {
		return false, err
	}
	return !t.RevokedAt.IsZero(), nil
}
