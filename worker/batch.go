package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/proofs/sdr"
	"github.com/sealant/sealant/worker/sectorfsm"
)

// batchGroup joins the member threads of one `plan = "batch"` sealing
// thread at the two points where a batch is one unit:
//
//   - allocation: once every member is idle (or BatchWait has passed since
//     the first one was), the first member allocates a sector as a lone
//     thread would and the others allocate restricted to that sector's
//     tenant and proof, so the batch is one tenant and one size;
//   - PC1: once every member with a sector has reached PC1 (or BatchWait
//     has passed), their PC1 runs as one porep.PC1Batch.
//
// Everything else (pieces, TreeD, ticket, PC2, chain, C1, C2, delivery) each
// member drives through its own state machine, so one sector's later
// failure does not touch the others. The manager sees ordinary threads
// (<name>.<i>) and sectors, so its fair share counts a batch as its
// sectors. A member cut off by its context leaves a round that has not
// started; a round that has started runs to its end and is recorded in the
// sector directories, where the member finds it on its next attempt.
type batchGroup struct {
	name  string
	log   *slog.Logger
	alloc barrier[*Executor, allocResult]
	pc1   barrier[pc1Member, error]

	// memory is the thread's batch_memory (0: no limit).
	memory int64

	mu  sync.Mutex
	ctx context.Context // the worker's run context, for rounds; set by start
}

type allocResult struct {
	ev  sectorfsm.Event
	err error
}

type pc1Member struct {
	x   *Executor
	req porep.SealRequest
}

func newBatchGroup(name string, size int, wait time.Duration, memory int64, log *slog.Logger) *batchGroup {
	g := &batchGroup{name: name, log: log, memory: memory}
	g.alloc = barrier[*Executor, allocResult]{size: size, wait: wait, run: g.allocRound}
	g.pc1 = barrier[pc1Member, error]{size: size, wait: wait, run: g.pc1Round}
	return g
}

// start binds rounds to the worker's run context.
func (g *batchGroup) start(ctx context.Context) {
	g.mu.Lock()
	g.ctx = ctx
	g.mu.Unlock()
}

func (g *batchGroup) runCtx() context.Context {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx == nil {
		return context.Background()
	}
	return g.ctx
}

// allocate is a member's AllocateSector.
func (g *batchGroup) allocate(ctx context.Context, x *Executor) (sectorfsm.Event, error) {
	r, err := g.alloc.join(ctx, x)
	if err != nil {
		return nil, err
	}
	return r.ev, r.err
}

func (g *batchGroup) allocRound(xs []*Executor) []allocResult {
	ctx := g.runCtx()
	out := make([]allocResult, len(xs))
	ev, got, err := xs[0].allocate(ctx, nil)
	out[0] = allocResult{ev, err}
	for i := 1; i < len(xs); i++ {
		if err != nil || got == nil {
			// No work (or the manager failed) for the leader: none for the
			// batch this round; each member sleeps and comes back.
			out[i] = allocResult{sectorfsm.NoWork{}, nil}
			continue
		}
		ev, _, e := xs[i].allocate(ctx, got)
		out[i] = allocResult{ev, e}
	}
	if got != nil {
		g.log.Info("batch allocated", "batch", g.name, "members", len(xs), "tenant", got.Tenant, "proof", got.ProofType)
	}
	return out
}

// runPC1 is a member's in-process PC1.
func (g *batchGroup) runPC1(ctx context.Context, x *Executor, req porep.SealRequest) error {
	err, jerr := g.pc1.join(ctx, pc1Member{x, req})
	if jerr != nil {
		return jerr
	}
	return err
}

