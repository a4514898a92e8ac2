package bench

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// The simulated threads are state machines (thread), not goroutines: one
// scheduler goroutine keeps them in a heap by the time of their next call
// and hands each, when due, to an executor goroutine, which makes the
// call and gives the thread back. A thread still makes one call at a time,
// one per interval, from its start in the ramp, as a real worker thread
// does; what changes is the harness's own cost.
//
// Why: with a goroutine and a timer per thread, the harness's 10,000
// sleeping goroutines were scanned by every garbage collection of the
// manager's process (it runs there, see client.go), about half of each
// collection's work on two cores, and their stacks were shrunk by one
// collection and grown again by the next call. The collections' mark
// phases, each stalling the calls of the moment, were the tail of an
// otherwise idle window of polls. Executors keep their stacks, and there
// are only as many as calls in flight.

// schedule runs threads until ctx ends: thread i makes its first call at
// start + offsets[i], then one every interval, at once when a call
// overran its interval. late hears of each call that starts an interval
// or more behind its thread's schedule: after a call that overran, or
// because the harness itself fell behind. schedule returns when every
// call has returned.
func schedule(ctx context.Context, threads []*thread, offsets []time.Duration, start time.Time, interval time.Duration, late func()) {
	q := make(dueQueue, 0, len(threads))
	for i, th := range threads {
		th.due = start.Add(offsets[i])
		q = append(q, th)
	}
	heap.Init(&q)
	// back has room for every thread, so an executor never waits to give
	// one back, even after the scheduler has stopped.
	back := make(chan *thread, len(threads))
	ex := executors{ctx: ctx, back: back, interval: interval, late: late, jobs: make(chan *thread)}
	defer ex.wg.Wait()

	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	for {
		now := time.Now()
		for len(q) > 0 && !q[0].due.After(now) {
			th := heap.Pop(&q).(*thread)
			if now.Sub(th.due) > interval {
				late() // the harness fell behind
			}
			ex.run(th)
		}
		var due <-chan time.Time
		if len(q) > 0 {
			wake.Reset(q[0].due.Sub(now))
			due = wake.C
		}
		select {
		case <-ctx.Done():
			return
		case th := <-back:
			heap.Push(&q, th)
		case <-due:
		}
	}
}

// executors run due threads' calls: an idle executor takes the next one,
// else a new executor starts; an executor waits for more until the run
// ends, so there are as many as the most calls in flight at once.
type executors struct {
	ctx      context.Context
	back     chan<- *thread
	interval time.Duration
	late     func()
	jobs     chan *thread // unbuffered: a send succeeds only to an idle executor
	wg       sync.WaitGroup
}

func (e *executors) run(th *thread) {
	select {
	case e.jobs <- th:
	default:
		e.wg.Add(1)
		go e.loop(th)
	}
}

func (e *executors) loop(th *thread) {
	defer e.wg.Done()
	for {
		if e.ctx.Err() != nil {
			return
		}
		th.step(e.ctx)
		th.due = th.due.Add(e.interval)
		if n := time.Now(); th.due.Before(n) {
			if e.ctx.Err() == nil {
				e.late() // the call overran its interval
			}
			th.due = n
		}
		e.back <- th
		select {
		case th = <-e.jobs:
		case <-e.ctx.Done():
			return
		}
	}
}

// dueQueue is a min-heap of threads by due time.
type dueQueue []*thread

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q dueQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)        { *q = append(*q, x.(*thread)) }
func (q *dueQueue) Pop() any {
	old := *q
	th := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return th
}
