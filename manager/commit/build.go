package commit

import (
	"bytes"
	"fmt"

	"github.com/ipfs/go-cid"
	cbg "github.com/whyrusleeping/cbor-gen"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// marketActor is the storage market (f05), notified when a deal's piece is
// activated.
var marketActor = address.NewIDAddress(5)

// sectorData is what the store holds about one batch member.
type sectorData struct {
	Sector store.Sector
	Pieces []store.Piece
	Proof  []byte
}

// commR returns the sector's sealed CID (Undef if not submitted or malformed).
func (d sectorData) commR() cid.Cid {
	var r [32]byte
	if len(d.Sector.CommR) != len(r) {
		return cid.Undef
	}
	copy(r[:], d.Sector.CommR)
	return miner.SealedCID(r)
}

// preCommitInfo builds one SectorPreCommitInfo (spec/chain.md §4.4). DealIDs
// are always empty: deals are activated through ProveCommitSectors3 piece
// manifests (DDO), which rejects pre-commits carrying deal IDs. UnsealedCid
// is null for a committed-capacity sector (no pieces), as Lotus sends it.
func preCommitInfo(d sectorData, expiration types.ChainEpoch) (miner.SectorPreCommitInfo, error) {
	s := d.Sector
	sealed := d.commR()
	if !sealed.Defined() {
		return miner.SectorPreCommitInfo{}, fmt.Errorf("commit: sector %s: comm_r is %d bytes, want 32", s.ID, len(s.CommR))
	}
	if s.Ticket == nil {
		return miner.SectorPreCommitInfo{}, fmt.Errorf("commit: sector %s: no ticket", s.ID)
	}
	info := miner.SectorPreCommitInfo{
		SealProof:     miner.RegisteredSealProof(s.ProofType),
		SectorNumber:  miner.SectorNumber(s.ID.Number),
		SealedCID:     sealed,
		SealRandEpoch: types.ChainEpoch(s.Ticket.Epoch),
		DealIDs:       []miner.DealID{},
		Expiration:    expiration,
	}
	if len(d.Pieces) > 0 {
		if len(s.CommD) != 32 {
			return miner.SectorPreCommitInfo{}, fmt.Errorf("commit: sector %s: comm_d is %d bytes, want 32", s.ID, len(s.CommD))
		}
		var dd [32]byte
		copy(dd[:], s.CommD)
		u := miner.UnsealedCID(dd)
		info.UnsealedCid = &u
	}
	return info, nil
}

// activation builds one SectorActivationManifest (spec/chain.md §4.5,
// §8.6): the sector's pieces in order; a piece with a market deal asks the
// market actor to be notified with the deal id (CBOR unsigned integer).
func activation(d sectorData) (miner.SectorActivationManifest, error) {
	m := miner.SectorActivationManifest{SectorNumber: miner.SectorNumber(d.Sector.ID.Number), Pieces: []miner.PieceActivationManifest{}}
	for i, p := range d.Pieces {
		c, err := cid.Decode(p.CID)
		if err != nil {
			return m, fmt.Errorf("commit: sector %s piece %d: cid %q: %w", d.Sector.ID, i, p.CID, err)
		}
		if _, err := miner.CommD(c); err != nil {
			return m, fmt.Errorf("commit: sector %s piece %d: %w", d.Sector.ID, i, err)
		}
		pm := miner.PieceActivationManifest{CID: c, Size: miner.PaddedPieceSize(p.Size), Notify: []miner.DataActivationNotification{}}
		if p.DealID != 0 {
			var buf bytes.Buffer
			if err := types.CborWriteInt64(cbg.NewCborWriter(&buf), int64(p.DealID)); err != nil {
				return m, fmt.Errorf("commit: sector %s piece %d: %w", d.Sector.ID, i, err)
			}
			pm.Notify = append(pm.Notify, miner.DataActivationNotification{Address: marketActor, Payload: buf.Bytes()})
		}
		m.Pieces = append(m.Pieces, pm)
	}
	return m, nil
}

// proveParams builds ProveCommitSectors3 params with one proof per sector
// (no aggregate: see PolicyFor). RequireActivationSuccess is false so that
// good sectors activate even if one in the batch fails (its code comes back
// in the receipt's BatchReturn); the message itself fails only if none
// activates. RequireNotificationSuccess is true, as Lotus sends it: a deal
// the market refuses must not be activated silently.
func proveParams(ds []sectorData) (*miner.ProveCommitSectors3Params, error) {
	p := &miner.ProveCommitSectors3Params{RequireNotificationSuccess: true}
	for _, d := range ds {
		if len(d.Proof) == 0 {
			return nil, fmt.Errorf("commit: sector %s: no proof", d.Sector.ID)
		}
		a, err := activation(d)
		if err != nil {
			return nil, err
		}
		p.SectorActivations = append(p.SectorActivations, a)
		p.SectorProofs = append(p.SectorProofs, d.Proof)
	}
	return p, nil
}

// verifiedSize is the padded size of a sector's verified (FIL+) pieces.
// The store does not record allocations yet, so this is 0: pledge is
// computed as for unverified data, which over-estimates nothing (verified
// data only raises pledge), and the actor checks the real amount.
func verifiedSize(sectorData) uint64 { return 0 }

// newMessage is the unsigned message skeleton: nonce and gas are set later.
func newMessage(from address.Address, minerID uint64, method types.MethodNum, params []byte, value types.TokenAmount) *types.Message {
	return &types.Message{
		Version:    types.MessageVersion,
		To:         address.NewIDAddress(minerID),
		From:       from,
		Value:      value,
		GasFeeCap:  types.Zero(),
		GasPremium: types.Zero(),
		Method:     method,
		Params:     params,
	}
}
