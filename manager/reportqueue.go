package manager

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sealant/sealant/store"
)

// DefaultReportFlush is Options.ReportFlush's default.
const DefaultReportFlush = time.Second

// Bounds on accepted reports not written yet. A sector whose queue is full,
// or any sector while the whole queue is, has its reports written by the
// reporting call itself, so neither a chatty worker nor a slow database
// grows the queue without limit.
const (
	maxQueuedPerSector = 64
	maxQueuedReports   = 50_000
	// flushQueuedAt wakes the flusher before its interval.
	flushQueuedAt = 5_000
)

// reportQueue holds workers' state reports the manager accepted and has not
// written yet (see store.QueuedReport for why that is safe). A sector's
// reports are written by its next worker call that writes anyway
// (Service.holderFor takes them into that call's transaction), or by the
// flusher with every other sector's, in one transaction per sector lane at
// most every flush interval. The flusher is a goroutine the Service owns:
// Close stops it and writes what is left.
//
// A sector's reports are always written in order and before the sector's
// later calls: while a flush writes some of them (in flight), a call that
// would take the sector's reports waits for that write to end, so no call
// commits between a report and the reports that follow it.
type reportQueue struct {
	st      *store.Store
	ttl     time.Duration
	every   time.Duration
	log     *slog.Logger
	written func([]store.SectorID) // after a flush wrote these sectors

	mu       sync.Mutex
	pending  map[store.SectorID][]store.QueuedReport
	inflight map[store.SectorID]*flight
	n        int // queued reports, in flight included

	kick chan struct{}
	stop context.CancelFunc
	done chan struct{}
}

// flight is a write of queued reports under way.
type flight struct {
	done    chan struct{} // closed when the write ended
	reports []store.QueuedReport
}

func newReportQueue(st *store.Store, every, ttl time.Duration, log *slog.Logger, written func([]store.SectorID)) *reportQueue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &reportQueue{
		st: st, ttl: ttl, every: every, log: log, written: written,
		pending: map[store.SectorID][]store.QueuedReport{}, inflight: map[store.SectorID]*flight{},
		kick: make(chan struct{}, 1), stop: cancel, done: make(chan struct{}),
	}
	go q.run(ctx)
	return q
}

// run flushes every interval, or sooner when kicked, until stopped.
func (q *reportQueue) run(ctx context.Context) {
	defer close(q.done)
	t := time.NewTicker(q.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-q.kick:
		}
		if err := q.flush(ctx); err != nil && ctx.Err() == nil {
			q.log.Warn("state reports not written yet; retrying", "err", err)
		}
	}
}

// close stops the flusher and writes what is left.
func (q *reportQueue) close(ctx context.Context) error {
	q.stop()
	<-q.done
	return q.flush(ctx)
}

// last returns the sector's newest accepted report not written yet.
func (q *reportQueue) last(id store.SectorID) (store.QueuedReport, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if l := q.pending[id]; len(l) > 0 {
		return l[len(l)-1], true
	}
	if f := q.inflight[id]; f != nil && len(f.reports) > 0 {
		return f.reports[len(f.reports)-1], true
	}
	return store.QueuedReport{}, false
}

// add queues a report. writeNow tells the caller to write the sector's
// queue itself: the sector's or the whole queue is full.
func (q *reportQueue) add(id store.SectorID, r store.QueuedReport) (writeNow bool) {
	q.mu.Lock()
	q.pending[id] = append(q.pending[id], r)
	q.n++
	full := len(q.pending[id]) >= maxQueuedPerSector || q.n >= maxQueuedReports
	busy := q.n >= flushQueuedAt
	q.mu.Unlock()
	if busy {
		select {
		case q.kick <- struct{}{}:
		default:
		}
	}
	return full
}

// take removes and returns a sector's queued reports, for a call that
// writes them in its own transaction. While a flush writes reports of the
// sector, it waits for that write to end first (ctx bounds the wait).
func (q *reportQueue) take(ctx context.Context, id store.SectorID) ([]store.QueuedReport, error) {
	if q == nil {
		return nil, nil
	}
	for {
		q.mu.Lock()
		if f := q.inflight[id]; f != nil {
			q.mu.Unlock()
			select {
			case <-f.done:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		l := q.pending[id]
		delete(q.pending, id)
		q.n -= len(l)
		q.mu.Unlock()
		return l, nil
	}
}

// putBack returns reports a call took but may not have written in front
// of any queued since; they are written only if they are not there yet
// (store.QueuedReport.Retry).
func (q *reportQueue) putBack(id store.SectorID, rs []store.QueuedReport) {
	if q == nil || len(rs) == 0 {
		return
	}
	q.mu.Lock()
	q.putBackLocked(id, rs)
	q.mu.Unlock()
}

func (q *reportQueue) putBackLocked(id store.SectorID, rs []store.QueuedReport) {
	back := make([]store.QueuedReport, 0, len(rs)+len(q.pending[id]))
	for _, r := range rs {
		r.Retry = true
		back = append(back, r)
	}
	q.pending[id] = append(back, q.pending[id]...)
	q.n += len(rs)
}

// begin moves the queued reports of ids (all sectors when ids is nil) in
// flight, sharing one done channel, and returns them. Sectors already in
// flight are left for the next write.
func (q *reportQueue) begin(ids []store.SectorID) ([]store.SectorReports, chan struct{}) {
	done := make(chan struct{})
	q.mu.Lock()
	defer q.mu.Unlock()
	if ids == nil {
		for id := range q.pending {
			ids = append(ids, id)
		}
	}
	var batch []store.SectorReports
	for _, id := range ids {
		rs := q.pending[id]
		if len(rs) == 0 || q.inflight[id] != nil {
			continue
		}
		delete(q.pending, id)
		q.n -= len(rs)
		q.inflight[id] = &flight{done: done, reports: rs}
		batch = append(batch, store.SectorReports{ID: id, Reports: rs})
	}
	return batch, done
}

// end lands a write begun by begin: failed sectors' reports go back in
// front of their queues, and the calls waiting for the sectors go on.
func (q *reportQueue) end(batch []store.SectorReports, failed []store.SectorReports, done chan struct{}) {
	q.mu.Lock()
	for _, f := range failed {
		q.putBackLocked(f.ID, f.Reports)
	}
	for _, sr := range batch {
		delete(q.inflight, sr.ID)
	}
	q.mu.Unlock()
	close(done)
}

// writeSector writes one sector's queue now, in its own transaction.
func (q *reportQueue) writeSector(ctx context.Context, id store.SectorID) error {
	return q.write(ctx, []store.SectorID{id})
}

// flush writes every queued report.
func (q *reportQueue) flush(ctx context.Context) error {
	return q.write(ctx, nil)
}

// write writes the queued reports of ids (nil: all).
func (q *reportQueue) write(ctx context.Context, ids []store.SectorID) error {
	batch, landed := q.begin(ids)
	if len(batch) == 0 {
		close(landed)
		return nil
	}
	failed, dropped, err := q.st.WriteReports(ctx, batch, q.ttl)
	q.end(batch, failed, landed)
	if dropped > 0 {
		q.log.Info("state reports dropped: they no longer fit their sector", "reports", dropped)
	}
	failedIDs := map[store.SectorID]bool{}
	for _, f := range failed {
		failedIDs[f.ID] = true
	}
	done := make([]store.SectorID, 0, len(batch))
	for _, sr := range batch {
		if !failedIDs[sr.ID] {
			done = append(done, sr.ID)
		}
	}
	q.written(done)
	if err != nil {
		return fmt.Errorf("manager: state reports: %w", err)
	}
	return nil
}
