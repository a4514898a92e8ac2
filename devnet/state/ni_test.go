package state

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/sealant/sealant/chain/address"

	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/proofs/porep"
)

// mutableDeadline is a deadline ProveCommitSectorsNI may target now: two
// after the current one.
func (f *fixture) mutableDeadline() uint64 {
	m := f.st.Actors[1000].Miner
	return (m.DeadlineInfo(f.vm.Policy, f.vm.Epoch).Index + 2) % f.vm.Policy.WPoStPeriodDeadlines
}

func (f *fixture) niInfo(n uint64) miner.SectorNIActivationInfo {
	return miner.SectorNIActivationInfo{SealingNumber: miner.SectorNumber(n), SealerID: 1000, SealedCID: sealed(byte(n)), SectorNumber: miner.SectorNumber(n),
		SealRandEpoch: types.ChainEpoch(f.vm.Epoch - 50),
		Expiration:    types.ChainEpoch(f.vm.Epoch + f.vm.Policy.MinSectorExpiration + 100)}
}

func (f *fixture) niParams(infos []miner.SectorNIActivationInfo, proofs []string, require bool) *miner.ProveCommitSectorsNIParams {
	var ps [][]byte
	for _, p := range proofs {
		ps = append(ps, []byte(p))
	}
	return &miner.ProveCommitSectorsNIParams{Sectors: infos, AggregateProof: c2.EncodeDevnetAggregate(ps),
		SealProofType: miner.RegisteredSealProofStackedDrg2KiBV1_2_Feat_NiPoRep, AggregateProofType: miner.RegisteredAggregationProofSnarkPackV2,
		ProvingDeadline: f.mutableDeadline(), RequireActivationSuccess: require}
}

