package state

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/bitfield"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
)

// fakeEnv derives randomness from the epoch alone.
type fakeEnv struct{}

func (fakeEnv) TicketRandomness(tag rand.DomainSeparationTag, epoch int64, entropy []byte) ([32]byte, error) {
	return rand.DrawRandomness([]byte("ticket"), tag, epoch, entropy), nil
}
func (fakeEnv) BeaconRandomness(tag rand.DomainSeparationTag, epoch int64, entropy []byte) ([32]byte, error) {
	return rand.DrawRandomness([]byte("beacon"), tag, epoch, entropy), nil
}

// fakeVerifier accepts proofs equal to "ok" and records what it was asked.
type fakeVerifier struct{ seals []SealVerifyInfo }

func (f *fakeVerifier) VerifySeal(in SealVerifyInfo) error {
	f.seals = append(f.seals, in)
	if string(in.Proof) != "ok" {
		return errors.New("bad proof")
	}
	return nil
}
func (f *fakeVerifier) VerifyWindowPoSt(in WindowPoStVerifyInfo) error {
	if string(in.ProofBytes) != "ok" {
		return errors.New("bad post")
	}
	return nil
}

type fixture struct {
	st            *State
	vm            *VM
	ver           *fakeVerifier
	worker, owner address.Address
	other         address.Address
	maddr         address.Address
	nonce         map[address.Address]uint64
	gasLimit      int64 // 0: 1e9
}

func key(t *testing.T, seed byte, kind types.SigType) address.Address {
	t.Helper()
	priv := bytes.Repeat([]byte{seed}, 32)
	a, err := sigs.AddressOf(kind, priv)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	p := DefaultPolicy()
	f := &fixture{st: New(), ver: &fakeVerifier{}, nonce: map[address.Address]uint64{}}
	f.vm = &VM{Policy: p, Env: fakeEnv{}, Verifier: f.ver, Epoch: 1000}
	f.owner, f.worker, f.other = key(t, 1, types.SigTypeSecp256k1), key(t, 2, types.SigTypeBLS), key(t, 3, types.SigTypeSecp256k1)
	for _, a := range []address.Address{f.owner, f.worker, f.other} {
		if _, err := f.st.CreateAccount(a, types.FromFil(1000)); err != nil {
			t.Fatal(err)
		}
	}
	m, err := f.st.CreateMiner(p, f.owner, f.worker, nil, miner.RegisteredSealProofStackedDrg2KiBV1_1, types.Zero(), "")
	if err != nil {
		t.Fatal(err)
	}
	f.maddr = IDAddr(m.ID)
	return f
}

func (f *fixture) apply(t *testing.T, from address.Address, method types.MethodNum, p miner.Params, value types.BigInt) Result {
	t.Helper()
	var params []byte
	if p != nil {
		var err error
		if params, err = miner.EncodeParams(p); err != nil {
			t.Fatal(err)
		}
	}
	gasLimit := f.gasLimit
	if gasLimit == 0 {
		gasLimit = 1e9
	}
	msg := &types.Message{To: f.maddr, From: from, Nonce: f.nonce[from], Value: value, GasLimit: gasLimit,
		GasFeeCap: types.NewInt(200), GasPremium: types.NewInt(100), Method: method, Params: params}
	before := f.st.TotalBalance()
	r := f.vm.Apply(f.st, msg, 200)
	if r.Receipt.ExitCode != types.SysErrSenderStateInvalid && r.Receipt.ExitCode != types.SysErrSenderInvalid {
		f.nonce[from]++
	}
	if after := f.st.TotalBalance(); after.Cmp(before) != 0 {
		t.Fatalf("total balance changed: %s → %s", before, after)
	}
	return r
}

func sealed(b byte) cid.Cid {
	var d [32]byte
	d[0] = b
	return miner.SealedCID(d)
}

func (f *fixture) pci(n uint64) miner.SectorPreCommitInfo {
	return miner.SectorPreCommitInfo{SealProof: miner.RegisteredSealProofStackedDrg2KiBV1_1, SectorNumber: miner.SectorNumber(n),
		SealedCID: sealed(byte(n)), SealRandEpoch: types.ChainEpoch(f.vm.Epoch - 10),
		Expiration: types.ChainEpoch(f.vm.Epoch + f.vm.Policy.MaxProveCommitDuration + f.vm.Policy.MinSectorExpiration + 100)}
}

