package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// The external processor protocol is damocles-worker's vc-processors
// protocol (shared/spec/landscape.md §4 and Appendix A), so processors
// written for damocles run under Sealant and `sealant processor STAGE` runs
// under damocles:
//
//   - the child prints "<stage> processor ready\n" on stdout first;
//   - requests are JSON lines on its stdin: {"id": u64, "task": T};
//   - responses are JSON lines on its stdout, possibly out of order:
//     {"id": u64, "err_msg": string|null, "output": O|null};
//   - logs go to stderr; EOF on stdin ends the child.

// Errors of external processors.
var (
	// ErrProcessorCrashed reports a processor that exited (or broke its
	// protocol) while a task was in flight. The task is retried on a
	// restarted process up to maxCrashRetries times.
	ErrProcessorCrashed = errors.New("worker: processor crashed")
	// ErrProcessorNotReady reports a processor that did not print its
	// ready line within stable_wait.
	ErrProcessorNotReady = errors.New("worker: processor not ready")
)

// TaskError is an error a processor returned for a task (err_msg).
type TaskError struct {
	Stage string
	Msg   string
}

// Error returns "worker: <stage> processor: <msg>".
func (e *TaskError) Error() string { return "worker: " + e.Stage + " processor: " + e.Msg }

// maxCrashRetries bounds how often one task is resent after its processor
// crashed: a task that kills its processor every time must fail, not loop.
const maxCrashRetries = 3

type procRequest struct {
	ID   uint64 `json:"id"`
	Task any    `json:"task"`
}

type procResponse struct {
	ID     uint64          `json:"id"`
	ErrMsg *string         `json:"err_msg"`
	Output json.RawMessage `json:"output"`
}

// ExtProc is one external processor process, started on first use and
// restarted after a crash. Safe for concurrent use; at most
// ExtProcessor.Concurrent tasks are in flight.
type ExtProc struct {
	stage string
	cfg   ExtProcessor
	self  string // this binary, the default Bin
	log   *slog.Logger
	slots chan struct{}

	mu      sync.Mutex
	running *procInstance
	nextID  uint64
	starts  int
}

type procInstance struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	wmu     sync.Mutex
	pmu     sync.Mutex
	pending map[uint64]chan procResponse
	dead    chan struct{} // closed when the process is gone
	err     error
}

// NewExtProc prepares a processor for stage; nothing is started yet.
func NewExtProc(stage string, cfg ExtProcessor, self string, log *slog.Logger) *ExtProc {
	n := max(cfg.Concurrent, 1)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ExtProc{stage: stage, cfg: cfg, self: self, log: log.With("stage", stage), slots: make(chan struct{}, n)}
}

