package commit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/c2"
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
			var err error
			switch b.State {
			case store.BatchOpen:
				err = p.maybeClose(ctx, t, b, head, log)
			case store.BatchClosed:
				err = p.advanceClosed(ctx, t, b, head, log)
			case store.BatchSent:
				err = p.follow(ctx, t, b, head, log)
			}
			if err != nil {
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

// adopt puts every submitted sector that is in no live batch into its
// tenant's open batch. The manager's handlers do the same on submission
// (store.AddToBatch is idempotent); adopting here as well means a sector
// released by a failed batch, or by a crash between a failure and its
// regrouping, is never lost.
func (p *Pipeline) adopt(ctx context.Context, t store.Tenant) error {
	secs, err := p.st.ListSectors(ctx, store.SectorFilter{TenantID: t.ID, Phase: store.PhaseActive, Limit: 1 << 30})
	if err != nil {
		return fmt.Errorf("commit: list sectors: %w", err)
	}
	now := p.cfg.Now()
	landed := map[int64]bool{}
	fill := map[int64]int{} // members of the open batches this pass added to
	for _, s := range secs {
		p.mu.Lock()
		wait, paused := p.retryAt[s.ID]
		ext, isExt := p.external[s.ID]
		if paused && !now.Before(wait) {
			delete(p.retryAt, s.ID)
			paused = false
		}
		p.mu.Unlock()
		if paused || isExt && ext == store.BatchProveCommit {
			continue
		}
		// A sector whose pre-commit the chain already has (but no batch of
		// ours recorded) goes on to ProveCommit without another PreCommit.
		preDone := isExt && ext == store.BatchPreCommit
		var kind store.BatchKind
		switch {
		case s.ProofType.IsNI():
			// NI-PoRep: no PreCommit; the proof goes straight to a
			// ProveCommitSectorsNI batch.
			if !s.HasProof || s.ProveCommitBatch != 0 {
				continue
			}
			kind = store.BatchProveCommit
		case len(s.CommR) > 0 && s.PreCommitBatch == 0 && !preDone:
			kind = store.BatchPreCommit
		case s.HasProof && s.ProveCommitBatch == 0 && preDone:
			kind = store.BatchProveCommit
		case s.HasProof && s.ProveCommitBatch == 0 && s.PreCommitBatch != 0:
			ok, seen := landed[s.PreCommitBatch]
			if !seen {
				b, err := p.st.GetBatch(ctx, s.PreCommitBatch)
				if err != nil {
					return fmt.Errorf("commit: sector %s pre-commit batch: %w", s.ID, err)
				}
				ok = b.State == store.BatchLanded
				landed[s.PreCommitBatch] = ok
			}
			if !ok {
				continue
			}
			kind = store.BatchProveCommit
		default:
			continue
		}
		bid, err := p.st.AddToBatch(ctx, s.ID, kind, now)
		if err != nil {
			return fmt.Errorf("commit: adopt sector %s into %s batch: %w", s.ID, kind, err)
		}
		if n, ok := fill[bid]; ok {
			fill[bid] = n + 1
		} else {
			b, err := p.st.GetBatch(ctx, bid)
			if err != nil {
				return fmt.Errorf("commit: adopt sector %s: %w", s.ID, err)
			}
			fill[bid] = len(b.Sectors)
		}
		// Close a batch the moment it is full, so the next sector opens a
		// new one instead of overfilling it (per-sector ProveCommit must
		// stay one sector per message).
		if fill[bid] >= PolicyFor(t, kind).Size {
			if err := p.st.CloseBatch(ctx, bid, now); err != nil && !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("commit: close full batch %d: %w", bid, err)
			}
		}
	}
	return nil
}

// maybeClose closes an open batch that is due (ShouldClose) and, if it
// was closed, goes on to prepare it in the same tick.
func (p *Pipeline) maybeClose(ctx context.Context, t store.Tenant, b store.Batch, head *lotus.TipSet, log *slog.Logger) error {
	in := CloseInput{Policy: PolicyFor(t, b.Kind), Members: len(b.Sectors), Opened: b.CreatedAt, Now: p.cfg.Now(),
		Head: head.Height, Slack: p.cfg.Params.Slack}
	if b.Kind == store.BatchPreCommit && len(b.Sectors) < in.Policy.Size {
		// Only PreCommit deadlines are close enough to matter: the ticket
		// lookback is about a day, the prove window a month.
		for _, id := range b.Sectors {
			s, err := p.st.GetSector(ctx, id)
			if err != nil {
				return fmt.Errorf("commit: sector %s: %w", id, err)
			}
			if s.Ticket != nil {
				dl := PreCommitDeadline(p.cfg.Params, types.ChainEpoch(s.Ticket.Epoch))
				if in.Deadline == 0 || dl < in.Deadline {
					in.Deadline = dl
				}
			}
		}
	}
	ok, why := ShouldClose(in)
	if !ok {
		return nil
	}
	if err := p.st.CloseBatch(ctx, b.ID, p.cfg.Now()); err != nil {
		return fmt.Errorf("commit: close batch: %w", err)
	}
	log.Info("commit: batch closed", "why", why, "sectors", len(b.Sectors))
	b.State = store.BatchClosed
	return p.advanceClosed(ctx, t, b, head, log)
}

// advanceClosed moves a closed batch towards the mpool: prepare its
// message (precheck, build, estimate, cap fees, reserve the nonce, store
// the bytes), then sign and push it.
func (p *Pipeline) advanceClosed(ctx context.Context, t store.Tenant, b store.Batch, head *lotus.TipSet, log *slog.Logger) error {
	m := b.Message
	if m == nil || m.Unsigned == nil {
		var err error
		m, err = p.prepare(ctx, t, b, head, log)
		if err != nil || m == nil {
			return err
		}
	}
	return p.signAndPush(ctx, t, b, *m, log)
}

