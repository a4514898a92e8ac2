package state

import (
	"fmt"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/fr32"
)

// EndOfEpoch runs the devnet's cron after the messages of epoch have been
// applied: for every miner whose current deadline closes with this epoch,
// partitions that were not proven get their sectors marked faulty (and
// pending recoveries dropped), as builtin-actors' handle_proving_deadline
// does; pre-commits past their prove-commit deadline plus the clean-up delay
// are removed and their deposits burnt. Fault fees are not charged on the
// devnet (documented simplification).
func (vm *VM) EndOfEpoch(st *State) {
	p := vm.Policy
	for _, id := range st.SortedIDs() {
		a := st.Actors[id]
		if a.Miner == nil {
			continue
		}
		m := a.Miner
		dl := m.DeadlineInfo(p, vm.Epoch)
		if int64(dl.Close)-1 == vm.Epoch {
			d := m.Deadlines[dl.Index]
			for i, pt := range d.Partitions {
				if !setHas(d.Proven, uint64(i)) {
					pt.Faults = setAdd(pt.Faults, pt.Sectors...)
					pt.Recoveries = nil
				}
			}
			d.Proven = nil
		}
		for _, n := range sortedKeys(m.PreCommits) {
			pc := m.PreCommits[n]
			if vm.Epoch > int64(pc.PreCommitEpoch)+p.MaxProveCommitDuration+p.ExpiredPreCommitCleanUpDelay {
				m.PreCommitDeposits = m.PreCommitDeposits.Sub(pc.PreCommitDeposit)
				transfer(a, st.Actors[BurntFundsActorID], pc.PreCommitDeposit)
				delete(m.PreCommits, n)
			}
		}
	}
}

func sortedKeys[V any](m map[uint64]V) []uint64 {
	ks := make([]uint64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return setFrom(ks)
}

// CreateMiner adds a miner actor (genesis only: on mainnet miners are created
// through the power actor). owner, worker and control are account addresses.
func (st *State) CreateMiner(p Policy, owner, worker address.Address, control []address.Address, sp miner.RegisteredSealProof, balance types.BigInt, peerID string) (*Actor, error) {
	ids := func(a address.Address) (uint64, error) {
		act, err := st.Lookup(a)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrGenesis, err)
		}
		if act.Code != CodeAccount {
			return 0, fmt.Errorf("%w: %s is not an account", ErrGenesis, a)
		}
		return act.ID, nil
	}
	o, err := ids(owner)
	if err != nil {
		return nil, err
	}
	w, err := ids(worker)
	if err != nil {
		return nil, err
	}
	// builtin-actors resolve_worker_address: the worker must be an account
	// with a BLS key (it signs blocks and VRFs alongside).
	if k, _ := st.AccountKey(IDAddr(w)); k.Protocol() != address.BLS {
		return nil, fmt.Errorf("%w: worker %s must be an account with a BLS (f3) key", ErrGenesis, worker)
	}
	var ctl []uint64
	for _, c := range control {
		id, err := ids(c)
		if err != nil {
			return nil, err
		}
		ctl = append(ctl, id)
	}
	id := st.NextMinerID
	for st.Actors[id] != nil {
		id++
	}
	st.NextMinerID = id + 1
	ms, err := NewMinerState(p, id, o, w, ctl, sp)
	if err != nil {
		return nil, err
	}
	ms.PeerID = peerID
	a := &Actor{ID: id, Code: CodeMiner, Balance: nz(balance), Miner: ms}
	st.Actors[id] = a
	return a, nil
}

func zeroCommitment(size uint64) ([32]byte, error) {
	return commp.ZeroCommitment(fr32.PaddedPieceSize(size))
}
