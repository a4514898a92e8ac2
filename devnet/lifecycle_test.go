package devnet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/bitfield"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet"
	"github.com/sealant/sealant/devnet/state"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/proofs/post"
)

// clock drives block production: free-running (one tick every period) or
// paused, when the test steps blocks itself so that windows of a few epochs
// are hit deterministically. Every tick is delivered and its block produced
// under mu, so once pause returns no block is being produced and none will
// be until resume or step.
type clock struct {
	ch     chan time.Time
	mu     sync.Mutex
	paused bool
	head   func() int64 // the node's head height (set once the node exists)
	done   chan struct{}
	wg     sync.WaitGroup
}

func newClock(period time.Duration) *clock {
	// Paused until the node runs (see run).
	c := &clock{ch: make(chan time.Time), done: make(chan struct{}), paused: true}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-c.done:
				return
			case now := <-t.C:
				c.mu.Lock()
				if !c.paused {
					c.tick(now)
				}
				c.mu.Unlock()
			}
		}
	}()
	return c
}

// tick delivers one tick and waits until its block exists. Callers hold mu.
func (c *clock) tick(now time.Time) {
	var h0 int64 = -1
	if c.head != nil {
		h0 = c.head()
	}
	select {
	case c.ch <- now:
	case <-c.done:
		return
	}
	for c.head != nil && c.head() == h0 {
		select {
		case <-c.done:
			return
		case <-time.After(100 * time.Microsecond):
		}
	}
}

// run starts ticking once the node consuming ticks has started.
func (c *clock) run(head func() int64) { c.mu.Lock(); c.head, c.paused = head, false; c.mu.Unlock() }

func (c *clock) pause()  { c.mu.Lock(); c.paused = true; c.mu.Unlock() }
func (c *clock) resume() { c.mu.Lock(); c.paused = false; c.mu.Unlock() }
func (c *clock) stop()   { close(c.done); c.wg.Wait() }

// step produces n blocks (the clock must be paused).
func (c *clock) step(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < n; i++ {
		c.tick(time.Now())
	}
}

type key struct {
	kind types.SigType
	priv []byte
	addr address.Address
}

