package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/manager"
)

// startTestManager serves a manager on httptest and returns its RPC URL and
// data dir (holding admin.token).
func startTestManager(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	secret, err := manager.LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := manager.NewService(context.Background(), manager.Options{DSN: "sqlite://" + filepath.Join(dir, "m.sqlite"), Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	if _, err := svc.EnsureAdminToken(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	srv, err := svc.NewRPCServer()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(svc.Handler(srv))
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return hs.URL + manager.RPCPath, dir
}

func TestManagerConfigDefaultCLI(t *testing.T) {
	out, err := runChainCLI(t, "", "manager", "config", "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manager.ParseConfig([]byte(out)); err != nil {
		t.Fatalf("printed default config does not parse: %v", err)
	}
	bad := chainTemp(t, "bad.toml", []byte("listen = \"127.0.0.1:1\"\nbogus = 1\n"))
	if _, err := runChainCLI(t, "", "manager", "config", "validate", bad); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("validate accepted an unknown key: %v", err)
	}
}

func TestAdminAndSectorsCLI(t *testing.T) {
	url, dir := startTestManager(t)
	t.Setenv("SEALANT_API_INFO", "")
	base := []string{"--api", url, "--data-dir", dir}
	run := func(args ...string) string {
		t.Helper()
		out, err := runChainCLI(t, "", append(args[:2:2], append(base, args[2:]...)...)...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	run("admin", "tenant", "add", "acme", "--miner", "1000", "--proof", "2KiB", "--weight", "2")
	run("admin", "tenant", "add", "beta", "--miner", "2000", "--proof", "2KiB")
	var ts []api.TenantConfig
	if err := json.Unmarshal([]byte(run("admin", "tenant", "list", "--json")), &ts); err != nil || len(ts) != 2 || ts[0].ID != "acme" || ts[0].Weight != 2 || ts[0].ProofType != 5 {
		t.Fatalf("tenant list = %+v, %v", ts, err)
	}
	run("admin", "tenant", "pause", "beta")
	if err := json.Unmarshal([]byte(run("admin", "tenant", "list", "--json")), &ts); err != nil || !ts[1].Paused {
		t.Fatalf("pause not applied: %+v", ts)
	}
	run("admin", "tenant", "resume", "beta")

	// A tenant token through SEALANT_API_INFO sees only its own sectors.
	tok := strings.TrimSpace(run("admin", "tenant", "token", "acme"))
	t.Setenv("SEALANT_API_INFO", tok+":"+url)
	out, err := runChainCLI(t, "", "sectors", "list", "--json")
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("sectors list = %q, %v", out, err)
	}
	if _, err := runChainCLI(t, "", "sectors", "show", "2000:0"); err == nil {
		t.Fatal("tenant token could show another tenant's (missing) sector")
	}
	if _, err := runChainCLI(t, "", "admin", "tenant", "list"); err == nil || !strings.Contains(err.Error(), "permission") {
		t.Fatalf("tenant token reached the admin API: %v", err)
	}
	t.Setenv("SEALANT_API_INFO", "")
	var us []api.TenantUsage
	if err := json.Unmarshal([]byte(run("admin", "usage", "--json")), &us); err != nil {
		t.Fatalf("usage --json: %v", err)
	}
	if csv := run("admin", "usage", "--csv"); !strings.HasPrefix(csv, "tenant,") {
		t.Fatalf("usage --csv = %q", csv)
	}
	wt := strings.TrimSpace(run("admin", "token", "issue", "--role", "worker", "--subject", "w1"))
	if strings.Count(wt, ".") != 2 {
		t.Fatalf("worker token %q", wt)
	}
}
