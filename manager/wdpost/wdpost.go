package wdpost

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/bitfield"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	chainrand "github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/post"
)

// Chain is what the Service reads from and sends to a Lotus node;
// *lotus.Client satisfies it.
type Chain interface {
	ChainHead(ctx context.Context) (*lotus.TipSet, error)
	StateMinerInfo(ctx context.Context, maddr address.Address, tsk types.TipSetKey) (*lotus.MinerInfo, error)
	StateAccountKey(ctx context.Context, addr address.Address, tsk types.TipSetKey) (address.Address, error)
	StateMinerProvingDeadline(ctx context.Context, maddr address.Address, tsk types.TipSetKey) (*lotus.DeadlineInfo, error)
	StateMinerPartitions(ctx context.Context, maddr address.Address, dlIdx uint64, tsk types.TipSetKey) ([]lotus.Partition, error)
	StateSectorGetInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*lotus.SectorOnChainInfo, error)
	StateGetRandomnessFromBeacon(ctx context.Context, tag chainrand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, tsk types.TipSetKey) (chainrand.Randomness, error)
	StateGetRandomnessFromTickets(ctx context.Context, tag chainrand.DomainSeparationTag, epoch types.ChainEpoch, entropy []byte, tsk types.TipSetKey) (chainrand.Randomness, error)
	MpoolGetNonce(ctx context.Context, addr address.Address) (uint64, error)
	GasEstimateMessageGas(ctx context.Context, msg *types.Message, spec *lotus.MessageSendSpec, tsk types.TipSetKey) (*types.Message, error)
	MpoolPush(ctx context.Context, sm *types.SignedMessage) (cid.Cid, error)
}

var _ Chain = (*lotus.Client)(nil)

// Signer signs a tenant's message with the key of from. The signer hub
// (signhub.Hub.Sign) satisfies it.
type Signer interface {
	Sign(ctx context.Context, tenant string, from address.Address, msg *types.Message) (types.Signature, error)
}

// SectorStore locates a stored sector's files.
type SectorStore interface {
	Locate(minerID, number uint64) (sealedPath, cacheDir string)
}

// LayoutStore is a Lotus/Curio storage path: sealed/s-t0M-N and
// cache/s-t0M-N below Root, where Architecture 1 deliveries put sectors.
type LayoutStore struct{ Root string }

// Locate returns the sector's paths in the layout.
func (s LayoutStore) Locate(minerID, number uint64) (string, string) {
	name := fmt.Sprintf("s-t0%d-%d", minerID, number)
	return filepath.Join(s.Root, "sealed", name), filepath.Join(s.Root, "cache", name)
}

// Tenant is one miner the provider proves for.
type Tenant struct {
	// Name is the tenant id the Signer routes by.
	Name  string
	Miner uint64
	// Store holds the tenant's sectors.
	Store SectorStore
	// Sender sends the messages; the zero address means the miner's
	// worker (StateMinerInfo).
	Sender address.Address
}

// Config configures a Service.
type Config struct {
	Chain  Chain
	Signer Signer
	Prover Prover
	// MaxFee caps each message's fee (zero: the node's default).
	MaxFee types.BigInt
	// ChallengeConfidence is how many epochs past the challenge epoch the
	// head must be before proving, against reorgs (default 2).
	ChallengeConfidence int64
	Logger              *slog.Logger
}

// Submission records one SubmitWindowedPoSt.
type Submission struct {
	Tenant      string
	Miner       uint64
	PeriodStart int64
	Deadline    uint64
	Partitions  []uint64
	Proven      []uint64 // sector numbers, in proof order
	Skipped     []uint64 // declared faulty by this message
	Message     cid.Cid
	At          time.Time
}

// Recovery records one DeclareFaultsRecovered.
type Recovery struct {
	Tenant   string
	Miner    uint64
	Deadline uint64
	Sectors  []uint64
	Message  cid.Cid
}

// Service proves the tenants' deadlines.
type Service struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	tenants   []Tenant
	submitted map[dlKey]*Submission
	recovered map[recKey]bool
	history   []Submission
	recovs    []Recovery
}