func TestPreCommitValidation(t *testing.T) {
	unsealedWrong := sealed(1) // a sealed CID where CommD is expected
	tests := []struct {
		name   string
		from   int // 0 worker, 1 owner, 2 stranger
		value  types.BigInt
		mutate func(f *fixture, p *miner.SectorPreCommitInfo)
		batch  func(f *fixture) []miner.SectorPreCommitInfo
		want   types.ExitCode
	}{
		{name: "ok", value: types.FromFil(1), want: types.Ok},
		{name: "ok from owner", from: 1, value: types.FromFil(1), want: types.Ok},
		{name: "stranger", from: 2, value: types.FromFil(1), want: types.ErrForbidden},
		{name: "no deposit", value: types.Zero(), want: types.ErrInsufficientFunds},
		{name: "empty batch", value: types.FromFil(1), batch: func(*fixture) []miner.SectorPreCommitInfo { return nil }, want: types.ErrIllegalArgument},
		{name: "duplicate in batch", value: types.FromFil(1), batch: func(f *fixture) []miner.SectorPreCommitInfo {
			return []miner.SectorPreCommitInfo{f.pci(5), f.pci(5)}
		}, want: types.ErrIllegalArgument},
		{name: "legacy proof", value: types.FromFil(1), mutate: func(_ *fixture, p *miner.SectorPreCommitInfo) { p.SealProof = 0 }, want: types.ErrIllegalArgument},
		{name: "other sector size", value: types.FromFil(1), mutate: func(_ *fixture, p *miner.SectorPreCommitInfo) { p.SealProof = 8 }, want: types.ErrIllegalArgument},
		{name: "sector number too big", value: types.FromFil(1), mutate: func(_ *fixture, p *miner.SectorPreCommitInfo) { p.SectorNumber = 1 << 63 }, want: types.ErrIllegalArgument},
		{name: "commR prefix", value: types.FromFil(1), mutate: func(_ *fixture, p *miner.SectorPreCommitInfo) {
			p.SealedCID = miner.UnsealedCID([32]byte{1})
		}, want: types.ErrIllegalArgument},
		{name: "commD prefix", value: types.FromFil(1), mutate: func(_ *fixture, p *miner.SectorPreCommitInfo) { p.UnsealedCid = &unsealedWrong }, want: types.ErrIllegalArgument},
		{name: "ticket from now", value: types.FromFil(1), mutate: func(f *fixture, p *miner.SectorPreCommitInfo) { p.SealRandEpoch = types.ChainEpoch(f.vm.Epoch) }, want: types.ErrIllegalArgument},
		{name: "ticket too old", value: types.FromFil(1), mutate: func(f *fixture, p *miner.SectorPreCommitInfo) {
			p.SealRandEpoch = types.ChainEpoch(f.vm.Epoch - f.vm.Policy.MaxPreCommitRandomnessLookback - 1)
		}, want: types.ErrIllegalArgument},
		{name: "oldest ticket", value: types.FromFil(1), mutate: func(f *fixture, p *miner.SectorPreCommitInfo) {
			p.SealRandEpoch = types.ChainEpoch(f.vm.Epoch - f.vm.Policy.MaxPreCommitRandomnessLookback)
		}, want: types.Ok},
		{name: "expiration too soon", value: types.FromFil(1), mutate: func(_ *fixture, p *miner.SectorPreCommitInfo) { p.Expiration -= 101 }, want: types.ErrIllegalArgument},
		{name: "expiration too far", value: types.FromFil(1), mutate: func(f *fixture, p *miner.SectorPreCommitInfo) {
			p.Expiration = types.ChainEpoch(f.vm.Epoch + f.vm.Policy.MaxSectorExpirationExtension + 1)
		}, want: types.ErrIllegalArgument},
		{name: "deal ids", value: types.FromFil(1), mutate: func(_ *fixture, p *miner.SectorPreCommitInfo) { p.DealIDs = []miner.DealID{1} }, want: types.ErrIllegalArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			var batch []miner.SectorPreCommitInfo
			if tc.batch != nil {
				batch = tc.batch(f)
			} else {
				p := f.pci(1)
				if tc.mutate != nil {
					tc.mutate(f, &p)
				}
				batch = []miner.SectorPreCommitInfo{p}
			}
			from := []address.Address{f.worker, f.owner, f.other}[tc.from]
			mBefore := cloneMiner(f.st.Actors[1000].Miner)
			r := f.apply(t, from, miner.MethodPreCommitSectorBatch2, &miner.PreCommitSectorBatchParams2{Sectors: batch}, tc.value)
			if r.Receipt.ExitCode != tc.want {
				t.Fatalf("exit %v (%s), want %v", r.Receipt.ExitCode, r.Error, tc.want)
			}
			m := f.st.Actors[1000].Miner
			if tc.want != types.Ok {
				if len(m.PreCommits) != 0 || len(m.Allocated) != 0 || m.PreCommitDeposits.Cmp(mBefore.PreCommitDeposits) != 0 {
					t.Fatal("failed pre-commit changed miner state")
				}
				if f.st.Actors[1000].Balance.Sign() != 0 {
					t.Fatal("failed message kept its value")
				}
				return
			}
			if len(m.PreCommits) != 1 || m.PreCommitDeposits.Sign() <= 0 || !setHas(m.Allocated, 1) {
				t.Fatalf("miner after pre-commit: %+v", m)
			}
		})
	}
}