// loadSectors reads what the store holds about a batch's members.
func (p *Pipeline) loadSectors(ctx context.Context, ids []store.SectorID, kind store.BatchKind) ([]sectorData, error) {
	out := make([]sectorData, 0, len(ids))
	for _, id := range ids {
		s, err := p.st.GetSector(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("commit: sector %s: %w", id, err)
		}
		pieces, err := p.st.Pieces(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("commit: sector %s pieces: %w", id, err)
		}
		d := sectorData{Sector: s, Pieces: pieces}
		if kind == store.BatchProveCommit && s.HasProof {
			if d.Proof, err = p.st.Proof(ctx, id); err != nil {
				return nil, fmt.Errorf("commit: sector %s proof: %w", id, err)
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// facts reads the chain's view of each sector for the precheck.
func (p *Pipeline) facts(ctx context.Context, kind store.BatchKind, ds []sectorData, head *lotus.TipSet) ([]SectorFacts, error) {
	out := make([]SectorFacts, len(ds))
	tsk := head.Key()
	for i, d := range ds {
		s := d.Sector
		f := SectorFacts{ID: s.ID, Active: s.Phase == store.PhaseActive, CommR: d.commR(), HasProof: s.HasProof, NI: s.ProofType.IsNI()}
		if s.Ticket != nil {
			f.HasTicket, f.TicketEpoch = true, types.ChainEpoch(s.Ticket.Epoch)
		}
		out[i] = f
		if !f.Active {
			continue
		}
		maddr := address.NewIDAddress(s.ID.Miner)
		pc, err := p.chain.StateSectorPreCommitInfo(ctx, maddr, s.ID.Number, tsk)
		if err != nil {
			return nil, fmt.Errorf("commit: sector %s pre-commit info: %w", s.ID, err)
		}
		if pc != nil {
			// A pre-commit implies the number is allocated.
			out[i].Allocated = true
			out[i].PreCommit = &OnChainPreCommit{SealedCID: pc.Info.SealedCID, Epoch: pc.PreCommitEpoch, Deposit: pc.PreCommitDeposit,
				Expiration: pc.Info.Expiration}
			continue
		}
		if kind == store.BatchPreCommit || f.NI {
			alloc, err := p.chain.StateMinerSectorAllocated(ctx, maddr, s.ID.Number, tsk)
			if err != nil {
				return nil, fmt.Errorf("commit: sector %s allocated: %w", s.ID, err)
			}
			out[i].Allocated = alloc
			if !alloc {
				continue
			}
		}
		si, err := p.chain.StateSectorGetInfo(ctx, maddr, s.ID.Number, tsk)
		if err != nil {
			return nil, fmt.Errorf("commit: sector %s info: %w", s.ID, err)
		}
		out[i].Proven = si != nil
	}
	return out, nil
}

// precheck judges every member; it returns the checks by sector.
func (p *Pipeline) precheck(ctx context.Context, kind store.BatchKind, ds []sectorData, head *lotus.TipSet) ([]SectorFacts, map[store.SectorID]Check, error) {
	fs, err := p.facts(ctx, kind, ds, head)
	if err != nil {
		return nil, nil, err
	}
	out := make(map[store.SectorID]Check, len(fs))
	for _, f := range fs {
		switch {
		case kind == store.BatchPreCommit:
			out[f.ID] = CheckPreCommit(p.cfg.Params, head.Height, f)
		case f.NI:
			out[f.ID] = CheckNICommit(p.cfg.Params, head.Height, f)
		default:
			out[f.ID] = CheckProveCommit(p.cfg.Params, head.Height, f)
		}
	}
	return fs, out, nil
}

// sender resolves the key address that sends a tenant's messages: the
// first of its Senders, or else the miner's worker key.
func (p *Pipeline) sender(ctx context.Context, t store.Tenant, head *lotus.TipSet) (address.Address, error) {
	var a address.Address
	if len(t.Senders) > 0 {
		var err error
		if a, err = address.Parse(t.Senders[0]); err != nil {
			return address.Undef, fmt.Errorf("commit: tenant sender %q: %w: %w", t.Senders[0], ErrPolicy, err)
		}
	} else {
		mi, err := p.chain.StateMinerInfo(ctx, address.NewIDAddress(t.Miner), head.Key())
		if err != nil {
			return address.Undef, fmt.Errorf("commit: miner info: %w", err)
		}
		a = mi.Worker
	}
	if a.Protocol() == address.ID {
		k, err := p.chain.StateAccountKey(ctx, a, head.Key())
		if err != nil {
			return address.Undef, fmt.Errorf("commit: account key of %s: %w", a, err)
		}
		a = k
	}
	return a, nil
}

// senderKey is the store's key for a sender: the mainnet string form, so
// the nonce ledger does not depend on the process's network prefix.
func senderKey(a address.Address) string { return a.Format(address.Mainnet) }

// dissolveSender is the pseudo-sender used to release an unsent batch
// (see dissolve). It is not an address, so it never collides with a real
// sender's nonces.
const dissolveSender = "sealant:dissolved"

// prepare builds, checks and records a closed batch's message. It returns
// nil (and no error) when the batch must wait or was regrouped.
func (p *Pipeline) prepare(ctx context.Context, t store.Tenant, b store.Batch, head *lotus.TipSet, log *slog.Logger) (*store.Message, error) {
	reserved := b.Message // pending, nonce reserved, bytes not stored (crash)
	if len(b.Sectors) == 0 {
		if reserved == nil {
			return nil, p.dissolve(ctx, b, "empty batch")
		}
		return nil, nil
	}
	from, err := p.sender(ctx, t, head)
	if err != nil {
		return nil, err
	}
	ds, err := p.loadSectors(ctx, b.Sectors, b.Kind)
	if err != nil {
		return nil, err
	}
	fs, checks, err := p.precheck(ctx, b.Kind, ds, head)
	if err != nil {
		return nil, err
	}
	var keep []sectorData
	var keepFacts []SectorFacts
	fail := map[store.SectorID]string{}
	for i, d := range ds {
		c := checks[d.Sector.ID]
		switch c.Verdict {
		case Ready:
			keep = append(keep, d)
			keepFacts = append(keepFacts, fs[i])
		case Wait:
			p.setStatus(b.ID, fmt.Sprintf("sector %s: %s", d.Sector.ID, c.Reason), false)
			return nil, nil
		case Bad:
			fail[d.Sector.ID] = fmt.Sprintf("%s precheck: %s", b.Kind, c.Reason)
		case Done:
			p.mu.Lock()
			p.external[d.Sector.ID] = b.Kind
			p.mu.Unlock()
			log.Warn("commit: sector already on chain; left out of the batch", "sector", d.Sector.ID, "why", c.Reason)
		case Drop:
			log.Info("commit: sector left out of the batch", "sector", d.Sector.ID, "why", c.Reason)
		}
	}
	if len(keep) < len(ds) {
		ok, err := p.release(ctx, b, from, reserved, "precheck removed sectors")
		if err != nil {
			return nil, err
		}
		if ok {
			if err := p.failSectors(ctx, fail, log); err != nil {
				return nil, err
			}
			return nil, p.regroup(ctx, b.Kind, t.ID, [][]store.SectorID{idsOf(keep)})
		}
		// The nonce is held and cannot be given back without a gap: send
		// the batch as it is; the chain's answer drives the split.
		keep, keepFacts = ds, fs
	}

	if b.Kind == store.BatchProveCommit && reserved == nil {
		proofOf := map[store.SectorID]int64{}
		for _, d := range keep {
			proofOf[d.Sector.ID] = int64(d.Sector.ProofType)
		}
		if groups := GroupByProof(idsOf(keep), func(id store.SectorID) int64 { return proofOf[id] }); len(groups) > 1 {
			if err := p.dissolve(ctx, b, "sectors of several seal proof types"); err != nil {
				return nil, err
			}
			return nil, p.regroup(ctx, b.Kind, t.ID, groups)
		}
		if keep[0].Sector.ProofType.IsNI() && len(keep) > rand.MaxAggregatedSectorsNI {
			if err := p.dissolve(ctx, b, "more NI sectors than one ProveCommitSectorsNI takes"); err != nil {
				return nil, err
			}
			var groups [][]store.SectorID
			for ids := idsOf(keep); len(ids) > 0; ids = ids[min(len(ids), rand.MaxAggregatedSectorsNI):] {
				groups = append(groups, ids[:min(len(ids), rand.MaxAggregatedSectorsNI)])
			}
			return nil, p.regroup(ctx, b.Kind, t.ID, groups)
		}
	}

	msg, maxFee, err := p.build(ctx, t, b.Kind, from, keep, keepFacts, head)
	if err != nil {
		return nil, err
	}
	est, err := p.chain.GasEstimateMessageGas(ctx, msg, sendSpec(maxFee), head.Key())
	if err != nil {
		code, ok := EstimateExit(err)
		if !ok || !SectorSpecific(code) {
			p.setStatus(b.ID, fmt.Sprintf("gas estimation failed: %v", err), false)
			return nil, nil
		}
		// Estimation executes the message: it failed for a sector reason
		// without spending gas. Isolate the poison before any nonce is used.
		log.Warn("commit: gas estimation predicts failure", "exit", code, "err", err)
		return nil, p.splitUnsent(ctx, t, b, from, reserved, keep, code, err.Error(), false, log)
	}
	if est.GasLimit > types.BlockGasLimit {
		return nil, p.splitUnsent(ctx, t, b, from, reserved, keep, types.SysErrOutOfGas,
			fmt.Sprintf("gas limit %d above the block gas limit", est.GasLimit), true, log)
	}
	fee := CapFee(est.GasLimit, est.GasFeeCap, est.GasPremium, maxFee, baseFee(head))
	if !fee.OK {
		p.setStatus(b.ID, fee.Reason, false)
		log.Info("commit: batch held by fee cap", "reason", fee.Reason)
		return nil, nil
	}
	msg.GasLimit, msg.GasFeeCap, msg.GasPremium = est.GasLimit, fee.GasFeeCap, fee.GasPremium
	raw, err := msg.Serialize()
	if err != nil {
		return nil, fmt.Errorf("commit: encode message: %w", err)
	}
	// A signature adds at most 100 bytes (a BLS one is 97) plus headers.
	limit := p.cfg.MaxMessageBytes
	if msg.Method == miner.MethodProveCommitSectorsNI {
		limit = p.cfg.MaxNIMessageBytes
	}
	if size := len(raw) + 128; size > limit {
		return nil, p.splitUnsent(ctx, t, b, from, reserved, keep, types.SysErrOutOfGas,
			fmt.Sprintf("message of %d bytes above the %d-byte limit", size, limit), true, log)
	}

	m := reserved
	if m == nil {
		next, err := p.chain.MpoolGetNonce(ctx, from)
		if err != nil {
			return nil, fmt.Errorf("commit: mpool nonce of %s: %w", from, err)
		}
		r, err := p.st.ReserveNonce(ctx, b.ID, senderKey(from), next, p.cfg.Now())
		if err != nil {
			return nil, fmt.Errorf("commit: reserve nonce: %w", err)
		}
		m = &r
	} else if m.From != senderKey(from) {
		return nil, fmt.Errorf("commit: message %d reserved for sender %s, tenant now sends from %s: %w", m.ID, m.From, senderKey(from), ErrPolicy)
	}
	msg.Nonce = m.Nonce
	if raw, err = msg.Serialize(); err != nil {
		return nil, fmt.Errorf("commit: encode message: %w", err)
	}
	r, err := p.st.SetMessageUnsigned(ctx, m.ID, raw, msg.Cid().String(), p.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("commit: store unsigned message: %w", err)
	}
	log.Info("commit: message prepared", "msg", r.CID, "nonce", r.Nonce, "from", r.From, "sectors", len(keep),
		"value", msg.Value.String(), "gas_limit", msg.GasLimit, "fee_cap", msg.GasFeeCap.String())
	return &r, nil
}

// build assembles the unsigned message (no nonce, no gas) and the tenant's
// fee cap for it.
func (p *Pipeline) build(ctx context.Context, t store.Tenant, kind store.BatchKind, from address.Address, ds []sectorData, fs []SectorFacts, head *lotus.TipSet) (*types.Message, types.TokenAmount, error) {
	maddr := address.NewIDAddress(t.Miner)
	tsk := head.Key()
	var (
		method types.MethodNum
		params miner.Params
		need   = types.Zero()
		capStr string
	)
	switch kind {
	case store.BatchPreCommit:
		method, capStr = miner.MethodPreCommitSectorBatch2, t.Fees.MaxPreCommitFee
		pp := &miner.PreCommitSectorBatchParams2{}
		deposit := map[int64]types.TokenAmount{} // by seal proof: since nv17 the deposit depends on it only
		for _, d := range ds {
			exp, err := Expiration(p.cfg.Params, head.Height, types.ChainEpoch(d.Sector.Ticket.Epoch), t.ExpirationDays)
			if err != nil {
				return nil, types.Zero(), fmt.Errorf("commit: sector %s: %w", d.Sector.ID, err)
			}
			info, err := preCommitInfo(d, exp)
			if err != nil {
				return nil, types.Zero(), err
			}
			pp.Sectors = append(pp.Sectors, info)
			dep, ok := deposit[int64(info.SealProof)]
			if !ok {
				dep, err = p.chain.StateMinerPreCommitDepositForPower(ctx, maddr, lotus.SectorPreCommitInfo{
					SealProof: int64(info.SealProof), SectorNumber: info.SectorNumber, SealedCID: info.SealedCID,
					SealRandEpoch: info.SealRandEpoch, DealIDs: info.DealIDs, Expiration: info.Expiration, UnsealedCid: info.UnsealedCid}, tsk)
				if err != nil {
					return nil, types.Zero(), fmt.Errorf("commit: pre-commit deposit: %w", err)
				}
				deposit[int64(info.SealProof)] = dep
			}
			need = need.Add(dep)
		}
		params = pp
	case store.BatchProveCommit:
		if len(ds) > 0 && ds[0].Sector.ProofType.IsNI() {
			method, capStr = miner.MethodProveCommitSectorsNI, t.Fees.MaxProveCommitFee
			pp, pledge, err := p.niParams(ctx, t, ds, head)
			if err != nil {
				return nil, types.Zero(), err
			}
			params, need = pp, pledge
			break
		}
		method, capStr = miner.MethodProveCommitSectors3, t.Fees.MaxProveCommitFee
		pp, err := proveParams(ds)
		if err != nil {
			return nil, types.Zero(), err
		}
		params = pp
		pledges := make([]types.TokenAmount, len(ds))
		deposits := make([]types.TokenAmount, len(ds))
		for i, d := range ds {
			pc := fs[i].PreCommit
			if pc == nil {
				return nil, types.Zero(), fmt.Errorf("commit: sector %s: no pre-commit on chain", d.Sector.ID)
			}
			pl, err := p.chain.StateMinerInitialPledgeForSector(ctx, pc.Expiration-head.Height, d.Sector.SectorSize, verifiedSize(d), tsk)
			if err != nil {
				return nil, types.Zero(), fmt.Errorf("commit: initial pledge: %w", err)
			}
			pledges[i], deposits[i] = pl, pc.Deposit
		}
		need = ProveCollateral(pledges, deposits)
	default:
		return nil, types.Zero(), fmt.Errorf("commit: batch kind %q: %w", kind, ErrPolicy)
	}
	raw, err := miner.EncodeParams(params)
	if err != nil {
		return nil, types.Zero(), fmt.Errorf("commit: encode params: %w", err)
	}
	avail := types.Zero()
	if p.cfg.UseAvailableBalance {
		if avail, err = p.chain.StateMinerAvailableBalance(ctx, maddr, tsk); err != nil {
			return nil, types.Zero(), fmt.Errorf("commit: available balance: %w", err)
		}
	}
	maxFee, err := MaxFee(capStr, len(ds))
	if err != nil {
		return nil, types.Zero(), err
	}
	return newMessage(from, t.Miner, method, raw, Collateral(need, avail, p.cfg.UseAvailableBalance)), maxFee, nil
}

// DeadlineReader is the optional chain capability NI batches need: the
// miner's current proving deadline, to pick ProvingDeadline
// (*lotus.Client and the devnet have it).
type DeadlineReader interface {
	StateMinerProvingDeadline(ctx context.Context, maddr address.Address, tsk types.TipSetKey) (*lotus.DeadlineInfo, error)
}

// niParams builds ProveCommitSectorsNI params for NI sectors of one proof
// type and the pledge they need (no deposit was paid). The sectors go to
// NIProvingDeadline; each expires at NIExpiration. RequireActivationSuccess
// is false, as for ProveCommitSectors3, so that a sector the actor refuses
// (a ticket that aged out, say) is reported in the BatchReturn while the
// others activate.
func (p *Pipeline) niParams(ctx context.Context, t store.Tenant, ds []sectorData, head *lotus.TipSet) (*miner.ProveCommitSectorsNIParams, types.TokenAmount, error) {
	maddr := address.NewIDAddress(t.Miner)
	dr, ok := p.chain.(DeadlineReader)
	if !ok {
		return nil, types.Zero(), fmt.Errorf("commit: NI-PoRep needs StateMinerProvingDeadline, which the chain client lacks: %w", ErrPolicy)
	}
	dl, err := dr.StateMinerProvingDeadline(ctx, maddr, head.Key())
	if err != nil {
		return nil, types.Zero(), fmt.Errorf("commit: proving deadline: %w", err)
	}
	deadlines := dl.WPoStPeriodDeadlines
	if deadlines == 0 {
		deadlines = rand.WPoStPeriodDeadlines
	}
	proofs := make([][]byte, len(ds))
	pp := &miner.ProveCommitSectorsNIParams{
		SealProofType:      miner.RegisteredSealProof(ds[0].Sector.ProofType),
		AggregateProofType: miner.RegisteredAggregationProofSnarkPackV2,
		ProvingDeadline:    NIProvingDeadline(dl.Index, deadlines),
	}
	pledge := types.Zero()
	for i, d := range ds {
		s := d.Sector
		sealed := d.commR()
		if !sealed.Defined() || s.Ticket == nil {
			return nil, types.Zero(), fmt.Errorf("commit: NI sector %s: no commitments or ticket", s.ID)
		}
		if len(d.Proof) == 0 {
			return nil, types.Zero(), fmt.Errorf("commit: sector %s: no proof", s.ID)
		}
		if !c2.IsDevnetProof(d.Proof) {
			// Method 36 takes one SnarkPackV2 aggregate of the sectors'
			// Groth16 proofs; Sealant has no aggregator.
			return nil, types.Zero(), fmt.Errorf("commit: NI sector %s: ProveCommitSectorsNI needs a SnarkPack aggregate of Groth16 proofs, and Sealant has no SNARK aggregator: %w", s.ID, ErrPolicy)
		}
		exp, err := NIExpiration(p.cfg.Params, head.Height, types.ChainEpoch(s.Ticket.Epoch), t.ExpirationDays)
		if err != nil {
			return nil, types.Zero(), fmt.Errorf("commit: sector %s: %w", s.ID, err)
		}
		pp.Sectors = append(pp.Sectors, miner.SectorNIActivationInfo{
			SealingNumber: s.ID.Number, SealerID: types.ActorID(t.Miner), SealedCID: sealed, SectorNumber: s.ID.Number,
			SealRandEpoch: types.ChainEpoch(s.Ticket.Epoch), Expiration: exp,
		})
		proofs[i] = d.Proof
		pl, err := p.chain.StateMinerInitialPledgeForSector(ctx, exp-head.Height, s.SectorSize, verifiedSize(d), head.Key())
		if err != nil {
			return nil, types.Zero(), fmt.Errorf("commit: initial pledge: %w", err)
		}
		pledge = pledge.Add(pl)
	}
	pp.AggregateProof = c2.EncodeDevnetAggregate(proofs)
	return pp, pledge, nil
}

func sendSpec(maxFee types.TokenAmount) *lotus.MessageSendSpec {
	if maxFee.Sign() <= 0 {
		return nil
	}
	return &lotus.MessageSendSpec{MaxFee: maxFee}
}

// baseFee is the head's parent base fee (zero if unknown).
func baseFee(ts *lotus.TipSet) types.TokenAmount {
	if ts == nil || len(ts.Blocks) == 0 || ts.Blocks[0].ParentBaseFee.Nil() {
		return types.Zero()
	}
	return ts.Blocks[0].ParentBaseFee
}

// splitUnsent handles a batch whose message would fail (gas estimation
// exit code) or not fit, before it was signed: plan as if it had failed,
// with a fresh precheck's bad sectors, and regroup — no gas is spent.
//
// tooBig marks a message over the size or block gas limit: it is halved,
// and a single sector that does not fit alone is failed.
func (p *Pipeline) splitUnsent(ctx context.Context, t store.Tenant, b store.Batch, from address.Address, reserved *store.Message, ds []sectorData, code types.ExitCode, why string, tooBig bool, log *slog.Logger) error {
	ids := idsOf(ds)
	var plan FailurePlan
	switch {
	case tooBig && len(ids) == 1:
		plan.Fail = map[store.SectorID]string{ids[0]: fmt.Sprintf("%s: does not fit one message: %s", b.Kind, why)}
	case tooBig:
		plan.Groups = Halves(ids)
	default:
		plan = PlanFailure(b.Kind, ids, code, why, nil)
	}
	if len(plan.Retry) > 0 {
		p.setStatus(b.ID, why, false)
		return nil
	}
	ok, err := p.release(ctx, b, from, reserved, "split before sending: "+why)
	if err != nil || !ok {
		if err == nil {
			p.setStatus(b.ID, "cannot split without leaving a nonce gap: "+why, false)
		}
		return err
	}
	log.Info("commit: batch split before sending", "why", why, "groups", len(plan.Groups), "failed", len(plan.Fail))
	if err := p.failSectors(ctx, plan.Fail, log); err != nil {
		return err
	}
	return p.regroup(ctx, b.Kind, t.ID, plan.Groups)
}

// release frees an unsent batch's sectors. Without a reserved nonce it
// dissolves the batch; with one, only if that nonce is the sender's
// highest reservation (then the store gives it back and no gap is left).
func (p *Pipeline) release(ctx context.Context, b store.Batch, from address.Address, reserved *store.Message, why string) (bool, error) {
	if reserved == nil {
		return true, p.dissolve(ctx, b, why)
	}
	next, err := p.st.SenderNextNonce(ctx, reserved.From)
	if err != nil {
		return false, fmt.Errorf("commit: sender nonce: %w", err)
	}
	if next != reserved.Nonce+1 {
		return false, nil
	}
	if _, err := p.st.MarkMessageFailed(ctx, reserved.ID, why, p.cfg.Now()); err != nil {
		return false, fmt.Errorf("commit: release message %d: %w", reserved.ID, err)
	}
	p.forget(reserved.ID, b.ID)
	return true, nil
}

// dissolve releases the sectors of a closed batch that has no message.
// The store frees a batch's sectors only when its message fails, so the
// batch gets a message from a pseudo-sender (no real nonce is touched)
// that is failed at once, with the reason recorded on it.
func (p *Pipeline) dissolve(ctx context.Context, b store.Batch, why string) error {
	m, err := p.st.ReserveNonce(ctx, b.ID, dissolveSender, 0, p.cfg.Now())
	if err != nil {
		return fmt.Errorf("commit: dissolve batch %d: %w", b.ID, err)
	}
	if m.From != dissolveSender {
		return fmt.Errorf("commit: dissolve batch %d: it has a message from %s: %w", b.ID, m.From, store.ErrConflict)
	}
	if _, err := p.st.MarkMessageFailed(ctx, m.ID, "dissolved: "+why, p.cfg.Now()); err != nil {
		return fmt.Errorf("commit: dissolve batch %d: %w", b.ID, err)
	}
	p.forget(0, b.ID)
	return nil
}

// regroup makes each group a closed batch of its own. A group must not
// share a batch with anything else (a suspect sector must be alone), so
// the tenant's open batch, if any, is closed first; it is then sent by
// its own rules on this or the next tick.
func (p *Pipeline) regroup(ctx context.Context, kind store.BatchKind, tenant string, groups [][]store.SectorID) error {
	now := p.cfg.Now()
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		open, err := p.st.ListBatches(ctx, store.BatchFilter{TenantID: tenant, Kind: kind, States: []store.BatchState{store.BatchOpen}})
		if err != nil {
			return fmt.Errorf("commit: regroup: %w", err)
		}
		for _, o := range open {
			if err := p.st.CloseBatch(ctx, o.ID, now); err != nil {
				return fmt.Errorf("commit: regroup: close batch %d: %w", o.ID, err)
			}
		}
		var bid int64
		for _, id := range g {
			if bid, err = p.st.AddToBatch(ctx, id, kind, now); err != nil {
				return fmt.Errorf("commit: regroup sector %s: %w", id, err)
			}
		}
		if err := p.st.CloseBatch(ctx, bid, now); err != nil {
			return fmt.Errorf("commit: regroup: close batch %d: %w", bid, err)
		}
		p.log.Info("commit: sectors regrouped", "tenant", tenant, "kind", kind, "batch", bid, "sectors", g)
	}
	return nil
}

// failSectors gives sectors up for good: the store aborts them with the
// reason, which the worker sees (PermFailed / ShouldAbort) and which the
// sector's record keeps.
func (p *Pipeline) failSectors(ctx context.Context, fail map[store.SectorID]string, log *slog.Logger) error {
	ids := make([]store.SectorID, 0, len(fail))
	for id := range fail {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		return ids[i].Miner < ids[j].Miner || ids[i].Miner == ids[j].Miner && ids[i].Number < ids[j].Number
	})
	for _, id := range ids {
		if err := p.st.AbortSector(ctx, id, fail[id], p.cfg.Now()); err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("commit: fail sector %s: %w", id, err)
		}
		log.Warn("commit: sector failed", "sector", id, "reason", fail[id])
	}
	return nil
}

// signerFor picks the tenant's signing route.
func (p *Pipeline) signerFor(t store.Tenant) Signer {
	if t.SigningRoute == store.LotusWalletRoute {
		return p.cfg.WalletSigner
	}
	return p.signer
}

// signAndPush takes a message with stored bytes through signing (async),
// recording the signed CID, and pushing.
func (p *Pipeline) signAndPush(ctx context.Context, t store.Tenant, b store.Batch, m store.Message, log *slog.Logger) error {
	switch m.State {
	case store.MsgPending, store.MsgSigned:
	case store.MsgPushed:
		return p.follow(ctx, t, b, nil, log)
	default:
		return nil
	}
	if m.State == store.MsgSigned && !p.hasSignature(m.ID) {
		// Signed before a restart: the push may have happened. If the
		// chain has the message, follow it — no signer needed.
		if ml, _ := p.lookup(ctx, m, nil); ml != nil {
			if _, err := p.st.MarkMessagePushed(ctx, m.ID, p.cfg.Now()); err != nil {
				return fmt.Errorf("commit: record push: %w", err)
			}
			log.Info("commit: signed message found on chain after restart", "msg", m.ChainCID(), "nonce", m.Nonce)
			return nil
		}
	}
	sm, ok, err := p.signature(ctx, t, b, m, log)
	if err != nil || !ok {
		return err
	}
	c := sm.Cid()
	if m.State == store.MsgPending || m.SignedCID == "" {
		r, err := p.st.MarkMessageSigned(ctx, m.ID, c.String(), p.cfg.Now())
		if err != nil {
			return fmt.Errorf("commit: record signature: %w", err)
		}
		m = r
	} else if m.SignedCID != c.String() {
		// Re-signed after a restart and the signer is not deterministic:
		// same message and nonce, different signature. Both cannot land
		// (same From+Nonce); follow this one as well as the stored one.
		log.Warn("commit: re-signature differs from the stored one", "stored", m.SignedCID, "new", c.String())
		p.mu.Lock()
		p.altCID[m.ID] = c
		p.mu.Unlock()
	}
	return p.push(ctx, t, b, m, sm, log)
}

// hasSignature reports whether this process holds m's signed message.
func (p *Pipeline) hasSignature(msgID int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.signed[msgID] != nil
}

// lookup finds m (or a gas-bumped replacement of it) on chain: the first
// CID found wins. The error is reported only if no CID was found and some
// search failed; Lotus answers a search for a message it never received
// with an error ("failed to load message"), so callers treat an error as
// "not found" where re-pushing the same bytes is the safe continuation.
func (p *Pipeline) lookup(ctx context.Context, m store.Message, head *lotus.TipSet) (*types.MsgLookup, error) {
	if head == nil {
		var err error
		if head, err = p.chain.ChainHead(ctx); err != nil {
			return nil, fmt.Errorf("commit: chain head: %w", err)
		}
	}
	var errs []error
	for _, c := range p.cidsOf(m) {
		ml, err := p.chain.StateSearchMsg(ctx, head.Key(), c, lotus.LookbackNoLimit, true)
		if err != nil {
			errs = append(errs, fmt.Errorf("commit: search message %s: %w", c, err))
			continue
		}
		if ml != nil {
			return ml, nil
		}
	}
	return nil, errors.Join(errs...)
}

// signature returns this process's signed copy of m, starting a signing
// request if there is none. ok is false while the request is in flight or
// after it failed (the status says why).
func (p *Pipeline) signature(ctx context.Context, t store.Tenant, b store.Batch, m store.Message, log *slog.Logger) (*types.SignedMessage, bool, error) {
	p.mu.Lock()
	if sm := p.signed[m.ID]; sm != nil {
		p.mu.Unlock()
		return sm, true, nil
	}
	if p.signing[m.ID] {
		p.mu.Unlock()
		p.setStatus(b.ID, "waiting for the signer", true)
		return nil, false, nil
	}
	res, done := p.results[m.ID]
	now := p.cfg.Now()
	// A refusal is asked again only after RetryBackoff (the signer's
	// operator must act, and a human approver must not be flooded); an
	// unavailable signer is asked again at the next tick.
	refused := done && res.err != nil && !errors.Is(res.err, ErrSignerUnavailable)
	if !refused || !now.Before(res.at.Add(p.cfg.RetryBackoff)) {
		delete(p.results, m.ID)
	}
	p.mu.Unlock()
	if done {
		if res.err == nil {
			p.mu.Lock()
			p.signed[m.ID] = res.sm
			p.mu.Unlock()
			p.setStatus(b.ID, "", false)
			return res.sm, true, nil
		}
		p.setStatus(b.ID, "sign: "+res.err.Error(), !refused)
		if refused && now.Before(res.at.Add(p.cfg.RetryBackoff)) {
			return nil, false, nil
		}
		log.Warn("commit: signing failed", "msg", m.CID, "err", res.err)
		if !refused {
			return nil, false, nil
		}
	}
	msg, err := types.DecodeMessage(m.Unsigned)
	if err != nil {
		return nil, false, fmt.Errorf("commit: stored message %d: %w", m.ID, err)
	}
	signer := p.signerFor(t)
	if signer == nil {
		p.setStatus(b.ID, fmt.Sprintf("no signer configured for signing route %q", t.SigningRoute), true)
		return nil, false, nil
	}
	p.mu.Lock()
	p.signing[m.ID] = true
	p.mu.Unlock()
	p.setStatus(b.ID, "waiting for the signer", true)
	p.signWG.Add(1)
	go func() {
		defer p.signWG.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.SignTimeout)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		pur, _ := purposeOf(msg)
		res := signResult{}
		sig, err := signer.Sign(sctx, SignRequest{Tenant: t.ID, From: msg.From, Message: msg, Purpose: pur})
		if err == nil {
			res.sm = &types.SignedMessage{Message: *msg, Signature: sig}
			err = verifySigned(res.sm)
		}
		if err != nil {
			res = signResult{err: err}
		}
		res.at = p.cfg.Now()
		p.mu.Lock()
		delete(p.signing, m.ID)
		p.results[m.ID] = res
		p.mu.Unlock()
		p.Wake(t.ID, b.Kind)
	}()
	return nil, false, nil
}

