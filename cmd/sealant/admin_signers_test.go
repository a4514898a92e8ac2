package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager"
	"github.com/sealant/sealant/manager/signhub"
	"github.com/sealant/sealant/manager/walletgw"
	"github.com/sealant/sealant/manager/walletgw/walletgwtest"
	"github.com/sealant/sealant/rpc"
)

// TestAdminSignersCLI: a tenant with both kinds of signer — a `sealant
// signer` on /rpc/v0 and a venus-wallet on the gateway wallet API at
// /rpc/v1, wired as the manager command wires them — is listed by
// `sealant admin signers` with each kind and its proven address.
func TestAdminSignersCLI(t *testing.T) {
	dir := t.TempDir()
	secret, err := manager.LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc, err := manager.NewService(ctx, manager.Options{DSN: "sqlite://" + filepath.Join(dir, "m.sqlite"), Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	if _, err := svc.EnsureAdminToken(ctx, dir); err != nil {
		t.Fatal(err)
	}
	hub := signhub.New(signhub.Config{})
	svc.SetSigners(hub)
	srv, err := svc.NewRPCServer()
	if err != nil {
		t.Fatal(err)
	}
	h, closeGW, err := walletgw.Mount(svc.Handler(srv), walletgw.Config{Hub: hub},
		rpc.ServerConfig{Secret: secret, Revoked: svc.Revoked, Errors: manager.Errors})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() { closeGW(); srv.Close(); hs.Close(); hub.Close() })
	ws := "ws" + strings.TrimPrefix(hs.URL, "http")

	if _, err := svc.CreateTenant(ctx, api.TenantConfig{ID: "acme", Miner: 1000, ProofType: 5}); err != nil {
		t.Fatal(err)
	}
	tok, err := svc.IssueToken(ctx, api.TokenRequest{Role: "signer", Tenant: "acme", Subject: "acme-signer"})
	if err != nil {
		t.Fatal(err)
	}

	// A sealant signer holding a secp256k1 key.
	secp, err := walletgwtest.NewKey(types.SigTypeSecp256k1, 1)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := rpc.Dial(ctx, ws+manager.RPCPath, rpc.WithToken(tok.Token),
		rpc.WithHandler(api.MethodSignerProve, rpc.Func1(func(_ context.Context, ch api.HexBytes) ([]api.AddressProof, error) {
			s, err := sigs.Sign(secp.Type, secp.Priv, api.AddressProofBytes(ch, secp.Addr.Bytes()))
			return []api.AddressProof{{Address: secp.Addr.String(), Signature: api.SignatureJSON{Type: int(s.Type), Data: s.Data}}}, err
		})))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := sc.Call(ctx, api.MethodSignerHello, nil, api.SignerHello{Name: "acme-sealant-signer", Addresses: []string{secp.Addr.String()}}); err != nil {
		t.Fatal(err)
	}
	// A venus-wallet holding a BLS key.
	bls, err := walletgwtest.NewKey(types.SigTypeBLS, 2)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	w, err := walletgwtest.Connect(cctx, ws+walletgw.Path, tok.Token, bls)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	t.Setenv("SEALANT_API_INFO", "")
	base := []string{"admin", "signers", "--api", hs.URL + manager.RPCPath, "--data-dir", dir}
	out, err := runChainCLI(t, "", append(base, "--json")...)
	if err != nil {
		t.Fatal(err)
	}
	var ss []api.SignerStatus
	if err := json.Unmarshal([]byte(out), &ss); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	kinds := map[string]string{}
	for _, s := range ss {
		if s.Tenant != "acme" || len(s.Addresses) != 1 {
			t.Fatalf("signer %+v", s)
		}
		kinds[s.Kind] = s.Addresses[0]
	}
	if kinds[api.SignerKindSealant] != secp.Addr.String() || kinds[api.SignerKindVenusWallet] != bls.Addr.String() {
		t.Fatalf("signers by kind %v, want the sealant signer's %s and the venus-wallet's %s", kinds, secp.Addr, bls.Addr)
	}
	table, err := runChainCLI(t, "", append(base, "acme")...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table, "venus-wallet") || !strings.Contains(table, "sealant") || !strings.Contains(table, bls.Addr.String()) {
		t.Fatalf("table:\n%s", table)
	}
	// Only admins may list signers. (Called directly: the admin
	// command's --token flag would outlive this test.)
	var none []api.SignerStatus
	if err := sc.Call(ctx, api.MethodAdminSigners, &none, ""); err == nil {
		t.Fatal("a signer token listed the signers")
	}
}