func TestSectorNumberNeverReused(t *testing.T) {
	f := newFixture(t)
	if r := f.apply(t, f.worker, miner.MethodPreCommitSectorBatch2, &miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{f.pci(1)}}, types.FromFil(1)); r.Receipt.ExitCode != 0 {
		t.Fatal(r.Error)
	}
	r := f.apply(t, f.worker, miner.MethodPreCommitSectorBatch2, &miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{f.pci(1)}}, types.FromFil(1))
	if r.Receipt.ExitCode != types.ErrIllegalArgument || !strings.Contains(r.Error, "already allocated") {
		t.Fatalf("exit %v %q", r.Receipt.ExitCode, r.Error)
	}
}

func TestProveCommit(t *testing.T) {
	prove := func(nums []uint64, proofs []string, require bool) *miner.ProveCommitSectors3Params {
		p := &miner.ProveCommitSectors3Params{RequireActivationSuccess: require}
		for i, n := range nums {
			p.SectorActivations = append(p.SectorActivations, miner.SectorActivationManifest{SectorNumber: miner.SectorNumber(n)})
			p.SectorProofs = append(p.SectorProofs, []byte(proofs[i]))
		}
		return p
	}
	tests := []struct {
		name    string
		advance int64 // epochs after pre-commit
		params  *miner.ProveCommitSectors3Params
		from    int
		want    types.ExitCode
		success uint64
		fails   []miner.FailCode
	}{
		{name: "ok", advance: 11, params: prove([]uint64{1}, []string{"ok"}, true), want: types.Ok, success: 1},
		{name: "at seed epoch is too early", advance: 10, params: prove([]uint64{1}, []string{"ok"}, true), want: types.ErrForbidden},
		{name: "too early", advance: 1, params: prove([]uint64{1}, []string{"ok"}, false), want: types.ErrForbidden},
		{name: "last epoch", advance: DefaultPolicy().MaxProveCommitDuration, params: prove([]uint64{1}, []string{"ok"}, true), want: types.Ok, success: 1},
		{name: "too late", advance: DefaultPolicy().MaxProveCommitDuration + 1, params: prove([]uint64{1}, []string{"ok"}, true), want: types.ErrIllegalArgument},
		{name: "too late, lenient", advance: DefaultPolicy().MaxProveCommitDuration + 1, params: prove([]uint64{1}, []string{"ok"}, false), want: types.ErrIllegalArgument},
		{name: "not pre-committed", advance: 11, params: prove([]uint64{9}, []string{"ok"}, true), want: types.ErrNotFound},
		{name: "bad proof", advance: 11, params: prove([]uint64{1}, []string{"bad"}, true), want: types.ErrIllegalArgument},
		{name: "one bad proof, lenient", advance: 11, params: prove([]uint64{1, 2}, []string{"bad", "ok"}, false), want: types.Ok, success: 1,
			fails: []miner.FailCode{{Idx: 0, Code: types.ErrIllegalArgument}}},
		{name: "one bad proof, strict", advance: 11, params: prove([]uint64{1, 2}, []string{"ok", "bad"}, true), want: types.ErrIllegalArgument},
		{name: "stranger", advance: 11, params: prove([]uint64{1}, []string{"ok"}, true), from: 2, want: types.ErrForbidden},
		{name: "no proofs", advance: 11, params: &miner.ProveCommitSectors3Params{SectorActivations: []miner.SectorActivationManifest{{SectorNumber: 1}}}, want: types.ErrIllegalArgument},
		{name: "aggregate", advance: 11, params: &miner.ProveCommitSectors3Params{SectorActivations: []miner.SectorActivationManifest{{SectorNumber: 1}}, AggregateProof: []byte{1}}, want: types.ErrIllegalArgument},
		{name: "length mismatch", advance: 11, params: &miner.ProveCommitSectors3Params{SectorActivations: []miner.SectorActivationManifest{{SectorNumber: 1}, {SectorNumber: 2}}, SectorProofs: [][]byte{[]byte("ok")}}, want: types.ErrIllegalArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if r := f.apply(t, f.worker, miner.MethodPreCommitSectorBatch2, &miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{f.pci(1), f.pci(2)}}, types.FromFil(1)); r.Receipt.ExitCode != 0 {
				t.Fatal(r.Error)
			}
			f.vm.Epoch += tc.advance
			from := []address.Address{f.worker, f.owner, f.other}[tc.from]
			r := f.apply(t, from, miner.MethodProveCommitSectors3, tc.params, types.FromFil(1))
			if r.Receipt.ExitCode != tc.want {
				t.Fatalf("exit %v (%s), want %v", r.Receipt.ExitCode, r.Error, tc.want)
			}
			m := f.st.Actors[1000].Miner
			if tc.want != types.Ok {
				if len(m.Sectors) != 0 || m.InitialPledge.Sign() != 0 {
					t.Fatal("failed prove-commit activated sectors")
				}
				return
			}
			br, err := miner.DecodeBatchReturn(r.Receipt.Return)
			if err != nil {
				t.Fatal(err)
			}
			if br.SuccessCount != tc.success || len(br.FailCodes) != len(tc.fails) {
				t.Fatalf("return %+v", br)
			}
			for i, fc := range tc.fails {
				if br.FailCodes[i] != fc {
					t.Fatalf("fail code %d: %+v, want %+v", i, br.FailCodes[i], fc)
				}
			}
			if uint64(len(m.Sectors)) != tc.success || m.InitialPledge.Sign() <= 0 {
				t.Fatalf("sectors %d, pledge %s", len(m.Sectors), m.InitialPledge)
			}
			// The seed is drawn at PreCommitEpoch + delay with the miner's entropy.
			ent, _ := rand.SealEntropyForID(1000)
			want, _ := fakeEnv{}.BeaconRandomness(rand.TagInteractiveSealChallengeSeed, 1000+10, ent)
			if f.ver.seals[0].Seed != want || f.ver.seals[0].Miner != 1000 {
				t.Fatalf("verifier got seed %x miner %d", f.ver.seals[0].Seed, f.ver.seals[0].Miner)
			}
		})
	}
}

