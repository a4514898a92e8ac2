package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/api/rpcapi"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/worker/sectorfsm"
)

// Version is reported in WorkerPing.
const Version = "sealant-worker/0.1"

// Admin API methods, served by the worker on its admin address (loopback by
// default) and proxied by the manager.
const (
	MethodWorkerList   = "SealantWorker.WorkerList"   // () → []api.ThreadInfo
	MethodWorkerPause  = "SealantWorker.WorkerPause"  // (thread string) → struct{}
	MethodWorkerResume = "SealantWorker.WorkerResume" // (thread, state string) → struct{}
	MethodWorkerAbort  = "SealantWorker.WorkerAbort"  // (thread, reason string) → struct{}
)

// ErrNoThread reports an unknown thread name.
var ErrNoThread = errors.New("worker: no such thread")

// Options are the parts of a worker that are not in its config file.
type Options struct {
	// Self is this binary, the default external processor.
	Self string
	// Dial connects to a manager; nil uses rpc.Dial with the token.
	Dial func(ctx context.Context, m ManagerSection) (Caller, error)
	// Transferer uploads to SP receivers (architecture 2), normally a
	// *delivery.Client; a [[processors.transfer]] program is used when it
	// is nil.
	Transferer Transferer
	Logger     *slog.Logger
}

// Worker is a running set of sealing threads. Run is called once; List,
// Thread and Threads may be called from any goroutine while it runs.
type Worker struct {
	cfg      *Config
	log      *slog.Logger
	threads  []*Thread
	managers map[string]api.SealerAPI
	// conns are the manager connections, closed when Run returns.
	conns    []io.Closer
	pools    map[string]*Pool
	adminURL string
	admin    *http.Server
	ln       net.Listener
	// groups are the batch threads' coordinators.
	groups []*batchGroup
}