// TestProveCommitSectorsNI checks method 36's validation order and exit
// codes against builtin-actors prove_commit_sectors_ni (see ni.go).
func TestProveCommitSectorsNI(t *testing.T) {
	type tc struct {
		name    string
		params  func(f *fixture) *miner.ProveCommitSectorsNIParams
		from    int
		value   types.BigInt
		want    types.ExitCode
		success uint64
		fails   []miner.FailCode
	}
	two := func(f *fixture) []miner.SectorNIActivationInfo {
		return []miner.SectorNIActivationInfo{f.niInfo(1), f.niInfo(2)}
	}
	tooOld := func(f *fixture, i miner.SectorNIActivationInfo) miner.SectorNIActivationInfo {
		i.SealRandEpoch = types.ChainEpoch(f.vm.Epoch - f.vm.Policy.MaxProveCommitNIRandomnessLookback - 1)
		return i
	}
	fil := types.FromFil(1)
	tests := []tc{
		{name: "batch ok", params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			return f.niParams(two(f), []string{"ok", "ok"}, true)
		}, want: types.Ok, success: 2},
		{name: "ticket too old, strict", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			return f.niParams([]miner.SectorNIActivationInfo{tooOld(f, f.niInfo(1)), f.niInfo(2)}, []string{"ok", "ok"}, true)
		}},
		{name: "ticket too old, lenient", want: types.Ok, success: 1, fails: []miner.FailCode{{Idx: 0, Code: types.ErrIllegalArgument}},
			params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
				return f.niParams([]miner.SectorNIActivationInfo{tooOld(f, f.niInfo(1)), f.niInfo(2)}, []string{"ok", "ok"}, false)
			}},
		{name: "every ticket too old", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			return f.niParams([]miner.SectorNIActivationInfo{tooOld(f, f.niInfo(1))}, []string{"ok"}, false)
		}},
		{name: "ticket from the future", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			i := f.niInfo(1)
			i.SealRandEpoch = types.ChainEpoch(f.vm.Epoch)
			return f.niParams([]miner.SectorNIActivationInfo{i}, []string{"ok"}, false)
		}},
		{name: "tampered proof", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			return f.niParams(two(f), []string{"ok", "bad"}, false)
		}},
		{name: "proof count mismatch", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			return f.niParams(two(f), []string{"ok"}, false)
		}},
		{name: "not a devnet aggregate", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			p := f.niParams(two(f), []string{"ok", "ok"}, false)
			p.AggregateProof = make([]byte, 192)
			return p
		}},
		{name: "interactive proof type", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			p := f.niParams(two(f), []string{"ok", "ok"}, true)
			p.SealProofType = miner.RegisteredSealProofStackedDrg2KiBV1_1
			return p
		}},
		{name: "synthetic proof type", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			p := f.niParams(two(f), []string{"ok", "ok"}, true)
			p.SealProofType = miner.RegisteredSealProofStackedDrg2KiBV1_1_Feat_SyntheticPoRep
			return p
		}},
		{name: "SnarkPackV1", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			p := f.niParams(two(f), []string{"ok", "ok"}, true)
			p.AggregateProofType = miner.RegisteredAggregationProofSnarkPackV1
			return p
		}},
		{name: "duplicate sector number", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			return f.niParams([]miner.SectorNIActivationInfo{f.niInfo(1), f.niInfo(1)}, []string{"ok", "ok"}, false)
		}},
		{name: "sealing number differs, lenient", want: types.Ok, success: 1, fails: []miner.FailCode{{Idx: 1, Code: types.ErrIllegalArgument}},
			params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
				i := f.niInfo(2)
				i.SealingNumber = 3
				return f.niParams([]miner.SectorNIActivationInfo{f.niInfo(1), i}, []string{"ok", "ok"}, false)
			}},
		{name: "other sealer, strict", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			i := f.niInfo(2)
			i.SealerID = 1001
			return f.niParams([]miner.SectorNIActivationInfo{f.niInfo(1), i}, []string{"ok", "ok"}, true)
		}},
		{name: "expiration too soon", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			i := f.niInfo(1)
			i.Expiration = types.ChainEpoch(f.vm.Epoch + 10)
			return f.niParams([]miner.SectorNIActivationInfo{i}, []string{"ok"}, true)
		}},
		{name: "no sectors", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams { return f.niParams(nil, nil, false) }},
		{name: "66 sectors", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			var infos []miner.SectorNIActivationInfo
			var proofs []string
			f.gasLimit = 5e9
			for n := range uint64(66) {
				infos, proofs = append(infos, f.niInfo(n)), append(proofs, "ok")
			}
			return f.niParams(infos, proofs, false)
		}},
		{name: "stranger", from: 2, want: types.ErrForbidden, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			return f.niParams(two(f), []string{"ok", "ok"}, true)
		}},
		{name: "deadline out of range", want: types.ErrIllegalArgument, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			p := f.niParams(two(f), []string{"ok", "ok"}, true)
			p.ProvingDeadline = 48
			return p
		}},
		{name: "current deadline", want: types.ErrForbidden, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			p := f.niParams(two(f), []string{"ok", "ok"}, true)
			p.ProvingDeadline = (p.ProvingDeadline + 46) % 48
			return p
		}},
		{name: "next deadline", want: types.ErrForbidden, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			p := f.niParams(two(f), []string{"ok", "ok"}, true)
			p.ProvingDeadline = (p.ProvingDeadline + 47) % 48
			return p
		}},
		{name: "no pledge", value: types.Zero(), want: types.ErrInsufficientFunds, params: func(f *fixture) *miner.ProveCommitSectorsNIParams {
			return f.niParams(two(f), []string{"ok", "ok"}, true)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			value := fil
			if tc.value.Int != nil {
				value = tc.value
			}
			from := []address.Address{f.worker, f.owner, f.other}[tc.from]
			p := tc.params(f)
			r := f.apply(t, from, miner.MethodProveCommitSectorsNI, p, value)
			if r.Receipt.ExitCode != tc.want {
				t.Fatalf("exit %v (%s), want %v", r.Receipt.ExitCode, r.Error, tc.want)
			}
			m := f.st.Actors[1000].Miner
			if tc.want != types.Ok {
				if len(m.Sectors) != 0 || m.InitialPledge.Sign() != 0 || len(m.Allocated) != 0 {
					t.Fatal("failed NI prove-commit changed the miner")
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
			want := f.vm.Policy.InitialPledge(2048, types.Zero()).Mul(types.NewInt(int64(tc.success)))
			if uint64(len(m.Sectors)) != tc.success || m.InitialPledge.Cmp(want) != 0 || len(m.PreCommits) != 0 || m.PreCommitDeposits.Sign() != 0 {
				t.Fatalf("sectors %d, pledge %s (want %s), precommits %d", len(m.Sectors), m.InitialPledge, want, len(m.PreCommits))
			}
			// Every sector number given is allocated, valid or not.
			if len(m.Allocated) != len(p.Sectors) {
				t.Fatalf("allocated %v", m.Allocated)
			}
			dl := m.Deadlines[p.ProvingDeadline]
			live := 0
			for _, pt := range dl.Partitions {
				live += len(pt.Sectors)
			}
			if uint64(live) != tc.success {
				t.Fatalf("deadline %d holds %d sectors", p.ProvingDeadline, live)
			}
			for _, s := range m.Sectors {
				if s.SealProof != int64(miner.RegisteredSealProofStackedDrg2KiBV1_2_Feat_NiPoRep) || int64(s.Activation) != f.vm.Epoch {
					t.Fatalf("sector %+v", s)
				}
			}
			// The verifier saw every sector, with the ticket at its
			// SealRandEpoch, the CC CommD and the actor's fixed NI seed.
			ent, _ := rand.SealEntropyForID(1000)
			unsealed, _ := zeroCommD(2048)
			if len(f.ver.seals) != len(p.Sectors) {
				t.Fatalf("verifier saw %d sectors", len(f.ver.seals))
			}
			for i, in := range f.ver.seals {
				ticket, _ := fakeEnv{}.TicketRandomness(rand.TagSealRandomness, int64(p.Sectors[i].SealRandEpoch), ent)
				if in.Ticket != ticket || in.Seed != niSeed || in.Sector != uint64(p.Sectors[i].SealingNumber) || !in.UnsealedCID.Equals(unsealed) || in.Miner != 1000 {
					t.Fatalf("verifier input %d: %+v", i, in)
				}
			}
		})
	}
}