func TestProveCommitPledgeShortfall(t *testing.T) {
	f := newFixture(t)
	dep := f.vm.Policy.PreCommitDeposit(2048, types.Zero())
	if r := f.apply(t, f.worker, miner.MethodPreCommitSectorBatch2, &miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{f.pci(1)}}, dep); r.Receipt.ExitCode != 0 {
		t.Fatal(r.Error)
	}
	f.vm.Epoch += 11
	p := &miner.ProveCommitSectors3Params{SectorActivations: []miner.SectorActivationManifest{{SectorNumber: 1}}, SectorProofs: [][]byte{[]byte("ok")}, RequireActivationSuccess: true}
	if r := f.apply(t, f.worker, miner.MethodProveCommitSectors3, p, types.Zero()); r.Receipt.ExitCode != types.ErrInsufficientFunds {
		t.Fatalf("exit %v (%s), want 19", r.Receipt.ExitCode, r.Error)
	}
	if pc := f.st.Actors[1000].Miner.PreCommits[1]; pc == nil || f.st.Actors[1000].Miner.PreCommitDeposits.Cmp(dep) != 0 {
		t.Fatal("aborted prove-commit released the deposit")
	}
}

func TestSystemErrors(t *testing.T) {
	f := newFixture(t)
	msg := &types.Message{To: f.maddr, From: f.worker, Nonce: 5, Value: types.Zero(), GasLimit: 1e9, GasFeeCap: types.NewInt(200), GasPremium: types.NewInt(1)}
	if r := f.vm.Apply(f.st, msg, 100); r.Receipt.ExitCode != types.SysErrSenderStateInvalid {
		t.Fatalf("nonce: %v", r.Receipt.ExitCode)
	}
	msg.Nonce = 0
	msg.Value = types.FromFil(2000)
	if r := f.vm.Apply(f.st, msg, 100); r.Receipt.ExitCode != types.SysErrInsufficientFunds {
		t.Fatalf("value: %v", r.Receipt.ExitCode)
	}
	msg.Nonce, msg.Value, msg.GasLimit = 1, types.Zero(), 10
	if r := f.vm.Apply(f.st, msg, 100); r.Receipt.ExitCode != types.SysErrOutOfGas || r.Receipt.GasUsed != 10 {
		t.Fatalf("gas: %v", r.Receipt)
	}
	msg.Nonce, msg.GasLimit, msg.GasFeeCap = 2, 1e9, types.FromFil(1)
	if r := f.vm.Apply(f.st, msg, 100); r.Receipt.ExitCode != types.SysErrSenderStateInvalid {
		t.Fatalf("fee cap beyond balance: %v", r.Receipt.ExitCode)
	}
	unknown := key(t, 9, types.SigTypeSecp256k1)
	msg.From = unknown
	if r := f.vm.Apply(f.st, msg, 100); r.Receipt.ExitCode != types.SysErrSenderInvalid {
		t.Fatalf("unknown sender: %v", r.Receipt.ExitCode)
	}
	f.nonce[f.worker] = 2 // three of the messages above bumped the nonce
	for _, m := range []types.MethodNum{6, 7, 25, 26} {
		if r := f.apply(t, f.worker, m, nil, types.Zero()); r.Receipt.ExitCode != types.ErrUnhandledMessage {
			t.Fatalf("removed method %d: %v", m, r.Receipt.ExitCode)
		}
	}
	// A plain send creates the receiving account.
	r := f.vm.Apply(f.st, &types.Message{To: unknown, From: f.owner, Nonce: 0, Value: types.FromFil(1), GasLimit: 1e9, GasFeeCap: types.NewInt(200), GasPremium: types.NewInt(1)}, 100)
	if r.Receipt.ExitCode != 0 {
		t.Fatal(r.Error)
	}
	if a, err := f.st.Lookup(unknown); err != nil || a.Balance.Cmp(types.FromFil(1)) != 0 {
		t.Fatalf("created account %+v %v", a, err)
	}
}