type dlKey struct {
	miner  uint64
	period int64
	index  uint64
}

type recKey struct {
	miner  uint64
	period int64
	dl     uint64
	sector uint64
}

// New returns a Service for tenants.
func New(cfg Config, tenants ...Tenant) (*Service, error) {
	if cfg.Chain == nil || cfg.Signer == nil || cfg.Prover == nil {
		return nil, errors.New("wdpost: chain, signer and prover are required")
	}
	if cfg.ChallengeConfidence <= 0 {
		cfg.ChallengeConfidence = 2
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, log: log, tenants: tenants, submitted: map[dlKey]*Submission{}, recovered: map[recKey]bool{}}, nil
}

// SetTenants replaces the tenant list (the manager calls it when tenants
// change; state for remaining miners is kept).
func (s *Service) SetTenants(ts []Tenant) {
	s.mu.Lock()
	s.tenants = slices.Clone(ts)
	s.mu.Unlock()
}

// Submissions returns the messages sent so far, oldest first.
func (s *Service) Submissions() []Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.history)
}

// Recoveries returns the recovery declarations sent so far.
func (s *Service) Recoveries() []Recovery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recovs)
}

// Run ticks every interval until ctx ends; errors are logged and retried
// at the next tick.
func (s *Service) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("window post tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick handles the current deadline of every tenant once: submits its
// WindowPoSt if due and not yet sent, and declares recoveries.
func (s *Service) Tick(ctx context.Context) error {
	s.mu.Lock()
	tenants := slices.Clone(s.tenants)
	s.mu.Unlock()
	var errs []error
	for _, t := range tenants {
		if _, err := s.proveCurrent(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("tenant %s (f0%d): %w", t.Name, t.Miner, err))
		}
		if err := s.declareRecoveries(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("tenant %s (f0%d) recoveries: %w", t.Name, t.Miner, err))
		}
	}
	return errors.Join(errs...)
}

// minerState is what one tick reads about a miner.
type minerState struct {
	maddr  address.Address
	head   *lotus.TipSet
	info   *lotus.MinerInfo
	sender address.Address
}

func (s *Service) read(ctx context.Context, t Tenant) (*minerState, error) {
	m := &minerState{maddr: address.NewIDAddress(t.Miner)}
	var err error
	if m.head, err = s.cfg.Chain.ChainHead(ctx); err != nil {
		return nil, fmt.Errorf("chain head: %w", err)
	}
	if m.info, err = s.cfg.Chain.StateMinerInfo(ctx, m.maddr, m.head.Key()); err != nil {
		return nil, fmt.Errorf("miner info: %w", err)
	}
	m.sender = t.Sender
	if m.sender == (address.Address{}) {
		m.sender = m.info.Worker
	}
	// Signers hold keys by key address; the miner info names the worker
	// by its ID address.
	if m.sender.Protocol() == address.ID {
		if m.sender, err = s.cfg.Chain.StateAccountKey(ctx, m.sender, m.head.Key()); err != nil {
			return nil, fmt.Errorf("sender key address: %w", err)
		}
	}
	return m, nil
}

