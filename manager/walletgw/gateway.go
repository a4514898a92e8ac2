package walletgw

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/manager/signhub"
	"github.com/sealant/sealant/rpc"
)

// Hub is what the gateway needs from the signer hub (*signhub.Hub): the
// tenant check SignerHello also makes, and registering a proven wallet
// connection so that sign requests are routed to it.
type Hub interface {
	Authorize(ctx context.Context, tenant string) (miner uint64, err error)
	AttachRemote(tenant string, r signhub.Remote, info signhub.SignerInfo, addrs []address.Address)
	SetAddresses(tenant string, r signhub.Remote, addrs []address.Address) bool
}

// Defaults and bounds for Config.
const (
	DefaultProveTimeout = 30 * time.Second
	// DefaultMaxPayload bounds one answer's Payload (or Error text).
	// The largest legitimate one is a WalletList of MaxAddresses
	// addresses, about 23 KiB.
	DefaultMaxPayload = 64 << 10
	// DefaultMaxRequestSize bounds one WebSocket message from a wallet:
	// a larger one closes the connection (rpc.ServerConfig.MaxRequestSize).
	DefaultMaxRequestSize = 128 << 10
	// DefaultMaxUnsolicited is how many answers to events it was never
	// sent (or answered already) a wallet may send before it is
	// disconnected.
	DefaultMaxUnsolicited = 8
	// DefaultMaxAddressChanges bounds AddNewAddress/RemoveAddress calls
	// per connection and minute; each added address costs a proof round
	// trip.
	DefaultMaxAddressChanges = 30
	// DefaultMaxSessions bounds the wallet connections of one tenant.
	DefaultMaxSessions = 16
	// MaxSignBytes bounds RegisterPolicy.SignBytes (venus-wallet sends 32).
	MaxSignBytes = 1024
	// proofRandSize is the gateway's random part of a verifyaddress
	// request, as sophon-gateway's.
	proofRandSize = 32
)

// Config configures a Gateway. Hub is required.
type Config struct {
	Hub Hub
	// ProveTimeout bounds one WalletList or verifyaddress round trip
	// (default DefaultProveTimeout). A wallet that does not answer in time
	// is disconnected.
	ProveTimeout time.Duration
	// MaxAddresses bounds the addresses one wallet may list (default
	// signhub.MaxAddresses).
	MaxAddresses int
	// MaxPayload, MaxUnsolicited, MaxAddressChanges and MaxSessions: see
	// the Default… constants.
	MaxPayload        int
	MaxUnsolicited    int
	MaxAddressChanges int
	MaxSessions       int
	// Rand supplies channel and event ids and the proof randomness
	// (default crypto/rand). Tests replaying a recorded session seed it.
	Rand io.Reader
	// Now is the clock of the address-change budget (default time.Now).
	Now func() time.Time
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Gateway serves the venus-gateway wallet-event API to venus-wallets and
// hands each proven connection to the Hub. It is safe for concurrent use.
type Gateway struct {
	cfg Config
	log *slog.Logger

	randMu sync.Mutex

	mu        sync.Mutex
	closed    bool
	byPeer    map[*rpc.Peer]*session // the open event channel of each connection
	perTenant map[string]int
}

// New returns a Gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.Hub == nil {
		return nil, errors.New("walletgw: Config.Hub is required")
	}
	positive(&cfg.ProveTimeout, DefaultProveTimeout)
	positive(&cfg.MaxAddresses, signhub.MaxAddresses)
	positive(&cfg.MaxPayload, DefaultMaxPayload)
	positive(&cfg.MaxUnsolicited, DefaultMaxUnsolicited)
	positive(&cfg.MaxAddressChanges, DefaultMaxAddressChanges)
	positive(&cfg.MaxSessions, DefaultMaxSessions)
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Gateway{cfg: cfg, log: log.With("component", "walletgw"),
		byPeer: map[*rpc.Peer]*session{}, perTenant: map[string]int{}}, nil
}