func TestWindowPoStAndFaults(t *testing.T) {
	f := newFixture(t)
	p := f.vm.Policy
	f.apply(t, f.worker, miner.MethodPreCommitSectorBatch2, &miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{f.pci(1)}}, types.FromFil(1))
	f.vm.Epoch += 11
	pr := &miner.ProveCommitSectors3Params{SectorActivations: []miner.SectorActivationManifest{{SectorNumber: 1}}, SectorProofs: [][]byte{[]byte("ok")}, RequireActivationSuccess: true}
	if r := f.apply(t, f.worker, miner.MethodProveCommitSectors3, pr, types.FromFil(1)); r.Receipt.ExitCode != 0 {
		t.Fatal(r.Error)
	}
	m := f.st.Actors[1000].Miner
	var dl uint64
	for i, d := range m.Deadlines {
		if len(d.Partitions) > 0 {
			dl = uint64(i)
		}
	}
	cur := m.DeadlineInfo(p, f.vm.Epoch).Index
	if dl == cur || dl == (cur+1)%p.WPoStPeriodDeadlines {
		t.Fatalf("sector assigned to immutable deadline %d (current %d)", dl, cur)
	}
	// Run the chain to the sector's deadline.
	for m.DeadlineInfo(p, f.vm.Epoch).Index != dl {
		f.vm.EndOfEpoch(f.st)
		f.vm.Epoch++
	}
	di := m.DeadlineInfo(p, f.vm.Epoch)
	f.vm.Epoch += 2
	commit, _ := fakeEnv{}.TicketRandomness(rand.TagPoStChainCommit, f.vm.Epoch-1, nil)
	post := func(d uint64, proof string, commitEpoch int64) *miner.SubmitWindowedPoStParams {
		return &miner.SubmitWindowedPoStParams{Deadline: d, Partitions: []miner.PoStPartition{{Index: 0}},
			Proofs:           []miner.PoStProof{{PoStProof: miner.RegisteredPoStProof(m.WindowPoStProof), ProofBytes: []byte(proof)}},
			ChainCommitEpoch: types.ChainEpoch(commitEpoch), ChainCommitRand: commit[:]}
	}
	for _, tc := range []struct {
		name string
		p    *miner.SubmitWindowedPoStParams
		want types.ExitCode
	}{
		{"wrong deadline", post((dl+1)%48, "ok", f.vm.Epoch-1), types.ErrIllegalArgument},
		{"bad proof", post(dl, "bad", f.vm.Epoch-1), types.ErrIllegalArgument},
		{"commit epoch now", post(dl, "ok", f.vm.Epoch), types.ErrIllegalArgument},
		{"commit rand mismatch", post(dl, "ok", f.vm.Epoch-2), types.ErrIllegalArgument},
		{"ok", post(dl, "ok", f.vm.Epoch-1), types.Ok},
		{"again", post(dl, "ok", f.vm.Epoch-1), types.ErrIllegalArgument},
	} {
		if r := f.apply(t, f.worker, miner.MethodSubmitWindowedPoSt, tc.p, types.Zero()); r.Receipt.ExitCode != tc.want {
			t.Fatalf("%s: exit %v (%s), want %v", tc.name, r.Receipt.ExitCode, r.Error, tc.want)
		}
	}
	// Skipping the partition's only sector leaves nothing to prove: the
	// actor refuses (checked on a copy of the state).
	{
		g := &fixture{st: f.st.Clone(), vm: &VM{Policy: p, Env: fakeEnv{}, Verifier: f.ver, Epoch: f.vm.Epoch}, ver: f.ver,
			worker: f.worker, maddr: f.maddr, nonce: map[address.Address]uint64{f.worker: f.nonce[f.worker]}}
		g.st.Actors[1000].Miner.Deadlines[dl].Proven = nil
		skip, _ := bitfield.NewFromSet([]uint64{1})
		sp := post(dl, "not verified: nothing left to prove", f.vm.Epoch-1)
		sp.Partitions[0].Skipped = skip
		if r := g.apply(t, g.worker, miner.MethodSubmitWindowedPoSt, sp, types.Zero()); r.Receipt.ExitCode != types.ErrIllegalArgument ||
			!strings.Contains(r.Error, "no active sectors") {
			t.Fatalf("all-skipped post: %v %s", r.Receipt.ExitCode, r.Error)
		}
		if len(g.st.Actors[1000].Miner.Deadlines[dl].Partitions[0].Faults) != 0 {
			t.Fatal("aborted post changed faults")
		}
	}
	// Skip to the end of this deadline: proven, so no fault.
	for f.vm.Epoch < int64(di.Close) {
		f.vm.EndOfEpoch(f.st)
		f.vm.Epoch++
	}
	if len(f.st.Actors[1000].Miner.Deadlines[dl].Partitions[0].Faults) != 0 {
		t.Fatal("proven partition marked faulty")
	}
	// One full period without a PoSt: the sector becomes faulty.
	for end := f.vm.Epoch + p.ProvingPeriod(); f.vm.Epoch < end; f.vm.Epoch++ {
		f.vm.EndOfEpoch(f.st)
	}
	if !setHas(f.st.Actors[1000].Miner.Deadlines[dl].Partitions[0].Faults, 1) || f.st.Actors[1000].Miner.ActivePower() != 0 {
		t.Fatalf("missed PoSt did not fault the sector: %+v, epoch %d, dl %+v", f.st.Actors[1000].Miner.Deadlines[dl].Partitions[0], f.vm.Epoch, f.st.Actors[1000].Miner.DeadlineInfo(p, f.vm.Epoch))
	}
	// Declare recovery well before the next window, then prove it.
	next := (&minerCall{vm: f.vm, m: f.st.Actors[1000].Miner}).declarationDeadline(dl)
	for f.vm.Epoch > int64(next.FaultCutoff) {
		t.Fatalf("test setup: past the fault cutoff")
	}
	bf, _ := bitfield.NewFromSet([]uint64{1})
	rec := &miner.DeclareFaultsRecoveredParams{Recoveries: []miner.RecoveryDeclaration{{Deadline: dl, Partition: 0, Sectors: bf}}}
	if r := f.apply(t, f.worker, miner.MethodDeclareFaultsRecovered, rec, types.Zero()); r.Receipt.ExitCode != 0 {
		t.Fatal(r.Error)
	}
	if !setHas(f.st.Actors[1000].Miner.Deadlines[dl].Partitions[0].Recoveries, 1) {
		t.Fatal("recovery not recorded")
	}
	for f.vm.Epoch < int64(next.Open)+2 {
		f.vm.EndOfEpoch(f.st)
		f.vm.Epoch++
	}
	commit, _ = fakeEnv{}.TicketRandomness(rand.TagPoStChainCommit, f.vm.Epoch-1, nil)
	if r := f.apply(t, f.worker, miner.MethodSubmitWindowedPoSt, post(dl, "ok", f.vm.Epoch-1), types.Zero()); r.Receipt.ExitCode != 0 {
		t.Fatal(r.Error)
	}
	if len(f.st.Actors[1000].Miner.Deadlines[dl].Partitions[0].Faults) != 0 || f.st.Actors[1000].Miner.ActivePower() != 2048 {
		t.Fatal("recovered sector still faulty")
	}
}

