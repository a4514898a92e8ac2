package bench

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sealant/sealant/api"
)

// recorder keeps every latency of the measured window per method, and a
// histogram of every call per second of the run.
type recorder struct {
	start    time.Time // the run's start
	from     time.Time // samples started before this are warm-up
	mu       sync.Mutex
	lat      map[string][]time.Duration
	errs     map[string]int
	firstErr map[string]string
	total    atomic.Int64
	inflight atomic.Int64
	maxInfl  atomic.Int64
	late     atomic.Int64
	// unfinished counts measured calls still unanswered when the run ended;
	// unansweredAll counts them all, warm-up included.
	unfinished    atomic.Int64
	unansweredAll atomic.Int64
	// bySecond holds the calls by the second of the run they started in,
	// warm-up included (under mu); endAt cuts it to the run's length.
	bySecond []second
}

// newRecorder returns a recorder for a run that starts at start, is
// measured after warmup and lasts at most length.
func newRecorder(start time.Time, warmup, length time.Duration) *recorder {
	return &recorder{start: start, from: start.Add(warmup), lat: map[string][]time.Duration{}, errs: map[string]int{}, firstErr: map[string]string{},
		// One more: calls may start in the instant after the deadline.
		bySecond: make([]second, int(length/time.Second)+1)}
}

// second is what the recorder keeps of the calls started in one second.
type second struct {
	lat        latencyHistogram
	writes     int
	unanswered int
}

// at returns the second of the run a call started at t belongs to (nil
// outside the run).
func (r *recorder) at(t time.Time) *second {
	i := int(t.Sub(r.start) / time.Second)
	if t.Before(r.start) || i >= len(r.bySecond) {
		return nil
	}
	return &r.bySecond[i]
}

// endAt cuts the timeline at the run's end, t: a run ended early (by
// MaxRequests or its caller) has no empty seconds after it.
func (r *recorder) endAt(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := int(t.Sub(r.start)/time.Second) + 1; n >= 0 && n < len(r.bySecond) {
		r.bySecond = r.bySecond[:n]
	}
}

// unanswered counts a call that was still unanswered when the run ended.
func (r *recorder) unanswered(start time.Time) {
	if !start.Before(r.from) {
		r.unfinished.Add(1)
	}
	r.unansweredAll.Add(1)
	r.mu.Lock()
	if s := r.at(start); s != nil {
		s.unanswered++
	}
	r.mu.Unlock()
}

func (r *recorder) record(method string, start time.Time, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.at(start); s != nil {
		s.lat.add(d)
		if !pollMethods[method] {
			s.writes++
		}
	}
	if start.Before(r.from) {
		return
	}
	r.lat[method] = append(r.lat[method], d)
	if err != nil {
		r.errs[method]++
		if r.firstErr[method] == "" {
			r.firstErr[method] = err.Error()
		}
	}
}

// pollMethods are the calls that change nothing; the timeline counts the
// others as writes.
var pollMethods = map[string]bool{
	api.MethodPollPreCommitState: true,
	api.MethodPollProofState:     true,
	api.MethodWaitSeed:           true,
}

// timeline sums up the run second by second. A second counts as warm-up
// when it began before the measured window did.
func (r *recorder) timeline() []SecondStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]SecondStats, 0, len(r.bySecond))
	for i := range r.bySecond {
		s := &r.bySecond[i]
		out = append(out, SecondStats{Second: i, Calls: s.lat.n, Writes: s.writes, Unanswered: s.unanswered,
			Warmup: r.start.Add(time.Duration(i) * time.Second).Before(r.from),
			P50:    s.lat.percentile(50), P99: s.lat.percentile(99), Max: s.lat.max})
	}
	return out
}

// pct returns the p-th percentile of sorted latencies (nearest rank).
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

// latencyHistogram counts latencies in buckets 2% wide (bucket i holds
// (1.02^(i-1), 1.02^i] µs; bucket 0 up to 1 µs), so a second of the
// timeline costs 4 KiB however many calls it had, and its percentiles are
// within 2% (above) of the exact ones. The maximum is exact.
type latencyHistogram struct {
	counts [histogramBuckets]uint32
	n      int
	max    time.Duration
}

// histogramBuckets reach 1.02^1022 µs, about ten minutes; the last one
// holds everything longer.
const histogramBuckets = 1024

var logBucketWidth = math.Log(1.02)

func (h *latencyHistogram) add(d time.Duration) {
	i := 0
	if us := float64(d) / float64(time.Microsecond); us > 1 {
		i = min(int(math.Ceil(math.Log(us)/logBucketWidth)), histogramBuckets-1)
	}
	h.counts[i]++
	h.n++
	h.max = max(h.max, d)
}

// percentile returns the upper bound of the bucket that holds the p-th
// percentile (nearest rank), or the maximum if it is lower.
func (h *latencyHistogram) percentile(p int) time.Duration {
	rank := max((h.n*p+99)/100, 1)
	seen := 0
	for i, c := range h.counts {
		if seen += int(c); seen >= rank && h.n > 0 {
			if i == histogramBuckets-1 {
				return h.max // the last bucket has no upper bound
			}
			upper := time.Duration(math.Pow(1.02, float64(i)) * float64(time.Microsecond))
			return min(upper, h.max)
		}
	}
	return 0
}