// positive sets *v to def unless it is positive.
func positive[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Register adds the wallet-event methods to srv. Each needs a signer-role
// token of the tenant whose messages the wallet signs (`sealant admin
// tenant token ID --role signer`), which venus-wallet sends as
// --gateway-token.
func (g *Gateway) Register(srv *rpc.Server) {
	reg := func(name string, h rpc.Handler) {
		srv.Register(name, rpc.PermSign, rpc.RequireRole(h, rpc.RoleSigner))
	}
	reg(MethodListenWalletEvent, rpc.Func1(g.listen))
	reg(MethodResponseWalletEvent, rpc.Proc1(g.respond))
	reg(MethodAddNewAddress, rpc.Proc2(g.addAddresses))
	reg(MethodRemoveAddress, rpc.Proc2(g.removeAddresses))
	reg(MethodSupportNewAccount, rpc.Proc2(g.supportAccount))
}

// NewServer returns an RPC server of its own for the gateway API: base
// carries the manager's token secret, revocation hook, error registry and
// logger; the message size and in-flight limits are the gateway's (a
// wallet's messages are small).
func (g *Gateway) NewServer(base rpc.ServerConfig) (*rpc.Server, error) {
	base.MaxRequestSize = DefaultMaxRequestSize
	base.MaxAnonymousRequestSize = 0
	base.MaxInflight = 64
	// The wallet's operator reads our errors in venus-wallet's log.
	base.ExposeErrors = true
	srv, err := rpc.NewServer(base)
	if err != nil {
		return nil, fmt.Errorf("walletgw: %w", err)
	}
	g.Register(srv)
	return srv, nil
}

// Handler serves srv at Path, refusing requests that name another venus
// API namespace (a venus component pointed at the wrong service).
func Handler(srv http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ns := r.Header.Get(NamespaceHeader); ns != "" && ns != Namespace {
			http.Error(w, fmt.Sprintf("walletgw: this endpoint serves the %s wallet API only, not %s\n", Namespace, ns), http.StatusNotFound)
			return
		}
		srv.ServeHTTP(w, r)
	})
}

// Mount is the manager's hook (composition roots call it once): it builds
// a Gateway for cfg and its server from base, and returns next with Path
// routed to the gateway, and a function that closes the gateway's server.
func Mount(next http.Handler, cfg Config, base rpc.ServerConfig) (http.Handler, func(), error) {
	g, err := New(cfg)
	if err != nil {
		return nil, nil, err
	}
	srv, err := g.NewServer(base)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(Path, Handler(srv))
	mux.Handle("/", next)
	return mux, func() { g.Close(); srv.Close() }, nil
}

// Close disconnects every wallet and refuses new channels.
func (g *Gateway) Close() {
	g.mu.Lock()
	g.closed = true
	ss := make([]*session, 0, len(g.byPeer))
	for _, s := range g.byPeer {
		ss = append(ss, s)
	}
	g.mu.Unlock()
	for _, s := range ss {
		s.kill("the manager is shutting down")
	}
}

// newUUID draws a version-4 UUID from cfg.Rand.
func (g *Gateway) newUUID() (uuid.UUID, error) {
	g.randMu.Lock()
	defer g.randMu.Unlock()
	id, err := uuid.NewRandomFromReader(g.cfg.Rand)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("walletgw: random id: %w", err)
	}
	return id, nil
}

// random reads n bytes from cfg.Rand.
func (g *Gateway) random(n int) ([]byte, error) {
	g.randMu.Lock()
	defer g.randMu.Unlock()
	b := make([]byte, n)
	if _, err := io.ReadFull(g.cfg.Rand, b); err != nil {
		return nil, fmt.Errorf("walletgw: randomness: %w", err)
	}
	return b, nil
}

// listen serves Gateway.ListenWalletEvent: it opens the event channel and
// starts the session, which proves the wallet's addresses before the hub
// routes anything to it.
func (g *Gateway) listen(ctx context.Context, policy RegisterPolicy) (*rpc.Stream, error) {
	claims, _ := rpc.ClaimsFrom(ctx)
	peer, ok := rpc.PeerFrom(ctx)
	if !ok {
		return nil, fmt.Errorf("%w: the wallet event channel needs a websocket", rpc.ErrWebSocketRequired)
	}
	if len(policy.SignBytes) == 0 || len(policy.SignBytes) > MaxSignBytes {
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "walletgw: SignBytes must be 1 to %d bytes, got %d", MaxSignBytes, len(policy.SignBytes))
	}
	tenant := claims.Tenant
	if _, err := g.cfg.Hub.Authorize(ctx, tenant); err != nil {
		return nil, err
	}
	channel, err := g.newUUID()
	if err != nil {
		return nil, err
	}
	name := claims.Subject
	if name == "" {
		name = "venus-wallet"
	}
	s := newSession(g, ctx, peer, tenant, name, channel, policy)
	g.mu.Lock()
	switch {
	case g.closed:
		g.mu.Unlock()
		return nil, rpc.Errorf(rpc.CodeOverloaded, "walletgw: the manager is shutting down")
	case g.byPeer[peer] != nil:
		g.mu.Unlock()
		return nil, rpc.Errorf(rpc.CodeInvalidRequest, "walletgw: this connection already has an open wallet event channel")
	case g.perTenant[tenant] >= g.cfg.MaxSessions:
		g.mu.Unlock()
		return nil, rpc.Errorf(rpc.CodeOverloaded, "walletgw: tenant %s already has %d wallet connections", tenant, g.cfg.MaxSessions)
	}
	g.byPeer[peer] = s
	g.perTenant[tenant]++
	g.mu.Unlock()
	if len(policy.SupportAccounts) > 0 {
		g.log.Info("ignoring the wallet's support accounts: the signer token names the tenant",
			"tenant", tenant, "accounts", len(policy.SupportAccounts))
	}
	out := make(chan RequestEvent)
	go s.run(out)
	return rpc.NewStream(out), nil
}

