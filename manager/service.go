package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/manager/commit"
	"github.com/sealant/sealant/manager/signhub"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

// CommitPipeline is the tenants' commitment pipeline (package
// manager/commit): it closes PreCommit/ProveCommit batches by size and
// wait, builds, signs, pushes and follows their messages, and records
// every step in the store (batches, messages), which is where
// PollPreCommitState and PollProofState read progress from.
//
// Division of work: the manager puts a sector into its tenant's open batch
// (store.AddToBatch, idempotent) when a worker's submission is accepted,
// then calls Wake so a batch that just became full is closed at once
// instead of at the pipeline's next tick.
type CommitPipeline interface {
	// Run drives the pipeline until ctx ends; on start it resumes the
	// store's unfinished messages (same nonce, same bytes).
	Run(ctx context.Context) error
	// Wake says tenant's open batch of kind gained a sector. It must not
	// block.
	Wake(tenant string, kind store.BatchKind)
}

// BatchStatusReporter is an optional capability of a CommitPipeline: what
// it knows about a batch beyond the store (why it is not moving, whether it
// waits for a signer), shown in poll answers.
type BatchStatusReporter interface {
	BatchStatus(batchID int64) (commit.BatchStatus, bool)
}

// SignerPresence is an optional view of the signer hub (package
// manager/signhub): whether any signer of a tenant is connected, so polls
// can say "waiting for signer". If it also has Waiting(tenant) bool, that
// is consulted first.
type SignerPresence interface {
	Connected(tenant string) bool
}

// RPCRegistrar is implemented by components that serve methods on the
// manager's RPC server (the signer hub serves Sealant.SignerHello and
// watches WebSocket connections).
type RPCRegistrar interface {
	RegisterRPC(srv *rpc.Server)
}

// Options configures a Service. DSN is required; the rest have defaults.
type Options struct {
	// DSN names the database (see store.Open).
	DSN string
	// Chain is the Lotus node; nil runs without a chain (AssignTicket and
	// WaitSeed fail with ErrNoChain, sector numbers are not cross-checked).
	Chain Chain
	// Pipeline and Signers are the other manager components (nil: none).
	Pipeline CommitPipeline
	Signers  SignerPresence
	// Policy is the chain timing policy (default rand.Mainnet).
	Policy rand.Policy
	// BlockTime is the epoch duration (default 30 s).
	BlockTime time.Duration
	// LeaseTTL and FairShareWindow: see LeaseConfig (defaults 10 m, 24 h).
	LeaseTTL        time.Duration
	FairShareWindow time.Duration
	// Devnet is passed to workers in AllocatedSector.
	Devnet bool
	// Delivery is the provider-side store for tenants without a target.
	Delivery DeliveryConfig
	// Receiver talks to the SPs' receivers (Architecture 2): metadata
	// handoff and verdicts. Nil is a delivery.Client.
	Receiver ReceiverClient
	// HandoffInterval is the period of the background metadata handoff
	// (default DefaultHandoffInterval; negative: no background loop, only
	// the push before a worker's transfer and PushPendingMetadata).
	HandoffInterval time.Duration
	// Secret is the JWT HS256 key the tokens are issued with.
	Secret []byte
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests drive it.
	Now func() time.Time
	// PollCacheTTL is how long a sector or batch read for a poll answer is
	// reused (default DefaultPollCacheTTL; negative disables). Thousands
	// of threads polling the same few batches then cost one database read
	// per batch per TTL, and a thread polling faster than the TTL costs
	// one read per TTL. An answer is at most a TTL (±25%) behind the
	// pipeline; an on-chain poll's (PollPreCommitState, PollProofState)
	// at most about two, as it is answered from an entry up to a TTL past
	// its life while that entry is read again, so a poll does not wait
	// for the database. Both are far below a worker's poll interval
	// (3 min by default) and an epoch (30 s). A change this manager makes through
	// the worker API drops the cached sector at once; only changes made
	// by the pipeline or by other managers wait out the TTL (an operator's
	// abort through this manager drops it too). ReportState, AssignTicket,
	// WaitSeed and SubmitProof's seed check read through the cache as
	// well; the other calls read the locked row in their transaction, and
	// a poll that would queue a sector re-reads it first.
	PollCacheTTL time.Duration
	// ReportFlush is how long a worker's state report may wait in memory
	// before it is written (default DefaultReportFlush; negative writes
	// every report in its own transaction, as the call). A report is
	// information (the worker's record is the truth), so it is accepted
	// against what the manager knows and written with the sector's next
	// call or with other reports; see reportQueue. A crash loses at most
	// this much of the history and CPU metering.
	ReportFlush time.Duration
}

// DefaultPollCacheTTL is Options.PollCacheTTL's default.
const DefaultPollCacheTTL = 5 * time.Second