// New builds a worker from a validated config: dials its managers (HTTP
// dials send nothing yet), opens the thread stores and the admin listener.
func New(ctx context.Context, cfg *Config, o Options) (_ *Worker, err error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("worker", cfg.Worker.Name)
	w := &Worker{cfg: cfg, log: log, managers: map[string]api.SealerAPI{}, pools: map[string]*Pool{}}
	defer func() {
		if err != nil { // a worker that never runs closes what it dialled
			for _, c := range w.conns {
				_ = c.Close()
			}
		}
	}()
	dial := o.Dial
	if dial == nil {
		dial = func(ctx context.Context, m ManagerSection) (Caller, error) {
			tok := m.Token
			if m.TokenFile != "" {
				b, err := os.ReadFile(m.TokenFile)
				if err != nil {
					return nil, fmt.Errorf("worker: manager %s token: %w", m.Name, err)
				}
				tok = strings.TrimSpace(string(b))
			}
			dialOnce := func(ctx context.Context) (*rpc.Client, error) {
				return rpc.Dial(ctx, m.URL, rpc.WithToken(tok), rpc.WithCallTimeout(2*time.Minute),
					rpc.WithErrorRegistry(rpcapi.Errors))
			}
			if strings.HasPrefix(m.URL, "ws://") || strings.HasPrefix(m.URL, "wss://") {
				return newRedialCaller(ctx, dialOnce)
			}
			return dialOnce(ctx)
		}
	}
	for _, m := range cfg.Managers {
		c, err := dial(ctx, m)
		if err != nil {
			return nil, fmt.Errorf("worker: dial manager %s: %w", m.Name, err)
		}
		w.managers[m.Name] = rpcapi.NewSealerClient(c)
		if cl, ok := c.(io.Closer); ok {
			w.conns = append(w.conns, cl)
		}
	}
	limits := NewLimits(cfg.Processors.Limitation.Concurrent, cfg.Processors.ExtLocks)
	meter := newCPUMeter()
	for _, stage := range []string{StageAddPieces, StageTreeD, StagePC1, StagePC2, StageC2, StageTransfer} {
		exts := cfg.Processors.ExtFor(stage)
		if len(exts) == 0 {
			continue
		}
		p := &Pool{stage: stage, limits: limits}
		for _, e := range exts {
			p.procs = append(p.procs, NewExtProc(stage, e, o.Self, log))
		}
		w.pools[stage] = p
	}
	persistFor := func(name string) string {
		for _, a := range cfg.Attached {
			if (name == "" && !a.ReadOnly) || a.Name == name {
				return a.Location
			}
		}
		return ""
	}
	for _, tc := range cfg.Threads {
		mname := tc.Manager
		if mname == "" {
			mname = cfg.Managers[0].Name
		}
		sealing, err := cfg.hotSealing(tc)
		if err != nil {
			return nil, err
		}
		// A batch thread runs as BatchSize member threads joined by one
		// batchGroup; a lone thread is a batch of none.
		type member struct{ name, location string }
		members := []member{{tc.Name, tc.Location}}
		var group *batchGroup
		if tc.Plan == "batch" {
			wait := time.Duration(tc.BatchWait)
			if wait == 0 {
				wait = 5 * time.Minute
			}
			memory, _ := parseMemory(tc.BatchMemory) // checked by Validate
			group = newBatchGroup(tc.Name, tc.BatchSize, wait, memory, log.With("batch", tc.Name))
			w.groups = append(w.groups, group)
			members = members[:0]
			for i := range tc.BatchSize {
				members = append(members, member{memberName(tc.Name, i), filepath.Join(tc.Location, strconv.Itoa(i))})
			}
		}
		for _, m := range members {
			store, err := OpenStore(m.location)
			if err != nil {
				return nil, err
			}
			tlog := log.With("thread", m.name)
			th := &Thread{Name: m.name, Manager: mname, log: tlog, cmds: make(chan command), meter: meter,
				machine: sectorfsm.Machine{Policy: sealing.Policy}}
			tc := tc
			th.reload = func() (Sealing, error) { return cfg.hotSealing(tc) }
			th.exec = &Executor{
				Worker: cfg.Worker.Name, Thread: m.name, Manager: w.managers[mname], Store: store, Sealing: sealing,
				Limits: limits, Pools: w.pools, Persist: persistFor(tc.Attached), Transferer: o.Transferer,
				ParentCacheDir: cfg.Worker.ParentCacheDir, LocalPieces: cfg.Worker.LocalPiecesDirs, Log: tlog,
				OnStage: th.setStage, Batch: group,
			}
			w.threads = append(w.threads, th)
		}
	}
	ln, err := net.Listen("tcp", cfg.Worker.AdminListen)
	if err != nil {
		return nil, fmt.Errorf("worker: admin listener: %w", err)
	}
	w.ln = ln
	w.adminURL = cfg.Worker.AdminURL
	if w.adminURL == "" {
		w.adminURL = "http://" + ln.Addr().String() + "/rpc/v0"
	}
	srv, err := rpc.NewServer(rpc.ServerConfig{AnonymousPerm: rpc.PermAdmin, Logger: log, ExposeErrors: true})
	if err != nil {
		return nil, err
	}
	w.registerAdmin(srv)
	mux := http.NewServeMux()
	mux.Handle("/rpc/v0", srv)
	w.admin = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return w, nil
}

// AdminURL is where the admin API listens.
func (w *Worker) AdminURL() string { return w.adminURL }

// Threads returns the worker's threads.
func (w *Worker) Threads() []*Thread { return w.threads }

// Thread returns the thread called name.
func (w *Worker) Thread(name string) (*Thread, error) {
	for _, t := range w.threads {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrNoThread, name)
}