func (g *batchGroup) pc1Round(ms []pc1Member) []error {
	ctx := g.runCtx()
	out := make([]error, len(ms))
	fail := func(err error) []error {
		for i := range out {
			out[i] = err
		}
		return out
	}
	// A batch is one proof; members of another (a sector resumed from an
	// earlier allocation) get their own batch of one.
	groups := map[int64][]int{}
	var order []int64
	for i, m := range ms {
		p := int64(m.req.Proof)
		if _, ok := groups[p]; !ok {
			order = append(order, p)
		}
		groups[p] = append(groups[p], i)
	}
	x := ms[0].x
	release, err := x.Limits.acquire(ctx, StagePC1, nil)
	if err != nil {
		return fail(err)
	}
	defer release()
	for _, p := range order {
		idx := groups[p]
		reqs := make([]porep.SealRequest, len(idx))
		for k, i := range idx {
			reqs[k] = ms[i].req
		}
		t0 := time.Now()
		_, err := porep.PC1Batch(ctx, reqs, &sdr.BatchOptions{
			ParentCacheDir: x.ParentCacheDir, Workers: x.Sealing.Workers, Logger: x.Log, MemoryLimit: g.memory,
		})
		for _, i := range idx {
			out[i] = err
		}
		g.log.Info("batch pc1", "batch", g.name, "sectors", len(idx), "elapsed", time.Since(t0), "err", err)
	}
	return out
}

// barrier gathers up to size callers into a round that one of them (the
// last to arrive, or a timer wait after the first) runs for all; each
// caller gets its own result. A caller whose context ends before the round
// starts withdraws from it.
type barrier[T, R any] struct {
	size int
	wait time.Duration
	run  func(items []T) []R

	mu  sync.Mutex
	cur *round[T, R]
}

type round[T, R any] struct {
	items     []T
	withdrawn []bool
	results   []R
	started   bool
	timer     *time.Timer
	done      chan struct{}
}

func (b *barrier[T, R]) join(ctx context.Context, item T) (R, error) {
	var zero R
	b.mu.Lock()
	r := b.cur
	if r == nil {
		r = &round[T, R]{done: make(chan struct{})}
		b.cur = r
		r.timer = time.AfterFunc(b.wait, func() { b.fire(r) })
	}
	idx := len(r.items)
	r.items = append(r.items, item)
	r.withdrawn = append(r.withdrawn, false)
	full := len(r.items)-countTrue(r.withdrawn) >= b.size
	b.mu.Unlock()
	if full {
		b.fire(r)
	}
	select {
	case <-r.done:
		return r.results[idx], nil
	case <-ctx.Done():
		b.mu.Lock()
		if !r.started {
			r.withdrawn[idx] = true
			b.mu.Unlock()
			return zero, ctx.Err()
		}
		b.mu.Unlock()
		// The round runs on; its outcome is recorded where the caller's
		// next attempt finds it.
		return zero, ctx.Err()
	}
}

// fire runs round r once, in the calling goroutine (the caller that filled
// the round, or the timer's).
func (b *barrier[T, R]) fire(r *round[T, R]) {
	b.mu.Lock()
	if r.started {
		b.mu.Unlock()
		return
	}
	r.started = true
	r.timer.Stop()
	if b.cur == r {
		b.cur = nil
	}
	var items []T
	var pos []int
	for i, it := range r.items {
		if !r.withdrawn[i] {
			items = append(items, it)
			pos = append(pos, i)
		}
	}
	r.results = make([]R, len(r.items))
	b.mu.Unlock()
	if len(items) > 0 {
		res := b.run(items)
		for k, i := range pos {
			r.results[i] = res[k]
		}
	}
	close(r.done)
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// allocate asks the manager for a sector. With only set, the request is
// restricted to that sector's tenant and proof (the other members of a
// batch). It returns the event and, when a sector was allocated, the
// manager's answer.
func (x *Executor) allocate(ctx context.Context, only *api.AllocatedSector) (sectorfsm.Event, *api.AllocatedSector, error) {
	spec := api.AllocateSpec{
		Worker: x.Worker, Thread: x.Thread, AllowedTenants: x.Sealing.AllowedTenants,
		AllowedMiners: x.Sealing.AllowedMiners, AllowedProofTypes: x.Sealing.AllowedProofTypes,
	}
	if only != nil {
		spec.AllowedTenants = []string{only.Tenant}
		spec.AllowedProofTypes = []int64{only.ProofType}
	}
	got, err := x.Manager.AllocateSector(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	if got == nil {
		return sectorfsm.NoWork{}, nil, nil
	}
	ev, err := x.allocated(got)
	if err != nil {
		return nil, nil, err
	}
	return ev, got, nil
}

// memberName is the thread name of member i of batch thread name.
func memberName(name string, i int) string { return fmt.Sprintf("%s.%d", name, i) }
