package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/internal/testenv"
	"github.com/sealant/sealant/manager"
	"github.com/sealant/sealant/manager/dashboard"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
	"github.com/sealant/sealant/store/storetest"
)

// The browser test drives the real page in Debian's headless Chromium
// against a real manager (SQLite store, loopback listener) and checks that
// every number the page renders equals what the API returns for the same
// token: an admin sees both tenants, a tenant only itself.
//
// Tenant ids are distinctive strings so "the other tenant appears nowhere
// in the page" is a plain substring check.
const (
	tenantA = "acme-sp"
	tenantB = "zeta-sp"
)

var testSecret = []byte("dashboard-test-secret-0123456789abcdef")

type env struct {
	svc   *manager.Service
	base  string // http://127.0.0.1:port/
	admin string // admin token
}

// findChromium returns the browser to run, or skips the test.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SEALANT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Skip(t, "manager/dashboard: browser test skipped: no chromium on PATH (Debian: apt-get install chromium; or set SEALANT_CHROMIUM)")
	return ""
}

func startManager(t *testing.T) *env { return startManagerWith(t, true) }

// startManagerWith starts a manager; overview says whether the dashboard's
// own method is served (false: a manager that only mounts the page).
func startManagerWith(t *testing.T, overview bool) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	svc, err := manager.NewService(ctx, manager.Options{
		DSN:    "sqlite://" + filepath.Join(dir, "manager.db"),
		Secret: testSecret,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// Reports written as they are made: the page must show the states
		// the test reported, not race the report flush (up to a second).
		ReportFlush: -1,
	})
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	t.Cleanup(func() { svc.Close() })
	srv, err := svc.NewRPCServer()
	if err != nil {
		t.Fatalf("NewRPCServer: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	// The manager mux serves /rpc/v0, /metrics, /healthz; the dashboard
	// takes everything else, as `mux.Handle("/", dashboard.Handler())` in
	// the manager's http.go does.
	inner := svc.Handler(srv)
	mux := http.NewServeMux()
	for _, p := range []string{"/metrics", "/healthz"} {
		mux.Handle(p, inner)
	}
	if overview {
		mux.Handle(manager.RPCPath, inner)
	} else {
		mux.Handle(manager.RPCPath, hideMethod(inner, dashboard.MethodOverview))
	}
	mux.Handle("/", dashboard.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	e := &env{svc: svc, base: "http://" + ln.Addr().String() + "/"}
	admin, err := svc.IssueToken(ctx, api.TokenRequest{Role: "admin", Subject: "test-admin"})
	if err != nil {
		t.Fatalf("issue admin token: %v", err)
	}
	e.admin = admin.Token
	// Serve the dashboard's method unless the manager already does.
	c := e.client(t, e.admin)
	var ov dashboard.Overview
	err = c.Call(ctx, dashboard.MethodOverview, &ov, dashboard.OverviewRequest{})
	var re *rpc.Error
	if err != nil && (!errors.As(err, &re) || re.Code != rpc.CodeMethodNotFound) {
		t.Fatalf("probe %s: %v", dashboard.MethodOverview, err)
	}
	if overview && err != nil {
		dashboard.RegisterRPC(srv, svc.Store())
	}
	return e
}

// hideMethod answers calls of method with JSON-RPC "method not found", as
// a manager that does not serve it would.
func hideMethod(next http.Handler, method string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal(body, &req) == nil && req.Method == method {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"jsonrpc": "2.0", "id": req.ID,
				"error": map[string]any{"code": rpc.CodeMethodNotFound, "message": "method not found"}})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func (e *env) client(t *testing.T, token string) *rpc.Client {
	t.Helper()
	c, err := rpc.Dial(context.Background(), e.base+strings.TrimPrefix(manager.RPCPath, "/"),
		rpc.WithToken(token), rpc.WithErrorRegistry(manager.Errors))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) token(t *testing.T, req api.TokenRequest) string {
	t.Helper()
	var out api.IssuedToken
	if err := e.client(t, e.admin).Call(context.Background(), api.MethodAdminTokenIssue, &out, req); err != nil {
		t.Fatalf("issue %s token: %v", req.Role, err)
	}
	return out.Token
}

// seed creates two tenants and sectors in several states, a worker with
// threads, batches and deliveries.
func seed(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	admin := e.client(t, e.admin)
	for i, id := range []string{tenantA, tenantB} {
		var out api.TenantConfig
		tc := api.TenantConfig{ID: id, Miner: uint64(1000 + i*1000), ProofType: 5, Weight: 1, QuotaPerDay: 100 * (i + 1)}
		if err := admin.Call(ctx, api.MethodAdminTenantCreate, &out, tc); err != nil {
			t.Fatalf("create tenant %s: %v", id, err)
		}
	}
	w := e.client(t, e.token(t, api.TokenRequest{Role: "worker", Subject: "w1"}))
	type plan struct {
		tenant, state, stage string
		cpu                  map[string]float64
	}
	plans := []plan{
		{tenantA, "PC1Done", "pc1", map[string]float64{"pc1": 120.5}},
		{tenantA, "PC1Done", "pc1", map[string]float64{"pc1": 99}},
		{tenantA, "PreCommitSubmitted", "precommit", map[string]float64{"pc2": 30}},
		{tenantA, "SeedAssigned", "c1", nil},
		{tenantB, "PiecesAcquired", "tree_d", map[string]float64{"tree_d": 4}},
		{tenantB, "PC1Done", "pc1", nil},
		{tenantB, "ProofSubmitted", "c2", map[string]float64{"c2": 61}},
	}
	var ids []api.SectorID
	var threads []api.ThreadInfo
	for i, p := range plans {
		thread := fmt.Sprintf("t%d", i)
		var a *api.AllocatedSector
		if err := w.Call(ctx, api.MethodAllocateSector, &a, api.AllocateSpec{Worker: "w1", Thread: thread, AllowedTenants: []string{p.tenant}}); err != nil || a == nil {
			t.Fatalf("allocate for %s: %v (%v)", p.tenant, a, err)
		}
		var resp api.ReportStateResponse
		rep := api.StateReport{Worker: "w1", Thread: thread, Prev: "Empty", Next: p.state, Event: "test", Stage: p.stage, CPUSeconds: p.cpu}
		if err := w.Call(ctx, api.MethodReportState, &resp, a.ID, rep); err != nil {
			t.Fatalf("report state: %v", err)
		}
		ids = append(ids, a.ID)
		id := a.ID
		threads = append(threads, api.ThreadInfo{Name: thread, State: "Sealing", Stage: p.stage, Sector: &id, Since: time.Now().Add(-time.Duration(i+1) * time.Minute)})
	}
	threads = append(threads, api.ThreadInfo{Name: "idle", State: "Idle", Since: time.Now()})
	threads[1].Paused = true
	var pong api.WorkerPingResponse
	if err := w.Call(ctx, api.MethodWorkerPing, &pong, api.WorkerPing{Worker: "w1", Version: "test-1", Threads: threads}); err != nil {
		t.Fatalf("worker ping: %v", err)
	}

	st := e.svc.Store()
	sid := func(i int) store.SectorID { return store.SectorID{Miner: ids[i].Miner, Number: ids[i].Number} }
	now := time.Now()
	// One finalized and one aborted sector per tenant's first/last plan.
	// Finalizing opens the sector's delivery, to a target with secrets in
	// it (the tenant has none of its own).
	storetest.Finalize(t, st, sid(3), "w1/t3", "https://user:pw@receiver.example/v1?token=SECRET", now)
	var none struct{}
	if err := admin.Call(ctx, api.MethodAdminSectorAbort, &none, ids[6], "operator test"); err != nil {
		t.Fatalf("abort: %v", err)
	}
	for _, i := range []int{2, 0} {
		if _, err := st.AddToBatch(ctx, sid(i), store.BatchPreCommit, now); err != nil {
			t.Fatalf("add to batch: %v", err)
		}
	}
	if _, err := st.AddToBatch(ctx, sid(5), store.BatchPreCommit, now); err != nil {
		t.Fatalf("add to batch: %v", err)
	}
	if _, err := st.CreateDelivery(ctx, sid(4), "", now); err != nil {
		t.Fatalf("create delivery: %v", err)
	}
	if _, err := st.UpdateDelivery(ctx, sid(4), store.DeliveryTransferring, "", now); err != nil {
		t.Fatalf("update delivery: %v", err)
	}
}

// runChromium runs headless Chromium with args plus the page URL.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(),
		// Let the page's fetches finish before the DOM is dumped.
		"--virtual-time-budget=8000"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

var (
	spanRe = regexp.MustCompile(`<span [^>]*data-k="[^"]*"[^>]*>`)
	kRe    = regexp.MustCompile(`data-k="([^"]*)"`)
	vRe    = regexp.MustCompile(`data-v="([^"]*)"`)
	bodyRe = regexp.MustCompile(`<body[^>]*data-state="([^"]*)"`)
)

// rendered extracts data-k → data-v from a dumped DOM.
func rendered(t *testing.T, dom string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tag := range spanRe.FindAllString(dom, -1) {
		k, v := kRe.FindStringSubmatch(tag), vRe.FindStringSubmatch(tag)
		if k == nil || v == nil {
			t.Fatalf("number without key or value: %s", tag)
		}
		out[html.UnescapeString(k[1])] = html.UnescapeString(v[1])
	}
	return out
}

// expected computes what the page must show for token from the API.
func expected(t *testing.T, e *env, token string, admin, overview bool) map[string]string {
	t.Helper()
	ctx := context.Background()
	c := e.client(t, token)
	want := map[string]string{}
	put := func(k string, v any) { want[k] = fmt.Sprint(v) }
	tenants := map[string]bool{}
	totals := map[string]int{}
	pipeline := map[string]int{}
	perTenantState := map[string]int{}
	expired := map[string]int{}
	for _, ph := range []string{"active", "finalized", "aborted"} {
		var secs []api.SectorInfo
		if err := c.Call(ctx, api.MethodListSectors, &secs, api.SectorListRequest{Phase: ph, Limit: 1000}); err != nil {
			t.Fatalf("list sectors: %v", err)
		}
		per := map[string]int{}
		for _, s := range secs {
			tenants[s.Tenant] = true
			per[s.Tenant]++
			totals[ph]++
			if ph == "active" {
				pipeline[s.State]++
				perTenantState[s.State+"."+s.Tenant]++
				if s.LeaseExpired {
					expired[s.Tenant]++
				}
			}
		}
		for tn, n := range per {
			put("tenant."+tn+"."+ph, n)
		}
	}
	var usage []api.TenantUsage
	if err := c.Call(ctx, api.MethodTenantUsage, &usage, api.UsageRequest{}); err != nil {
		t.Fatalf("usage: %v", err)
	}
	for _, u := range usage {
		tenants[u.Tenant] = true
		put("usage."+u.Tenant+".allocated", u.SectorsAllocated)
		put("usage."+u.Tenant+".finalized", u.SectorsFinalized)
		put("usage."+u.Tenant+".bytes", u.BytesFinalized)
		cpu := 0.0
		for _, v := range u.CPUSeconds {
			cpu += v
		}
		put("usage."+u.Tenant+".cpu", strconv.FormatFloat(cpu, 'f', -1, 64))
	}
	if admin {
		var ts []api.TenantConfig
		if err := c.Call(ctx, api.MethodAdminTenantList, &ts); err != nil {
			t.Fatalf("tenant list: %v", err)
		}
		for _, tc := range ts {
			tenants[tc.ID] = true
		}
		var ws []api.WorkerInfo
		if err := c.Call(ctx, api.MethodAdminWorkers, &ws); err != nil {
			t.Fatalf("workers: %v", err)
		}
		put("workers", len(ws))
		n := 0
		for _, w := range ws {
			n += len(w.Threads)
		}
		put("threads", n)
	}
	put("tenants", len(tenants))
	for tn := range tenants {
		for _, ph := range []string{"active", "finalized", "aborted"} {
			if _, ok := want["tenant."+tn+"."+ph]; !ok {
				put("tenant."+tn+"."+ph, 0)
			}
		}
		put("tenant."+tn+".expired", expired[tn])
	}
	for _, ph := range []string{"active", "finalized", "aborted"} {
		put("sectors."+ph, totals[ph])
	}
	exp := 0
	for _, n := range expired {
		exp += n
	}
	put("leases.expired", exp)
	for st, n := range pipeline {
		put("pipeline."+st, n)
		if len(tenants) > 1 {
			for tn := range tenants {
				put("pipeline."+st+"."+tn, perTenantState[st+"."+tn])
			}
		}
	}
	if !overview {
		return want
	}
	// Batches and deliveries come only from the dashboard's own method.
	var ov dashboard.Overview
	if err := c.Call(ctx, dashboard.MethodOverview, &ov, dashboard.OverviewRequest{}); err != nil {
		t.Fatalf("overview: %v", err)
	}
	open := 0
	for k, n := range ov.BatchCounts {
		put("batches."+strings.Replace(k, "/", ".", 1), n)
		if strings.HasSuffix(k, "/open") {
			open += n
		}
	}
	put("batches.open", open)
	for _, b := range ov.Batches {
		put(fmt.Sprintf("batch.%d.sectors", b.ID), b.Sectors)
	}
	inflight := 0
	for k, n := range ov.DeliveryCounts {
		put("deliveries."+k, n)
		if k != "accepted" && k != "rejected" {
			inflight += n
		}
	}
	put("deliveries.inflight", inflight)
	return want
}

// pageURL is the dashboard URL with a token in the query.
func pageURL(e *env, token string) string {
	return e.base + "?token=" + url.QueryEscape(token)
}

func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("dashboard browser test skipped in -short mode")
	}
	bin := findChromium(t)
	e := startManager(t)
	seed(t, e)
	tenantTok := e.token(t, api.TokenRequest{Role: "tenant", Tenant: tenantA, Subject: "acme-ops"})

	cases := []struct {
		name    string
		token   string
		admin   bool
		present []string // must appear in the page
		absent  []string // must not appear
	}{
		{"admin", e.admin, true,
			[]string{tenantA, tenantB, `data-thread="w1/t1"`, "paused", `data-role="admin"`, "receiver.example"},
			[]string{"SECRET", "user:pw", "not available to this token"}},
		{"tenant", tenantTok, false,
			[]string{tenantA, `data-role="tenant"`, `data-tenant="acme-sp"`, "Workers and threads are not available to this token (admin only).",
				"Tenant settings are visible to the admin only"},
			[]string{tenantB, "f02000", `data-thread=`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dom := string(runChromium(t, bin, "--dump-dom", pageURL(e, tc.token)))
			if m := bodyRe.FindStringSubmatch(dom); m == nil || m[1] != "ready" {
				t.Fatalf("page did not reach the ready state (body state %v); DOM:\n%s", m, dom)
			}
			got := rendered(t, dom)
			want := expected(t, e, tc.token, tc.admin, true)
			for k, v := range want {
				g, ok := got[k]
				switch {
				case !ok:
					t.Errorf("%s: %s not rendered (API says %s)", tc.name, k, v)
				case g != v:
					t.Errorf("%s: %s rendered %s, API says %s", tc.name, k, g, v)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: page shows %s=%s that the API check does not cover", tc.name, k, got[k])
				}
			}
			for _, s := range tc.present {
				if !strings.Contains(dom, s) {
					t.Errorf("%s: page lacks %q", tc.name, s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(dom, s) {
					t.Errorf("%s: page shows %q", tc.name, s)
				}
			}
			// Sanity: the seeded fixture is what the checks compare.
			if tc.admin && (got["sectors.active"] != "5" || got["tenants"] != "2" || got["threads"] != "8") {
				t.Errorf("admin summary = %v; want 5 active sectors, 2 tenants, 8 threads", got)
			}
			if !tc.admin && got["sectors.active"] != "3" {
				t.Errorf("tenant summary active = %s, want 3", got["sectors.active"])
			}
		})
	}

	t.Run("bad tokens", func(t *testing.T) {
		worker := e.token(t, api.TokenRequest{Role: "worker", Subject: "w9"})
		for _, c := range []struct{ token, msg string }{
			{"not-a-jwt", "The manager rejected this token"},
			{worker, "needs an admin or tenant token"},
		} {
			dom := string(runChromium(t, bin, "--dump-dom", pageURL(e, c.token)))
			if m := bodyRe.FindStringSubmatch(dom); m == nil || m[1] != "error" {
				t.Errorf("token %.12s…: body state %v, want error", c.token, m)
			}
			if !strings.Contains(dom, c.msg) {
				t.Errorf("token %.12s…: page lacks %q", c.token, c.msg)
			}
			if len(rendered(t, dom)) != 0 {
				t.Errorf("token %.12s…: page rendered figures", c.token)
			}
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		dir := os.Getenv("SEALANT_DASHBOARD_SCREENSHOT_DIR")
		if dir == "" {
			dir = t.TempDir()
		}
		// The first screen (what a reviewer sees first) and the whole page.
		for _, shot := range []struct {
			name string
			w, h int
		}{{"dashboard-admin.png", 1280, 900}, {"dashboard-admin-full.png", 1280, 2600}} {
			file := filepath.Join(dir, shot.name)
			runChromium(t, bin, "--hide-scrollbars", fmt.Sprintf("--window-size=%d,%d", shot.w, shot.h), "--screenshot="+file, pageURL(e, e.admin))
			f, err := os.Open(file)
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			cfg, err := png.DecodeConfig(f)
			f.Close()
			if err != nil {
				t.Fatalf("screenshot is not a PNG: %v", err)
			}
			if cfg.Width != shot.w || cfg.Height != shot.h {
				t.Errorf("screenshot is %dx%d, want %dx%d", cfg.Width, cfg.Height, shot.w, shot.h)
			}
			t.Logf("screenshot: %s", file)
		}
	})
}

// TestDashboardFallbackInChromium runs the page against a manager that
// mounts it but does not serve SealantDashboard.Overview: the pipeline is
// then counted from ListSectors and batches and deliveries say why they
// are missing.
func TestDashboardFallbackInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("dashboard browser test skipped in -short mode")
	}
	bin := findChromium(t)
	e := startManagerWith(t, false)
	seed(t, e)
	dom := string(runChromium(t, bin, "--dump-dom", pageURL(e, e.admin)))
	if m := bodyRe.FindStringSubmatch(dom); m == nil || m[1] != "ready" {
		t.Fatalf("page did not reach the ready state (body state %v); DOM:\n%s", m, dom)
	}
	got := rendered(t, dom)
	want := expected(t, e, e.admin, true, false)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s rendered %q, API says %s", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("page shows %s=%s without the overview method", k, got[k])
		}
	}
	if !strings.Contains(dom, "Batches, messages and deliveries are not served by this manager version.") {
		t.Errorf("page does not explain the missing batches and deliveries")
	}
}