// push submits the signed message and records it as pushed.
func (p *Pipeline) push(ctx context.Context, t store.Tenant, b store.Batch, m store.Message, sm *types.SignedMessage, log *slog.Logger) error {
	_, err := p.chain.MpoolPush(ctx, sm)
	switch out := ClassifyPushError(err); {
	case err == nil || out == PushKnown:
		if err != nil {
			log.Info("commit: mpool already has the nonce; following it", "err", err)
		}
	case out == PushNonceTooLow:
		return p.nonceUsed(ctx, t, b, m, log)
	case out == PushTooBig && len(b.Sectors) > 1:
		// Only reachable if MaxMessageBytes is above the node's limit.
		log.Warn("commit: node refused the message as too big; splitting", "err", err)
		if _, err := p.st.MarkMessageFailed(ctx, m.ID, "mpool: "+err.Error(), p.cfg.Now()); err != nil {
			return fmt.Errorf("commit: fail message: %w", err)
		}
		p.forget(m.ID, b.ID)
		return p.regroup(ctx, b.Kind, t.ID, Halves(b.Sectors))
	default:
		p.setStatus(b.ID, "mpool push: "+err.Error(), false)
		return nil
	}
	if _, err := p.st.MarkMessagePushed(ctx, m.ID, p.cfg.Now()); err != nil {
		return fmt.Errorf("commit: record push: %w", err)
	}
	p.mu.Lock()
	p.pushedAt[m.ID] = p.cfg.Now()
	delete(p.repush, m.ID)
	p.mu.Unlock()
	p.setStatus(b.ID, "", false)
	log.Info("commit: message pushed", "msg", sm.Cid().String(), "nonce", m.Nonce)
	return nil
}