func TestWithdraw(t *testing.T) {
	f := newFixture(t)
	f.st.Actors[1000].Balance = types.FromFil(5)
	f.st.Actors[1000].Miner.InitialPledge = types.FromFil(2)
	f.st.Actors[0].Balance = f.st.Actors[0].Balance.Sub(types.FromFil(5)) // keep the supply constant
	if r := f.apply(t, f.worker, miner.MethodWithdrawBalance, &miner.WithdrawBalanceParams{AmountRequested: miner.TokenAmount(types.FromFil(1))}, types.Zero()); r.Receipt.ExitCode != types.ErrForbidden {
		t.Fatalf("worker: %v", r.Receipt.ExitCode)
	}
	if r := f.apply(t, f.owner, miner.MethodWithdrawBalance, &miner.WithdrawBalanceParams{AmountRequested: miner.TokenAmount(types.NewInt(-1))}, types.Zero()); r.Receipt.ExitCode != types.ErrIllegalArgument {
		t.Fatalf("negative: %v", r.Receipt.ExitCode)
	}
	r := f.apply(t, f.owner, miner.MethodWithdrawBalance, &miner.WithdrawBalanceParams{AmountRequested: miner.TokenAmount(types.FromFil(10))}, types.Zero())
	var got types.BigInt
	if err := got.UnmarshalCBOR(bytes.NewReader(r.Receipt.Return)); err != nil || got.Cmp(types.FromFil(3)) != 0 {
		t.Fatalf("withdrew %v (%v), want 3 FIL", got, err)
	}
}

