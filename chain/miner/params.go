package miner

import (
	"io"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/bitfield"
	"github.com/sealant/sealant/chain/types"
)

// maxBytes bounds byte-string fields (cbor-gen's default, 2 MiB).
const maxBytes = types.MaxParamsLen

// ---- PreCommitSectorBatch2 (method 28) ----

// SectorPreCommitInfo describes one sector being pre-committed (array(7)).
type SectorPreCommitInfo struct {
	SealProof     RegisteredSealProof
	SectorNumber  SectorNumber
	SealedCID     cid.Cid // CommR: fil-commitment-sealed / poseidon-bls12_381-a2-fc1
	SealRandEpoch types.ChainEpoch
	DealIDs       []DealID // legacy market deals; empty for CC and DDO sectors
	Expiration    types.ChainEpoch
	// UnsealedCid is CommD, or nil for a CC sector (the actor then uses the
	// zero-data CommD for the sector size).
	UnsealedCid *cid.Cid
}

// MarshalCBOR writes the 7-tuple.
func (p *SectorPreCommitInfo) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	p.encode(e)
	return e.err
}

func (p *SectorPreCommitInfo) encode(e *enc) {
	e.array(7)
	e.int(int64(p.SealProof))
	e.uint(p.SectorNumber)
	e.cid(p.SealedCID)
	e.int(int64(p.SealRandEpoch))
	e.uints(p.DealIDs)
	e.int(int64(p.Expiration))
	e.optCid(p.UnsealedCid)
}

// UnmarshalCBOR reads the 7-tuple.
func (p *SectorPreCommitInfo) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "SectorPreCommitInfo")
	var out SectorPreCommitInfo
	out.decode(d)
	if d.err == nil {
		*p = out
	}
	return d.err
}

func (p *SectorPreCommitInfo) decode(d *dec) {
	d.array(7, "")
	p.SealProof = RegisteredSealProof(d.int("SealProof"))
	p.SectorNumber = d.uint("SectorNumber")
	p.SealedCID = d.cid("SealedCID")
	p.SealRandEpoch = types.ChainEpoch(d.int("SealRandEpoch"))
	p.DealIDs = d.uints("DealIDs")
	p.Expiration = types.ChainEpoch(d.int("Expiration"))
	p.UnsealedCid = d.optCid("UnsealedCid")
}

// PreCommitSectorBatchParams2 are the params of PreCommitSectorBatch2 (28).
type PreCommitSectorBatchParams2 struct {
	Sectors []SectorPreCommitInfo
}

// MarshalCBOR writes [ [SectorPreCommitInfo…] ].
func (p *PreCommitSectorBatchParams2) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	e.array(1)
	e.array(len(p.Sectors))
	for i := range p.Sectors {
		p.Sectors[i].encode(e)
	}
	return e.err
}

// UnmarshalCBOR reads [ [SectorPreCommitInfo…] ].
func (p *PreCommitSectorBatchParams2) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "PreCommitSectorBatchParams2")
	d.array(1, "")
	sectors := list(d, "Sectors", func(s *SectorPreCommitInfo) { s.decode(d) })
	if d.err == nil {
		p.Sectors = sectors
	}
	return d.err
}

// ---- ProveCommitSectors3 (method 34) ----

// VerifiedAllocationKey names a verified-registry allocation (array(2)).
type VerifiedAllocationKey struct {
	Client types.ActorID
	ID     AllocationID
}

// DataActivationNotification asks the miner to notify an actor (typically
// the market, f05) when a piece is activated (array(2)).
type DataActivationNotification struct {
	Address address.Address
	Payload []byte
}

// PieceActivationManifest describes one data piece of a sector (array(4)).
type PieceActivationManifest struct {
	CID                   cid.Cid // piece CommP (fil-commitment-unsealed)
	Size                  PaddedPieceSize
	VerifiedAllocationKey *VerifiedAllocationKey
	Notify                []DataActivationNotification
}

// SectorActivationManifest lists a sector's pieces (array(2)); CC sectors
// have none.
type SectorActivationManifest struct {
	SectorNumber SectorNumber
	Pieces       []PieceActivationManifest
}