// forget unregisters a finished session.
func (g *Gateway) forget(s *session) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byPeer[s.peer] == s {
		delete(g.byPeer, s.peer)
	}
	if g.perTenant[s.tenant]--; g.perTenant[s.tenant] <= 0 {
		delete(g.perTenant, s.tenant)
	}
}

// sessionOf returns the caller's open session; channel, unless nil, must
// be that session's channel id.
func (g *Gateway) sessionOf(ctx context.Context, channel *uuid.UUID) (*session, error) {
	peer, ok := rpc.PeerFrom(ctx)
	if !ok {
		return nil, fmt.Errorf("%w: wallet event methods are called on the event channel's websocket", rpc.ErrWebSocketRequired)
	}
	g.mu.Lock()
	s := g.byPeer[peer]
	g.mu.Unlock()
	if s == nil {
		return nil, rpc.Errorf(rpc.CodeInvalidRequest, "walletgw: no wallet event channel is open on this connection (call %s first)", MethodListenWalletEvent)
	}
	if channel != nil && *channel != s.channel {
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "walletgw: channel %s is not this connection's (%s)", channel, s.channel)
	}
	return s, nil
}

// respond serves Gateway.ResponseWalletEvent.
func (g *Gateway) respond(ctx context.Context, resp ResponseEvent) error {
	s, err := g.sessionOf(ctx, nil)
	if err != nil {
		return err
	}
	return s.deliver(resp)
}

// addAddresses serves Gateway.AddNewAddress: each new address is proven
// over the event channel, as on connect, before the hub may use it.
func (g *Gateway) addAddresses(ctx context.Context, channel uuid.UUID, addrs []string) error {
	s, err := g.sessionOf(ctx, &channel)
	if err != nil {
		return err
	}
	return s.addAddresses(ctx, addrs)
}

// removeAddresses serves Gateway.RemoveAddress.
func (g *Gateway) removeAddresses(ctx context.Context, channel uuid.UUID, addrs []string) error {
	s, err := g.sessionOf(ctx, &channel)
	if err != nil {
		return err
	}
	return s.removeAddresses(addrs)
}

// supportAccount serves Gateway.SupportNewAccount. sophon-gateway
// accounts name sophon-auth users; Sealant routes by the signer token's
// tenant instead, so one connection serves exactly one tenant.
func (g *Gateway) supportAccount(ctx context.Context, channel uuid.UUID, account string) error {
	s, err := g.sessionOf(ctx, &channel)
	if err != nil {
		return err
	}
	return rpc.Errorf(rpc.CodeInvalidParams,
		"walletgw: Sealant has no gateway accounts: this connection serves tenant %s, named by its signer token; to sign for another tenant (%q), connect with that tenant's signer token",
		s.tenant, account)
}

// Multiaddr returns the multiaddr venus-wallet's --gateway-api takes for
// a listener address host:port (/ip4/…/tcp/…, /ip6/… or /dns/…).
func Multiaddr(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	proto := "dns"
	if ip := net.ParseIP(host); ip != nil {
		proto = "ip6"
		if ip.To4() != nil {
			proto = "ip4"
		}
	}
	return "/" + proto + "/" + host + "/tcp/" + port
}

// Interface guards.
var (
	_ Hub            = (*signhub.Hub)(nil)
	_ signhub.Remote = (*session)(nil)
)
