package devnet

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet/state"
	"github.com/sealant/sealant/rpc"
)

// Files written into a devnet directory besides the database and keys.
const (
	TokenFileName   = "token"    // admin JWT
	APIInfoFileName = "api-info" // FULLNODE_API_INFO value of a running node
	DefaultListen   = "127.0.0.1:1234"
)

// ErrNotInitialized is returned by New for a directory without a chain.
var ErrNotInitialized = errors.New("devnet: directory not initialised (run `sealant devnet init`)")

// Config configures a Node.
type Config struct {
	// Dir is the devnet directory (genesis.toml, chain.sqlite, owners/…).
	Dir string
	// Listen is the API's host:port (default DefaultListen; port 0 picks one).
	Listen string
	// BlockTime overrides the genesis block time when > 0.
	BlockTime time.Duration
	// Ticks, when set, drives block production instead of a ticker of
	// BlockTime: one block per received value (tests inject it).
	Ticks <-chan time.Time
	// Now is the clock for block timestamps (default time.Now).
	Now func() time.Time
	// Verifier checks proofs (default state.ProofEngine).
	Verifier state.Verifier
	// StateRetention is how many epochs of past states stay queryable
	// (default 2880).
	StateRetention int
	// MaxMessageSize bounds a signed message in the mpool (default
	// DefaultMaxMessageSize).
	MaxMessageSize int
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Node is a running (or loaded) devnet. Its methods are safe for
// concurrent use: chain state is guarded by one lock, readers share it and
// block production takes it exclusively.
type Node struct {
	cfg      Config
	log      *slog.Logger
	db       *db
	gen      *resolved
	policy   state.Policy
	verifier state.Verifier
	secret   []byte

	mu              sync.RWMutex
	headers         []*lotus.BlockHeader
	tsCids          []cid.Cid
	blockMsgs       [][]*msgEntry
	states          map[int64]*state.State
	post            *state.State
	pendingReceipts []types.MessageReceipt
	lookups         map[cid.Cid]*lookup
	byNonce         map[senderNonce]*lookup // executed messages by sender slot
	pushed          map[cid.Cid]senderNonce // every message seen, for allowReplaced
	pool            *mpool
	headCh          chan struct{}
	headJSON        json.RawMessage // ChainHead's answer, encoded once per block
	subs            map[int]chan []lotus.HeadChange
	nextSub         int
	executed        int

	rpc      *rpc.Server
	http     *http.Server
	listener net.Listener
	apiInfo  string
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closed   bool
}

// Init creates a devnet in dir from g: it writes generated keys to
// DIR/owners/<name>/key.json, genesis.toml (if absent) and the database
// with the genesis block. It fails if dir already holds a chain.
func Init(ctx context.Context, dir string, g *Genesis) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("devnet: init: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, DBFileName)); err == nil {
		return fmt.Errorf("devnet: init: %s already holds a chain", dir)
	}
	gpath := filepath.Join(dir, GenesisFileName)
	if _, err := os.Stat(gpath); errors.Is(err, os.ErrNotExist) {
		if err := g.WriteFile(gpath); err != nil {
			return err
		}
	}
	r, err := g.resolve(dir)
	if err != nil {
		return err
	}
	st, err := r.genesisState(g)
	if err != nil {
		return err
	}
	hdr, _, hdrJSON, enc, err := genesisBlock(r, st, time.Now())
	if err != nil {
		return err
	}
	_ = hdr
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	d, err := openDB(ctx, dir)
	if err != nil {
		return err
	}
	defer d.close()
	rj, err := json.Marshal(r)
	if err != nil {
		return err
	}
	empty := []byte("[]")
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	for k, v := range map[string][]byte{"genesis": rj, "jwt-secret": secret, "post": enc, "pending": empty} {
		if err := putMeta(ctx, tx, k, v); err != nil {
			return fmt.Errorf("devnet: init: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tipsets (height, header, msgs, receipts, state) VALUES (0, ?, ?, ?, ?)`, hdrJSON, empty, empty, enc); err != nil {
		return fmt.Errorf("devnet: init: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("devnet: init: %w", err)
	}
	tok, err := rpc.IssueToken(secret, rpc.Claims{Allow: rpc.AllowList(rpc.PermAdmin)})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, TokenFileName), []byte(tok+"\n"), 0o600)
}

// New loads the devnet in cfg.Dir. Call Start to serve and produce blocks.
func New(cfg Config) (*Node, error) {
	ctx := context.Background()
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: empty dir", ErrConfig)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, DBFileName)); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotInitialized, cfg.Dir)
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StateRetention <= 0 {
		cfg.StateRetention = 2880
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Verifier == nil {
		cfg.Verifier = state.ProofEngine{}
	}
	d, err := openDB(ctx, cfg.Dir)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("component", "devnet"), db: d, verifier: cfg.Verifier,
		states: map[int64]*state.State{}, lookups: map[cid.Cid]*lookup{},
		byNonce: map[senderNonce]*lookup{}, pushed: map[cid.Cid]senderNonce{}, pool: newMpool(cfg.MaxMessageSize),
		headCh: make(chan struct{}), subs: map[int]chan []lotus.HeadChange{}}
	if err := n.load(ctx); err != nil {
		d.close()
		return nil, err
	}
	if cfg.BlockTime <= 0 {
		n.cfg.BlockTime = n.gen.BlockTime
	}
	return n, nil
}

func (n *Node) load(ctx context.Context) error {
	gj, err := n.db.getMeta(ctx, "genesis")
	if err != nil {
		return err
	}
	n.gen = &resolved{}
	if err := json.Unmarshal(gj, n.gen); err != nil {
		return fmt.Errorf("devnet: genesis record: %w", err)
	}
	n.policy = n.gen.Policy
	if n.secret, err = n.db.getMeta(ctx, "jwt-secret"); err != nil {
		return err
	}
	rows, err := n.db.tipsets(ctx)
	if err != nil {
		return fmt.Errorf("devnet: load chain: %w", err)
	}
	for i, r := range rows {
		if r.Height != int64(i) {
			return fmt.Errorf("devnet: load chain: missing tipset %d", i)
		}
		var hdr lotus.BlockHeader
		if err := json.Unmarshal(r.Header, &hdr); err != nil {
			return fmt.Errorf("devnet: tipset %d header: %w", i, err)
		}
		n.headers = append(n.headers, &hdr)
		n.tsCids = append(n.tsCids, rawCID(r.Header))
		var raws [][]byte
		if err := json.Unmarshal(r.Msgs, &raws); err != nil {
			return fmt.Errorf("devnet: tipset %d messages: %w", i, err)
		}
		var ms []*msgEntry
		for _, raw := range raws {
			sm, err := types.DecodeSignedMessage(raw)
			if err != nil {
				return fmt.Errorf("devnet: tipset %d message: %w", i, err)
			}
			ms = append(ms, &msgEntry{sm: sm, cid: sm.Cid(), raw: raw, size: len(raw)})
		}
		n.blockMsgs = append(n.blockMsgs, ms)
		if i > 0 {
			var rcpts []types.MessageReceipt
			if err := json.Unmarshal(r.Receipts, &rcpts); err != nil {
				return fmt.Errorf("devnet: tipset %d receipts: %w", i, err)
			}
			if len(rcpts) != len(n.blockMsgs[i-1]) {
				return fmt.Errorf("devnet: tipset %d: %d receipts for %d messages", i, len(rcpts), len(n.blockMsgs[i-1]))
			}
			for j, m := range n.blockMsgs[i-1] {
				n.addLookup(m, rcpts[j], int64(i))
			}
		}
	}
	if len(n.headers) == 0 {
		return fmt.Errorf("%w: no genesis block", ErrNotInitialized)
	}
	pj, err := n.db.getMeta(ctx, "post")
	if err != nil {
		return err
	}
	if n.post, err = state.Decode(pj); err != nil {
		return err
	}
	rj, err := n.db.getMeta(ctx, "pending")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(rj, &n.pendingReceipts); err != nil {
		return fmt.Errorf("devnet: pending receipts: %w", err)
	}
	n.setHeadJSON(n.tipsetLocked(int64(len(n.headers) - 1)))
	raws, err := n.db.mpool(ctx)
	if err != nil {
		return err
	}
	for _, raw := range raws {
		if sm, err := types.DecodeSignedMessage(raw); err == nil {
			if _, err := n.pool.add(n.post, sm); err != nil {
				n.log.Info("dropping stored mpool message", "err", err)
			} else {
				n.pushed[sm.Cid()] = nonceKey(&sm.Message)
			}
		}
	}
	return nil
}

// Start serves the API on cfg.Listen and starts producing blocks. It writes
// DIR/api-info. Stop with Close.
func (n *Node) Start(ctx context.Context) error {
	srv, err := n.newRPC()
	if err != nil {
		return err
	}
	n.rpc = srv
	ln, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return fmt.Errorf("devnet: listen: %w", err)
	}
	n.listener = ln
	mux := http.NewServeMux()
	mux.Handle(lotus.APIPath, srv)
	n.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	tok, err := n.Token(rpc.PermAdmin)
	if err != nil {
		ln.Close()
		return err
	}
	addr := ln.Addr().(*net.TCPAddr)
	n.apiInfo = fmt.Sprintf("%s:/ip4/%s/tcp/%d/http", tok, addr.IP.String(), addr.Port)
	if err := os.WriteFile(filepath.Join(n.cfg.Dir, APIInfoFileName), []byte(n.apiInfo+"\n"), 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("devnet: write api info: %w", err)
	}
	ctx, n.cancel = context.WithCancel(ctx)
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		if err := n.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("api server", "err", err)
		}
	}()
	go func() {
		defer n.wg.Done()
		n.run(ctx)
	}()
	n.log.Info("devnet serving", "api", "/ip4/"+addr.IP.String()+"/tcp/"+fmt.Sprint(addr.Port)+"/http", "head", n.Head(), "block_time", n.cfg.BlockTime)
	return nil
}