func (p *SectorActivationManifest) encode(e *enc) {
	e.array(2)
	e.uint(p.SectorNumber)
	e.array(len(p.Pieces))
	for i := range p.Pieces {
		pc := &p.Pieces[i]
		e.array(4)
		e.cid(pc.CID)
		e.uint(pc.Size)
		if pc.VerifiedAllocationKey == nil {
			e.null()
		} else {
			e.array(2)
			e.uint(uint64(pc.VerifiedAllocationKey.Client))
			e.uint(pc.VerifiedAllocationKey.ID)
		}
		e.array(len(pc.Notify))
		for j := range pc.Notify {
			n := &pc.Notify[j]
			e.array(2)
			e.value(&n.Address)
			e.bytes(n.Payload)
		}
	}
}

func (p *SectorActivationManifest) decode(d *dec) {
	d.array(2, "SectorActivationManifest")
	p.SectorNumber = d.uint("SectorNumber")
	p.Pieces = list(d, "Pieces", func(pc *PieceActivationManifest) {
		d.array(4, "PieceActivationManifest")
		pc.CID = d.cid("CID")
		pc.Size = d.uint("Size")
		if !d.null("VerifiedAllocationKey") {
			d.array(2, "VerifiedAllocationKey")
			k := &VerifiedAllocationKey{}
			k.Client = types.ActorID(d.uint("Client"))
			k.ID = d.uint("ID")
			pc.VerifiedAllocationKey = k
		}
		pc.Notify = list(d, "Notify", func(n *DataActivationNotification) {
			d.array(2, "DataActivationNotification")
			d.value(&n.Address, "Address")
			n.Payload = d.bytes(maxBytes, "Payload")
		})
	})
}

// ProveCommitSectors3Params are the params of ProveCommitSectors3 (34).
// Exactly one of SectorProofs (one per activation) and AggregateProof is
// non-empty; AggregateProofType is nil with per-sector proofs.
type ProveCommitSectors3Params struct {
	SectorActivations          []SectorActivationManifest
	SectorProofs               [][]byte
	AggregateProof             []byte
	AggregateProofType         *RegisteredAggregationProof
	RequireActivationSuccess   bool
	RequireNotificationSuccess bool
}

// MarshalCBOR writes the 6-tuple.
func (p *ProveCommitSectors3Params) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	e.array(6)
	e.array(len(p.SectorActivations))
	for i := range p.SectorActivations {
		p.SectorActivations[i].encode(e)
	}
	e.array(len(p.SectorProofs))
	for _, pr := range p.SectorProofs {
		e.bytes(pr)
	}
	e.bytes(p.AggregateProof)
	if p.AggregateProofType == nil {
		e.null()
	} else {
		e.int(int64(*p.AggregateProofType))
	}
	e.bool(p.RequireActivationSuccess)
	e.bool(p.RequireNotificationSuccess)
	return e.err
}

// UnmarshalCBOR reads the 6-tuple.
func (p *ProveCommitSectors3Params) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "ProveCommitSectors3Params")
	var out ProveCommitSectors3Params
	d.array(6, "")
	out.SectorActivations = list(d, "SectorActivations", func(s *SectorActivationManifest) { s.decode(d) })
	out.SectorProofs = list(d, "SectorProofs", func(b *[]byte) { *b = d.bytes(maxBytes, "SectorProofs") })
	out.AggregateProof = d.bytes(maxBytes, "AggregateProof")
	if !d.null("AggregateProofType") {
		t := RegisteredAggregationProof(d.int("AggregateProofType"))
		out.AggregateProofType = &t
	}
	out.RequireActivationSuccess = d.bool("RequireActivationSuccess")
	out.RequireNotificationSuccess = d.bool("RequireNotificationSuccess")
	if d.err == nil {
		*p = out
	}
	return d.err
}

// ---- ProveCommitSectorsNI (method 36) ----

// SectorNIActivationInfo describes one non-interactively sealed sector (array(6)).
type SectorNIActivationInfo struct {
	SealingNumber SectorNumber
	SealerID      types.ActorID
	SealedCID     cid.Cid
	SectorNumber  SectorNumber
	SealRandEpoch types.ChainEpoch
	Expiration    types.ChainEpoch
}

