package wdpost

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	chainrand "github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet/state"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/proofs/post"
)

// The fake processor: the test binary re-executed with this variable set
// speaks the damocles window_post protocol.
func TestMain(m *testing.M) {
	if os.Getenv("WDPOST_FAKE_PROCESSOR") == "1" {
		fakeProcessor()
		return
	}
	os.Exit(m.Run())
}

func fakeProcessor() {
	fmt.Println("window_post processor ready")
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var req struct {
			ID   uint64        `json:"id"`
			Task ProcessorTask `json:"task"`
		}
		if json.Unmarshal(sc.Bytes(), &req) != nil {
			continue
		}
		out := map[string]any{"id": req.ID, "err_msg": nil}
		var faults []uint64
		for _, r := range req.Task.Replicas {
			if r.SectorID == 13 {
				faults = append(faults, 13)
			}
		}
		if len(faults) > 0 {
			out["output"] = ProcessorOutput{Faults: faults}
		} else {
			proof := fmt.Sprintf("%s:%d:%s", req.Task.ProofType, len(req.Task.Replicas), hex.EncodeToString(req.Task.Seed[:4]))
			out["output"] = ProcessorOutput{Proofs: []string{base64.StdEncoding.EncodeToString([]byte(proof))}}
		}
		b, _ := json.Marshal(out)
		fmt.Println(`{"log":"unrelated line"}`)
		fmt.Println(string(b))
	}
}

func TestProcessorProver(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("WDPOST_FAKE_PROCESSOR", "1")
	p := ProcessorProver{Bin: exe}
	var seed [32]byte
	seed[0], seed[1] = 0xab, 0xcd
	commR := cidOf(t, [32]byte{1})
	req := WindowPoStRequest{Miner: 1000, Proof: abi.StackedDrgWindow32GiBV1_1, Randomness: seed,
		Replicas: []Replica{{Sector: 1, CommR: commR}, {Sector: 2, CommR: commR}}}
	proof, faults, err := p.ProveWindowPoSt(context.Background(), req)
	if err != nil || len(faults) != 0 {
		t.Fatalf("prove: %v %v", faults, err)
	}
	if got, want := string(proof), "StackedDrgWindow32GiBV1_2:2:abcd0000"; got != want {
		t.Fatalf("proof %q, want %q (API name V1_2 for go-state-types V1_1)", got, want)
	}
	req.Replicas = append(req.Replicas, Replica{Sector: 13, CommR: commR})
	if _, faults, err = p.ProveWindowPoSt(context.Background(), req); err != nil || !slices.Equal(faults, []uint64{13}) {
		t.Fatalf("faults %v %v", faults, err)
	}
	if _, _, err := (ProcessorProver{Bin: "/bin/true"}).ProveWindowPoSt(context.Background(), req); err == nil {
		t.Fatal("a processor that never gets ready succeeded")
	}
}

func TestAPIPoStName(t *testing.T) {
	cases := map[abi.RegisteredPoStProof]string{
		abi.StackedDrgWindow32GiBV1_1: "StackedDrgWindow32GiBV1_2",
		abi.StackedDrgWindow2KiBV1_1:  "StackedDrgWindow2KiBV1_2",
		abi.StackedDrgWindow32GiBV1:   "StackedDrgWindow32GiBV1",
		abi.StackedDrgWinning32GiBV1:  "StackedDrgWinning32GiBV1",
	}
	for p, want := range cases {
		if got := apiPoStName(p); got != want {
			t.Errorf("%d: %s, want %s", p, got, want)
		}
	}
}

func cidOf(t *testing.T, comm [32]byte) cid.Cid {
	t.Helper()
	return miner.SealedCID(comm)
}

// fakeChain is one miner with one partition in deadline 3.
type fakeChain struct {
	mu       sync.Mutex
	height   types.ChainEpoch
	worker   address.Address
	live     []uint64
	faulty   []uint64
	commR    map[uint64]cid.Cid
	pushed   []*types.SignedMessage
	beacon   chainrand.Randomness
	tickets  chainrand.Randomness
	deadline lotus.DeadlineInfo
}

func runs(set []uint64) lotus.BitField {
	var out lotus.BitField
	var pos uint64
	for i := 0; i < len(set); {
		j := i
		for j+1 < len(set) && set[j+1] == set[j]+1 {
			j++
		}
		out = append(out, set[i]-pos, uint64(j-i+1))
		pos = set[j] + 1
		i = j + 1
	}
	return out
}

