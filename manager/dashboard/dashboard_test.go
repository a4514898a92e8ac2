package dashboard

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

func TestHandlerRoutes(t *testing.T) {
	h := Handler()
	cases := []struct {
		method, path string
		code         int
		ctype        string
		body         string // substring
	}{
		{"GET", "/", 200, "text/html", `<script src="app.js" defer>`},
		{"GET", "/index.html", 200, "text/html", "<title>Sealant manager</title>"},
		{"HEAD", "/", 200, "text/html", ""},
		{"GET", "/app.js", 200, "text/javascript", "SealantDashboard.Overview"},
		{"GET", "/style.css", 200, "text/css", ":root"},
		{"GET", "/assets/app.js", 404, "", ""},
		{"GET", "/../dashboard.go", 404, "", ""},
		{"GET", "/nope", 404, "", ""},
		{"POST", "/", 405, "", ""},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(c.method, "http://manager"+c.path, nil)
			h.ServeHTTP(rec, req)
			if rec.Code != c.code {
				t.Fatalf("status %d, want %d", rec.Code, c.code)
			}
			if c.code != 200 {
				return
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, c.ctype) {
				t.Errorf("content type %q, want %s", ct, c.ctype)
			}
			for _, hdr := range []string{"Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options"} {
				if rec.Header().Get(hdr) == "" {
					t.Errorf("missing %s", hdr)
				}
			}
			if !strings.Contains(rec.Body.String(), c.body) {
				t.Errorf("body lacks %q", c.body)
			}
		})
	}
}