// ProveCommitSectorsNIParams are the params of ProveCommitSectorsNI (36).
type ProveCommitSectorsNIParams struct {
	Sectors                  []SectorNIActivationInfo
	AggregateProof           []byte
	SealProofType            RegisteredSealProof
	AggregateProofType       RegisteredAggregationProof
	ProvingDeadline          uint64
	RequireActivationSuccess bool
}

// MarshalCBOR writes the 6-tuple.
func (p *ProveCommitSectorsNIParams) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	e.array(6)
	e.array(len(p.Sectors))
	for _, s := range p.Sectors {
		e.array(6)
		e.uint(s.SealingNumber)
		e.uint(uint64(s.SealerID))
		e.cid(s.SealedCID)
		e.uint(s.SectorNumber)
		e.int(int64(s.SealRandEpoch))
		e.int(int64(s.Expiration))
	}
	e.bytes(p.AggregateProof)
	e.int(int64(p.SealProofType))
	e.int(int64(p.AggregateProofType))
	e.uint(p.ProvingDeadline)
	e.bool(p.RequireActivationSuccess)
	return e.err
}

// UnmarshalCBOR reads the 6-tuple.
func (p *ProveCommitSectorsNIParams) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "ProveCommitSectorsNIParams")
	var out ProveCommitSectorsNIParams
	d.array(6, "")
	out.Sectors = list(d, "Sectors", func(s *SectorNIActivationInfo) {
		d.array(6, "SectorNIActivationInfo")
		s.SealingNumber = d.uint("SealingNumber")
		s.SealerID = types.ActorID(d.uint("SealerID"))
		s.SealedCID = d.cid("SealedCID")
		s.SectorNumber = d.uint("SectorNumber")
		s.SealRandEpoch = types.ChainEpoch(d.int("SealRandEpoch"))
		s.Expiration = types.ChainEpoch(d.int("Expiration"))
	})
	out.AggregateProof = d.bytes(maxBytes, "AggregateProof")
	out.SealProofType = RegisteredSealProof(d.int("SealProofType"))
	out.AggregateProofType = RegisteredAggregationProof(d.int("AggregateProofType"))
	out.ProvingDeadline = d.uint("ProvingDeadline")
	out.RequireActivationSuccess = d.bool("RequireActivationSuccess")
	if d.err == nil {
		*p = out
	}
	return d.err
}

// ---- SubmitWindowedPoSt (method 5) ----

// PoStPartition is one partition being proven (array(2)).
type PoStPartition struct {
	Index uint64
	// Skipped are sectors that could not be proven and were not already
	// declared faulty; they become faulty.
	Skipped bitfield.BitField
}

// PoStProof is one proof per distinct PoSt proof type (array(2)).
type PoStProof struct {
	PoStProof  RegisteredPoStProof
	ProofBytes []byte
}

// SubmitWindowedPoStParams are the params of SubmitWindowedPoSt (5).
type SubmitWindowedPoStParams struct {
	Deadline         uint64
	Partitions       []PoStPartition
	Proofs           []PoStProof
	ChainCommitEpoch types.ChainEpoch
	ChainCommitRand  []byte
}

// MarshalCBOR writes the 5-tuple.
func (p *SubmitWindowedPoStParams) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	e.array(5)
	e.uint(p.Deadline)
	e.array(len(p.Partitions))
	for i := range p.Partitions {
		e.array(2)
		e.uint(p.Partitions[i].Index)
		e.value(&p.Partitions[i].Skipped)
	}
	e.array(len(p.Proofs))
	for _, pr := range p.Proofs {
		e.array(2)
		e.int(int64(pr.PoStProof))
		e.bytes(pr.ProofBytes)
	}
	e.int(int64(p.ChainCommitEpoch))
	e.bytes(p.ChainCommitRand)
	return e.err
}