func (c *fakeChain) ChainHead(context.Context) (*lotus.TipSet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &lotus.TipSet{Height: c.height}, nil
}
func (c *fakeChain) StateMinerInfo(context.Context, address.Address, types.TipSetKey) (*lotus.MinerInfo, error) {
	return &lotus.MinerInfo{Worker: c.worker, WindowPoStProofType: int64(abi.StackedDrgWindow2KiBV1_1)}, nil
}
func (c *fakeChain) StateAccountKey(_ context.Context, a address.Address, _ types.TipSetKey) (address.Address, error) {
	return a, nil
}
func (c *fakeChain) StateMinerProvingDeadline(context.Context, address.Address, types.TipSetKey) (*lotus.DeadlineInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.deadline
	d.CurrentEpoch = c.height
	return &d, nil
}
func (c *fakeChain) StateMinerPartitions(_ context.Context, _ address.Address, dl uint64, _ types.TipSetKey) ([]lotus.Partition, error) {
	if dl != c.deadline.Index {
		return nil, nil
	}
	return []lotus.Partition{{AllSectors: runs(c.live), LiveSectors: runs(c.live), ActiveSectors: runs(c.live), FaultySectors: runs(c.faulty)}}, nil
}
func (c *fakeChain) StateSectorGetInfo(_ context.Context, _ address.Address, n uint64, _ types.TipSetKey) (*lotus.SectorOnChainInfo, error) {
	return &lotus.SectorOnChainInfo{SectorNumber: n, SealedCID: c.commR[n]}, nil
}
func (c *fakeChain) StateGetRandomnessFromBeacon(_ context.Context, tag chainrand.DomainSeparationTag, epoch types.ChainEpoch, _ []byte, _ types.TipSetKey) (chainrand.Randomness, error) {
	if tag != chainrand.TagWindowedPoStChallengeSeed || epoch != c.deadline.Challenge {
		return chainrand.Randomness{}, fmt.Errorf("unexpected beacon draw %d@%d", tag, epoch)
	}
	return c.beacon, nil
}
func (c *fakeChain) StateGetRandomnessFromTickets(_ context.Context, tag chainrand.DomainSeparationTag, epoch types.ChainEpoch, _ []byte, _ types.TipSetKey) (chainrand.Randomness, error) {
	if tag != chainrand.TagPoStChainCommit || epoch != c.deadline.Open {
		return chainrand.Randomness{}, fmt.Errorf("unexpected ticket draw %d@%d", tag, epoch)
	}
	return c.tickets, nil
}
func (c *fakeChain) MpoolGetNonce(context.Context, address.Address) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return uint64(len(c.pushed)), nil
}
func (c *fakeChain) GasEstimateMessageGas(_ context.Context, m *types.Message, _ *lotus.MessageSendSpec, _ types.TipSetKey) (*types.Message, error) {
	out := *m
	out.GasLimit, out.GasFeeCap, out.GasPremium = 1_000_000, types.NewInt(100), types.NewInt(10)
	return &out, nil
}
func (c *fakeChain) MpoolPush(_ context.Context, sm *types.SignedMessage) (cid.Cid, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pushed = append(c.pushed, sm)
	return sm.Message.Cid(), nil
}

type recordingSigner struct {
	mu     sync.Mutex
	tenant []string
}

func (s *recordingSigner) Sign(_ context.Context, tenant string, _ address.Address, _ *types.Message) (types.Signature, error) {
	s.mu.Lock()
	s.tenant = append(s.tenant, tenant)
	s.mu.Unlock()
	return types.Signature{Type: types.SigTypeSecp256k1, Data: bytes.Repeat([]byte{1}, 65)}, nil
}

