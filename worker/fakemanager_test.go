package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/rpc"
)

// fakeManager implements the worker API (api/sealer.go, api/delivery.go)
// in memory, devnet style: fixed tickets and seeds, PreCommit and proof
// land on the second poll. It can block a chosen method so a test can
// kill the worker while that call is in flight.
type fakeManager struct {
	t        testing.TB
	srv      *httptest.Server
	rpcSrv   *rpc.Server
	URL      string
	mu       sync.Mutex
	toAlloc  int
	next     uint64
	miner    uint64
	proof    int64
	pieces   []api.Piece
	devnet   bool
	target   api.DeliveryTarget
	sectors  map[api.SectorID]*fakeSector
	byThread map[string]api.SectorID
	calls    map[string]int
	blockOn  string
	// blockSkip lets that many calls of blockOn through before blocking.
	blockSkip int
	blocked   chan string
	// failWith makes every call of a method fail with that error (a
	// registered sentinel reaches the worker as itself).
	failWith map[string]error
	// abortedCh receives a sector id when the worker reports it aborted.
	abortedCh chan api.SectorID
	pings     []api.WorkerPing
	// pingResp is answered (once) to the next heartbeat.
	pingResp *api.WorkerPingResponse
	// onTarget, if set, runs when a worker asks where a sector goes (the
	// real manager pushes the sector metadata to the receiver then).
	onTarget func(id api.SectorID) error
	// verdict, if set, is the receiver's verdict on a sector whose
	// delivery is not final (DeliveryStatus asks it, as the real manager
	// asks the SP's receiver); nil accepts every uploaded sector.
	verdict func(id api.SectorID) (api.DeliveryState, error)
	// statusCalls counts DeliveryStatus calls.
	statusCalls int
	// finished receives a sector id when its delivery is confirmed.
	finished chan api.SectorID
	// specs records every AllocateSector request.
	specs []api.AllocateSpec
}

type fakeSector struct {
	thread           string
	pieces           []api.Piece
	ticket           *api.Ticket
	precommit        *api.PreCommitInfo
	pcPolls, prPolls int
	proof            []byte
	finalized        *api.FinalizedInfo
	delivery         api.DeliveryState
	reportedFinished bool
	confirmed        bool // DeliveryStatus answered accepted
	aborted          string
	states           []string
	cpu              map[string]float64
}