// UnmarshalCBOR reads the 5-tuple.
func (p *SubmitWindowedPoStParams) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "SubmitWindowedPoStParams")
	var out SubmitWindowedPoStParams
	d.array(5, "")
	out.Deadline = d.uint("Deadline")
	out.Partitions = list(d, "Partitions", func(pp *PoStPartition) {
		d.array(2, "PoStPartition")
		pp.Index = d.uint("Index")
		d.value(&pp.Skipped, "Skipped")
	})
	out.Proofs = list(d, "Proofs", func(pr *PoStProof) {
		d.array(2, "PoStProof")
		pr.PoStProof = RegisteredPoStProof(d.int("PoStProof"))
		pr.ProofBytes = d.bytes(maxBytes, "ProofBytes")
	})
	out.ChainCommitEpoch = types.ChainEpoch(d.int("ChainCommitEpoch"))
	out.ChainCommitRand = d.bytes(maxBytes, "ChainCommitRand")
	if d.err == nil {
		*p = out
	}
	return d.err
}

// ---- DeclareFaultsRecovered (method 11) ----

// RecoveryDeclaration names sectors of one partition that are proven again
// (array(3)).
type RecoveryDeclaration struct {
	Deadline  uint64
	Partition uint64
	Sectors   bitfield.BitField
}

// DeclareFaultsRecoveredParams are the params of DeclareFaultsRecovered (11).
type DeclareFaultsRecoveredParams struct {
	Recoveries []RecoveryDeclaration
}

// MarshalCBOR writes [ [RecoveryDeclaration…] ].
func (p *DeclareFaultsRecoveredParams) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	e.array(1)
	e.array(len(p.Recoveries))
	for i := range p.Recoveries {
		rd := &p.Recoveries[i]
		e.array(3)
		e.uint(rd.Deadline)
		e.uint(rd.Partition)
		e.value(&rd.Sectors)
	}
	return e.err
}

// UnmarshalCBOR reads [ [RecoveryDeclaration…] ].
func (p *DeclareFaultsRecoveredParams) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "DeclareFaultsRecoveredParams")
	d.array(1, "")
	recs := list(d, "Recoveries", func(rd *RecoveryDeclaration) {
		d.array(3, "RecoveryDeclaration")
		rd.Deadline = d.uint("Deadline")
		rd.Partition = d.uint("Partition")
		d.value(&rd.Sectors, "Sectors")
	})
	if d.err == nil {
		p.Recoveries = recs
	}
	return d.err
}

// ---- WithdrawBalance (method 16) ----

// WithdrawBalanceParams are the params of WithdrawBalance (16); the actor
// pays out min(requested, available) to the beneficiary.
type WithdrawBalanceParams struct {
	AmountRequested types.TokenAmount
}

// MarshalCBOR writes [AmountRequested].
func (p *WithdrawBalanceParams) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	e.array(1)
	e.value(p.AmountRequested)
	return e.err
}

// UnmarshalCBOR reads [AmountRequested].
func (p *WithdrawBalanceParams) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "WithdrawBalanceParams")
	d.array(1, "")
	var amt types.TokenAmount
	d.value(&amt, "AmountRequested")
	if d.err == nil {
		p.AmountRequested = amt
	}
	return d.err
}

// ---- Legacy, decode-only: 6, 7, 25, 26 ----

// PreCommitSectorParams are the params of the removed PreCommitSector (6)
// and the elements of PreCommitSectorBatch (25) (array(10)).
type PreCommitSectorParams struct {
	SealProof              RegisteredSealProof
	SectorNumber           SectorNumber
	SealedCID              cid.Cid
	SealRandEpoch          types.ChainEpoch
	DealIDs                []DealID
	Expiration             types.ChainEpoch
	ReplaceCapacity        bool // deprecated
	ReplaceSectorDeadline  uint64
	ReplaceSectorPartition uint64
	ReplaceSectorNumber    SectorNumber
}