func TestDeadlineInfo(t *testing.T) {
	p := DefaultPolicy()
	m := &MinerState{ProvingPeriodOffset: 100}
	for _, e := range []int64{0, 99, 100, 101, 959, 1060, 5000} {
		di := m.DeadlineInfo(p, e)
		if e < int64(di.Open) || e >= int64(di.Close) || int64(di.Close-di.Open) != p.WPoStChallengeWindow {
			t.Fatalf("epoch %d outside its deadline %+v", e, di)
		}
		if (int64(di.PeriodStart)-100)%p.ProvingPeriod() != 0 || di.Index >= p.WPoStPeriodDeadlines {
			t.Fatalf("epoch %d: bad period start/index %+v", e, di)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	f := newFixture(t)
	f.apply(t, f.worker, miner.MethodPreCommitSectorBatch2, &miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{f.pci(1)}}, types.FromFil(1))
	a, _ := f.st.Encode()
	c := f.st.Clone()
	b, _ := c.Encode()
	if !bytes.Equal(a, b) || !Root(a).Equals(Root(b)) {
		t.Fatal("clone changed the state encoding")
	}
}

func TestPolicyFormulas(t *testing.T) {
	p := DefaultPolicy()
	// deposit = 20 FIL × 10·2048 × 57600 / 2^50
	want := types.FromFil(20).Mul(types.NewInt(10 * 2048 * 57600)).Div(types.NewInt(1 << 50))
	if got := p.PreCommitDeposit(2048, types.Zero()); got.Cmp(want) != 0 {
		t.Fatalf("deposit %s, want %s", got, want)
	}
	ip := p.InitialPledge(2048, types.Zero())
	cons := p.CirculatingSupply.Mul(types.NewInt(3 * 2048)).Div(types.NewInt(10 << 50))
	if ip.Cmp(want.Div(types.NewInt(10)).Add(cons)) != 0 {
		t.Fatalf("pledge %s", ip)
	}
}

func TestWindowPoStProofEncoding(t *testing.T) {
	parts := [][]byte{[]byte("a"), {}, bytes.Repeat([]byte{7}, 300)}
	got, err := DecodeWindowPoStProof(EncodeWindowPoStProof(parts))
	if err != nil || len(got) != 3 || !bytes.Equal(got[2], parts[2]) || len(got[1]) != 0 {
		t.Fatalf("round trip %v %v", got, err)
	}
	for _, bad := range [][]byte{{1}, {5, 0, 0, 0, 1}} {
		if _, err := DecodeWindowPoStProof(bad); err == nil {
			t.Fatalf("accepted %x", bad)
		}
	}
}

func FuzzDecodeWindowPoStProof(f *testing.F) {
	f.Add(EncodeWindowPoStProof([][]byte{[]byte("xy")}))
	f.Add([]byte{255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, err := DecodeWindowPoStProof(b)
		if err == nil && !bytes.Equal(EncodeWindowPoStProof(parts), b) {
			t.Fatal("decode/encode mismatch")
		}
	})
}

func FuzzApplyMinerParams(f *testing.F) {
	for _, m := range []types.MethodNum{5, 11, 16, 28, 34} {
		f.Add(uint64(m), []byte{0x81, 0x80})
	}
	f.Fuzz(func(t *testing.T, method uint64, params []byte) {
		fx := newFixture(t)
		msg := &types.Message{To: fx.maddr, From: fx.worker, Value: types.Zero(), GasLimit: 1e9,
			GasFeeCap: types.NewInt(200), GasPremium: types.NewInt(1), Method: types.MethodNum(method % 40), Params: params}
		before := fx.st.TotalBalance()
		fx.vm.Apply(fx.st, msg, len(params)+100)
		if fx.st.TotalBalance().Cmp(before) != 0 {
			t.Fatal("balance not conserved")
		}
	})
}

func BenchmarkApplySend(b *testing.B) {
	t := &testing.T{}
	f := newFixture(t)
	msg := &types.Message{To: f.other, From: f.owner, Value: types.NewInt(1), GasLimit: 1e6, GasFeeCap: types.NewInt(200), GasPremium: types.NewInt(1)}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		msg.Nonce = uint64(i)
		if r := f.vm.Apply(f.st, msg, 100); r.Receipt.ExitCode != 0 {
			b.Fatal(r.Error)
		}
	}
}