// nonceUsed handles "nonce too low": if our message (or a gas-bumped
// replacement of it) is on chain it is followed; otherwise another message
// consumed the nonce, and the batch gets a new message with a new nonce —
// the only case in which a batch is rebuilt after its bytes were stored.
func (p *Pipeline) nonceUsed(ctx context.Context, t store.Tenant, b store.Batch, m store.Message, log *slog.Logger) error {
	// A search error (Lotus cannot load a message it never received) counts
	// as "not ours on chain".
	if ml, _ := p.lookup(ctx, m, nil); ml != nil {
		if m.State != store.MsgPushed {
			if _, err := p.st.MarkMessagePushed(ctx, m.ID, p.cfg.Now()); err != nil {
				return fmt.Errorf("commit: record push: %w", err)
			}
		}
		return nil
	}
	members := append([]store.SectorID(nil), b.Sectors...)
	why := fmt.Sprintf("nonce %d of %s was consumed by another message", m.Nonce, m.From)
	log.Warn("commit: "+why+"; rebuilding the batch with a new nonce", "msg", m.ChainCID())
	if _, err := p.st.MarkMessageFailed(ctx, m.ID, why, p.cfg.Now()); err != nil {
		return fmt.Errorf("commit: fail message: %w", err)
	}
	p.forget(m.ID, b.ID)
	return p.regroup(ctx, b.Kind, t.ID, [][]store.SectorID{members})
}