// Service is the sealing manager: the worker, tenant and admin APIs over
// one store. Handlers hold no per-request state, so a Service is safe for
// concurrent use, and several Services (processes) may share a PostgreSQL
// database: every decision that must be unique (allocation, numbers,
// tickets, submissions, piece assignment) is taken inside a database
// transaction, not in memory.
type Service struct {
	st       *store.Store
	beats    *heartbeats
	reports  *reportQueue // nil: each report is written by its call
	chain    Chain
	pipeline CommitPipeline
	signers  SignerPresence
	policy   rand.Policy
	block    time.Duration
	ttl      time.Duration
	window   time.Duration
	devnet   bool
	delivery DeliveryConfig
	receiver ReceiverClient
	secret   []byte
	log      *slog.Logger
	now      func() time.Time
	metrics  *Metrics

	revoked revocationCache
	miners  minerChecks

	// cmdMu guards commands: operator pause/resume orders per worker,
	// delivered with the next WorkerPing answer. They are in memory: a
	// lost order is re-issued by the operator, and the worker's own
	// thread state (reported in the ping) is the authority.
	cmdMu    sync.Mutex
	commands map[string]*threadCommands

	// batches and sectors are short-lived caches for poll answers (see
	// Options.PollCacheTTL).
	batches *ttlCache[int64, store.BatchHead]
	sectors *ttlCache[store.SectorID, store.Sector]

	// handoffWake prompts the metadata handoff loop (handoff.go) after a
	// finalize; stopHandoff and handoffDone end it on Close.
	handoffWake chan struct{}
	stopHandoff context.CancelFunc
	handoffDone chan struct{}
}

type threadCommands struct{ pause, resume []string }

// NewService opens (and migrates) the store and returns a Service.
func NewService(ctx context.Context, o Options) (*Service, error) {
	if o.DSN == "" {
		return nil, fmt.Errorf("%w: empty database dsn", ErrConfig)
	}
	if len(o.Secret) < rpc.MinSecretLen {
		return nil, fmt.Errorf("%w: jwt secret shorter than %d bytes", ErrConfig, rpc.MinSecretLen)
	}
	st, err := store.Open(ctx, o.DSN)
	if err != nil {
		return nil, fmt.Errorf("manager: %w", err)
	}
	s := &Service{
		st: st, beats: newHeartbeats(st), chain: o.Chain, pipeline: o.Pipeline, signers: o.Signers,
		policy: o.Policy, block: o.BlockTime, ttl: o.LeaseTTL, window: o.FairShareWindow,
		devnet: o.Devnet, delivery: o.Delivery, receiver: o.Receiver, secret: o.Secret, log: o.Logger, now: o.Now,
		commands: map[string]*threadCommands{}, handoffWake: make(chan struct{}, 1),
	}
	if s.receiver == nil {
		s.receiver = newReceiverClient()
	}
	pollTTL := o.PollCacheTTL
	if pollTTL == 0 {
		pollTTL = DefaultPollCacheTTL
	}
	s.batches = newTTLCache[int64, store.BatchHead](pollTTL, func(id int64) string { return strconv.FormatInt(id, 10) })
	s.sectors = newTTLCache[store.SectorID, store.Sector](pollTTL, store.SectorID.String)
	s.sectors.many = s.st.GetSectors
	if s.policy == (rand.Policy{}) {
		s.policy = rand.Mainnet
	}
	if s.block <= 0 {
		s.block = rand.EpochDuration
	}
	if s.ttl <= 0 {
		s.ttl = 10 * time.Minute
	}
	if s.window <= 0 {
		s.window = 24 * time.Hour
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.sectors.log = s.log
	if every := o.ReportFlush; every >= 0 {
		if every == 0 {
			every = DefaultReportFlush
		}
		s.reports = newReportQueue(st, every, s.ttl, s.log, func(ids []store.SectorID) {
			for _, id := range ids {
				s.sectors.forget(id)
			}
		})
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.metrics = newMetrics(s)
	s.revoked = revocationCache{st: st, ttl: 2 * time.Second, entries: map[string]revEntry{}}
	if every := o.HandoffInterval; every >= 0 {
		if every == 0 {
			every = DefaultHandoffInterval
		}
		// The loop outlives NewService's ctx (a constructor context is
		// often short); Close ends it before the database is closed.
		hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		s.stopHandoff, s.handoffDone = cancel, make(chan struct{})
		go func() {
			defer close(s.handoffDone)
			s.runHandoff(hctx, every)
		}()
	}
	return s, nil
}

// Store returns the service's store (for the commit pipeline and tools).
func (s *Service) Store() *store.Store { return s.st }

// Metrics returns the service's Prometheus metrics.
func (s *Service) Metrics() *Metrics { return s.metrics }

// SetPipeline wires the commitment pipeline after construction (it needs
// the store, which the Service opens). Call before serving.
func (s *Service) SetPipeline(p CommitPipeline) { s.pipeline = p }

// Pipeline returns the wired commitment pipeline (nil if none).
func (s *Service) Pipeline() CommitPipeline { return s.pipeline }

// SetSigners wires the signer hub after construction. Call before serving.
func (s *Service) SetSigners(p SignerPresence) { s.signers = p }

// Close releases the database handles.
func (s *Service) Close() error {
	if s.stopHandoff != nil {
		s.stopHandoff()
		<-s.handoffDone
	}
	// Reports and heartbeats not written yet: worth a write, not a
	// failed Close.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.reports != nil {
		if err := s.reports.close(ctx); err != nil {
			s.log.Warn("state reports not written at close", "err", err)
		}
	}
	if err := s.beats.flush(ctx); err != nil {
		s.log.Warn("worker heartbeats not written at close", "err", err)
	}
	s.sectors.close()
	s.batches.close()
	return s.st.Close()
}

// Healthy checks that the database answers.
func (s *Service) Healthy(ctx context.Context) error {
	if _, err := s.st.SchemaVersion(ctx); err != nil {
		return fmt.Errorf("manager: database: %w", err)
	}
	if err := s.st.CheckpointError(); err != nil {
		return fmt.Errorf("manager: database: %w", err)
	}
	return nil
}

// allocatePolicy is the store policy from the service settings.
func (s *Service) allocatePolicy() store.AllocatePolicy {
	return store.AllocatePolicy{LeaseTTL: s.ttl, FairShareWindow: s.window}
}

// mapStoreErr turns a store error into the manager's wire-visible sentinel,
// keeping the store's text (which names the object, never a secret).
func mapStoreErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	case errors.Is(err, store.ErrNotLeaseHolder):
		return fmt.Errorf("%w: %v", ErrNotLeaseHolder, err)
	case errors.Is(err, store.ErrSectorDone):
		return fmt.Errorf("%w: %v", ErrSectorDone, err)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	case errors.Is(err, store.ErrInvalid):
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return err
}