func FuzzProofEngine(f *testing.F) {
	f.Add([]byte("SLNTC1v1"), []byte("SLNTPOv1"))
	f.Add(make([]byte, 192), []byte{4, 0, 0, 0, 1, 2, 3, 4})
	unsealed, _ := zeroCommD(2048)
	f.Fuzz(func(t *testing.T, seal, wpost []byte) {
		err := ProofEngine{}.VerifySeal(SealVerifyInfo{SealProof: miner.RegisteredSealProofStackedDrg2KiBV1_1, Miner: 1000, Sector: 1,
			SealedCID: sealed(1), UnsealedCID: unsealed, Proof: seal})
		if err == nil {
			t.Fatal("random bytes verified as a seal proof")
		}
		err = ProofEngine{}.VerifyWindowPoSt(WindowPoStVerifyInfo{Proof: miner.RegisteredPoStProofStackedDrgWindow2KiBV1_1, Miner: 1000,
			Sectors: []PoStSector{{Number: 1, SealedCID: sealed(1)}}, ProofBytes: wpost})
		if err == nil {
			t.Fatal("random bytes verified as a window post")
		}
	})
}

func TestGroth16Rejected(t *testing.T) {
	unsealed, _ := zeroCommD(2048)
	err := ProofEngine{}.VerifySeal(SealVerifyInfo{SealProof: miner.RegisteredSealProofStackedDrg2KiBV1_1, Miner: 1000, Sector: 1,
		SealedCID: sealed(1), UnsealedCID: unsealed, Proof: make([]byte, 192)})
	if !errors.Is(err, ErrGroth16) {
		t.Fatalf("groth16-sized proof: %v", err)
	}
}

// TestSpecParamVectors feeds the spec's hand-checked CBOR params
// (testdata/message-params.json, from shared/vectors/message.json) to the
// actor exactly as they would arrive on chain.
func TestSpecParamVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/message-params.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Params map[string]struct{ CBOR string } `json:"params"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	param := func(name string) []byte {
		b, err := hex.DecodeString(v.Params[name].CBOR)
		if err != nil || len(b) == 0 {
			t.Fatalf("vector %s: %v", name, err)
		}
		return b
	}
	p := DefaultPolicy()
	st := New()
	owner, worker := key(t, 1, types.SigTypeSecp256k1), key(t, 2, types.SigTypeBLS)
	st.CreateAccount(owner, types.FromFil(10_000))
	st.CreateAccount(worker, types.FromFil(10_000))
	m, err := st.CreateMiner(p, owner, worker, nil, miner.RegisteredSealProofStackedDrg2KiBV1_1+3 /* 32GiB */, types.Zero(), "")
	if err != nil {
		t.Fatal(err)
	}
	vm := &VM{Policy: p, Env: fakeEnv{}, Verifier: ProofEngine{}, Epoch: 2000}
	send := func(nonce uint64, method types.MethodNum, params []byte) Result {
		return vm.Apply(st, &types.Message{To: IDAddr(m.ID), From: worker, Nonce: nonce, Value: types.FromFil(1000), GasLimit: 1e9,
			GasFeeCap: types.NewInt(200), GasPremium: types.NewInt(1), Method: method, Params: params}, len(params)+150)
	}
	if r := send(0, miner.MethodPreCommitSectorBatch2, param("PreCommitSectorBatch2_cc_32GiB")); r.Receipt.ExitCode != 0 {
		t.Fatalf("pre-commit vector: %v %s", r.Receipt.ExitCode, r.Error)
	}
	pc := st.Actors[m.ID].Miner.PreCommits[1]
	if pc == nil || pc.Info.SealRandEpoch != 100 || pc.Info.Expiration != 1_000_000 || pc.Info.UnsealedCid != nil || pc.PreCommitEpoch != 2000 {
		t.Fatalf("stored pre-commit %+v", pc)
	}
	if d, _ := miner.CommR(pc.Info.SealedCID); d[0] != 0 || d[31] != 0x1f {
		t.Fatalf("CommR digest %x", d)
	}
	vm.Epoch += p.PreCommitChallengeDelay + 1
	// "deadbeef" is neither a devnet proof nor a Groth16 proof.
	r := send(1, miner.MethodProveCommitSectors3, param("ProveCommitSectors3_single"))
	if r.Receipt.ExitCode != types.ErrIllegalArgument || !strings.Contains(r.Error, "not a devnet proof") {
		t.Fatalf("prove-commit vector: %v %s", r.Receipt.ExitCode, r.Error)
	}
}