// cidsOf lists the CIDs a message may have on chain.
func (p *Pipeline) cidsOf(m store.Message) []cid.Cid {
	var out []cid.Cid
	if c, err := cid.Decode(m.ChainCID()); err == nil {
		out = append(out, c)
	}
	p.mu.Lock()
	if c, ok := p.altCID[m.ID]; ok {
		out = append(out, c)
	}
	p.mu.Unlock()
	return out
}

// follow looks for a pushed message on chain; once it is Confidence epochs
// deep the receipt is recorded and acted on. A message unseen for
// RepushAfter is pushed again with the same signed bytes.
func (p *Pipeline) follow(ctx context.Context, t store.Tenant, b store.Batch, head *lotus.TipSet, log *slog.Logger) error {
	m := b.Message
	if m == nil || m.State != store.MsgPushed {
		return nil
	}
	if head == nil {
		var err error
		if head, err = p.chain.ChainHead(ctx); err != nil {
			return fmt.Errorf("commit: chain head: %w", err)
		}
	}
	ml, err := p.lookup(ctx, *m, head)
	if err != nil {
		log.Warn("commit: message search failed; treating it as not on chain yet", "err", err)
	}
	now := p.cfg.Now()
	if ml == nil {
		p.mu.Lock()
		last, ok := p.pushedAt[m.ID]
		if !ok {
			last = m.UpdatedAt
			p.pushedAt[m.ID] = last
		}
		due := p.repush[m.ID] || now.Sub(last) >= p.cfg.RepushAfter
		if due {
			// Stays set until a push went through, so a re-push that must
			// first re-sign (after a restart) is not forgotten.
			p.repush[m.ID] = true
		}
		p.mu.Unlock()
		if !due {
			return nil
		}
		sm, ok, err := p.signature(ctx, t, b, *m, log)
		if err != nil || !ok {
			return err
		}
		log.Info("commit: message not on chain yet; pushing the same bytes again", "msg", m.ChainCID(), "nonce", m.Nonce)
		return p.push(ctx, t, b, *m, sm, log)
	}
	if head.Height-ml.Height < p.cfg.Confidence {
		p.setStatus(b.ID, "", false)
		return nil
	}
	members := append([]store.SectorID(nil), b.Sectors...)
	exit := ml.Receipt.ExitCode
	if _, err := p.st.MarkMessageLanded(ctx, m.ID, int64(exit), now); err != nil {
		return fmt.Errorf("commit: record receipt: %w", err)
	}
	p.forget(m.ID, b.ID)
	log.Info("commit: message landed", "msg", ml.Message.String(), "exit", exit, "height", ml.Height, "sectors", len(members))
	if exit.IsSuccess() {
		if b.Kind != store.BatchProveCommit {
			return nil
		}
		ret, err := miner.DecodeBatchReturn(ml.Receipt.Return)
		if err != nil {
			log.Warn("commit: undecodable ProveCommitSectors3 return; sectors are checked on chain by the poll", "err", err)
			return nil
		}
		failed, err := ProveFailures(members, ret)
		if err != nil {
			log.Warn("commit: inconsistent batch return", "err", err)
		}
		fail := map[store.SectorID]string{}
		for id, code := range failed {
			fail[id] = fmt.Sprintf("%s: sector did not activate in message %s: exit %s", b.Kind, ml.Message, code)
		}
		return p.failSectors(ctx, fail, log)
	}
	// The store released the members. Find conclusive culprits, then split.
	bad := map[store.SectorID]string{}
	if ds, err := p.loadSectors(ctx, members, b.Kind); err == nil {
		if _, checks, err := p.precheck(ctx, b.Kind, ds, head); err == nil {
			for id, c := range checks {
				if c.Verdict == Bad {
					bad[id] = c.Reason
				}
			}
		} else {
			log.Warn("commit: precheck after failure", "err", err)
		}
	}
	plan := PlanFailure(b.Kind, members, exit, "message "+ml.Message.String(), bad)
	log.Warn("commit: batch failed on chain; isolating", "exit", exit, "groups", len(plan.Groups), "retry", len(plan.Retry), "failed", len(plan.Fail))
	if err := p.failSectors(ctx, plan.Fail, log); err != nil {
		return err
	}
	if len(plan.Retry) > 0 {
		p.mu.Lock()
		for _, id := range plan.Retry {
			p.retryAt[id] = now.Add(p.cfg.RetryBackoff)
		}
		p.mu.Unlock()
	}
	return p.regroup(ctx, b.Kind, t.ID, plan.Groups)
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

func idsOf(ds []sectorData) []store.SectorID {
	out := make([]store.SectorID, len(ds))
	for i, d := range ds {
		out[i] = d.Sector.ID
	}
	return out
}