// TestNISectorNumberReuse: a number used by a pre-commit or an earlier NI
// commit is refused (allocate_sector_numbers, DenyCollisions).
func TestNISectorNumberReuse(t *testing.T) {
	f := newFixture(t)
	if r := f.apply(t, f.worker, miner.MethodPreCommitSectorBatch2, &miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{f.pci(7)}}, types.FromFil(1)); r.Receipt.ExitCode != 0 {
		t.Fatal(r.Error)
	}
	r := f.apply(t, f.worker, miner.MethodProveCommitSectorsNI, f.niParams([]miner.SectorNIActivationInfo{f.niInfo(7)}, []string{"ok"}, false), types.FromFil(1))
	if r.Receipt.ExitCode != types.ErrIllegalArgument {
		t.Fatalf("pre-committed number: exit %v (%s)", r.Receipt.ExitCode, r.Error)
	}
	if r := f.apply(t, f.worker, miner.MethodProveCommitSectorsNI, f.niParams([]miner.SectorNIActivationInfo{f.niInfo(8)}, []string{"ok"}, true), types.FromFil(1)); r.Receipt.ExitCode != 0 {
		t.Fatal(r.Error)
	}
	r = f.apply(t, f.worker, miner.MethodProveCommitSectorsNI, f.niParams([]miner.SectorNIActivationInfo{f.niInfo(9), f.niInfo(8)}, []string{"ok", "ok"}, false), types.FromFil(1))
	if r.Receipt.ExitCode != types.ErrIllegalArgument {
		t.Fatalf("NI-committed number: exit %v (%s)", r.Receipt.ExitCode, r.Error)
	}
	if _, ok := f.st.Actors[1000].Miner.Sectors[9]; ok {
		t.Fatal("aborted message activated sector 9")
	}
}

