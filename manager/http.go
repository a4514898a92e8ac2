package manager

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sealant/sealant/manager/dashboard"
	"github.com/sealant/sealant/rpc"
)

// RPCPath is where the JSON-RPC endpoint is mounted (HTTP and WebSocket).
const RPCPath = "/rpc/v0"

// NewRPCServer returns the manager's JSON-RPC server (tokens verified with
// the service secret and checked against the store's revocations) with all
// of the service's methods registered.
func (s *Service) NewRPCServer() (*rpc.Server, error) {
	srv, err := rpc.NewServer(rpc.ServerConfig{
		Secret:  s.secret,
		Revoked: s.Revoked,
		Errors:  Errors,
		Logger:  s.log,
	})
	if err != nil {
		return nil, err
	}
	s.Register(srv)
	dashboard.RegisterRPC(srv, s.st)
	return srv, nil
}

// Handler is the manager's HTTP surface: JSON-RPC at RPCPath, the web
// dashboard at /, Prometheus
// metrics at /metrics and a health check at /healthz. It is the only place
// the manager touches net/http.
func (s *Service) Handler(srv *rpc.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(RPCPath, srv)
	mux.Handle("/", dashboard.Handler())
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
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