// proveCurrent submits the WindowPoSt of the miner's current deadline if
// it has live sectors, the challenge is final, and it was not sent yet.
// It returns the submission (nil when there was nothing to do).
func (s *Service) proveCurrent(ctx context.Context, t Tenant) (*Submission, error) {
	m, err := s.read(ctx, t)
	if err != nil {
		return nil, err
	}
	di, err := s.cfg.Chain.StateMinerProvingDeadline(ctx, m.maddr, m.head.Key())
	if err != nil {
		return nil, fmt.Errorf("proving deadline: %w", err)
	}
	key := dlKey{t.Miner, int64(di.PeriodStart), di.Index}
	s.mu.Lock()
	done := s.submitted[key] != nil
	s.mu.Unlock()
	height := int64(m.head.Height)
	if done || height < int64(di.Challenge)+s.cfg.ChallengeConfidence || height < int64(di.Open) || height >= int64(di.Close) {
		return nil, nil
	}
	parts, err := s.cfg.Chain.StateMinerPartitions(ctx, m.maddr, di.Index, m.head.Key())
	if err != nil {
		return nil, fmt.Errorf("partitions of deadline %d: %w", di.Index, err)
	}
	pt := abi.RegisteredPoStProof(m.info.WindowPoStProofType)
	if !pt.Valid() || pt.IsWinning() {
		return nil, fmt.Errorf("miner has WindowPoSt proof type %d", m.info.WindowPoStProofType)
	}
	entropy, err := chainrand.SealEntropyForID(t.Miner)
	if err != nil {
		return nil, err
	}
	chal, err := s.cfg.Chain.StateGetRandomnessFromBeacon(ctx, chainrand.TagWindowedPoStChallengeSeed, di.Challenge, entropy, m.head.Key())
	if err != nil {
		return nil, fmt.Errorf("challenge randomness: %w", err)
	}

	// What each partition must prove: live sectors that are not faulty,
	// or are faulty but declared recovering.
	type partWork struct {
		index   uint64
		prove   []uint64
		skipped []uint64
	}
	var work []partWork
	for i, p := range parts {
		live, err1 := p.LiveSectors.Slice(1 << 20)
		faulty, err2 := p.FaultySectors.Slice(1 << 20)
		recovering, err3 := p.RecoveringSectors.Slice(1 << 20)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("partition %d: %w", i, err)
		}
		skip := setMinus(faulty, recovering)
		todo := setMinus(live, skip)
		if len(todo) == 0 {
			continue
		}
		work = append(work, partWork{index: uint64(i), prove: todo})
	}
	if len(work) == 0 {
		return nil, nil
	}
	// Sectors whose files are missing are skipped (declared faulty) up
	// front; the prover may report more faults, then the proof is redone
	// without them (a sector's position in the list is part of the proof).
	replicas := func() []Replica {
		var out []Replica
		for _, w := range work {
			for _, n := range w.prove {
				if !slices.Contains(w.skipped, n) {
					sealed, cache := t.Store.Locate(t.Miner, n)
					out = append(out, Replica{Sector: n, SealedPath: sealed, CacheDir: cache})
				}
			}
		}
		return out
	}
	skip := func(n uint64) {
		for i := range work {
			if slices.Contains(work[i].prove, n) && !slices.Contains(work[i].skipped, n) {
				work[i].skipped = append(work[i].skipped, n)
			}
		}
	}
	for _, r := range replicas() {
		if !filesPresent(r) {
			s.log.Warn("sector files missing, skipping (faulty)", "miner", t.Miner, "sector", r.Sector)
			skip(r.Sector)
		}
	}
	var proofBytes []byte
	var proven []Replica
	for attempt := 0; ; attempt++ {
		proven = replicas()
		if len(proven) == 0 {
			break
		}
		for i := range proven {
			si, err := s.cfg.Chain.StateSectorGetInfo(ctx, m.maddr, proven[i].Sector, m.head.Key())
			if err != nil {
				return nil, fmt.Errorf("sector %d info: %w", proven[i].Sector, err)
			}
			if si != nil {
				proven[i].CommR = si.SealedCID
			}
		}
		pb, faults, err := s.cfg.Prover.ProveWindowPoSt(ctx, WindowPoStRequest{
			Miner: t.Miner, Proof: pt, Randomness: post.Randomness(chal), Replicas: proven,
		})
		if err != nil {
			return nil, fmt.Errorf("prove deadline %d: %w", di.Index, err)
		}
		if len(faults) == 0 {
			proofBytes = pb
			break
		}
		if attempt >= 2 {
			return nil, fmt.Errorf("prover keeps reporting faults: %v", faults)
		}
		for _, f := range faults {
			s.log.Warn("sector failed to prove, skipping (faulty)", "miner", t.Miner, "sector", f)
			skip(f)
		}
	}
	if len(proven) == 0 {
		// Nothing provable: the actor refuses a proof of only skipped
		// sectors, so send nothing; the partitions turn faulty when the
		// deadline closes unproven (and the next ticks retry in case the
		// files come back in time).
		s.log.Warn("no sector of the deadline can be proven", "tenant", t.Name, "miner", t.Miner, "deadline", di.Index)
		return nil, nil
	}

	commitEpoch := di.Open
	commitRand, err := s.cfg.Chain.StateGetRandomnessFromTickets(ctx, chainrand.TagPoStChainCommit, commitEpoch, nil, m.head.Key())
	if err != nil {
		return nil, fmt.Errorf("chain commit randomness: %w", err)
	}
	params := &miner.SubmitWindowedPoStParams{
		Deadline:         di.Index,
		Proofs:           []miner.PoStProof{{PoStProof: miner.RegisteredPoStProof(pt), ProofBytes: proofBytes}},
		ChainCommitEpoch: commitEpoch,
		ChainCommitRand:  commitRand[:],
	}
	sub := &Submission{Tenant: t.Name, Miner: t.Miner, PeriodStart: int64(di.PeriodStart), Deadline: di.Index, At: time.Now()}
	for _, w := range work {
		slices.Sort(w.skipped)
		bf, err := bitfield.NewFromSet(w.skipped)
		if err != nil {
			return nil, err
		}
		params.Partitions = append(params.Partitions, miner.PoStPartition{Index: w.index, Skipped: bf})
		sub.Partitions = append(sub.Partitions, w.index)
		sub.Skipped = append(sub.Skipped, w.skipped...)
	}
	for _, r := range proven {
		sub.Proven = append(sub.Proven, r.Sector)
	}
	c, err := s.send(ctx, t, m, miner.MethodSubmitWindowedPoSt, params)
	if err != nil && strings.Contains(err.Error(), "already proven") {
		// Proven before a restart of this process (the chain refuses a
		// second proof): remember it, send nothing.
		s.mu.Lock()
		s.submitted[key] = sub
		s.mu.Unlock()
		s.log.Info("window post already on chain", "tenant", t.Name, "miner", t.Miner, "deadline", di.Index)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("submit deadline %d: %w", di.Index, err)
	}
	sub.Message = c
	s.mu.Lock()
	s.submitted[key] = sub
	s.history = append(s.history, *sub)
	s.mu.Unlock()
	s.log.Info("window post submitted", "tenant", t.Name, "miner", t.Miner, "deadline", di.Index,
		"partitions", sub.Partitions, "proven", len(sub.Proven), "skipped", sub.Skipped, "message", c)
	return sub, nil
}

