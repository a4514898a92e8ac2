package worker

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/commp"
)

// recordHandler keeps the log records whose message is in msgs.
type recordHandler struct {
	mu   *sync.Mutex
	msgs []string
	got  *[]slog.Record
}

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	if slices.Contains(h.msgs, r.Message) {
		h.mu.Lock()
		*h.got = append(*h.got, r.Clone())
		h.mu.Unlock()
	}
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

func recordInt(r slog.Record, key string) int64 {
	var v int64 = -1
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.Int64()
			return false
		}
		return true
	})
	return v
}

// TestBatchThread runs a batch thread of two members against a manager
// with three sectors: the first two are allocated together (the second
// restricted to the first's tenant and proof) and labelled in one batch
// PC1; the third is sealed by a batch of one after batch_wait. Every
// sector must end proven with the CommR an independent seal gives.
func TestBatchThread(t *testing.T) {
	f := newFakeManager(t, 3)
	cfg, root := testConfig(t, f.URL, 0, `
[[sealing_thread]]
name = "b"
location = "b"
plan = "batch"
batch_size = 2
batch_wait = "500ms"
`)
	f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "provider-store")}
	var mu sync.Mutex
	var recs []slog.Record
	log := slog.New(recordHandler{mu: &mu, msgs: []string{"batch pc1", "batch allocated"}, got: &recs})
	w, _, _ := runWorker(t, cfg, Options{Logger: log})
	if names := []string{w.List()[0].Name, w.List()[1].Name}; len(w.List()) != 2 || names[0] != "b.0" || names[1] != "b.1" {
		t.Fatalf("threads %+v, want members b.0 and b.1", w.List())
	}
	ids := waitFinished(t, f, 3)
	for _, id := range ids {
		s, _ := f.sector(id)
		want := expectedCommR(t, root, id, s.ticket.Ticket, nil)
		if s.precommit.CommR != commp.SealedCID(want).String() {
			t.Errorf("sector %s: precommit comm_r %s, independent seal %s", id, s.precommit.CommR, commp.SealedCID(want))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var sizes []int64
	for _, r := range recs {
		if r.Message == "batch pc1" {
			sizes = append(sizes, recordInt(r, "sectors"))
		}
	}
	if len(sizes) < 2 || sizes[0] != 2 {
		t.Fatalf("batch PC1 rounds of %v sectors, want the first of 2", sizes)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	restricted := 0
	for _, s := range f.specs {
		if len(s.AllowedProofTypes) == 1 && s.AllowedProofTypes[0] == f.proof && len(s.AllowedTenants) == 1 {
			restricted++
		}
	}
	if restricted == 0 {
		t.Errorf("no member allocated restricted to the leader's tenant and proof: %+v", f.specs)
	}
}

// TestBarrier covers the round rules: a full round runs at once, a partial
// one after the wait, and a caller whose context ends before its round
// starts leaves it without blocking the others.
func TestBarrier(t *testing.T) {
	var mu sync.Mutex
	var rounds [][]int
	b := barrier[int, int]{size: 3, wait: 200 * time.Millisecond, run: func(items []int) []int {
		mu.Lock()
		rounds = append(rounds, slices.Clone(items))
		mu.Unlock()
		out := make([]int, len(items))
		for i, v := range items {
			out[i] = v * 10
		}
		return out
	}}
	join := func(ctx context.Context, v int, res chan<- [2]int) {
		r, err := b.join(ctx, v)
		if err != nil {
			r = -1
		}
		res <- [2]int{v, r}
	}
	// Full round.
	res := make(chan [2]int, 8)
	t0 := time.Now()
	for v := 1; v <= 3; v++ {
		go join(context.Background(), v, res)
	}
	for range 3 {
		if r := <-res; r[1] != r[0]*10 {
			t.Fatalf("full round: %v", r)
		}
	}
	if el := time.Since(t0); el > 150*time.Millisecond {
		t.Logf("full round took %v (should not wait for the timer)", el)
	}
	// Partial round after the wait, with one caller leaving first.
	ctx, cancel := context.WithCancel(context.Background())
	go join(context.Background(), 4, res)
	go join(ctx, 5, res)
	time.Sleep(20 * time.Millisecond)
	cancel()
	got := map[int]int{}
	for range 2 {
		r := <-res
		got[r[0]] = r[1]
	}
	if got[4] != 40 || got[5] != -1 {
		t.Fatalf("partial round results %v, want 4→40 and 5 left", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(rounds) != 2 || len(rounds[1]) != 1 || rounds[1][0] != 4 {
		t.Fatalf("rounds %v, want [1 2 3] then [4]", rounds)
	}
}
