package rpc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestPermIncludes(t *testing.T) {
	perms := []Perm{PermNone, PermRead, PermWrite, PermSign, PermAdmin}
	for i, have := range perms {
		for j, need := range perms {
			if got, want := have.Includes(need), i >= j; got != want {
				t.Errorf("%s.Includes(%s) = %v, want %v", have, need, got, want)
			}
		}
		if have.Includes("root") || Perm("root").Includes(have) {
			t.Errorf("unknown perm matched %s", have)
		}
	}
}

func TestAllowList(t *testing.T) {
	tests := map[Perm]string{PermNone: "", PermRead: "read", PermWrite: "read,write", PermSign: "read,write,sign", PermAdmin: "read,write,sign,admin"}
	for p, want := range tests {
		var s []string
		for _, q := range AllowList(p) {
			s = append(s, string(q))
		}
		if got := strings.Join(s, ","); got != want {
			t.Errorf("AllowList(%s) = %q, want %q", p, got, want)
		}
		if got := (&Claims{Allow: AllowList(p)}).Perm(); got != p {
			t.Errorf("Perm of AllowList(%s) = %s", p, got)
		}
	}
	// Strongest wins, unknown strings are ignored, order does not matter.
	if got := (&Claims{Allow: []Perm{"sign", "bogus", "read"}}).Perm(); got != PermSign {
		t.Errorf("got %s", got)
	}
	if got := (*Claims)(nil).Perm(); got != PermNone {
		t.Errorf("nil claims: %s", got)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	in := Claims{Allow: AllowList(PermSign), Role: RoleSigner, Tenant: "t1",
		RegisteredClaims: jwt.RegisteredClaims{Subject: "signer-7", ID: NewTokenID()}}
	tok := token(t, in)
	got, err := VerifyToken(testSecret, tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "signer-7" || got.Role != RoleSigner || got.Tenant != "t1" || got.ID != in.ID || got.Perm() != PermSign {
		t.Errorf("claims %+v", got)
	}
	if len(in.ID) != 32 || in.ID == NewTokenID() {
		t.Errorf("token id %q", in.ID)
	}
}

// lotusToken builds a token the way Lotus does: HS256 over
// {"alg":"HS256","typ":"JWT"} and {"Allow":[…]}, independent of the jwt
// library, so this checks interoperability rather than round-tripping.
func lotusToken(secret []byte, payload string) string {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}

func TestVerifyToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	otherSecret := []byte(strings.Repeat("x", 32))
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"Allow":["admin"]}`)) + "."
	tests := []struct {
		name  string
		tok   string
		ok    bool
		allow Perm
	}{
		{"lotus admin token", lotusToken(testSecret, `{"Allow":["read","write","sign","admin"]}`), true, PermAdmin},
		{"lotus read token", lotusToken(testSecret, `{"Allow":["read"]}`), true, PermRead},
		{"issued", token(t, Claims{Allow: AllowList(PermWrite)}), true, PermWrite},
		{"wrong secret", lotusToken(otherSecret, `{"Allow":["admin"]}`), false, ""},
		{"alg none", none, false, ""},
		{"tampered payload", strings.Replace(lotusToken(testSecret, `{"Allow":["read"]}`), ".", ".x", 1), false, ""},
		{"garbage", "not-a-jwt", false, ""},
		{"expired", lotusToken(testSecret, `{"Allow":["read"],"exp":1700000000}`), false, ""},
		{"not yet valid", lotusToken(testSecret, `{"Allow":["read"],"nbf":1900000000}`), false, ""},
		{"unexpired", lotusToken(testSecret, `{"Allow":["read"],"exp":1900000000}`), true, PermRead},
		{"unknown role", lotusToken(testSecret, `{"Allow":["read"],"role":"god"}`), false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := verifyToken(testSecret, tc.tok, clock)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrUnauthenticated) {
					t.Errorf("error %v does not wrap ErrUnauthenticated", err)
				}
				return
			}
			if c.Perm() != tc.allow {
				t.Errorf("perm %s, want %s", c.Perm(), tc.allow)
			}
		})
	}
}

func TestIssueTokenValidation(t *testing.T) {
	if _, err := IssueToken([]byte("short"), Claims{}); !errors.Is(err, ErrWeakSecret) {
		t.Errorf("short secret: %v", err)
	}
	if _, err := IssueToken(testSecret, Claims{Role: "god"}); err == nil {
		t.Error("unknown role accepted")
	}
	if _, err := IssueToken(testSecret, Claims{Allow: []Perm{"root"}}); err == nil {
		t.Error("unknown perm accepted")
	}
	// A Lotus-shaped token: only Allow in the payload.
	tok := token(t, Claims{Allow: AllowList(PermRead)})
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	if string(payload) != `{"Allow":["read"]}` {
		t.Errorf("payload %s", payload)
	}
}

// TestPermissionMatrix calls a method of every permission level with a
// caller of every level, over HTTP and WebSocket.
func TestPermissionMatrix(t *testing.T) {
	e := newEnv(t, ServerConfig{Secret: testSecret})
	levels := []Perm{PermNone, PermRead, PermWrite, PermSign, PermAdmin}
	for _, transport := range []string{"http", "ws"} {
		for _, have := range levels {
			var opts []DialOption
			if have != PermNone {
				opts = append(opts, WithToken(token(t, Claims{Allow: AllowList(have)})))
			}
			url := e.http
			if transport == "ws" {
				url = e.ws
			}
			c := dial(t, e, url, opts...)
			for _, need := range levels {
				var got string
				err := c.Call(context.Background(), "T.Perm."+need.String(), &got)
				if have.Includes(need) {
					if err != nil || got != need.String() {
						t.Errorf("%s: caller %s → method %s: %v %q", transport, have, need, err, got)
					}
				} else if !errors.Is(err, ErrPermissionDenied) {
					t.Errorf("%s: caller %s → method %s: want permission denied, got %v", transport, have, need, err)
				}
			}
		}
	}
}

func TestAnonymousPerm(t *testing.T) {
	e := newEnv(t, ServerConfig{Secret: testSecret, AnonymousPerm: PermRead}) // Lotus behaviour
	c := dial(t, e, e.http)
	if err := c.Call(context.Background(), "T.Perm.read", nil); err != nil {
		t.Errorf("anonymous read: %v", err)
	}
	if err := c.Call(context.Background(), "T.Perm.write", nil); !errors.Is(err, ErrPermissionDenied) {
		t.Errorf("anonymous write: %v", err)
	}
}

func TestBadTokens(t *testing.T) {
	e := newEnv(t, ServerConfig{Secret: testSecret})
	ctx := context.Background()
	bad := lotusToken([]byte(strings.Repeat("z", 32)), `{"Allow":["admin"]}`)

	c := dial(t, e, e.http, WithToken(bad))
	if err := c.Call(ctx, "T.Perm.none", nil); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("http bad token: %v", err)
	}
	status, body := post(t, e.http, `{"jsonrpc":"2.0","id":1,"method":"T.Perm.none"}`, http.Header{"Authorization": {"Basic abc"}})
	if status != http.StatusUnauthorized || !strings.Contains(body, "-32031") {
		t.Errorf("basic auth: %d %s", status, body)
	}
	if _, err := Dial(ctx, e.ws, WithToken(bad)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("ws bad token: %v", err)
	}

	// ?token= only when enabled.
	good := token(t, Claims{Allow: AllowList(PermRead)})
	status, body = post(t, e.http+"?token="+good, `{"jsonrpc":"2.0","id":1,"method":"T.Perm.read"}`, nil)
	if status != 200 || !strings.Contains(body, "-32030") {
		t.Errorf("query token must be ignored by default: %d %s", status, body)
	}
	e2 := newEnv(t, ServerConfig{Secret: testSecret, AllowQueryToken: true})
	status, body = post(t, e2.http+"?token="+good, `{"jsonrpc":"2.0","id":1,"method":"T.Perm.read"}`, nil)
	if status != 200 || !strings.Contains(body, `"result":"read"`) {
		t.Errorf("query token: %d %s", status, body)
	}
}

func TestClaimsReachHandler(t *testing.T) {
	e := newEnv(t, ServerConfig{Secret: testSecret})
	tok := token(t, Claims{Allow: AllowList(PermWrite), Role: RoleTenant, Tenant: "acme",
		RegisteredClaims: jwt.RegisteredClaims{Subject: "alice"}})
	for _, url := range []string{e.http, e.ws} {
		c := dial(t, e, url, WithToken(tok))
		var got Claims
		if err := c.Call(context.Background(), "T.Claims", &got); err != nil {
			t.Fatal(err)
		}
		if got.Subject != "alice" || got.Tenant != "acme" || got.Role != RoleTenant {
			t.Errorf("%s: claims %+v", url, got)
		}
		if err := c.Call(context.Background(), "T.RoleWorker", nil); !errors.Is(err, ErrPermissionDenied) {
			t.Errorf("%s: tenant reached worker method: %v", url, err)
		}
	}
	w := dial(t, e, e.http, WithToken(token(t, Claims{Allow: AllowList(PermRead), Role: RoleWorker})))
	if err := w.Call(context.Background(), "T.RoleWorker", nil); err != nil {
		t.Errorf("worker: %v", err)
	}
}

// revocationSet is a RevokedFunc backed by a set, with a switchable failure.
type revocationSet struct {
	mu      sync.Mutex
	revoked map[string]bool
	fail    bool
}

func (r *revocationSet) check(_ context.Context, jti string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return false, errors.New("db down")
	}
	return r.revoked[jti], nil
}

func (r *revocationSet) set(jti string, fail bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revoked[jti] = true
	r.fail = fail
}

func TestRevocation(t *testing.T) {
	rs := &revocationSet{revoked: map[string]bool{}}
	e := newEnv(t, ServerConfig{Secret: testSecret, Revoked: rs.check})
	ctx := context.Background()
	jti := NewTokenID()
	tok := token(t, Claims{Allow: AllowList(PermRead), RegisteredClaims: jwt.RegisteredClaims{ID: jti}})
	hc := dial(t, e, e.http, WithToken(tok))
	wc := dial(t, e, e.ws, WithToken(tok)) // connected before the revocation
	for _, c := range []*Client{hc, wc} {
		if err := c.Call(ctx, "T.Perm.read", nil); err != nil {
			t.Fatalf("before revocation: %v", err)
		}
	}
	rs.set(jti, false)
	for name, c := range map[string]*Client{"http": hc, "ws": wc} {
		if err := c.Call(ctx, "T.Perm.read", nil); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s after revocation: %v", name, err)
		}
	}
	if _, err := Dial(ctx, e.ws, WithToken(tok)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("new ws after revocation: %v", err)
	}
	// A token without jti cannot be revoked and is unaffected.
	plain := dial(t, e, e.http, WithToken(token(t, Claims{Allow: AllowList(PermRead)})))
	if err := plain.Call(ctx, "T.Perm.read", nil); err != nil {
		t.Errorf("token without jti: %v", err)
	}
	// A failing hook fails closed.
	rs.set("other", true)
	other := dial(t, e, e.http, WithToken(token(t, Claims{Allow: AllowList(PermRead), RegisteredClaims: jwt.RegisteredClaims{ID: "x"}})))
	if err := other.Call(ctx, "T.Perm.read", nil); err == nil {
		t.Error("failing revocation hook let the call through")
	}
}

func TestExpiryOnOpenConnection(t *testing.T) {
	e := newEnv(t, ServerConfig{Secret: testSecret})
	now := time.Unix(1_800_000_000, 0)
	var mu sync.Mutex
	e.srv.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tok := token(t, Claims{Allow: AllowList(PermRead), RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}})
	c := dial(t, e, e.ws, WithToken(tok))
	if err := c.Call(context.Background(), "T.Perm.read", nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if err := c.Call(context.Background(), "T.Perm.read", nil); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("expired token still works on open connection: %v", err)
	}
}