// declareRecoveries looks far enough ahead that the deadline's fault
// cutoff has not passed (two deadlines on mainnet, as Lotus does; more
// with the devnet's short windows) for faulty sectors not yet recovering
// whose files prove again, and declares them recovered.
func (s *Service) declareRecoveries(ctx context.Context, t Tenant) error {
	m, err := s.read(ctx, t)
	if err != nil {
		return err
	}
	di, err := s.cfg.Chain.StateMinerProvingDeadline(ctx, m.maddr, m.head.Key())
	if err != nil {
		return fmt.Errorf("proving deadline: %w", err)
	}
	n := di.WPoStPeriodDeadlines
	if n == 0 {
		return nil
	}
	ahead := uint64(2)
	if w := int64(di.WPoStChallengeWindow); w > 0 {
		ahead = max(ahead, uint64(int64(di.FaultDeclarationCutoff)/w)+2)
	}
	dl := (di.Index + ahead) % n
	parts, err := s.cfg.Chain.StateMinerPartitions(ctx, m.maddr, dl, m.head.Key())
	if err != nil {
		return fmt.Errorf("partitions of deadline %d: %w", dl, err)
	}
	pt := abi.RegisteredPoStProof(m.info.WindowPoStProofType)
	params := &miner.DeclareFaultsRecoveredParams{}
	var keys []recKey
	var all []uint64
	for i, p := range parts {
		faulty, err1 := p.FaultySectors.Slice(1 << 20)
		recovering, err2 := p.RecoveringSectors.Slice(1 << 20)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		var ok []uint64
		for _, sec := range setMinus(faulty, recovering) {
			k := recKey{t.Miner, int64(di.PeriodStart), dl, sec}
			s.mu.Lock()
			done := s.recovered[k]
			s.mu.Unlock()
			if done {
				continue
			}
			sealed, cache := t.Store.Locate(t.Miner, sec)
			if err := checkSector(ctx, pt, post.Sector{Number: sec, SealedPath: sealed, CacheDir: cache}); err != nil {
				continue // still faulty
			}
			ok = append(ok, sec)
			keys = append(keys, k)
		}
		if len(ok) == 0 {
			continue
		}
		bf, err := bitfield.NewFromSet(ok)
		if err != nil {
			return err
		}
		params.Recoveries = append(params.Recoveries, miner.RecoveryDeclaration{Deadline: dl, Partition: uint64(i), Sectors: bf})
		all = append(all, ok...)
	}
	if len(params.Recoveries) == 0 {
		return nil
	}
	c, err := s.send(ctx, t, m, miner.MethodDeclareFaultsRecovered, params)
	if err != nil {
		return err
	}
	s.mu.Lock()
	for _, k := range keys {
		s.recovered[k] = true
	}
	s.recovs = append(s.recovs, Recovery{Tenant: t.Name, Miner: t.Miner, Deadline: dl, Sectors: all, Message: c})
	s.mu.Unlock()
	s.log.Info("faults declared recovered", "tenant", t.Name, "miner", t.Miner, "deadline", dl, "sectors", all, "message", c)
	return nil
}