func (w *Worker) registerAdmin(s *rpc.Server) {
	s.Register(MethodWorkerList, rpc.PermRead, rpc.Func0(func(context.Context) ([]api.ThreadInfo, error) {
		return w.List(), nil
	}))
	s.Register(MethodWorkerPause, rpc.PermAdmin, rpc.Proc1(func(ctx context.Context, name string) error {
		t, err := w.Thread(name)
		if err != nil {
			return err
		}
		return t.Pause(ctx)
	}))
	s.Register(MethodWorkerResume, rpc.PermAdmin, rpc.Proc2(func(ctx context.Context, name, state string) error {
		t, err := w.Thread(name)
		if err != nil {
			return err
		}
		var to sectorfsm.State
		if state != "" {
			if to, err = sectorfsm.ParseState(state); err != nil {
				return err
			}
		}
		return t.Resume(ctx, to)
	}))
	s.Register(MethodWorkerAbort, rpc.PermAdmin, rpc.Proc2(func(ctx context.Context, name, reason string) error {
		t, err := w.Thread(name)
		if err != nil {
			return err
		}
		return t.Abort(ctx, reason)
	}))
}

// List returns every thread's status.
func (w *Worker) List() []api.ThreadInfo {
	out := make([]api.ThreadInfo, len(w.threads))
	for i, t := range w.threads {
		out[i] = t.Info()
	}
	return out
}

// Run runs the threads, the admin API and the heartbeats until ctx ends.
// When it returns, everything it started has stopped and the manager
// connections are closed (a Worker runs once).
func (w *Worker) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer func() {
		for _, c := range w.conns {
			_ = c.Close()
		}
	}()
	for _, g := range w.groups {
		g.start(ctx)
	}
	// The admin server is stopped and waited for when Run returns.
	adminDone := make(chan struct{})
	go func() {
		defer close(adminDone)
		_ = w.admin.Serve(w.ln)
	}()
	defer func() {
		w.admin.Close()
		<-adminDone
	}()
	defer func() {
		for _, p := range w.pools {
			p.Close()
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, len(w.threads))
	for _, t := range w.threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := t.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.log.Error("thread stopped", "err", err)
				errs <- fmt.Errorf("thread %s: %w", t.Name, err)
			}
		}()
	}
	for name := range w.managers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.pingLoop(ctx, name)
		}()
	}
	w.log.Info("worker running", "threads", len(w.threads), "admin", w.adminURL)
	select {
	case <-ctx.Done():
	case err := <-errs:
		cancel()
		wg.Wait()
		return err
	}
	wg.Wait()
	return ctx.Err()
}

// pingLoop sends heartbeats to one manager and applies the pause/resume
// commands the operator queued there.
//
// Commands are handed to their threads in goroutines (a thread takes a
// command between steps, and heartbeats must not wait for that); the loop
// owns them and waits for them before it returns.
func (w *Worker) pingLoop(ctx context.Context, manager string) {
	tick := time.NewTicker(time.Duration(w.cfg.Worker.PingInterval))
	defer tick.Stop()
	var cmds sync.WaitGroup
	defer cmds.Wait()
	for {
		var threads []api.ThreadInfo
		for _, t := range w.threads {
			if t.Manager == manager {
				threads = append(threads, t.Info())
			}
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := w.managers[manager].WorkerPing(cctx, api.WorkerPing{
			Worker: w.cfg.Worker.Name, Version: Version, AdminURL: w.adminURL, Threads: threads})
		cancel()
		if err != nil && ctx.Err() == nil {
			w.log.Debug("worker ping failed", "manager", manager, "err", err)
		}
		for _, name := range resp.Pause {
			if t, err := w.Thread(name); err == nil && t.Manager == manager && slices.Contains(threadNames(threads), name) {
				cmds.Go(func() { _ = t.Pause(ctx) })
			}
		}
		for _, name := range resp.Resume {
			if t, err := w.Thread(name); err == nil && t.Manager == manager {
				cmds.Go(func() { _ = t.Resume(ctx, 0) })
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

func threadNames(ts []api.ThreadInfo) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Name
	}
	return out
}
