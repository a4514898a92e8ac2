package signhub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/commit"
	"github.com/sealant/sealant/rpc"
)

// Sentinel errors. Every error Sign returns wraps one of them or the
// caller's context error.
var (
	// ErrNoSigner: no connected signer of the tenant holds the From
	// address, and none connected within Config.WaitTimeout. It wraps
	// commit.ErrSignerUnavailable, so the commit pipeline shows the batch
	// as waiting for the signer and retries, and api.ErrNoSigner, its
	// registered wire error.
	ErrNoSigner = fmt.Errorf("%w: %w", api.ErrNoSigner, commit.ErrSignerUnavailable)
	// ErrRefused: the signer's policy refused the message (see
	// RefusedError for the reason).
	ErrRefused = errors.New("signhub: signer refused")
	// ErrBadSignature: a signer answered with a signature that does not
	// verify for the From address over the message CID.
	ErrBadSignature = errors.New("signhub: signer returned an invalid signature")
	// ErrInvalid: the request itself is unusable (nil message, From not a
	// key address, From differing from the message's sender).
	ErrInvalid = errors.New("signhub: invalid sign request")
	// ErrSignerFailed: the signer answered with an error that is not a
	// policy refusal, or did not answer within Config.CallTimeout.
	ErrSignerFailed = errors.New("signhub: signer failed")
	// ErrClosed: the hub was closed (wraps commit.ErrSignerUnavailable).
	ErrClosed = fmt.Errorf("signhub: closed: %w", commit.ErrSignerUnavailable)
)

// RefusedError is returned by Sign when a signer's policy refused the
// message. Reason is the signer's own words, meant for the operator.
type RefusedError struct {
	Signer string // the signer's name
	Reason string
}

// Error implements error.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("signhub: signer %q refused: %s", e.Signer, e.Reason)
}

// Is makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Defaults for Config.
const (
	DefaultWaitTimeout  = 2 * time.Minute
	DefaultCallTimeout  = 2 * time.Minute
	DefaultProveTimeout = 30 * time.Second
	DefaultMaxInflight  = 8
	// MaxAddresses bounds how many addresses one signer may announce.
	MaxAddresses = 256
)

// Config configures a Hub. The zero value is usable.
type Config struct {
	// WaitTimeout bounds how long Sign waits for a signer holding the From
	// address to be connected before failing with ErrNoSigner. Each time
	// a serving signer disconnects the wait starts again.
	WaitTimeout time.Duration
	// CallTimeout bounds one SealantSigner.Sign call.
	CallTimeout time.Duration
	// ProveTimeout bounds the address-proof round trip during SignerHello.
	ProveTimeout time.Duration
	// MaxInflight bounds concurrent sign calls per signer connection;
	// further requests queue in the hub (default DefaultMaxInflight).
	MaxInflight int
	// Tenant authorises a signer's hello for tenant and returns the
	// tenant's miner actor id for the welcome. An error refuses the
	// connection and is sent to the signer (return manager sentinels
	// such as ErrNotFound or ErrTenantPaused). Nil accepts every tenant
	// named by a signer token, with miner 0.
	Tenant func(ctx context.Context, tenant string) (miner uint64, err error)
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Rand is the challenge entropy (default crypto/rand).
	Rand io.Reader
	// Now is the clock for the displayed timestamps (default time.Now).
	Now func() time.Time
}

// SignerInfo describes one connected signer for the API and dashboard
// (the wire type api.SignerStatus).
type SignerInfo = api.SignerStatus

// PendingSign is a sign request the hub holds: queued, waiting for a
// signer, or being signed.
type PendingSign struct {
	ID      string    `json:"id"`
	Tenant  string    `json:"tenant"`
	From    string    `json:"from"`
	Cid     string    `json:"cid"`
	Purpose string    `json:"purpose,omitempty"`
	Sectors []uint64  `json:"sectors,omitempty"`
	Since   time.Time `json:"since"`
	// WaitingForSigner is true while no connected signer holds From.
	WaitingForSigner bool `json:"waiting_for_signer"`
	// Signer names the signer currently asked, if any.
	Signer   string `json:"signer,omitempty"`
	Attempts int    `json:"attempts"`
}

// peerConn is what the hub needs from a connection; *rpc.Peer has it, and
// so does every Remote.
type peerConn interface {
	Call(ctx context.Context, method string, result any, params ...any) error
	Done() <-chan struct{}
	RemoteAddr() string
}

// conn is one registered signer connection.
type conn struct {
	info  SignerInfo
	peer  peerConn
	addrs map[address.Address]bool
	slots chan struct{} // MaxInflight tokens
}

// pending is one Sign call in the hub.
type pending struct {
	info PendingSign
}

type tenantState struct {
	conns   map[peerConn]*conn
	pending map[string]*pending
}

// Hub is the manager's side of the signer protocol. It is safe for
// concurrent use.
type Hub struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	tenants map[string]*tenantState
	changed chan struct{} // closed and replaced whenever a signer comes or goes
	closed  bool
	seq     uint64
}