func (p *PreCommitSectorParams) decode(d *dec) {
	d.array(10, "PreCommitSectorParams")
	p.SealProof = RegisteredSealProof(d.int("SealProof"))
	p.SectorNumber = d.uint("SectorNumber")
	p.SealedCID = d.cid("SealedCID")
	p.SealRandEpoch = types.ChainEpoch(d.int("SealRandEpoch"))
	p.DealIDs = d.uints("DealIDs")
	p.Expiration = types.ChainEpoch(d.int("Expiration"))
	p.ReplaceCapacity = d.bool("ReplaceCapacity")
	p.ReplaceSectorDeadline = d.uint("ReplaceSectorDeadline")
	p.ReplaceSectorPartition = d.uint("ReplaceSectorPartition")
	p.ReplaceSectorNumber = d.uint("ReplaceSectorNumber")
}

func (p *PreCommitSectorParams) encode(e *enc) {
	e.array(10)
	e.int(int64(p.SealProof))
	e.uint(p.SectorNumber)
	e.cid(p.SealedCID)
	e.int(int64(p.SealRandEpoch))
	e.uints(p.DealIDs)
	e.int(int64(p.Expiration))
	e.bool(p.ReplaceCapacity)
	e.uint(p.ReplaceSectorDeadline)
	e.uint(p.ReplaceSectorPartition)
	e.uint(p.ReplaceSectorNumber)
}

// UnmarshalCBOR reads the 10-tuple.
func (p *PreCommitSectorParams) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "PreCommitSectorParams")
	var out PreCommitSectorParams
	out.decode(d)
	if d.err == nil {
		*p = out
	}
	return d.err
}

// MarshalCBOR writes the 10-tuple. It exists for tests and tooling; the
// method itself no longer exists on chain.
func (p *PreCommitSectorParams) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	p.encode(e)
	return e.err
}

// PreCommitSectorBatchParams are the params of the removed
// PreCommitSectorBatch (25).
type PreCommitSectorBatchParams struct {
	Sectors []PreCommitSectorParams
}

// UnmarshalCBOR reads [ [PreCommitSectorParams…] ].
func (p *PreCommitSectorBatchParams) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "PreCommitSectorBatchParams")
	d.array(1, "")
	s := list(d, "Sectors", func(x *PreCommitSectorParams) { x.decode(d) })
	if d.err == nil {
		p.Sectors = s
	}
	return d.err
}

// MarshalCBOR writes [ [PreCommitSectorParams…] ] (tests and tooling only).
func (p *PreCommitSectorBatchParams) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	e.array(1)
	e.array(len(p.Sectors))
	for i := range p.Sectors {
		p.Sectors[i].encode(e)
	}
	return e.err
}

// ProveCommitSectorParams are the params of the removed ProveCommitSector (7).
type ProveCommitSectorParams struct {
	SectorNumber SectorNumber
	Proof        []byte
}

// UnmarshalCBOR reads [SectorNumber, Proof].
func (p *ProveCommitSectorParams) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "ProveCommitSectorParams")
	d.array(2, "")
	n := d.uint("SectorNumber")
	proof := d.bytes(maxBytes, "Proof")
	if d.err == nil {
		p.SectorNumber, p.Proof = n, proof
	}
	return d.err
}

// MarshalCBOR writes [SectorNumber, Proof] (tests and tooling only).
func (p *ProveCommitSectorParams) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	e.array(2)
	e.uint(p.SectorNumber)
	e.bytes(p.Proof)
	return e.err
}

// ProveCommitAggregateParams are the params of the removed
// ProveCommitAggregate (26).
type ProveCommitAggregateParams struct {
	SectorNumbers  bitfield.BitField
	AggregateProof []byte
}

// UnmarshalCBOR reads [SectorNumbers, AggregateProof].
func (p *ProveCommitAggregateParams) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "ProveCommitAggregateParams")
	d.array(2, "")
	var bf bitfield.BitField
	d.value(&bf, "SectorNumbers")
	proof := d.bytes(maxBytes, "AggregateProof")
	if d.err == nil {
		p.SectorNumbers, p.AggregateProof = bf, proof
	}
	return d.err
}

// MarshalCBOR writes [SectorNumbers, AggregateProof] (tests and tooling only).
func (p *ProveCommitAggregateParams) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	e.array(2)
	e.value(&p.SectorNumbers)
	e.bytes(p.AggregateProof)
	return e.err
}