func newFakeManager(t testing.TB, sectors int) *fakeManager {
	f := &fakeManager{t: t, toAlloc: sectors, next: 1, miner: 1000, proof: 5, devnet: true,
		sectors: map[api.SectorID]*fakeSector{}, byThread: map[string]api.SectorID{}, calls: map[string]int{},
		blocked: make(chan string, 16), finished: make(chan api.SectorID, 64), abortedCh: make(chan api.SectorID, 64)}
	srv, err := rpc.NewServer(rpc.ServerConfig{AnonymousPerm: rpc.PermAdmin, ExposeErrors: true, Errors: rpcapi.Errors})
	if err != nil {
		t.Fatal(err)
	}
	reg := func(name string, h rpc.Handler) {
		srv.Register(name, rpc.PermWrite, func(ctx context.Context, params []json.RawMessage) (any, error) {
			f.mu.Lock()
			f.calls[name]++
			block := f.blockOn == name
			failErr := f.failWith[name]
			if block && f.blockSkip > 0 {
				f.blockSkip--
				block = false
			}
			f.mu.Unlock()
			if block {
				f.blocked <- name
				<-ctx.Done()
				return nil, ctx.Err()
			}
			if failErr != nil {
				return nil, failErr
			}
			return h(ctx, params)
		})
	}
	reg(api.MethodAllocateSector, rpc.Func1(f.allocate))
	reg(api.MethodAcquirePieces, rpc.Func1(func(_ context.Context, id api.SectorID) ([]api.Piece, error) {
		s, err := f.sector(id)
		if err != nil {
			return nil, err
		}
		return s.pieces, nil
	}))
	reg(api.MethodAssignTicket, rpc.Func1(func(_ context.Context, id api.SectorID) (api.Ticket, error) {
		s, err := f.sector(id)
		if err != nil {
			return api.Ticket{}, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if s.ticket == nil {
			var tk api.Ticket
			for i := range tk.Ticket {
				tk.Ticket[i] = byte(id.Number*7 + uint64(i))
			}
			tk.Epoch = 100
			s.ticket = &tk
		}
		return *s.ticket, nil
	}))
	reg(api.MethodSubmitPreCommit, rpc.Func3(func(_ context.Context, id api.SectorID, info api.PreCommitInfo, reset bool) (api.SubmitResponse, error) {
		s, err := f.sector(id)
		if err != nil {
			return api.SubmitResponse{}, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if s.precommit != nil && !reset {
			if *s.precommit != info {
				return api.SubmitResponse{Result: api.SubmitMismatched, Desc: "different precommit"}, nil
			}
			return api.SubmitResponse{Result: api.SubmitDuplicate}, nil
		}
		s.precommit = &info
		return api.SubmitResponse{Result: api.SubmitAccepted}, nil
	}))
	reg(api.MethodPollPreCommitState, rpc.Func1(func(_ context.Context, id api.SectorID) (api.PollResponse, error) {
		s, err := f.sector(id)
		if err != nil {
			return api.PollResponse{}, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if s.precommit == nil {
			return api.PollResponse{State: api.OnChainNotFound}, nil
		}
		s.pcPolls++
		if s.pcPolls < 2 {
			return api.PollResponse{State: api.OnChainPending}, nil
		}
		return api.PollResponse{State: api.OnChainLanded}, nil
	}))
	reg(api.MethodWaitSeed, rpc.Func1(func(_ context.Context, id api.SectorID) (api.WaitSeedResponse, error) {
		var seed api.Seed
		for i := range seed.Seed {
			seed.Seed[i] = byte(id.Number*13 + uint64(i))
		}
		seed.Epoch = 250
		return api.WaitSeedResponse{Seed: &seed}, nil
	}))
	reg(api.MethodSubmitProof, rpc.Func3(func(_ context.Context, id api.SectorID, p api.ProofInfo, reset bool) (api.SubmitResponse, error) {
		s, err := f.sector(id)
		if err != nil {
			return api.SubmitResponse{}, err
		}
		if f.devnet && !c2.IsDevnetProof(p.Proof) {
			return api.SubmitResponse{Result: api.SubmitRejected, Desc: "not a devnet proof"}, nil
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if s.proof != nil && !reset {
			if string(s.proof) != string(p.Proof) {
				return api.SubmitResponse{Result: api.SubmitMismatched}, nil
			}
			return api.SubmitResponse{Result: api.SubmitDuplicate}, nil
		}
		s.proof = p.Proof
		return api.SubmitResponse{Result: api.SubmitAccepted}, nil
	}))
	reg(api.MethodPollProofState, rpc.Func1(func(_ context.Context, id api.SectorID) (api.PollResponse, error) {
		s, err := f.sector(id)
		if err != nil {
			return api.PollResponse{}, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if s.proof == nil {
			return api.PollResponse{State: api.OnChainNotFound}, nil
		}
		s.prPolls++
		if s.prPolls < 2 {
			return api.PollResponse{State: api.OnChainPacked}, nil
		}
		return api.PollResponse{State: api.OnChainLanded}, nil
	}))
	reg(api.MethodReportState, rpc.Func2(func(_ context.Context, id api.SectorID, r api.StateReport) (api.ReportStateResponse, error) {
		s, err := f.sector(id)
		if err != nil {
			return api.ReportStateResponse{}, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		s.states = append(s.states, r.Next)
		for k, v := range r.CPUSeconds {
			if s.cpu == nil {
				s.cpu = map[string]float64{}
			}
			s.cpu[k] += v
		}
		return api.ReportStateResponse{AbortReason: s.aborted}, nil
	}))
	reg(api.MethodReportFinalized, rpc.Func2(func(_ context.Context, id api.SectorID, info api.FinalizedInfo) (struct{}, error) {
		s, err := f.sector(id)
		if err != nil {
			return struct{}{}, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		s.finalized = &info
		return struct{}{}, nil
	}))
	reg(api.MethodReportAborted, rpc.Func2(func(_ context.Context, id api.SectorID, reason string) (struct{}, error) {
		f.abortedCh <- id
		return struct{}{}, nil
	}))
	reg(api.MethodDeliveryTarget, rpc.Func1(func(_ context.Context, id api.SectorID) (api.DeliveryTarget, error) {
		if f.onTarget != nil {
			if err := f.onTarget(id); err != nil {
				return api.DeliveryTarget{}, err
			}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.target, nil
	}))
	reg(api.MethodReportDelivery, rpc.Func2(func(_ context.Context, id api.SectorID, r api.DeliveryReport) (api.DeliveryReportResponse, error) {
		s, err := f.sector(id)
		if err != nil {
			return api.DeliveryReportResponse{}, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.setDelivery(id, s, r.State)
		return api.DeliveryReportResponse{State: s.delivery, MayCleanUp: s.delivery == api.DeliveryAccepted}, nil
	}))
	reg(api.MethodDeliveryStatus, rpc.Func1(func(_ context.Context, id api.SectorID) (api.DeliveryReportResponse, error) {
		s, err := f.sector(id)
		if err != nil {
			return api.DeliveryReportResponse{}, err
		}
		f.mu.Lock()
		f.statusCalls++
		state, verdict := s.delivery, f.verdict
		f.mu.Unlock()
		if state == api.DeliveryTransferring || state == api.DeliveryVerifying {
			v := api.DeliveryAccepted
			if verdict != nil {
				if v, err = verdict(id); err != nil {
					return api.DeliveryReportResponse{State: state, Desc: err.Error()}, nil
				}
			}
			f.mu.Lock()
			f.setDelivery(id, s, v)
			state = s.delivery
			f.mu.Unlock()
		}
		f.mu.Lock()
		if state == api.DeliveryAccepted && !s.confirmed {
			// The worker learns the verdict: its delivery is confirmed.
			s.confirmed = true
			f.finished <- id
		}
		f.mu.Unlock()
		return api.DeliveryReportResponse{State: state, MayCleanUp: state == api.DeliveryAccepted}, nil
	}))
	reg(api.MethodWorkerPing, rpc.Func1(func(_ context.Context, p api.WorkerPing) (api.WorkerPingResponse, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.pings = append(f.pings, p)
		var resp api.WorkerPingResponse
		if f.pingResp != nil {
			resp, f.pingResp = *f.pingResp, nil
		}
		return resp, nil
	}))
	f.rpcSrv = srv
	f.srv = httptest.NewServer(srv)
	f.URL = f.srv.URL + "/rpc/v0"
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeManager) allocate(_ context.Context, spec api.AllocateSpec) (*api.AllocatedSector, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.specs = append(f.specs, spec)
	key := spec.Worker + "/" + spec.Thread
	if id, ok := f.byThread[key]; ok {
		if s := f.sectors[id]; s.delivery != api.DeliveryAccepted {
			return &api.AllocatedSector{ID: id, ProofType: f.proof, Devnet: f.devnet, Resumed: true}, nil
		}
	}
	if f.toAlloc == 0 {
		return nil, nil
	}
	f.toAlloc--
	id := api.SectorID{Miner: f.miner, Number: f.next}
	f.next++
	f.sectors[id] = &fakeSector{thread: key, pieces: f.pieces}
	f.byThread[key] = id
	return &api.AllocatedSector{ID: id, ProofType: f.proof, Devnet: f.devnet}, nil
}

func (f *fakeManager) sector(id api.SectorID) (*fakeSector, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sectors[id]
	if !ok {
		return nil, fmt.Errorf("fake manager: no sector %s", id)
	}
	return s, nil
}

func (f *fakeManager) block(method string) {
	f.mu.Lock()
	f.blockOn = method
	f.mu.Unlock()
}

func (f *fakeManager) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// setDelivery records a sector's delivery state (f.mu held).
func (f *fakeManager) setDelivery(_ api.SectorID, s *fakeSector, state api.DeliveryState) {
	s.delivery = state
}
