package commit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// Config tunes the pipeline. Zero values take the documented defaults.
type Config struct {
	// Params are the chain policy numbers (default MainnetParams).
	Params Params
	// PollInterval is the time between ticks when nothing wakes the
	// pipeline (default 30 s; use the block time).
	PollInterval time.Duration
	// Confidence is how many epochs a receipt must be buried before it is
	// recorded (default 5, as Lotus's MessageConfidence). A reorg within
	// that depth is therefore never recorded.
	Confidence types.ChainEpoch
	// UseAvailableBalance sends only the collateral the miner's available
	// balance does not cover (Lotus's CollateralFromMinerBalance). The
	// default (false) sends the whole deposit or pledge shortfall as the
	// message Value: anything left over stays in the miner's available
	// balance, and two batches in flight cannot both count on the same
	// balance and fail with insufficient funds.
	UseAvailableBalance bool
	// RetryBackoff is the pause before sectors of a batch that failed for
	// a transient reason (sender funds, gas, nonce) rejoin batching
	// (default 10 min).
	RetryBackoff time.Duration
	// RepushAfter is how long a pushed message may stay unseen on chain
	// before the same signed bytes are pushed again (default 15 min): the
	// node may have dropped it from its mpool.
	RepushAfter time.Duration
	// MaxMessageBytes bounds a signed message (default 64 KiB, Lotus's
	// mpool limit; the Sealant devnet raises it for its large devnet
	// proofs). Bigger batches are split before a nonce is reserved.
	MaxMessageBytes int
	// MaxNIMessageBytes bounds a signed ProveCommitSectorsNI (default
	// MaxMessageBytes). Only a Sealant devnet needs it larger: its NI
	// "aggregate" is every sector's vanilla proofs (26 challenges, about
	// 230 KiB per 2KiB sector), where mainnet carries a SnarkPack proof.
	MaxNIMessageBytes int
	// SignTimeout bounds one signing request (default 10 min: a signer
	// may wait for a human's approval).
	SignTimeout time.Duration
	// WalletSigner signs for tenants whose SigningRoute is
	// store.LotusWalletRoute (see LotusWallet); nil: such tenants wait.
	WalletSigner Signer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) provision() error {
	if c.Params == (Params{}) {
		c.Params = MainnetParams()
	}
	if err := c.Params.Validate(); err != nil {
		return err
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 30 * time.Second
	}
	if c.Confidence < 0 {
		return fmt.Errorf("commit: confidence %d: %w", c.Confidence, ErrConfig)
	}
	if c.Confidence == 0 {
		c.Confidence = 5
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 10 * time.Minute
	}
	if c.RepushAfter <= 0 {
		c.RepushAfter = 15 * time.Minute
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = types.MaxMessageSize
	}
	if c.MaxNIMessageBytes <= 0 {
		c.MaxNIMessageBytes = c.MaxMessageBytes
	}
	if c.SignTimeout <= 0 {
		c.SignTimeout = 10 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// BatchStatus is what the pipeline knows about a batch beyond the store:
// why it is not moving. It is kept in memory (a restart re-derives it on
// the next tick).
type BatchStatus struct {
	// Reason is the last reason the batch is waiting ("fee above cap …",
	// "signer refused …", "too early to prove …"); "" if none.
	Reason string `json:"reason,omitempty"`
	// WaitingForSigner is true while the message waits to be signed.
	WaitingForSigner bool      `json:"waiting_for_signer,omitempty"`
	Since            time.Time `json:"since"`
}

// signResult is the outcome of one asynchronous signing request.
type signResult struct {
	sm  *types.SignedMessage
	err error
	at  time.Time
}

// Pipeline is the per-tenant commitment pipeline. Create it with New and
// drive it with Run; Wake and BatchStatus are safe to call concurrently
// with Run. One Pipeline should run per store (several managers on one
// database would each send; the store's nonce reservation keeps them from
// colliding, but they would race on batches).
type Pipeline struct {
	cfg    Config
	st     *store.Store
	chain  ChainAPI
	signer Signer
	log    *slog.Logger
	wake   chan struct{}

	mu       sync.Mutex
	status   map[int64]BatchStatus              // by batch id
	signed   map[int64]*types.SignedMessage     // by message id, this process's signatures
	signing  map[int64]bool                     // by message id, request in flight
	results  map[int64]signResult               // by message id, finished requests
	altCID   map[int64]cid.Cid                  // by message id, when a re-signature differs from the stored one
	pushedAt map[int64]time.Time                // by message id, last push
	repush   map[int64]bool                     // by message id, a re-push is due
	retryAt  map[store.SectorID]time.Time       // sectors pausing after a transient failure
	external map[store.SectorID]store.BatchKind // sectors whose message of that kind the chain already executed (verdict Done)
	signWG   sync.WaitGroup
}

// New returns a pipeline over st. signer serves the "signer" route (the
// signer hub); cfg.WalletSigner the "lotus-wallet" route. log may be nil.
func New(cfg Config, st *store.Store, chain ChainAPI, signer Signer, log *slog.Logger) (*Pipeline, error) {
	if err := cfg.provision(); err != nil {
		return nil, err
	}
	if st == nil || chain == nil {
		return nil, fmt.Errorf("commit: store and chain are required: %w", ErrConfig)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Pipeline{
		cfg: cfg, st: st, chain: chain, signer: signer, log: log.With("component", "commit"),
		wake:     make(chan struct{}, 1),
		status:   map[int64]BatchStatus{},
		signed:   map[int64]*types.SignedMessage{},
		signing:  map[int64]bool{},
		results:  map[int64]signResult{},
		altCID:   map[int64]cid.Cid{},
		pushedAt: map[int64]time.Time{},
		repush:   map[int64]bool{},
		retryAt:  map[store.SectorID]time.Time{},
		external: map[store.SectorID]store.BatchKind{},
	}, nil
}

// Wake asks for a tick as soon as possible (a sector joined tenant's open
// batch of kind, or a signature arrived). It never blocks; wakes coalesce.
func (p *Pipeline) Wake(tenant string, kind store.BatchKind) {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// BatchStatus returns the in-memory status of a batch, if any.
func (p *Pipeline) BatchStatus(batchID int64) (BatchStatus, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.status[batchID]
	return s, ok
}

// Run ticks until ctx ends, then waits for signing requests to return and
// reports ctx's error. The first tick resumes whatever the store holds:
// open and closed batches, and messages pending, signed or pushed (the
// same nonce and bytes are used; nothing is rebuilt once its bytes are
// stored). A failing tick is logged and retried at the next interval.
func (p *Pipeline) Run(ctx context.Context) error {
	defer p.signWG.Wait()
	for {
		if err := p.Tick(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("commit: tick failed", "err", err)
		}
		t := time.NewTimer(p.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-p.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Tick runs one pass over all tenants: adopt submitted sectors into
// batches, close due batches, prepare, sign, push and follow messages.
// Run calls it; tests call it directly. It must not run concurrently with
// itself.
func (p *Pipeline) Tick(ctx context.Context) error {
	head, err := p.chain.ChainHead(ctx)
	if err != nil {
		return fmt.Errorf("commit: chain head: %w", err)
	}
	tenants, err := p.st.ListTenants(ctx)
	if err != nil {
		return fmt.Errorf("commit: list tenants: %w", err)
	}
	var errs []error
	for _, t := range tenants {
		if err := p.tenantTick(ctx, t, head); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("tenant %s: %w", t.ID, err))
		}
	}
	return errors.Join(errs...)
}

// waitSigning waits until no signing request is in flight (tests).
func (p *Pipeline) waitSigning() { p.signWG.Wait() }

var kinds = [...]store.BatchKind{store.BatchPreCommit, store.BatchProveCommit}

func (p *Pipeline) tenantTick(ctx context.Context, t store.Tenant, head *lotus.TipSet) error {
	if err := p.adopt(ctx, t); err != nil {
		return err
	}
	for _, kind := range kinds {
		batches, err := p.st.ListBatches(ctx, store.BatchFilter{TenantID: t.ID, Kind: kind,
			States: []store.BatchState{store.BatchOpen, store.BatchClosed, store.BatchSent}})
		if err != nil {
			return fmt.Errorf("commit: list batches: %w", err)
		}
		for _, b := range batches {
			log := p.log.With("tenant", t.ID, "kind", kind, "batch", b.ID)
			if err := p.pass(ctx, t, b, head, log); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				log.Warn("commit: batch step failed", "err", err)
				p.setStatus(b.ID, err.Error(), false)
			}
		}
	}
	return nil
}

// setStatus records why a batch waits ("" clears the reason).
func (p *Pipeline) setStatus(batchID int64, reason string, waitingForSigner bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if reason == "" && !waitingForSigner {
		delete(p.status, batchID)
		return
	}
	s := p.status[batchID]
	if s.Reason != reason || s.WaitingForSigner != waitingForSigner {
		s = BatchStatus{Reason: reason, WaitingForSigner: waitingForSigner, Since: p.cfg.Now()}
	}
	p.status[batchID] = s
}

// forget drops in-memory state of a finished message and batch.
func (p *Pipeline) forget(msgID, batchID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.status, batchID)
	if msgID != 0 {
		delete(p.signed, msgID)
		delete(p.results, msgID)
		delete(p.altCID, msgID)
		delete(p.pushedAt, msgID)
		delete(p.repush, msgID)
	}
}
