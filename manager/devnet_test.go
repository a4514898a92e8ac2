package manager

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet"
	"github.com/sealant/sealant/manager/commit"
	"github.com/sealant/sealant/store"
)

// TestDevnetPreCommitAndSeed runs the manager against Sealant's devnet over
// the Lotus API, with the real commit pipeline signing with the genesis
// worker key: the ticket and the seed must be the chain's randomness for
// the miner (derived independently here from the chain's digests), and the
// sector's PreCommit must go Pending → Packed → Landed. Blocks are produced
// by hand (Step) and the pipeline is ticked by hand, so nothing depends on
// timing.
func TestDevnetPreCommitAndSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("devnet run skipped in -short mode")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	if err := devnet.Init(ctx, dir, devnet.DefaultGenesis(1)); err != nil {
		t.Fatal(err)
	}
	node, err := devnet.New(devnet.Config{Dir: dir, Listen: "127.0.0.1:0", Ticks: make(chan time.Time), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := node.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	step := func(n int) {
		t.Helper()
		for range n {
			if err := node.Step(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	step(5)
	lc, err := lotus.New(lotus.Config{APIInfo: node.APIInfo()})
	if err != nil {
		t.Fatal(err)
	}
	maddr, err := address.Parse(node.Miners()["sp1"])
	if err != nil {
		t.Fatal(err)
	}
	minerID, _ := address.IDOf(maddr)
	key, err := devnet.LoadOwnerKey(dir, "sp1-worker")
	if err != nil {
		t.Fatal(err)
	}
	worker, _ := key.Address()
	kind, _ := key.SigType()

	s, err := NewService(ctx, Options{
		DSN: "sqlite://" + filepath.Join(t.TempDir(), "m.sqlite"), Chain: lc, Secret: testSecret,
		Policy: rand.Devnet2K, BlockTime: time.Second, PollCacheTTL: -1, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	signer := commit.SignerFunc(func(_ context.Context, req commit.SignRequest) (types.Signature, error) {
		b, err := sigs.SigningBytes(req.Message)
		if err != nil {
			return types.Signature{}, err
		}
		return sigs.Sign(kind, key.PrivateKey, b)
	})
	p, err := commit.New(commit.Config{Params: commit.DevnetParams(), Confidence: 1, MaxMessageBytes: devnet.DefaultMaxMessageSize}, s.Store(), lc, signer, quiet)
	if err != nil {
		t.Fatal(err)
	}
	s.SetPipeline(p)
	mustTenant(t, s, "sp1", minerID, 1, func(tc *api.TenantConfig) { tc.Senders = []string{worker.String()} })

	w := workerCtx("w1")
	a := mustAllocate(t, s, "w1", "t0")
	if a.ID.Miner != minerID {
		t.Fatalf("allocated %+v", a)
	}
	tk, err := s.AssignTicket(w, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	entropy, _ := rand.SealEntropyForID(minerID)
	head, _ := lc.ChainHead(ctx)
	dig, err := lc.StateGetRandomnessDigestFromTickets(ctx, types.ChainEpoch(tk.Epoch), head.Key())
	if err != nil {
		t.Fatal(err)
	}
	if want := rand.DrawRandomnessFromDigest(dig, rand.TagSealRandomness, tk.Epoch, entropy); tk.Ticket != api.Hex32(want) {
		t.Fatalf("ticket %x, want %x (digest of epoch %d)", tk.Ticket, want, tk.Epoch)
	}

	if r, err := s.SubmitPreCommit(w, a.ID, testPreCommitInfo(t, tk, 1), false); err != nil || r.Result != api.SubmitAccepted {
		t.Fatalf("submit = %+v, %v", r, err)
	}
	seen := map[api.OnChainState]bool{}
	var last api.PollResponse
	for i := 0; i < 40 && last.State != api.OnChainLanded; i++ {
		if err := p.Tick(ctx); err != nil {
			t.Fatalf("pipeline tick: %v", err)
		}
		if last, err = s.PollPreCommitState(w, a.ID); err != nil {
			t.Fatal(err)
		}
		seen[last.State] = true
		step(1)
	}
	if last.State != api.OnChainLanded || !seen[api.OnChainPacked] || last.MessageCID == "" {
		t.Fatalf("precommit ended %+v (states seen %v)", last, seen)
	}
	sec, _ := s.Store().GetSector(ctx, toStoreID(a.ID))
	if sec.Phase != store.PhaseActive {
		t.Fatalf("sector %+v", sec)
	}

	var seed *api.Seed
	for i := 0; i < 40 && seed == nil; i++ {
		r, err := s.WaitSeed(w, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.ShouldWait && r.DelaySeconds < 1 {
			t.Fatalf("wait without a delay: %+v", r)
		}
		seed = r.Seed
		step(1)
	}
	if seed == nil {
		t.Fatal("no seed after 40 blocks")
	}
	head, _ = lc.ChainHead(ctx)
	pci, err := lc.StateSectorPreCommitInfo(ctx, maddr, a.ID.Number, head.Key())
	if err != nil || pci == nil {
		t.Fatalf("precommit info: %+v, %v", pci, err)
	}
	if seed.Epoch != int64(pci.PreCommitEpoch)+rand.Devnet2K.PreCommitChallengeDelay {
		t.Fatalf("seed epoch %d, precommit epoch %d", seed.Epoch, pci.PreCommitEpoch)
	}
	bdig, err := lc.StateGetRandomnessDigestFromBeacon(ctx, types.ChainEpoch(seed.Epoch), head.Key())
	if err != nil {
		t.Fatal(err)
	}
	if want := rand.DrawRandomnessFromDigest(bdig, rand.TagInteractiveSealChallengeSeed, seed.Epoch, entropy); seed.Seed != api.Hex32(want) {
		t.Fatalf("seed %x, want %x", seed.Seed, want)
	}
	// The actor now lists the number as allocated. A manager starting from
	// an empty database (say, the SP sealed with another service before)
	// must not hand it out again: its cross-check moves past it.
	used, err := lc.StateMinerSectorAllocated(ctx, maddr, a.ID.Number, head.Key())
	if err != nil || !used {
		t.Fatalf("chain does not list number %d as allocated: %v", a.ID.Number, err)
	}
	fresh, err := NewService(ctx, Options{DSN: "sqlite://" + filepath.Join(t.TempDir(), "fresh.sqlite"), Chain: lc, Secret: testSecret, Policy: rand.Devnet2K, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	mustTenant(t, fresh, "sp1", minerID, 1)
	if b := mustAllocate(t, fresh, "w9", "t0"); b.ID.Number <= a.ID.Number {
		t.Fatalf("fresh manager allocated number %d, already on chain up to %d", b.ID.Number, a.ID.Number)
	}
}
