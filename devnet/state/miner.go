package state

import (
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
)

// MinerState is a miner actor's state.
type MinerState struct {
	Owner   uint64
	Worker  uint64
	Control []uint64 `json:",omitempty"`
	PeerID  string   `json:",omitempty"`

	WindowPoStProof  int64 // RegisteredPoStProof
	SectorSize       uint64
	PartitionSectors uint64
	// ProvingPeriodOffset places this miner's proving periods: a period
	// starts at every epoch ≡ offset (mod proving period).
	ProvingPeriodOffset int64

	PreCommitDeposits types.BigInt
	InitialPledge     types.BigInt

	// Allocated holds every sector number ever pre-committed (never reusable).
	Allocated  []uint64
	PreCommits map[uint64]*lotus.SectorPreCommitOnChainInfo
	Sectors    map[uint64]*lotus.SectorOnChainInfo
	Deadlines  []*Deadline
}

// Deadline is one of a proving period's deadlines.
type Deadline struct {
	Partitions []*Partition
	// Proven lists partitions proven in the current challenge window.
	Proven []uint64 `json:",omitempty"`
}

// Partition is a group of at most PartitionSectors sectors proven together.
type Partition struct {
	Sectors    []uint64
	Faults     []uint64 `json:",omitempty"`
	Recoveries []uint64 `json:",omitempty"`
}

func (m *MinerState) fixNil() {
	if m.PreCommits == nil {
		m.PreCommits = map[uint64]*lotus.SectorPreCommitOnChainInfo{}
	}
	if m.Sectors == nil {
		m.Sectors = map[uint64]*lotus.SectorOnChainInfo{}
	}
	m.PreCommitDeposits = nz(m.PreCommitDeposits)
	m.InitialPledge = nz(m.InitialPledge)
}

// NewMinerState builds the state of a new miner for sectors of seal proof
// type sp (which fixes the sector size and WindowPoSt proof type).
func NewMinerState(p Policy, id, owner, worker uint64, control []uint64, sp miner.RegisteredSealProof) (*MinerState, error) {
	ap := abi.RegisteredSealProof(sp)
	if !ap.Valid() || ap.IsLegacy() {
		return nil, fmt.Errorf("%w: seal proof %d is not a V1_1 proof", ErrGenesis, sp)
	}
	wp := ap.WindowPoSt()
	m := &MinerState{
		Owner: owner, Worker: worker, Control: control,
		WindowPoStProof:  int64(wp),
		SectorSize:       uint64(ap.SectorSize()),
		PartitionSectors: uint64(wp.SectorCount()),
		// Deterministic offset from the ID (mainnet hashes the address).
		ProvingPeriodOffset: int64(id*7919) % p.ProvingPeriod(),
		Deadlines:           make([]*Deadline, p.WPoStPeriodDeadlines),
	}
	for i := range m.Deadlines {
		m.Deadlines[i] = &Deadline{}
	}
	m.fixNil()
	return m, nil
}

// Info returns the miner's info in StateMinerInfo form.
func (m *MinerState) Info() lotus.MinerInfo {
	ctl := make([]address.Address, 0, len(m.Control))
	for _, c := range m.Control {
		ctl = append(ctl, IDAddr(c))
	}
	var pid *string
	if m.PeerID != "" {
		p := m.PeerID
		pid = &p
	}
	return lotus.MinerInfo{
		// NewWorker is Undef ("<empty>" in JSON, as Lotus prints it):
		// the devnet has no pending worker change.
		Owner: IDAddr(m.Owner), Worker: IDAddr(m.Worker), NewWorker: address.Undef,
		ControlAddresses: ctl, WorkerChangeEpoch: -1, PeerId: pid, Multiaddrs: [][]byte{},
		WindowPoStProofType: m.WindowPoStProof, SectorSize: m.SectorSize,
		WindowPoStPartitionSectors: m.PartitionSectors, ConsensusFaultElapsed: -1,
		Beneficiary:     IDAddr(m.Owner),
		BeneficiaryTerm: &lotus.BeneficiaryTerm{Quota: types.Zero(), UsedQuota: types.Zero(), Expiration: 0},
	}
}

// Locked is the balance not available for withdrawal.
func (m *MinerState) Locked() types.BigInt { return m.PreCommitDeposits.Add(m.InitialPledge) }

// Available is balance − deposits − pledge (it may be negative).
func Available(a *Actor) types.BigInt { return nz(a.Balance).Sub(a.Miner.Locked()) }

// ActivePower is the raw power of the miner's non-faulty sectors.
func (m *MinerState) ActivePower() uint64 {
	var n uint64
	for _, dl := range m.Deadlines {
		for _, p := range dl.Partitions {
			n += uint64(len(p.Sectors)-len(p.Faults)) * m.SectorSize
		}
	}
	return n
}