// Starts reports how many times the process was started (for tests and
// status output).
func (p *ExtProc) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// Call sends task and decodes the output into out. The caller must hold a
// slot (see acquire). A crash retries the task on a new process.
func (p *ExtProc) call(ctx context.Context, task, out any) error {
	var lastErr error
	for attempt := 0; attempt <= maxCrashRetries; attempt++ {
		inst, err := p.instance(ctx)
		if err != nil {
			return err
		}
		resp, err := inst.roundTrip(ctx, p.newID(), task)
		if errors.Is(err, ErrProcessorCrashed) {
			lastErr = err
			p.log.Warn("processor crashed; retrying task", "attempt", attempt+1, "err", err)
			if p.cfg.AutoRestart != nil && !*p.cfg.AutoRestart {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if resp.ErrMsg != nil {
			return &TaskError{Stage: p.stage, Msg: *resp.ErrMsg}
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(resp.Output, out); err != nil {
			return fmt.Errorf("worker: %s processor output: %w", p.stage, err)
		}
		return nil
	}
	return fmt.Errorf("worker: %s task failed after %d processor crashes: %w", p.stage, maxCrashRetries+1, lastErr)
}

func (p *ExtProc) newID() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	return p.nextID
}

// instance returns the running process, starting one if there is none.
func (p *ExtProc) instance(ctx context.Context) (*procInstance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running != nil {
		select {
		case <-p.running.dead:
			p.running = nil
		default:
			return p.running, nil
		}
	}
	inst, err := p.start(ctx)
	if err != nil {
		return nil, err
	}
	p.running = inst
	p.starts++
	return inst, nil
}

func (p *ExtProc) start(ctx context.Context) (*procInstance, error) {
	bin, args := p.cfg.Bin, p.cfg.Args
	if bin == "" {
		bin = p.self
		if len(args) == 0 {
			args = []string{"processor", p.stage}
		}
	}
	if p.cfg.CPUSet != "" {
		if ts, err := exec.LookPath("taskset"); err == nil {
			args = append([]string{"-c", p.cfg.CPUSet, bin}, args...)
			bin = ts
		} else {
			p.log.Warn("cpuset configured but taskset is not installed; passing VC_CG_CPUSET only", "cpuset", p.cfg.CPUSet)
		}
	}
	// The process outlives ctx (it serves later tasks): exec.Command, not
	// CommandContext.
	cmd := exec.Command(bin, args...)
	if p.cfg.InheritEnvs == nil || *p.cfg.InheritEnvs {
		cmd.Env = os.Environ()
	}
	for k, v := range p.cfg.Envs {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if p.cfg.CPUSet != "" {
		cmd.Env = append(cmd.Env, "VC_CG_CPUSET="+p.cfg.CPUSet)
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("worker: start %s processor %s: %w", p.stage, bin, err)
	}
	inst := &procInstance{cmd: cmd, stdin: stdin, pending: map[uint64]chan procResponse{}, dead: make(chan struct{})}
	rd := bufio.NewReaderSize(stdout, 1<<20)
	ready := make(chan error, 1)
	go func() {
		line, err := rd.ReadString('\n')
		if err != nil {
			ready <- fmt.Errorf("%w: %s: %v", ErrProcessorNotReady, p.stage, err)
			return
		}
		if want := p.stage + " processor ready"; strings.TrimSpace(line) != want {
			ready <- fmt.Errorf("%w: first line %q, want %q", ErrProcessorNotReady, strings.TrimSpace(line), want)
			return
		}
		ready <- nil
		inst.readLoop(rd, p.log)
	}()
	wait := time.Duration(p.cfg.StableWait)
	if wait <= 0 {
		wait = 5 * time.Second
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var rerr error
	select {
	case rerr = <-ready:
	case <-timer.C:
		rerr = fmt.Errorf("%w: %s: no ready line within %s", ErrProcessorNotReady, p.stage, wait)
	case <-ctx.Done():
		rerr = ctx.Err()
	}
	if rerr != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, rerr
	}
	p.log.Info("processor started", "pid", cmd.Process.Pid, "bin", bin)
	return inst, nil
}

// readLoop dispatches responses until stdout ends, then fails every
// pending request with ErrProcessorCrashed.
func (inst *procInstance) readLoop(rd *bufio.Reader, log *slog.Logger) {
	var err error
	for {
		var line []byte
		line, err = rd.ReadBytes('\n')
		if len(line) > 0 {
			var resp procResponse
			if jerr := json.Unmarshal(line, &resp); jerr != nil {
				log.Warn("processor wrote a line that is not a response", "line", string(line))
			} else {
				inst.pmu.Lock()
				ch := inst.pending[resp.ID]
				delete(inst.pending, resp.ID)
				inst.pmu.Unlock()
				if ch != nil {
					ch <- resp
				}
			}
		}
		if err != nil {
			break
		}
	}
	werr := inst.cmd.Wait()
	inst.pmu.Lock()
	inst.err = fmt.Errorf("%w: stdout closed (%v), exit: %v", ErrProcessorCrashed, err, werr)
	close(inst.dead)
	inst.pmu.Unlock()
}

func (inst *procInstance) roundTrip(ctx context.Context, id uint64, task any) (procResponse, error) {
	line, err := json.Marshal(procRequest{ID: id, Task: task})
	if err != nil {
		return procResponse{}, fmt.Errorf("worker: encode task: %w", err)
	}
	ch := make(chan procResponse, 1)
	inst.pmu.Lock()
	select {
	case <-inst.dead:
		inst.pmu.Unlock()
		return procResponse{}, inst.err
	default:
	}
	inst.pending[id] = ch
	inst.pmu.Unlock()
	defer func() {
		inst.pmu.Lock()
		delete(inst.pending, id)
		inst.pmu.Unlock()
	}()
	inst.wmu.Lock()
	_, err = inst.stdin.Write(append(line, '\n'))
	inst.wmu.Unlock()
	if err != nil {
		<-inst.dead
		return procResponse{}, inst.err
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-inst.dead:
		select {
		case resp := <-ch:
			return resp, nil
		default:
		}
		return procResponse{}, inst.err
	case <-ctx.Done():
		return procResponse{}, ctx.Err()
	}
}

// Close ends the running process (EOF on stdin, then kill after grace).
func (p *ExtProc) Close() {
	p.mu.Lock()
	inst := p.running
	p.running = nil
	p.mu.Unlock()
	if inst == nil {
		return
	}
	_ = inst.stdin.Close()
	select {
	case <-inst.dead:
	case <-time.After(3 * time.Second):
		_ = inst.cmd.Process.Kill()
		<-inst.dead
	}
}

// Limits holds the worker-wide stage concurrency limits and named locks.
// Safe for concurrent use.
type Limits struct {
	stages map[string]chan struct{}
	locks  map[string]chan struct{}
}

// NewLimits builds the limits of [processors.limitation.concurrent] and
// [processors.ext_locks].
func NewLimits(concurrent, locks map[string]int) *Limits {
	l := &Limits{stages: map[string]chan struct{}{}, locks: map[string]chan struct{}{}}
	for s, n := range concurrent {
		l.stages[s] = make(chan struct{}, n)
	}
	for s, n := range locks {
		l.locks[s] = make(chan struct{}, max(n, 1))
	}
	return l
}

// acquire takes the stage limit and the named locks (in sorted order, so
// two stages sharing locks cannot deadlock) and returns their release.
func (l *Limits) acquire(ctx context.Context, stage string, locks []string) (func(), error) {
	var held []chan struct{}
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			<-held[i]
		}
	}
	take := func(ch chan struct{}) error {
		select {
		case ch <- struct{}{}:
			held = append(held, ch)
			return nil
		case <-ctx.Done():
			release()
			return ctx.Err()
		}
	}
	if ch := l.stages[stage]; ch != nil {
		if err := take(ch); err != nil {
			return nil, err
		}
	}
	sorted := slices.Clone(locks)
	slices.Sort(sorted)
	for _, name := range slices.Compact(sorted) {
		if ch := l.locks[name]; ch != nil {
			if err := take(ch); err != nil {
				return nil, err
			}
		}
	}
	return release, nil
}

// Pool dispatches the tasks of one stage to its external processors:
// the one with a free slot, waiting when all are busy. Safe for concurrent
// use.
type Pool struct {
	stage  string
	procs  []*ExtProc
	limits *Limits
}

// Run sends task to a processor of the pool, honouring the processor's
// concurrency and its named locks (the caller holds the stage limit).
func (p *Pool) Run(ctx context.Context, task, out any) error {
	cases := make([]reflect.SelectCase, 0, len(p.procs)+1)
	for _, pr := range p.procs {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectSend, Chan: reflect.ValueOf(pr.slots), Send: reflect.ValueOf(struct{}{})})
	}
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	i, _, _ := reflect.Select(cases)
	if i == len(p.procs) {
		return ctx.Err()
	}
	pr := p.procs[i]
	defer func() { <-pr.slots }()
	unlock, err := p.limits.acquire(ctx, "", pr.cfg.Locks)
	if err != nil {
		return err
	}
	defer unlock()
	return pr.call(ctx, task, out)
}

