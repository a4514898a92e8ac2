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
type reportQueue struct {
	st      *store.Store
	ttl     time.Duration
	every   time.Duration
	log     *slog.Logger
	written func([]store.SectorID) // after a flush wrote these sectors

	mu      sync.Mutex
	pending map[store.SectorID][]store.QueuedReport
	n       int

	kick chan struct{}
	stop context.CancelFunc
	done chan struct{}
}

func newReportQueue(st *store.Store, every, ttl time.Duration, log *slog.Logger, written func([]store.SectorID)) *reportQueue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &reportQueue{
		st: st, ttl: ttl, every: every, log: log, written: written,
		pending: map[store.SectorID][]store.QueuedReport{},
		kick:    make(chan struct{}, 1), stop: cancel, done: make(chan struct{}),
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

// last returns the sector's newest queued report.
func (q *reportQueue) last(id store.SectorID) (store.QueuedReport, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.pending[id]
	if len(l) == 0 {
		return store.QueuedReport{}, false
	}
	return l[len(l)-1], true
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

// take removes and returns a sector's queued reports.
func (q *reportQueue) take(id store.SectorID) []store.QueuedReport {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.pending[id]
	delete(q.pending, id)
	q.n -= len(l)
	return l
}

// putBack returns reports a call took but may not have written in front
// of any queued since; they are written only if they are not there yet
// (store.QueuedReport.Retry).
func (q *reportQueue) putBack(id store.SectorID, rs []store.QueuedReport) {
	if q == nil || len(rs) == 0 {
		return
	}
	back := make([]store.QueuedReport, 0, len(rs))
	for _, r := range rs {
		r.Retry = true
		back = append(back, r)
	}
	q.mu.Lock()
	q.pending[id] = append(back, q.pending[id]...)
	q.n += len(back)
	q.mu.Unlock()
}

// writeSector writes one sector's queue now, in its own transaction.
func (q *reportQueue) writeSector(ctx context.Context, id store.SectorID) error {
	rs := q.take(id)
	if len(rs) == 0 {
		return nil
	}
	failed, dropped, err := q.st.WriteReports(ctx, []store.SectorReports{{ID: id, Reports: rs}}, q.ttl)
	for _, f := range failed {
		q.putBack(f.ID, f.Reports)
	}
	if dropped > 0 {
		q.log.Info("state reports dropped: they no longer fit their sector", "sector", id, "reports", dropped)
	}
	if err == nil {
		q.written([]store.SectorID{id})
	}
	return err
}

// flush writes every queued report.
func (q *reportQueue) flush(ctx context.Context) error {
	q.mu.Lock()
	all := q.pending
	q.pending = map[store.SectorID][]store.QueuedReport{}
	q.n = 0
	q.mu.Unlock()
	if len(all) == 0 {
		return nil
	}
	batch := make([]store.SectorReports, 0, len(all))
	for id, rs := range all {
		batch = append(batch, store.SectorReports{ID: id, Reports: rs})
	}
	failed, dropped, err := q.st.WriteReports(ctx, batch, q.ttl)
	failedIDs := map[store.SectorID]bool{}
	for _, f := range failed {
		failedIDs[f.ID] = true
		q.putBack(f.ID, f.Reports)
	}
	if dropped > 0 {
		q.log.Info("state reports dropped: they no longer fit their sector", "reports", dropped)
	}
	ids := make([]store.SectorID, 0, len(batch))
	for _, sr := range batch {
		if !failedIDs[sr.ID] {
			ids = append(ids, sr.ID)
		}
	}
	q.written(ids)
	if err != nil {
		return fmt.Errorf("manager: state reports: %w", err)
	}
	return nil
}
