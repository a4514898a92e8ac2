package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"time"

	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

//go:embed assets
var assets embed.FS

// MethodOverview is the dashboard's read-only RPC method:
// (OverviewRequest) → Overview.
const MethodOverview = "SealantDashboard.Overview"

// Limits on what Overview reads, so a long-lived manager with millions of
// finished sectors does not build a huge answer every refresh.
const (
	// MaxCount is how many sectors per tenant and phase are counted; a
	// count that reaches it is reported with Capped set.
	MaxCount = 100000
	// DefaultRecent is how many finished batches and accepted deliveries
	// are listed when OverviewRequest.Recent is zero.
	DefaultRecent = 20
	// MaxRecent bounds OverviewRequest.Recent.
	MaxRecent = 500
)

// ErrPermission is returned by Overview to a caller without a tenant or
// admin role (the rpc transport normally refuses such callers first).
var ErrPermission = errors.New("dashboard: permission denied")

// Handler serves the embedded dashboard: "/" is the page, "/app.js" and
// "/style.css" its assets. Any other path is 404, so mounting it at "/"
// does not turn typos into pages.
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		// Everything the page needs comes from this origin; the token may
		// be in the URL, so it must never leak through a Referer.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		switch p := path.Clean("/" + r.URL.Path); p {
		case "/", "/index.html":
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/"
			files.ServeHTTP(w, r2)
		case "/app.js", "/style.css":
			files.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// Store is what Overview reads; *store.Store implements it.
type Store interface {
	ListTenants(ctx context.Context) ([]store.Tenant, error)
	ListSectors(ctx context.Context, f store.SectorFilter) ([]store.Sector, error)
	ListBatches(ctx context.Context, f store.BatchFilter) ([]store.Batch, error)
	ListDeliveries(ctx context.Context, tenantID string, states ...store.DeliveryState) ([]store.Delivery, error)
}

// RegisterRPC serves MethodOverview on srv, reading st. It needs "read"
// permission and a tenant or admin role, like the tenant API.
func RegisterRPC(srv *rpc.Server, st Store) {
	o := &overviewer{st: st, now: time.Now}
	srv.Register(MethodOverview, rpc.PermRead, rpc.RequireRole(rpc.Func1(o.Overview), rpc.RoleTenant, rpc.RoleAdmin))
}

// OverviewRequest selects what Overview returns.
type OverviewRequest struct {
	// Tenant narrows an admin's view to one tenant; it is ignored for a
	// tenant token (always its own tenant).
	Tenant string `json:"tenant,omitempty"`
	// Recent is how many finished batches and accepted deliveries to list
	// (0 = DefaultRecent, at most MaxRecent). Unfinished ones are always
	// all listed.
	Recent int `json:"recent,omitempty"`
}

// Overview is the dashboard's view of the pipeline.
type Overview struct {
	At      time.Time        `json:"at"`
	Tenants []TenantOverview `json:"tenants"`
	// Batches are every open, closed or sent batch plus the newest Recent
	// landed or failed ones, oldest first.
	Batches []BatchView `json:"batches"`
	// BatchCounts counts the listed batches by "<kind>/<state>".
	BatchCounts map[string]int `json:"batch_counts"`
	// Deliveries are every unfinished or rejected delivery plus the newest
	// Recent accepted ones.
	Deliveries []DeliveryView `json:"deliveries"`
	// DeliveryCounts counts all deliveries (not only the listed) by state.
	DeliveryCounts map[string]int `json:"delivery_counts"`
}

// TenantOverview counts one tenant's sectors.
type TenantOverview struct {
	Tenant string `json:"tenant"`
	// Phases counts sectors by phase (active, finalized, aborted).
	Phases map[string]int `json:"phases"`
	// States counts active sectors by their state.
	States map[string]int `json:"states"`
	// Expired counts active sectors whose lease lapsed.
	Expired int `json:"expired"`
	// Capped is set when a phase reached MaxCount (counts are then lower
	// bounds).
	Capped bool `json:"capped,omitempty"`
}

// BatchView is a batch with its message, without the message bytes.
type BatchView struct {
	ID        int64        `json:"id"`
	Tenant    string       `json:"tenant"`
	Kind      string       `json:"kind"`
	State     string       `json:"state"`
	Sectors   int          `json:"sectors"`
	CreatedAt time.Time    `json:"created_at"`
	ClosedAt  time.Time    `json:"closed_at,omitzero"`
	DoneAt    time.Time    `json:"done_at,omitzero"`
	Message   *MessageView `json:"message,omitempty"`
}

// MessageView is a batch's chain message.
type MessageView struct {
	CID       string    `json:"cid,omitempty"`
	From      string    `json:"from"`
	Nonce     uint64    `json:"nonce"`
	State     string    `json:"state"`
	ExitCode  *int64    `json:"exit_code,omitempty"`
	Error     string    `json:"error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DeliveryView is one sector's delivery record.
type DeliveryView struct {
	Sector    store.SectorID `json:"sector"`
	Tenant    string         `json:"tenant"`
	State     string         `json:"state"`
	Target    string         `json:"target,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	Attempts  int            `json:"attempts"`
	UpdatedAt time.Time      `json:"updated_at"`
}

type overviewer struct {
	st  Store
	now func() time.Time
}

