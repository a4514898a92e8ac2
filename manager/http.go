package manager

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sealant/sealant/manager/dashboard"
	"github.com/sealant/sealant/rpc"
)

// RPCPath is where the JSON-RPC endpoint is mounted (HTTP and WebSocket).
const RPCPath = "/rpc/v0"

// RPCServerConfig is how every RPC server of the manager authenticates and
// encodes errors: tokens verified with the service secret and checked
// against the store's revocations, the api error registry.
func (s *Service) RPCServerConfig() rpc.ServerConfig {
	return rpc.ServerConfig{Secret: s.secret, Revoked: s.Revoked, Errors: Errors, Logger: s.log}
}

// NewRPCServer returns the manager's JSON-RPC server (tokens verified with
// the service secret and checked against the store's revocations) with all
// of the service's methods registered.
func (s *Service) NewRPCServer() (*rpc.Server, error) {
	srv, err := rpc.NewServer(s.RPCServerConfig())
	if err != nil {
		return nil, err
	}
	s.Register(srv)
	dashboard.RegisterRPC(srv, s.st)
	return srv, nil
}

// Handler is the manager's HTTP surface: JSON-RPC at RPCPath, the web
// dashboard at /, Prometheus metrics at /metrics (tenant-named, so only for
// a bearer token of role metrics or admin) and a health check at /healthz.
// It is the only place the manager touches net/http.
func (s *Service) Handler(srv *rpc.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(RPCPath, srv)
	mux.Handle("/", dashboard.Handler())
	mux.Handle("/metrics", metricsAuth(srv, promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{})))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := s.Healthy(ctx); err != nil {
			s.log.Warn("health check failed", "err", err)
			http.Error(w, "unhealthy\n", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
	})
	return mux
}

// metricsAuth serves h only to callers whose token (verified by srv, so
// revocation applies) has role metrics or admin: the metrics name every
// tenant and count its sectors. Prometheus sends the token with
// authorization: {credentials_file: …} in its scrape config.
func metricsAuth(srv *rpc.Server, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := srv.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sealant metrics"`)
			http.Error(w, "metrics need a bearer token of role metrics or admin ('sealant admin token issue --role metrics')\n", http.StatusUnauthorized)
			return
		}
		if c.Role != rpc.RoleMetrics && c.Role != rpc.RoleAdmin {
			http.Error(w, fmt.Sprintf("role %q may not read metrics\n", c.Role), http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}