// New returns a Hub.
func New(cfg Config) *Hub {
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = DefaultWaitTimeout
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.ProveTimeout <= 0 {
		cfg.ProveTimeout = DefaultProveTimeout
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
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
	return &Hub{cfg: cfg, log: log.With("component", "signhub"),
		tenants: map[string]*tenantState{}, changed: make(chan struct{})}
}

// Register adds Sealant.SignerHello to srv. Only tokens with role signer
// and at least the sign permission may call it; the tenant is taken from
// the token, never from the hello. It also adds api.MethodAdminSigners
// for admin tokens.
func (h *Hub) Register(srv *rpc.Server) {
	for _, m := range rpcapi.SignerHubMethods(h) {
		srv.Register(m.Name, rpc.PermSign, rpc.RequireRole(m.Handler, rpc.RoleSigner))
	}
	h.registerAdmin(srv)
}

// SignerHello implements api.SignerHubAPI: a signer introduces itself on
// the connection it dialled and proves its addresses (see hello).
func (h *Hub) SignerHello(ctx context.Context, hello api.SignerHello) (api.SignerWelcome, error) {
	return h.hello(ctx, hello)
}

var _ api.SignerHubAPI = (*Hub)(nil)

// RegisterRPC is Register under the name the manager's RPCRegistrar
// interface uses.
func (h *Hub) RegisterRPC(srv *rpc.Server) { h.Register(srv) }

// Close fails every waiting Sign with ErrClosed and refuses new ones.
// Connected signers are left to the RPC server's own Close.
func (h *Hub) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		h.broadcastLocked()
	}
	return nil
}

// broadcastLocked wakes every Sign waiting for a signer change.
func (h *Hub) broadcastLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *Hub) tenantLocked(t string) *tenantState {
	ts := h.tenants[t]
	if ts == nil {
		ts = &tenantState{conns: map[peerConn]*conn{}, pending: map[string]*pending{}}
		h.tenants[t] = ts
	}
	return ts
}

// gcLocked drops an empty tenant entry.
func (h *Hub) gcLocked(t string) {
	if ts := h.tenants[t]; ts != nil && len(ts.conns) == 0 && len(ts.pending) == 0 {
		delete(h.tenants, t)
	}
}

func (h *Hub) newIDLocked(prefix string) string {
	h.seq++
	var r [6]byte
	_, _ = io.ReadFull(h.cfg.Rand, r[:])
	return fmt.Sprintf("%s-%d-%s", prefix, h.seq, hex.EncodeToString(r[:]))
}

// hello serves Sealant.SignerHello: it checks the token's tenant, asks the
// signer to prove each announced address over a fresh challenge and
// registers the connection with the proven ones.
func (h *Hub) hello(ctx context.Context, hello api.SignerHello) (api.SignerWelcome, error) {
	claims, ok := rpc.ClaimsFrom(ctx)
	if !ok || claims == nil || claims.Tenant == "" {
		return api.SignerWelcome{}, fmt.Errorf("%w: signer token has no tenant", rpc.ErrPermissionDenied)
	}
	tenant := claims.Tenant
	peer, ok := rpc.PeerFrom(ctx)
	if !ok {
		return api.SignerWelcome{}, fmt.Errorf("%w: signers connect over a websocket", rpc.ErrWebSocketRequired)
	}
	var miner uint64
	if h.cfg.Tenant != nil {
		m, err := h.cfg.Tenant(ctx, tenant)
		if err != nil {
			return api.SignerWelcome{}, err
		}
		miner = m
	}
	info, addrs, err := h.prove(ctx, peer, tenant, hello)
	if err != nil {
		return api.SignerWelcome{}, err
	}
	h.attach(tenant, peer, info, addrs)
	return api.SignerWelcome{Tenant: tenant, Miner: miner}, nil
}