// Close stops the pool's processes.
func (p *Pool) Close() {
	for _, pr := range p.procs {
		pr.Close()
	}
}

// TaskHandler runs one task of a stage: it decodes the raw task and
// returns the output to encode.
type TaskHandler func(ctx context.Context, task json.RawMessage) (any, error)

// ServeProcessor is the child side of the protocol: it prints the ready
// line, then serves requests from in until EOF, each on its own goroutine,
// writing responses to out. Lines that do not parse are logged and skipped,
// as damocles does.
func ServeProcessor(ctx context.Context, stage string, h TaskHandler, in io.Reader, out io.Writer, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var wmu sync.Mutex
	write := func(v any) {
		line, err := json.Marshal(v)
		if err != nil {
			log.Error("encode response", "err", err)
			return
		}
		wmu.Lock()
		defer wmu.Unlock()
		_, _ = out.Write(append(line, '\n'))
	}
	wmu.Lock()
	_, err := fmt.Fprintf(out, "%s processor ready\n", stage)
	wmu.Unlock()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		var req struct {
			ID   uint64          `json:"id"`
			Task json.RawMessage `json:"task"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			log.Warn("skipping malformed request line", "err", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			output, err := h(ctx, req.Task)
			if err != nil {
				msg := err.Error()
				write(struct {
					ID     uint64  `json:"id"`
					ErrMsg *string `json:"err_msg"`
					Output any     `json:"output"`
				}{req.ID, &msg, nil})
				return
			}
			write(struct {
				ID     uint64  `json:"id"`
				ErrMsg *string `json:"err_msg"`
				Output any     `json:"output"`
			}{req.ID, nil, output})
		}()
	}
	wg.Wait()
	return sc.Err()
}