// TestSubmitSkipsMissing proves a deadline whose partition has a sector
// with files and one without: the proof covers the first, the second is
// Skipped, the message goes to method 5 signed for the tenant, the devnet
// verifier accepts the proof bytes, and a second tick sends nothing.
func TestSubmitSkipsMissing(t *testing.T) {
	store := t.TempDir()
	ticket := [32]byte{9}
	sdir := t.TempDir()
	rec, err := porep.Seal(context.Background(), porep.SealRequest{Proof: abi.StackedDrg2KiBV1_1, Miner: 1000, Sector: 1,
		Ticket: ticket, Dir: sdir, ParentCacheDir: t.TempDir(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	sealed, cache := LayoutStore{store}.Locate(1000, 1)
	for _, d := range []string{filepath.Dir(sealed), cache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(porep.SealedPath(sdir), sealed); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"p_aux", "t_aux", "sc-02-data-tree-r-last.dat"} {
		if err := os.Link(filepath.Join(porep.CachePath(sdir), n), filepath.Join(cache, n)); err != nil {
			t.Fatal(err)
		}
	}
	worker, _ := address.NewSecp256k1Address(bytes.Repeat([]byte{4}, 65))
	fc := &fakeChain{height: 90, worker: worker, live: []uint64{1, 2}, commR: map[uint64]cid.Cid{1: miner.SealedCID(rec.CommR), 2: miner.SealedCID([32]byte{2})},
		beacon: chainrand.Randomness{5, 5, 5, 0xff}, tickets: chainrand.Randomness{7},
		deadline: lotus.DeadlineInfo{Index: 3, Open: 100, Close: 120, Challenge: 80, WPoStPeriodDeadlines: 48, WPoStChallengeWindow: 20, FaultDeclarationCutoff: 70}}
	signer := &recordingSigner{}
	svc, err := New(Config{Chain: fc, Signer: signer, Prover: DevnetProver{}}, Tenant{Name: "acme", Miner: 1000, Store: LayoutStore{store}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Before the deadline opens: nothing.
	if err := svc.Tick(ctx); err != nil || len(fc.pushed) != 0 {
		t.Fatalf("early tick: %v, %d pushed", err, len(fc.pushed))
	}
	fc.height = 105
	if err := svc.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(fc.pushed) != 1 {
		t.Fatalf("%d messages pushed, want 1", len(fc.pushed))
	}
	m := fc.pushed[0].Message
	if m.Method != miner.MethodSubmitWindowedPoSt || m.From != worker || m.To != address.NewIDAddress(1000) {
		t.Fatalf("message %+v", m)
	}
	var p miner.SubmitWindowedPoStParams
	if err := p.UnmarshalCBOR(bytes.NewReader(m.Params)); err != nil {
		t.Fatal(err)
	}
	skipped, _ := p.Partitions[0].Skipped.All(10)
	if p.Deadline != 3 || len(p.Partitions) != 1 || !slices.Equal(skipped, []uint64{2}) || p.ChainCommitEpoch != 100 ||
		!bytes.Equal(p.ChainCommitRand, fc.tickets[:]) {
		t.Fatalf("params %+v (skipped %v)", p, skipped)
	}
	// The devnet's own verifier accepts the proof for the proven sector.
	err = state.ProofEngine{}.VerifyWindowPoSt(state.WindowPoStVerifyInfo{Proof: miner.RegisteredPoStProof(abi.StackedDrgWindow2KiBV1_1),
		Randomness: fc.beacon, Miner: 1000, Sectors: []state.PoStSector{{Number: 1, SealedCID: fc.commR[1]}}, ProofBytes: p.Proofs[0].ProofBytes})
	if err != nil {
		t.Fatalf("devnet verifier: %v", err)
	}
	parts, _ := state.DecodeWindowPoStProof(p.Proofs[0].ProofBytes)
	if _, err := post.Decode(abi.StackedDrgWindow2KiBV1_1, post.Randomness(fc.beacon), 0, parts[0]); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(signer.tenant, []string{"acme"}) {
		t.Fatalf("signed for %v", signer.tenant)
	}
	// Same deadline again: nothing new.
	fc.height = 106
	if err := svc.Tick(ctx); err != nil || len(fc.pushed) != 1 {
		t.Fatalf("second tick: %v, %d pushed", err, len(fc.pushed))
	}
	subs := svc.Submissions()
	if len(subs) != 1 || !slices.Equal(subs[0].Proven, []uint64{1}) || !slices.Equal(subs[0].Skipped, []uint64{2}) {
		t.Fatalf("submissions %+v", subs)
	}
	if !strings.HasPrefix(subs[0].Message.String(), "bafy") {
		t.Fatalf("message cid %s", subs[0].Message)
	}
}