// caller is the authenticated principal of a request.
type caller struct {
	role    rpc.Role
	tenant  string
	subject string
}

func callerFrom(ctx context.Context) (caller, error) {
	c, ok := rpc.ClaimsFrom(ctx)
	if !ok || c == nil {
		return caller{}, fmt.Errorf("%w: no token", ErrPermission)
	}
	return caller{role: c.Role, tenant: c.Tenant, subject: c.Subject}, nil
}

// canSeeTenant reports whether the caller may read or act on tenant's data.
func (c caller) canSeeTenant(tenant string) bool {
	switch c.role {
	case rpc.RoleAdmin:
		return true
	case rpc.RoleTenant, rpc.RoleWorker, rpc.RoleSigner:
		// A worker token without a tenant claim serves every tenant.
		return c.tenant == tenant || (c.role == rpc.RoleWorker && c.tenant == "")
	}
	return false
}

func toStoreID(id api.SectorID) store.SectorID {
	return store.SectorID{Miner: id.Miner, Number: id.Number}
}

func toAPIID(id store.SectorID) api.SectorID { return api.SectorID{Miner: id.Miner, Number: id.Number} }

// workerIdentity is the lease identity of one sealing thread: the worker
// name from the token's subject and the thread name. A worker token can
// only act as its own worker, so one worker cannot take over another's
// sectors by naming it.
func workerIdentity(c caller, worker, thread string) (string, error) {
	if c.subject == "" {
		return "", fmt.Errorf("%w: worker token has no subject", ErrPermission)
	}
	if worker != "" && worker != c.subject {
		return "", fmt.Errorf("%w: token is for worker %q, not %q", ErrPermission, c.subject, worker)
	}
	if thread == "" {
		return "", fmt.Errorf("%w: empty thread name", ErrInvalid)
	}
	if strings.Contains(thread, "/") {
		return "", fmt.Errorf("%w: thread name %q contains '/'", ErrInvalid, thread)
	}
	return c.subject + "/" + thread, nil
}

// workerOf splits a lease identity back into worker and thread.
func workerOf(identity string) (worker, thread string) {
	i := strings.IndexByte(identity, '/')
	if i < 0 {
		return identity, ""
	}
	return identity[:i], identity[i+1:]
}

// Interface guards: the sibling components plug in as they are.
var (
	_ CommitPipeline      = (*commit.Pipeline)(nil)
	_ BatchStatusReporter = (*commit.Pipeline)(nil)
	_ SignerPresence      = (*signhub.Hub)(nil)
	_ RPCRegistrar        = (*signhub.Hub)(nil)
)