// checkSector proves one sector with fresh randomness, as a health check.
func checkSector(ctx context.Context, pt abi.RegisteredPoStProof, sec post.Sector) error {
	var r [32]byte
	if _, err := io.ReadFull(rand.Reader, r[:]); err != nil {
		return err
	}
	_, err := post.Prove(ctx, pt, post.Randomness(r), 0, sec)
	return err
}

// send estimates gas, has the SP's signer sign, and pushes.
func (s *Service) send(ctx context.Context, t Tenant, m *minerState, method types.MethodNum, p miner.Params) (cid.Cid, error) {
	raw, err := miner.EncodeParams(p)
	if err != nil {
		return cid.Undef, err
	}
	nonce, err := s.cfg.Chain.MpoolGetNonce(ctx, m.sender)
	if err != nil {
		return cid.Undef, fmt.Errorf("nonce: %w", err)
	}
	msg := &types.Message{To: m.maddr, From: m.sender, Nonce: nonce, Value: types.Zero(), Method: method, Params: raw}
	var spec *lotus.MessageSendSpec
	if s.cfg.MaxFee.Int != nil {
		spec = &lotus.MessageSendSpec{MaxFee: s.cfg.MaxFee}
	}
	est, err := s.cfg.Chain.GasEstimateMessageGas(ctx, msg, spec, types.EmptyTSK)
	if err != nil {
		return cid.Undef, fmt.Errorf("gas estimate: %w", err)
	}
	sig, err := s.cfg.Signer.Sign(ctx, t.Name, m.sender, est)
	if err != nil {
		return cid.Undef, fmt.Errorf("sign: %w", err)
	}
	c, err := s.cfg.Chain.MpoolPush(ctx, &types.SignedMessage{Message: *est, Signature: sig})
	if err != nil {
		return cid.Undef, fmt.Errorf("push: %w", err)
	}
	return c, nil
}

func filesPresent(r Replica) bool {
	if _, err := os.Stat(r.SealedPath); err != nil {
		return false
	}
	_, err := os.Stat(filepath.Join(r.CacheDir, "p_aux"))
	return err == nil
}

// setMinus returns the elements of a (sorted) not in b.
func setMinus(a, b []uint64) []uint64 {
	var out []uint64
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