func loadKey(t testing.TB, dir, name string) key {
	t.Helper()
	ki, err := devnet.LoadOwnerKey(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	kind, err := ki.SigType()
	if err != nil {
		t.Fatal(err)
	}
	a, err := ki.Address()
	if err != nil {
		t.Fatal(err)
	}
	return key{kind: kind, priv: ki.PrivateKey, addr: a}
}

type harness struct {
	t     *testing.T
	ctx   context.Context
	dir   string
	node  *devnet.Node
	clk   *clock
	api   *lotus.Client
	maddr address.Address
	mid   uint64
}

func (h *harness) start() {
	h.t.Helper()
	h.clk = newClock(2 * time.Millisecond)
	n, err := devnet.New(devnet.Config{Dir: h.dir, Listen: "127.0.0.1:0", Ticks: h.clk.ch})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := n.Start(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	h.node = n
	h.clk.run(n.Head)
	h.api, err = lotus.New(lotus.Config{APIInfo: n.APIInfo(), Retry: lotus.RetryPolicy{Attempts: 1}})
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) stop() {
	h.clk.stop()
	if err := h.node.Close(); err != nil {
		h.t.Fatal(err)
	}
}

// waitHeight waits (through ChainNotify) until the head is at least e.
func (h *harness) waitHeight(e int64) *lotus.TipSet {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 60*time.Second)
	defer cancel()
	ch, err := h.api.ChainNotify(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	for changes := range ch {
		for _, c := range changes {
			if int64(c.Val.Height) >= e {
				return c.Val
			}
		}
	}
	h.t.Fatalf("chain did not reach %d", e)
	return nil
}

type sendOpts struct {
	value    types.BigInt
	estimate bool // use GasEstimateMessageGas (fails for messages that would fail)
}

func (h *harness) message(k key, method types.MethodNum, params []byte, o sendOpts) *types.Message {
	h.t.Helper()
	nonce, err := h.api.MpoolGetNonce(h.ctx, k.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	msg := &types.Message{To: h.maddr, From: k.addr, Nonce: nonce, Value: o.value, Method: method, Params: params}
	if msg.Value.Int == nil {
		msg.Value = types.Zero()
	}
	if o.estimate {
		est, err := h.api.GasEstimateMessageGas(h.ctx, msg, nil, types.EmptyTSK)
		if err != nil {
			h.t.Fatalf("estimate: %v", err)
		}
		return est
	}
	msg.GasLimit, msg.GasFeeCap, msg.GasPremium = 2_000_000_000, types.NewInt(1000), types.NewInt(500)
	return msg
}

func (h *harness) push(k key, msg *types.Message) (cid.Cid, error) {
	sm, err := sigs.SignMessage(k.kind, k.priv, msg)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.api.MpoolPush(h.ctx, sm)
}

func (h *harness) wait(c cid.Cid) *types.MsgLookup {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 60*time.Second)
	defer cancel()
	ml, err := h.api.StateWaitMsg(ctx, c, 0, lotus.LookbackNoLimit, true)
	if err != nil {
		h.t.Fatal(err)
	}
	return ml
}

// send pushes and waits, returning the receipt's exit code.
func (h *harness) send(k key, method types.MethodNum, p miner.Params, o sendOpts) (types.ExitCode, *types.MsgLookup) {
	h.t.Helper()
	ml := h.wait(h.pushParams(k, method, p, o))
	return ml.Receipt.ExitCode, ml
}

// sendPaused pushes with the clock paused and steps the two blocks that
// include and execute the message, so it lands at a known epoch.
func (h *harness) sendPaused(k key, method types.MethodNum, p miner.Params, o sendOpts) (types.ExitCode, *types.MsgLookup) {
	h.t.Helper()
	c := h.pushParams(k, method, p, o)
	h.clk.step(2)
	ml := h.wait(c)
	return ml.Receipt.ExitCode, ml
}

// pushParams encodes p, signs the message with k and pushes it.
func (h *harness) pushParams(k key, method types.MethodNum, p miner.Params, o sendOpts) cid.Cid {
	h.t.Helper()
	params, err := miner.EncodeParams(p)
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := h.push(k, h.message(k, method, params, o))
	if err != nil {
		h.t.Fatalf("push: %v", err)
	}
	return c
}

func fr(b byte) [32]byte {
	var x [32]byte
	for i := range x {
		x[i] = b
	}
	x[31] &= 0x0f
	return x
}

func TestLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("seals a 2KiB sector")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	g := devnet.DefaultGenesis(1)
	g.Policy.PreCommitChallengeDelay = 10
	g.Policy.MaxProveCommitDuration = 300
	g.Policy.MaxPreCommitRandomnessLookback = 200
	g.Policy.ExpiredPreCommitCleanUpDelay = 100000
	g.Policy.WPoStChallengeWindow = 20
	if err := devnet.Init(ctx, dir, g); err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ctx: ctx, dir: dir}
	h.start()
	defer func() { h.stop() }()
	worker, owner := loadKey(t, dir, "sp1-worker"), loadKey(t, dir, "sp1-owner")
	var err error
	h.maddr, err = address.Parse(h.node.Miners()["sp1"])
	if err != nil {
		t.Fatal(err)
	}
	h.mid, _ = address.IDOf(h.maddr)
	entropy, _ := rand.SealEntropyForID(h.mid)

	// The miner is as genesis says, and its worker resolves to our key.
	mi, err := h.api.StateMinerInfo(ctx, h.maddr, types.EmptyTSK)
	if err != nil {
		t.Fatal(err)
	}
	if mi.SectorSize != 2048 || mi.WindowPoStProofType != int64(abi.StackedDrgWindow2KiBV1_1) {
		t.Fatalf("miner info %+v", mi)
	}
	if wk, err := h.api.StateAccountKey(ctx, mi.Worker, types.EmptyTSK); err != nil || wk != worker.addr {
		t.Fatalf("worker key %v %v, want %v", wk, err, worker.addr)
	}

	// Seal one 2KiB sector with a ticket drawn from the chain. The clock is
	// paused while sealing so the ticket stays within the 200-epoch lookback.
	head := h.waitHeight(5)
	h.clk.pause()
	ticketEpoch := head.Height - 1
	ticket, err := h.api.StateGetRandomnessFromTickets(ctx, rand.TagSealRandomness, ticketEpoch, entropy, head.Key())
	if err != nil {
		t.Fatal(err)
	}
	sdir := t.TempDir()
	rec, err := porep.Seal(ctx, porep.SealRequest{Proof: abi.StackedDrg2KiBV1_1, Miner: h.mid, Sector: 1, Ticket: ticket,
		Dir: sdir, ParentCacheDir: t.TempDir(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	commR := miner.SealedCID(rec.CommR)
	expiration := head.Height + 600_000
	pci := func(num uint64, sealed cid.Cid, ticketAt types.ChainEpoch) miner.SectorPreCommitInfo {
		return miner.SectorPreCommitInfo{SealProof: miner.RegisteredSealProofStackedDrg2KiBV1_1, SectorNumber: miner.SectorNumber(num),
			SealedCID: sealed, SealRandEpoch: ticketAt, Expiration: expiration}
	}
	dep, err := h.api.StateMinerPreCommitDepositForPower(ctx, h.maddr, lotus.SectorPreCommitInfo{SealProof: 5, SealedCID: commR}, types.EmptyTSK)
	if err != nil || dep.Sign() <= 0 {
		t.Fatalf("deposit %v %v", dep, err)
	}
	funds := sendOpts{value: dep.Mul(types.NewInt(3))}

	t.Run("insufficient funds", func(t *testing.T) {
		code, _ := h.sendPaused(worker, miner.MethodPreCommitSectorBatch2,
			&miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{pci(1, commR, ticketEpoch)}}, sendOpts{})
		if code != types.ErrInsufficientFunds {
			t.Fatalf("exit %v, want 19", code)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		msg := h.message(worker, miner.MethodWithdrawBalance, nil, sendOpts{})
		sm, err := sigs.SignMessage(worker.kind, worker.priv, msg)
		if err != nil {
			t.Fatal(err)
		}
		sm.Message.Nonce++ // signature no longer matches
		_, err = h.api.MpoolPush(ctx, sm)
		var re *lotus.RPCError
		if !errors.As(err, &re) || !strings.Contains(re.Message, "invalid signature") {
			t.Fatalf("push: %v, want an invalid signature rejection", err)
		}
	})
	t.Run("nonce gap", func(t *testing.T) {
		msg := h.message(owner, 0, nil, sendOpts{})
		msg.Nonce += 3
		_, err := h.push(owner, msg)
		var re *lotus.RPCError
		if !errors.As(err, &re) || !strings.Contains(re.Message, "gap") {
			t.Fatalf("push: %v, want a nonce gap rejection", err)
		}
	})

	// Happy pre-commit (sector 1), executed at a known epoch.
	code, _ := h.sendPaused(worker, miner.MethodPreCommitSectorBatch2,
		&miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{pci(1, commR, ticketEpoch)}}, sendOpts{value: funds.value, estimate: true})
	if code != types.Ok {
		t.Fatalf("precommit exit %v", code)
	}
	pc, err := h.api.StateSectorPreCommitInfo(ctx, h.maddr, 1, types.EmptyTSK)
	if err != nil || pc == nil {
		t.Fatalf("precommit info %v %v", pc, err)
	}
	if !pc.Info.SealedCID.Equals(commR) || pc.Info.SealRandEpoch != ticketEpoch {
		t.Fatalf("precommit info %+v", pc.Info)
	}
	seedEpoch := pc.PreCommitEpoch + 10

	t.Run("early prove", func(t *testing.T) {
		code, _ := h.sendPaused(worker, miner.MethodProveCommitSectors3, &miner.ProveCommitSectors3Params{
			SectorActivations: []miner.SectorActivationManifest{{SectorNumber: 1}}, SectorProofs: [][]byte{[]byte("early")},
			RequireActivationSuccess: true}, sendOpts{})
		if code != types.ErrForbidden {
			t.Fatalf("exit %v, want 18", code)
		}
	})
	t.Run("reused sector number", func(t *testing.T) {
		code, _ := h.sendPaused(worker, miner.MethodPreCommitSectorBatch2,
			&miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{pci(1, commR, ticketEpoch)}}, funds)
		if code != types.ErrIllegalArgument {
			t.Fatalf("exit %v, want 16", code)
		}
	})
	t.Run("ticket too old", func(t *testing.T) {
		h.clk.resume()
		hd := h.waitHeight(int64(ticketEpoch) + 205)
		h.clk.pause()
		code, _ := h.sendPaused(worker, miner.MethodPreCommitSectorBatch2,
			&miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{pci(7, commR, hd.Height-205)}}, funds)
		if code != types.ErrIllegalArgument {
			t.Fatalf("exit %v, want 16", code)
		}
	})
	// Sector 2 has a CommR that is not its data's; sector 3 will expire.
	hd, _ := h.api.ChainHead(ctx)
	code, _ = h.sendPaused(worker, miner.MethodPreCommitSectorBatch2, &miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{
		pci(2, miner.SealedCID(fr(7)), hd.Height-1), pci(3, miner.SealedCID(fr(9)), hd.Height-1)}}, funds)
	if code != types.Ok {
		t.Fatalf("precommit 2,3 exit %v", code)
	}
	pc3, _ := h.api.StateSectorPreCommitInfo(ctx, h.maddr, 3, types.EmptyTSK)

	// Wait for the seed, then C1 → devnet proof.
	h.clk.resume()
	hd = h.waitHeight(int64(seedEpoch) + 1)
	seed, err := h.api.StateGetRandomnessFromBeacon(ctx, rand.TagInteractiveSealChallengeSeed, seedEpoch, entropy, hd.Key())
	if err != nil {
		t.Fatal(err)
	}
	out, err := porep.C1(ctx, sdir, seed)
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := json.Marshal(out)
	proof, err := c2.Devnet.ProveC2(ctx, c1, h.mid, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("2KiB devnet proof: %d bytes", len(proof))
	prove := func(sector uint64, p []byte, require bool) *miner.ProveCommitSectors3Params {
		return &miner.ProveCommitSectors3Params{SectorActivations: []miner.SectorActivationManifest{{SectorNumber: miner.SectorNumber(sector)}},
			SectorProofs: [][]byte{p}, RequireActivationSuccess: require}
	}
	h.clk.pause()
	t.Run("tampered vanilla proof", func(t *testing.T) {
		bad := bytes.Clone(proof)
		bad[len(bad)/2] ^= 0x01
		code, _ := h.sendPaused(worker, miner.MethodProveCommitSectors3, prove(1, bad, true), sendOpts{})
		if code != types.ErrIllegalArgument {
			t.Fatalf("exit %v, want 16", code)
		}
	})
	t.Run("groth16 proof rejected", func(t *testing.T) {
		params, _ := miner.EncodeParams(prove(1, make([]byte, 192), true))
		msg := &types.Message{To: h.maddr, From: worker.addr, Value: types.Zero(), Method: miner.MethodProveCommitSectors3, Params: params}
		_, err := h.api.GasEstimateMessageGas(ctx, msg, nil, types.EmptyTSK)
		if err == nil || !strings.Contains(err.Error(), "groth16") || !strings.Contains(err.Error(), "exit 16") {
			t.Fatalf("estimate: %v, want exit 16 naming groth16", err)
		}
	})
	t.Run("wrong CommR", func(t *testing.T) {
		code, ml := h.sendPaused(worker, miner.MethodProveCommitSectors3, prove(2, proof, false), sendOpts{})
		if code != types.ErrIllegalArgument {
			t.Fatalf("exit %v (%+v), want 16", code, ml.ReturnDec)
		}
	})

	// Happy prove-commit: pledge sent as value, gas estimated.
	ip, err := h.api.StateMinerInitialPledgeForSector(ctx, expiration-hd.Height, 2048, 0, types.EmptyTSK)
	if err != nil {
		t.Fatal(err)
	}
	code, ml := h.sendPaused(worker, miner.MethodProveCommitSectors3, prove(1, proof, true), sendOpts{value: ip, estimate: true})
	if code != types.Ok {
		t.Fatalf("prove exit %v", code)
	}
	br, err := miner.DecodeBatchReturn(ml.Receipt.Return)
	if err != nil || br.SuccessCount != 1 || len(br.FailCodes) != 0 {
		t.Fatalf("batch return %+v %v", br, err)
	}
	si, err := h.api.StateSectorGetInfo(ctx, h.maddr, 1, types.EmptyTSK)
	if err != nil || si == nil || !si.SealedCID.Equals(commR) || si.InitialPledge.Sign() <= 0 {
		t.Fatalf("sector info %+v %v", si, err)
	}
	if pc, _ := h.api.StateSectorPreCommitInfo(ctx, h.maddr, 1, types.EmptyTSK); pc != nil {
		t.Fatal("pre-commit still present after activation")
	}
	proveCid := ml.Message

	// Restart: the chain, sectors, mpool nonces and message index survive.
	before, _ := h.api.ChainHead(ctx)
	h.stop()
	h.start()
	after, err := h.api.ChainHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Height < before.Height || !after.Cids[0].Equals(before.Cids[0]) && after.Height == before.Height {
		t.Fatalf("head after restart %d (%s), before %d (%s)", after.Height, after.Cids[0], before.Height, before.Cids[0])
	}
	if si2, err := h.api.StateSectorGetInfo(ctx, h.maddr, 1, types.EmptyTSK); err != nil || si2 == nil {
		t.Fatalf("sector lost on restart: %v", err)
	}
	if l, err := h.api.StateSearchMsg(ctx, types.EmptyTSK, proveCid, lotus.LookbackNoLimit, true); err != nil || l == nil || l.Receipt.ExitCode != 0 {
		t.Fatalf("message index lost on restart: %+v %v", l, err)
	}
	if pc, _ := h.api.StateSectorPreCommitInfo(ctx, h.maddr, 3, types.EmptyTSK); pc == nil {
		t.Fatal("pre-commit 3 lost on restart")
	}

	t.Run("late prove", func(t *testing.T) {
		h.waitHeight(int64(pc3.PreCommitEpoch) + 301)
		h.clk.pause()
		code, _ := h.sendPaused(worker, miner.MethodProveCommitSectors3, prove(3, proof, true), sendOpts{})
		if code != types.ErrIllegalArgument {
			t.Fatalf("exit %v, want 16", code)
		}
		h.clk.resume()
	})

	t.Run("window post", func(t *testing.T) {
		h.clk.resume()
		dl, part := findSector(t, h, 1)
		var di *lotus.DeadlineInfo
		for {
			di, err = h.api.StateMinerProvingDeadline(ctx, h.maddr, types.EmptyTSK)
			if err != nil {
				t.Fatal(err)
			}
			if di.Index == dl && di.CurrentEpoch < di.Close-5 {
				h.clk.pause()
				di, _ = h.api.StateMinerProvingDeadline(ctx, h.maddr, types.EmptyTSK)
				if di.Index == dl && di.CurrentEpoch < di.Close-5 {
					break
				}
				h.clk.resume()
			}
			h.waitHeight(int64(di.CurrentEpoch) + 1)
		}
		chal, err := h.api.StateGetRandomnessFromBeacon(ctx, rand.TagWindowedPoStChallengeSeed, di.Challenge, entropy, types.EmptyTSK)
		if err != nil {
			t.Fatal(err)
		}
		pp := abi.StackedDrgWindow2KiBV1_1
		sp, err := post.Prove(ctx, pp, post.Randomness(chal), 0, post.Sector{Number: 1, SealedPath: porep.SealedPath(sdir), CacheDir: porep.CachePath(sdir)})
		if err != nil {
			t.Fatal(err)
		}
		commitEpoch := di.CurrentEpoch - 1
		commitRand, err := h.api.StateGetRandomnessFromTickets(ctx, rand.TagPoStChainCommit, commitEpoch, nil, types.EmptyTSK)
		if err != nil {
			t.Fatal(err)
		}
		params := func(pb []byte) *miner.SubmitWindowedPoStParams {
			return &miner.SubmitWindowedPoStParams{Deadline: dl, Partitions: []miner.PoStPartition{{Index: part}},
				Proofs: []miner.PoStProof{{PoStProof: miner.RegisteredPoStProof(pp), ProofBytes: pb}}, ChainCommitEpoch: commitEpoch, ChainCommitRand: commitRand[:]}
		}
		good := state.EncodeWindowPoStProof([][]byte{post.Encode(sp)})
		bad := bytes.Clone(good)
		bad[len(bad)-1] ^= 1
		if code, _ := h.sendPaused(worker, miner.MethodSubmitWindowedPoSt, params(bad), sendOpts{}); code != types.ErrIllegalArgument {
			t.Fatalf("tampered post: exit %v, want 16", code)
		}
		if code, _ := h.sendPaused(worker, miner.MethodSubmitWindowedPoSt, params(good), sendOpts{}); code != types.Ok {
			t.Fatalf("post: exit %v", code)
		}
		if code, _ := h.sendPaused(worker, miner.MethodSubmitWindowedPoSt, params(good), sendOpts{}); code != types.ErrIllegalArgument {
			t.Fatalf("second post for a proven partition: exit %v, want 16", code)
		}
		parts, err := h.api.StateMinerPartitions(ctx, h.maddr, dl, types.EmptyTSK)
		if err != nil || parts[part].FaultySectors.Count() != 0 {
			t.Fatalf("partitions %+v %v", parts, err)
		}
		h.clk.resume()
	})

	t.Run("declare recovery of a missing partition", func(t *testing.T) {
		h.clk.pause()
		defer h.clk.resume()
		bf, _ := bitfield.NewFromSet([]uint64{1})
		di, err := h.api.StateMinerProvingDeadline(ctx, h.maddr, types.EmptyTSK)
		if err != nil {
			t.Fatal(err)
		}
		// A deadline ten windows (200 epochs) ahead: its fault cutoff
		// (70 epochs before it opens) has not passed.
		dl := (di.Index + 10) % 48
		code, _ := h.sendPaused(worker, miner.MethodDeclareFaultsRecovered, &miner.DeclareFaultsRecoveredParams{
			Recoveries: []miner.RecoveryDeclaration{{Deadline: dl, Partition: 9, Sectors: bf}}}, sendOpts{})
		if code != types.ErrNotFound {
			t.Fatalf("exit %v, want 17", code)
		}
		code, _ = h.sendPaused(worker, miner.MethodDeclareFaultsRecovered, &miner.DeclareFaultsRecoveredParams{
			Recoveries: []miner.RecoveryDeclaration{{Deadline: 48, Partition: 0, Sectors: bf}}}, sendOpts{})
		if code != types.ErrIllegalArgument {
			t.Fatalf("deadline 48: exit %v, want 16", code)
		}
	})

	t.Run("withdraw balance", func(t *testing.T) {
		h.clk.pause()
		defer h.clk.resume()
		req := &miner.WithdrawBalanceParams{AmountRequested: miner.TokenAmount(types.NewInt(1))}
		if code, _ := h.sendPaused(worker, miner.MethodWithdrawBalance, req, sendOpts{}); code != types.ErrForbidden {
			t.Fatalf("worker withdraw: exit %v, want 18", code)
		}
		avail, err := h.api.StateMinerAvailableBalance(ctx, h.maddr, types.EmptyTSK)
		if err != nil || avail.Sign() <= 0 {
			t.Fatalf("available %v %v", avail, err)
		}
		code, ml := h.sendPaused(owner, miner.MethodWithdrawBalance, &miner.WithdrawBalanceParams{AmountRequested: miner.TokenAmount(avail.Mul(types.NewInt(2)))}, sendOpts{})
		if code != types.Ok {
			t.Fatalf("owner withdraw: exit %v", code)
		}
		var got types.BigInt
		if err := got.UnmarshalCBOR(bytes.NewReader(ml.Receipt.Return)); err != nil || got.Cmp(avail) != 0 {
			t.Fatalf("withdrawn %v (%v), want the available %v", got, err, avail)
		}
	})
}

// findSector locates a sector's deadline and partition through the API.
func findSector(t *testing.T, h *harness, sector uint64) (uint64, uint64) {
	t.Helper()
	for dl := uint64(0); dl < 48; dl++ {
		parts, err := h.api.StateMinerPartitions(h.ctx, h.maddr, dl, types.EmptyTSK)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range parts {
			secs, err := p.AllSectors.Slice(1000)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secs {
				if s == sector {
					return dl, uint64(i)
				}
			}
		}
	}
	t.Fatalf("sector %d not in any deadline", sector)
	return 0, 0
}