// TestProveCommitSectorsNIProofEngine proves a batch of two real NI 2KiB
// sectors on the devnet state with the proof engine as verifier: each
// sealed with the chain's ticket, C1 with --ni, the devnet C2 stand-in,
// aggregated; then a tampered aggregate is refused with 16.
func TestProveCommitSectorsNIProofEngine(t *testing.T) {
	f := newFixture(t)
	f.vm.Verifier = ProofEngine{}
	ent, _ := rand.SealEntropyForID(1000)
	var infos []miner.SectorNIActivationInfo
	var proofs [][]byte
	pc := t.TempDir()
	for n := uint64(1); n <= 3; n++ {
		info := f.niInfo(n)
		ticket, _ := fakeEnv{}.TicketRandomness(rand.TagSealRandomness, int64(info.SealRandEpoch), ent)
		dir := t.TempDir()
		rec, err := porep.Seal(context.Background(), porep.SealRequest{Proof: abi.StackedDrg2KiBV1_2_Feat_NiPoRep, Miner: 1000, Sector: n, Ticket: ticket, Dir: dir, ParentCacheDir: pc})
		if err != nil {
			t.Fatal(err)
		}
		out, err := porep.C1(context.Background(), dir, [32]byte{})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(out)
		proof, err := c2.Devnet.ProveC2(context.Background(), raw, 1000, n)
		if err != nil {
			t.Fatal(err)
		}
		info.SealedCID = miner.SealedCID(rec.CommR)
		infos, proofs = append(infos, info), append(proofs, proof)
	}
	params := func(ps [][]byte, infos []miner.SectorNIActivationInfo) *miner.ProveCommitSectorsNIParams {
		p := f.niParams(infos, nil, true)
		p.AggregateProof = c2.EncodeDevnetAggregate(ps)
		return p
	}
	// Tampered: one byte of sector 2's proof, or proofs swapped.
	bad := make([][]byte, 2)
	bad[0] = proofs[0]
	bad[1] = append([]byte(nil), proofs[1]...)
	bad[1][len(bad[1])/2] ^= 1
	if r := f.apply(t, f.worker, miner.MethodProveCommitSectorsNI, params(bad, infos[:2]), types.FromFil(1)); r.Receipt.ExitCode != types.ErrIllegalArgument {
		t.Fatalf("tampered proof: exit %v (%s)", r.Receipt.ExitCode, r.Error)
	}
	if r := f.apply(t, f.worker, miner.MethodProveCommitSectorsNI, params([][]byte{proofs[1], proofs[0]}, infos[:2]), types.FromFil(1)); r.Receipt.ExitCode != types.ErrIllegalArgument {
		t.Fatalf("swapped proofs: exit %v (%s)", r.Receipt.ExitCode, r.Error)
	}
	// Another ticket epoch than the one sealed with: the replica id differs.
	moved := append([]miner.SectorNIActivationInfo(nil), infos[:2]...)
	moved[0].SealRandEpoch--
	if r := f.apply(t, f.worker, miner.MethodProveCommitSectorsNI, params(proofs[:2], moved), types.FromFil(1)); r.Receipt.ExitCode != types.ErrIllegalArgument {
		t.Fatalf("wrong ticket epoch: exit %v (%s)", r.Receipt.ExitCode, r.Error)
	}
	r := f.apply(t, f.worker, miner.MethodProveCommitSectorsNI, params(proofs[:2], infos[:2]), types.FromFil(1))
	if r.Receipt.ExitCode != types.Ok {
		t.Fatalf("exit %v (%s)", r.Receipt.ExitCode, r.Error)
	}
	if len(f.st.Actors[1000].Miner.Sectors) != 2 {
		t.Fatal("sectors not active")
	}
	// Sector 2 again (with sector 3): number already allocated.
	if r := f.apply(t, f.worker, miner.MethodProveCommitSectorsNI, params([][]byte{proofs[2], proofs[1]}, []miner.SectorNIActivationInfo{infos[2], infos[1]}), types.FromFil(1)); r.Receipt.ExitCode != types.ErrIllegalArgument {
		t.Fatalf("reused number: exit %v (%s)", r.Receipt.ExitCode, r.Error)
	}
	if r := f.apply(t, f.worker, miner.MethodProveCommitSectorsNI, params(proofs[2:], infos[2:]), types.FromFil(1)); r.Receipt.ExitCode != types.Ok {
		t.Fatalf("sector 3: exit %v (%s)", r.Receipt.ExitCode, r.Error)
	}
}