// scope returns the tenant the caller may see ("" = all, admin only).
func scope(ctx context.Context, want string) (string, error) {
	c, ok := rpc.ClaimsFrom(ctx)
	if !ok || c == nil {
		return "", fmt.Errorf("%w: no credentials", ErrPermission)
	}
	switch c.Role {
	case rpc.RoleAdmin:
		return want, nil
	case rpc.RoleTenant:
		if c.Tenant == "" {
			return "", fmt.Errorf("%w: tenant token without tenant", ErrPermission)
		}
		return c.Tenant, nil
	}
	return "", fmt.Errorf("%w: role %q", ErrPermission, c.Role)
}

// Overview counts sectors per tenant, phase and state and lists batches
// and deliveries, confined to the caller's tenant.
func (o *overviewer) Overview(ctx context.Context, req OverviewRequest) (Overview, error) {
	tenant, err := scope(ctx, req.Tenant)
	if err != nil {
		return Overview{}, err
	}
	recent := req.Recent
	if recent <= 0 {
		recent = DefaultRecent
	}
	recent = min(recent, MaxRecent)
	now := o.now()
	out := Overview{At: now, BatchCounts: map[string]int{}, DeliveryCounts: map[string]int{}}

	var ids []string
	if tenant != "" {
		ids = []string{tenant}
	} else {
		ts, err := o.st.ListTenants(ctx)
		if err != nil {
			return Overview{}, fmt.Errorf("dashboard: overview: %w", err)
		}
		for _, t := range ts {
			ids = append(ids, t.ID)
		}
	}
	for _, id := range ids {
		to := TenantOverview{Tenant: id, Phases: map[string]int{}, States: map[string]int{}}
		for _, ph := range []store.Phase{store.PhaseActive, store.PhaseFinalized, store.PhaseAborted} {
			secs, err := o.st.ListSectors(ctx, store.SectorFilter{TenantID: id, Phase: ph, Limit: MaxCount})
			if err != nil {
				return Overview{}, fmt.Errorf("dashboard: overview: %w", err)
			}
			to.Phases[string(ph)] = len(secs)
			if len(secs) >= MaxCount {
				to.Capped = true
			}
			if ph != store.PhaseActive {
				continue
			}
			for _, s := range secs {
				to.States[s.State]++
				if s.LeaseExpired(now) {
					to.Expired++
				}
			}
		}
		out.Tenants = append(out.Tenants, to)
	}

	live, err := o.st.ListBatches(ctx, store.BatchFilter{TenantID: tenant, States: []store.BatchState{store.BatchOpen, store.BatchClosed, store.BatchSent}})
	if err != nil {
		return Overview{}, fmt.Errorf("dashboard: overview: %w", err)
	}
	done, err := o.st.ListBatches(ctx, store.BatchFilter{TenantID: tenant, States: []store.BatchState{store.BatchLanded, store.BatchFailed}})
	if err != nil {
		return Overview{}, fmt.Errorf("dashboard: overview: %w", err)
	}
	// Finished batches come oldest first; keep the newest.
	if len(done) > recent {
		done = done[len(done)-recent:]
	}
	batches := append(live, done...)
	sort.SliceStable(batches, func(i, j int) bool { return batches[i].ID < batches[j].ID })
	out.Batches = make([]BatchView, 0, len(batches))
	for _, b := range batches {
		out.Batches = append(out.Batches, batchView(b))
		out.BatchCounts[string(b.Kind)+"/"+string(b.State)]++
	}

	ds, err := o.st.ListDeliveries(ctx, tenant)
	if err != nil {
		return Overview{}, fmt.Errorf("dashboard: overview: %w", err)
	}
	var accepted []store.Delivery
	out.Deliveries = []DeliveryView{}
	for _, d := range ds {
		out.DeliveryCounts[string(d.State)]++
		if d.State == store.DeliveryAccepted {
			accepted = append(accepted, d)
			continue
		}
		out.Deliveries = append(out.Deliveries, deliveryView(d))
	}
	if len(accepted) > recent {
		accepted = accepted[len(accepted)-recent:]
	}
	for _, d := range accepted {
		out.Deliveries = append(out.Deliveries, deliveryView(d))
	}
	if out.Tenants == nil {
		out.Tenants = []TenantOverview{}
	}
	return out, nil
}

func batchView(b store.Batch) BatchView {
	v := BatchView{ID: b.ID, Tenant: b.TenantID, Kind: string(b.Kind), State: string(b.State), Sectors: len(b.Sectors),
		CreatedAt: b.CreatedAt, ClosedAt: b.ClosedAt, DoneAt: b.DoneAt}
	if m := b.Message; m != nil {
		v.Message = &MessageView{CID: m.ChainCID(), From: m.From, Nonce: m.Nonce, State: string(m.State),
			ExitCode: m.ExitCode, Error: m.Error, UpdatedAt: m.UpdatedAt}
	}
	return v
}

func deliveryView(d store.Delivery) DeliveryView {
	return DeliveryView{Sector: d.Sector, Tenant: d.TenantID, State: string(d.State), Target: redactURL(d.Target),
		Reason: d.Reason, Attempts: d.Attempts, UpdatedAt: d.UpdatedAt}
}

// redactURL drops credentials, query (where tokens travel) and fragment
// from a delivery target before it is shown in a browser.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return s
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}