// TestAssetsSelfContained guards the "no CDN, no external fetch" rule: the
// page may only reference its own origin.
func TestAssetsSelfContained(t *testing.T) {
	ext := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//|fetch\(\s*["']https?:`)
	err := fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets, path)
		if err != nil {
			return err
		}
		if m := ext.Find(b); m != nil {
			t.Errorf("%s references another origin: %q", path, m)
		}
		if strings.Contains(string(b), "innerHTML") {
			t.Errorf("%s uses innerHTML; build nodes so API strings are never parsed as HTML", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fakeStore holds two tenants' data in memory.
type fakeStore struct {
	sectors    []store.Sector
	batches    []store.Batch
	deliveries []store.Delivery
	fail       error
}

func (f *fakeStore) ListTenants(context.Context) ([]store.Tenant, error) {
	return []store.Tenant{{ID: "a"}, {ID: "b"}}, f.fail
}

func (f *fakeStore) ListSectors(_ context.Context, flt store.SectorFilter) ([]store.Sector, error) {
	var out []store.Sector
	for _, s := range f.sectors {
		if (flt.TenantID == "" || s.TenantID == flt.TenantID) && (flt.Phase == "" || s.Phase == flt.Phase) {
			out = append(out, s)
		}
	}
	return out, f.fail
}

func (f *fakeStore) ListBatches(_ context.Context, flt store.BatchFilter) ([]store.Batch, error) {
	var out []store.Batch
	for _, b := range f.batches {
		ok := flt.TenantID == "" || b.TenantID == flt.TenantID
		in := false
		for _, s := range flt.States {
			in = in || s == b.State
		}
		if ok && in {
			out = append(out, b)
		}
	}
	return out, nil
}

func (f *fakeStore) ListDeliveries(_ context.Context, tenant string, _ ...store.DeliveryState) ([]store.Delivery, error) {
	var out []store.Delivery
	for _, d := range f.deliveries {
		if tenant == "" || d.TenantID == tenant {
			out = append(out, d)
		}
	}
	return out, nil
}

func fixture() *fakeStore {
	now := time.Unix(1_700_000_000, 0)
	sec := func(tenant string, n uint64, phase store.Phase, state string, lease time.Duration) store.Sector {
		return store.Sector{ID: store.SectorID{Miner: 1, Number: n}, TenantID: tenant, Phase: phase, State: state, LeaseExpires: now.Add(lease)}
	}
	f := &fakeStore{
		sectors: []store.Sector{
			sec("a", 1, store.PhaseActive, "PC1", time.Minute),
			sec("a", 2, store.PhaseActive, "PC1", -time.Minute), // expired lease
			sec("a", 3, store.PhaseFinalized, "Finalized", 0),
			sec("b", 4, store.PhaseActive, "C2", time.Minute),
			sec("b", 5, store.PhaseAborted, "PC1", 0),
		},
		batches: []store.Batch{
			{ID: 1, TenantID: "a", Kind: store.BatchPreCommit, State: store.BatchLanded, Sectors: []store.SectorID{{Miner: 1, Number: 3}},
				Message: &store.Message{CID: "bafy-unsigned", SignedCID: "bafy-signed", Unsigned: []byte("big"), State: store.MsgLanded}},
			{ID: 2, TenantID: "a", Kind: store.BatchPreCommit, State: store.BatchLanded},
			{ID: 3, TenantID: "a", Kind: store.BatchPreCommit, State: store.BatchOpen, Sectors: []store.SectorID{{Miner: 1, Number: 1}}},
			{ID: 4, TenantID: "b", Kind: store.BatchProveCommit, State: store.BatchSent},
		},
		deliveries: []store.Delivery{
			{Sector: store.SectorID{Miner: 1, Number: 3}, TenantID: "a", State: store.DeliveryAccepted, Target: "https://u:p@r.example/x?token=T#f"},
			{Sector: store.SectorID{Miner: 1, Number: 6}, TenantID: "a", State: store.DeliveryAccepted},
			{Sector: store.SectorID{Miner: 1, Number: 4}, TenantID: "b", State: store.DeliveryRejected, Reason: "commR mismatch"},
		},
	}
	return f
}

func TestOverviewScope(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	o := &overviewer{st: fixture(), now: func() time.Time { return now }}
	cases := []struct {
		name        string
		claims      *rpc.Claims
		req         OverviewRequest
		err         error
		tenants     []string
		batches     []int64
		deliveries  int
		deliveryCnt map[string]int
	}{
		{"admin all", &rpc.Claims{Role: rpc.RoleAdmin}, OverviewRequest{}, nil, []string{"a", "b"}, []int64{1, 2, 3, 4}, 3,
			map[string]int{"accepted": 2, "rejected": 1}},
		{"admin one tenant", &rpc.Claims{Role: rpc.RoleAdmin}, OverviewRequest{Tenant: "b"}, nil, []string{"b"}, []int64{4}, 1,
			map[string]int{"rejected": 1}},
		{"tenant sees itself", &rpc.Claims{Role: rpc.RoleTenant, Tenant: "a"}, OverviewRequest{}, nil, []string{"a"}, []int64{1, 2, 3}, 2,
			map[string]int{"accepted": 2}},
		{"tenant cannot ask for another", &rpc.Claims{Role: rpc.RoleTenant, Tenant: "a"}, OverviewRequest{Tenant: "b"}, nil, []string{"a"}, []int64{1, 2, 3}, 2,
			map[string]int{"accepted": 2}},
		{"recent limits finished", &rpc.Claims{Role: rpc.RoleTenant, Tenant: "a"}, OverviewRequest{Recent: 1}, nil, []string{"a"}, []int64{2, 3}, 1,
			map[string]int{"accepted": 2}},
		{"tenant token without tenant", &rpc.Claims{Role: rpc.RoleTenant}, OverviewRequest{}, ErrPermission, nil, nil, 0, nil},
		{"worker", &rpc.Claims{Role: rpc.RoleWorker}, OverviewRequest{}, ErrPermission, nil, nil, 0, nil},
		{"no claims", nil, OverviewRequest{}, ErrPermission, nil, nil, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			if c.claims != nil {
				ctx = rpc.WithClaims(ctx, c.claims)
			}
			ov, err := o.Overview(ctx, c.req)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if err != nil {
				return
			}
			var tenants []string
			for _, to := range ov.Tenants {
				tenants = append(tenants, to.Tenant)
			}
			if strings.Join(tenants, ",") != strings.Join(c.tenants, ",") {
				t.Errorf("tenants %v, want %v", tenants, c.tenants)
			}
			var bs []int64
			for _, b := range ov.Batches {
				bs = append(bs, b.ID)
			}
			if len(bs) != len(c.batches) {
				t.Fatalf("batches %v, want %v", bs, c.batches)
			}
			for i := range bs {
				if bs[i] != c.batches[i] {
					t.Errorf("batches %v, want %v", bs, c.batches)
				}
			}
			if len(ov.Deliveries) != c.deliveries {
				t.Errorf("%d deliveries listed, want %d", len(ov.Deliveries), c.deliveries)
			}
			if len(ov.DeliveryCounts) != len(c.deliveryCnt) {
				t.Errorf("delivery counts %v, want %v", ov.DeliveryCounts, c.deliveryCnt)
			}
			for k, v := range c.deliveryCnt {
				if ov.DeliveryCounts[k] != v {
					t.Errorf("delivery counts %v, want %v", ov.DeliveryCounts, c.deliveryCnt)
				}
			}
		})
	}
}

func TestOverviewCounts(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	o := &overviewer{st: fixture(), now: func() time.Time { return now }}
	ov, err := o.Overview(rpc.WithClaims(context.Background(), &rpc.Claims{Role: rpc.RoleAdmin}), OverviewRequest{})
	if err != nil {
		t.Fatal(err)
	}
	a := ov.Tenants[0]
	if a.Phases["active"] != 2 || a.Phases["finalized"] != 1 || a.Phases["aborted"] != 0 || a.States["PC1"] != 2 || a.Expired != 1 {
		t.Errorf("tenant a = %+v", a)
	}
	b := ov.Tenants[1]
	if b.Phases["active"] != 1 || b.Phases["aborted"] != 1 || b.States["C2"] != 1 || len(b.States) != 1 || b.Expired != 0 {
		t.Errorf("tenant b = %+v", b)
	}
	if ov.BatchCounts["precommit/landed"] != 2 || ov.BatchCounts["precommit/open"] != 1 || ov.BatchCounts["provecommit/sent"] != 1 {
		t.Errorf("batch counts %v", ov.BatchCounts)
	}
	m := ov.Batches[0].Message
	if m == nil || m.CID != "bafy-signed" || ov.Batches[0].Sectors != 1 {
		t.Errorf("batch 1 = %+v (message %+v): want the signed CID and 1 sector", ov.Batches[0], m)
	}
	for _, d := range ov.Deliveries {
		if strings.Contains(d.Target, "token") || strings.Contains(d.Target, "u:p") {
			t.Errorf("delivery target not redacted: %q", d.Target)
		}
	}
	if _, err := (&overviewer{st: &fakeStore{fail: io.ErrUnexpectedEOF}, now: time.Now}).Overview(
		rpc.WithClaims(context.Background(), &rpc.Claims{Role: rpc.RoleAdmin}), OverviewRequest{}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("store failure: err = %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                      "",
		"provider store":                        "provider store",
		"https://r.example/v1":                  "https://r.example/v1",
		"https://u:p@r.example/v1?token=x#frag": "https://r.example/v1",
		"http://r.example:8080/?":               "http://r.example:8080/",
		"/var/lib/sealant/store":                "/var/lib/sealant/store",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHandlerServesThroughMux checks the mount the manager uses: more
// specific patterns (the RPC endpoint) keep precedence over "/".
func TestHandlerServesThroughMux(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/rpc/v0", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "rpc") })
	mux.Handle("/", Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for path, want := range map[string]string{"/rpc/v0": "rpc", "/": "<!doctype html>"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.HasPrefix(string(b), want) {
			t.Errorf("%s: got %.40q, want prefix %q", path, b, want)
		}
	}
}