func (n *Node) run(ctx context.Context) {
	ticks := n.cfg.Ticks
	if ticks == nil {
		t := time.NewTicker(n.cfg.BlockTime)
		defer t.Stop()
		ticks = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ticks:
			if !ok {
				return
			}
			if err := n.produce(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				n.log.Error("block production failed", "err", err)
			}
		}
	}
}

// Step produces one block now (for embedding programs that drive the chain
// themselves, e.g. benchmarks; a running node produces blocks on its own).
func (n *Node) Step(ctx context.Context) error { return n.produce(ctx) }

// APIInfo is the FULLNODE_API_INFO value (admin token) of a started node.
func (n *Node) APIInfo() string { return n.apiInfo }

// Token issues a JWT with the cumulative permissions up to p.
func (n *Node) Token(p rpc.Perm) (string, error) {
	return rpc.IssueToken(n.secret, rpc.Claims{Allow: rpc.AllowList(p)})
}

// Head returns the current head height.
func (n *Node) Head() int64 {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return int64(len(n.headers) - 1)
}

// Miners returns the genesis miners' names and ID addresses.
func (n *Node) Miners() map[string]string {
	out := map[string]string{}
	for _, m := range n.gen.Miners {
		out[m.Name] = m.Address
	}
	return out
}

// Accounts returns the genesis accounts' names and key addresses.
func (n *Node) Accounts() map[string]string {
	out := map[string]string{}
	for _, a := range n.gen.Accounts {
		out[a.Name] = a.Address
	}
	return out
}

// Executed is the number of messages executed since New.
func (n *Node) Executed() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.executed
}

// Close stops block production and the API and closes the database.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	close(n.headCh) // wake StateWaitMsg callers so they return
	n.headCh = make(chan struct{})
	for id, ch := range n.subs {
		close(ch)
		delete(n.subs, id)
	}
	n.mu.Unlock()
	if n.cancel != nil {
		n.cancel()
	}
	if n.rpc != nil {
		n.rpc.Close()
	}
	if n.http != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = n.http.Shutdown(sctx)
		cancel()
	}
	n.wg.Wait()
	return n.db.close()
}

func (n *Node) now() time.Time { return n.cfg.Now() }