// isControl reports whether id may send sealing messages (owner, worker or
// control: validate_immediate_caller_is(control ∪ {worker, owner})).
func (m *MinerState) isControl(id uint64) bool {
	if id == m.Owner || id == m.Worker {
		return true
	}
	for _, c := range m.Control {
		if c == id {
			return true
		}
	}
	return false
}

// DeadlineInfo computes the WindowPoSt deadline open at epoch (go-state-types
// dline.Info) for this miner.
func (m *MinerState) DeadlineInfo(p Policy, epoch int64) lotus.DeadlineInfo {
	period := p.ProvingPeriod()
	start := m.ProvingPeriodOffset + floorDiv(epoch-m.ProvingPeriodOffset, period)*period
	idx := uint64((epoch - start) / p.WPoStChallengeWindow)
	return p.deadlineAt(epoch, start, idx)
}

func (p Policy) deadlineAt(curr, periodStart int64, idx uint64) lotus.DeadlineInfo {
	open := periodStart + int64(idx)*p.WPoStChallengeWindow
	return lotus.DeadlineInfo{
		CurrentEpoch: types.ChainEpoch(curr), PeriodStart: types.ChainEpoch(periodStart), Index: idx,
		Open: types.ChainEpoch(open), Close: types.ChainEpoch(open + p.WPoStChallengeWindow),
		Challenge: types.ChainEpoch(open - p.WPoStChallengeLookback), FaultCutoff: types.ChainEpoch(open - p.FaultDeclarationCutoff),
		WPoStPeriodDeadlines: p.WPoStPeriodDeadlines, WPoStProvingPeriod: types.ChainEpoch(p.ProvingPeriod()),
		WPoStChallengeWindow: types.ChainEpoch(p.WPoStChallengeWindow), WPoStChallengeLookback: types.ChainEpoch(p.WPoStChallengeLookback),
		FaultDeclarationCutoff: types.ChainEpoch(p.FaultDeclarationCutoff),
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// PartitionsOf returns a deadline's partitions in StateMinerPartitions form.
func (m *MinerState) PartitionsOf(dlIdx uint64) ([]lotus.Partition, error) {
	if dlIdx >= uint64(len(m.Deadlines)) {
		return nil, fmt.Errorf("state: deadline %d out of range", dlIdx)
	}
	out := []lotus.Partition{}
	for i, p := range m.Deadlines[dlIdx].Partitions {
		// Sector numbers are validated against MaxSectorNumber when
		// pre-committed, so BitFieldFromSet cannot fail on stored state;
		// the error is still reported rather than assumed away.
		var err error
		bf := func(set []uint64) lotus.BitField {
			b, e := lotus.BitFieldFromSet(set)
			if err == nil {
				err = e
			}
			return b
		}
		lp := lotus.Partition{
			AllSectors: bf(p.Sectors), FaultySectors: bf(p.Faults), RecoveringSectors: bf(p.Recoveries),
			LiveSectors: bf(p.Sectors), ActiveSectors: bf(setMinus(p.Sectors, p.Faults)),
		}
		if err != nil {
			return nil, fmt.Errorf("state: deadline %d partition %d: %w", dlIdx, i, err)
		}
		out = append(out, lp)
	}
	return out, nil
}

// assignDeadline picks where a newly activated sector goes: the mutable
// deadline (neither the current nor the next one, as builtin-actors'
// deadline_is_mutable requires) with the fewest live sectors, lowest index
// first; the sector fills the last partition or opens a new one.
func (m *MinerState) assignDeadline(p Policy, curr int64, sector uint64) {
	cur := m.DeadlineInfo(p, curr).Index
	n := uint64(len(m.Deadlines))
	best, bestLive := uint64(0), -1
	for d := uint64(0); d < n; d++ {
		if d == cur || d == (cur+1)%n {
			continue
		}
		live := 0
		for _, pt := range m.Deadlines[d].Partitions {
			live += len(pt.Sectors)
		}
		if bestLive < 0 || live < bestLive {
			best, bestLive = d, live
		}
	}
	m.assignToDeadline(best, sector)
}

// assignToDeadline adds sector to deadline d: to its last partition, or a
// new one when that is full.
func (m *MinerState) assignToDeadline(d, sector uint64) {
	dl := m.Deadlines[d]
	if k := len(dl.Partitions); k == 0 || uint64(len(dl.Partitions[k-1].Sectors)) >= m.PartitionSectors {
		dl.Partitions = append(dl.Partitions, &Partition{})
	}
	pt := dl.Partitions[len(dl.Partitions)-1]
	pt.Sectors = setAdd(pt.Sectors, sector)
}

// zeroCommD returns the CommD CID of an empty (CC) sector of size bytes.
func zeroCommD(size uint64) (cid.Cid, error) {
	comm, err := zeroCommitment(size)
	if err != nil {
		return cid.Undef, err
	}
	return miner.UnsealedCID(comm), nil
}
