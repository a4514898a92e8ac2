package manager

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

// Metrics are the manager's Prometheus metrics, on their own registry (so
// two Services in one test process do not collide).
type Metrics struct {
	// Registry is what /metrics serves.
	Registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	allocations *prometheus.CounterVec
}

func newMetrics(s *Service) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "sealant", Subsystem: "manager", Name: "rpc_requests_total",
			Help: "RPC calls served, by method and outcome (ok, or the error kind).",
		}, []string{"method", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "sealant", Subsystem: "manager", Name: "rpc_duration_seconds",
			Help:    "Handler latency by method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method"}),
		allocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "sealant", Subsystem: "manager", Name: "sectors_allocated_total",
			Help: "New sectors allocated by this manager process, by tenant.",
		}, []string{"tenant"}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.allocations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&storeCollector{s: s})
	return m
}

// instrument wraps a handler with call counting and latency.
func (m *Metrics) instrument(method string, h rpc.Handler) rpc.Handler {
	hist := m.duration.WithLabelValues(method)
	return func(ctx context.Context, params []json.RawMessage) (any, error) {
		start := time.Now()
		res, err := h(ctx, params)
		hist.Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(method, outcome(err)).Inc()
		return res, err
	}
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrPermission), errors.Is(err, rpc.ErrPermissionDenied):
		return "permission"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrNotLeaseHolder):
		return "not_lease_holder"
	case errors.Is(err, ErrInvalid), errors.Is(err, rpc.ErrInvalidParams):
		return "invalid"
	case errors.Is(err, ErrConflict), errors.Is(err, ErrSectorDone):
		return "conflict"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "error"
}

// storeCollector reports gauges read from the store at scrape time (so they
// are right with several managers on one database).
type storeCollector struct{ s *Service }

var (
	sectorsDesc = prometheus.NewDesc("sealant_manager_sectors", "Sectors by tenant and phase (first 1000 per phase and tenant).", []string{"tenant", "phase"}, nil)
	expiredDesc = prometheus.NewDesc("sealant_manager_expired_leases", "Active sectors whose lease lapsed.", nil, nil)
	queueDesc   = prometheus.NewDesc("sealant_manager_queued_pieces", "Pieces waiting for a data sector.", nil, nil)
	commitsDesc = prometheus.NewDesc("sealant_store_write_transactions_total", "Write transactions this manager's store committed (a group commit counts once).", nil, nil)
	aloneDesc   = prometheus.NewDesc("sealant_store_groups_run_alone_total", "PostgreSQL groups of worker calls that failed as a group, so that each call ran again in its own transaction.", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- sectorsDesc
	ch <- expiredDesc
	ch <- queueDesc
	ch <- commitsDesc
	ch <- aloneDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := c.s
	if ts, err := s.st.ListTenants(ctx); err == nil {
		for _, t := range ts {
			for _, ph := range []store.Phase{store.PhaseActive, store.PhaseFinalized, store.PhaseAborted} {
				secs, err := s.st.ListSectors(ctx, store.SectorFilter{TenantID: t.ID, Phase: ph})
				if err == nil {
					ch <- prometheus.MustNewConstMetric(sectorsDesc, prometheus.GaugeValue, float64(len(secs)), t.ID, string(ph))
				}
			}
		}
	}
	if secs, err := s.st.ExpiredLeases(ctx, s.now()); err == nil {
		ch <- prometheus.MustNewConstMetric(expiredDesc, prometheus.GaugeValue, float64(len(secs)))
	}
	if n, err := s.st.QueuedPieces(ctx, ""); err == nil {
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n))
	}
	ch <- prometheus.MustNewConstMetric(commitsDesc, prometheus.CounterValue, float64(s.st.WriteTransactions()))
	ch <- prometheus.MustNewConstMetric(aloneDesc, prometheus.CounterValue, float64(s.st.GroupsRunAlone()))
}