// parseAnnounced validates the hello's address list: key addresses only
// (an ID address cannot be proven), no duplicates, bounded.
func parseAnnounced(list []string) ([]address.Address, error) {
	if len(list) == 0 {
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "signhub: hello announces no address")
	}
	if len(list) > MaxAddresses {
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "signhub: hello announces %d addresses, at most %d", len(list), MaxAddresses)
	}
	seen := map[address.Address]bool{}
	out := make([]address.Address, 0, len(list))
	for _, s := range list {
		a, err := address.Parse(s)
		if err != nil {
			return nil, rpc.Errorf(rpc.CodeInvalidParams, "signhub: announced address %q: %v", s, err)
		}
		if p := a.Protocol(); p != address.SECP256K1 && p != address.BLS {
			return nil, rpc.Errorf(rpc.CodeInvalidParams, "signhub: announced address %s is not an f1/f3 key address", a)
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out, nil
}

// prove runs the challenge round trip on peer.
func (h *Hub) prove(ctx context.Context, peer peerConn, tenant string, hello api.SignerHello) (SignerInfo, map[address.Address]bool, error) {
	announced, err := parseAnnounced(hello.Addresses)
	if err != nil {
		return SignerInfo{}, nil, err
	}
	challenge := make([]byte, api.ChallengeSize)
	if _, err := io.ReadFull(h.cfg.Rand, challenge); err != nil {
		return SignerInfo{}, nil, fmt.Errorf("signhub: challenge: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, h.cfg.ProveTimeout)
	defer cancel()
	proofs, err := (&rpcapi.SignerClient{C: peer}).ProveAddresses(pctx, api.HexBytes(challenge))
	if err != nil {
		return SignerInfo{}, nil, rpc.Errorf(api.CodePermission, "signhub: address proof failed: %v", err)
	}
	wanted := map[address.Address]bool{}
	for _, a := range announced {
		wanted[a] = true
	}
	proven := map[address.Address]bool{}
	for _, p := range proofs {
		a, err := address.Parse(p.Address)
		if err != nil || !wanted[a] {
			continue // only announced addresses count
		}
		sig := types.Signature{Type: types.SigType(p.Signature.Type), Data: p.Signature.Data}
		if sigs.Verify(sig, a, api.AddressProofBytes(challenge, a.Bytes())) == nil {
			proven[a] = true
		}
	}
	info := SignerInfo{Tenant: tenant, Kind: api.SignerKindSealant, Name: hello.Name, Version: hello.Version,
		Remote: peer.RemoteAddr(), ConnectedAt: h.cfg.Now()}
	for _, a := range announced {
		if proven[a] {
			info.Addresses = append(info.Addresses, a.String())
		} else {
			info.Unproven = append(info.Unproven, a.String())
		}
	}
	if len(proven) == 0 {
		h.log.Warn("signer proved no address", "tenant", tenant, "signer", hello.Name, "remote", info.Remote)
		return SignerInfo{}, nil, rpc.Errorf(api.CodePermission, "signhub: signer proved none of its %d addresses", len(announced))
	}
	if len(info.Unproven) > 0 {
		h.log.Warn("signer failed to prove some addresses", "tenant", tenant, "signer", hello.Name, "unproven", info.Unproven)
	}
	return info, proven, nil
}

// attach registers a proven connection and watches for its end. A second
// hello on the same connection replaces the first registration.
func (h *Hub) attach(tenant string, peer peerConn, info SignerInfo, addrs map[address.Address]bool) {
	h.mu.Lock()
	ts := h.tenantLocked(tenant)
	_, again := ts.conns[peer]
	info.ID = h.newIDLocked("signer")
	c := &conn{info: info, peer: peer, addrs: addrs, slots: make(chan struct{}, h.cfg.MaxInflight)}
	ts.conns[peer] = c
	h.broadcastLocked()
	h.mu.Unlock()
	h.log.Info("signer connected", "tenant", tenant, "signer", info.Name, "id", info.ID,
		"addresses", info.Addresses, "remote", info.Remote)
	if again {
		return // the first registration's watcher is already running
	}
	go func() {
		<-peer.Done()
		h.detach(tenant, peer)
	}()
}

func (h *Hub) detach(tenant string, peer peerConn) {
	h.mu.Lock()
	ts := h.tenants[tenant]
	var c *conn
	if ts != nil {
		c = ts.conns[peer]
		delete(ts.conns, peer)
		h.gcLocked(tenant)
	}
	h.broadcastLocked()
	h.mu.Unlock()
	if c != nil {
		h.log.Info("signer disconnected", "tenant", tenant, "signer", c.info.Name, "id", c.info.ID)
	}
}

// Connected reports whether at least one signer of tenant is connected
// (manager.SignerPresence).
func (h *Hub) Connected(tenant string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.tenants[tenant]
	return ts != nil && len(ts.conns) > 0
}

// Signers lists the connected signers of tenant, oldest first.
func (h *Hub) Signers(tenant string) []SignerInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.tenants[tenant]
	if ts == nil {
		return nil
	}
	out := make([]SignerInfo, 0, len(ts.conns))
	for _, c := range ts.conns {
		i := c.info
		i.Addresses = append([]string(nil), i.Addresses...)
		i.Unproven = append([]string(nil), i.Unproven...)
		i.InFlight = len(c.slots)
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool {
		return out[a].ConnectedAt.Before(out[b].ConnectedAt) || (out[a].ConnectedAt.Equal(out[b].ConnectedAt) && out[a].ID < out[b].ID)
	})
	return out
}

// Waiting reports whether a sign request of tenant is waiting because no
// connected signer holds its From address: the "waiting for signer" state
// a sector's status shows.
func (h *Hub) Waiting(tenant string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.tenants[tenant]
	if ts == nil {
		return false
	}
	for _, p := range ts.pending {
		if p.info.WaitingForSigner {
			return true
		}
	}
	return false
}

// Pending lists tenant's sign requests held by the hub, oldest first.
func (h *Hub) Pending(tenant string) []PendingSign {
	h.mu.Lock()
	defer h.mu.Unlock()
	ts := h.tenants[tenant]
	if ts == nil {
		return nil
	}
	out := make([]PendingSign, 0, len(ts.pending))
	for _, p := range ts.pending {
		i := p.info
		i.Sectors = append([]uint64(nil), i.Sectors...)
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool {
		return out[a].Since.Before(out[b].Since) || (out[a].Since.Equal(out[b].Since) && out[a].ID < out[b].ID)
	})
	return out
}
