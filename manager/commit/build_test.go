package commit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/store"
)

// paramVectors reads the params vectors of shared/vectors/message.json
// (copied to testdata).
func paramVectors(t *testing.T) map[string][]byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/message.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Params map[string]struct {
			CBOR string `json:"cbor"`
		} `json:"params"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for k, p := range v.Params {
		b, err := hex.DecodeString(p.CBOR)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

// TestPreCommitParamsVector builds the vector's sector from store data:
// a CC sector has DealIDs [] and a null UnsealedCid.
func TestPreCommitParamsVector(t *testing.T) {
	want := paramVectors(t)["PreCommitSectorBatch2_cc_32GiB"]
	commR := make([]byte, 32)
	for i := range commR {
		commR[i] = byte(i)
	}
	d := sectorData{Sector: store.Sector{ID: store.SectorID{Miner: 1000, Number: 1}, ProofType: abi.StackedDrg32GiBV1_1,
		CommR: commR, CommD: bytes.Repeat([]byte{0xdd}, 32), Ticket: &store.Ticket{Epoch: 100}}}
	info, err := preCommitInfo(d, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	got, err := miner.EncodeParams(&miner.PreCommitSectorBatchParams2{Sectors: []miner.SectorPreCommitInfo{info}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("params\n got %x\nwant %x", got, want)
	}
	// Missing data is an error, not a malformed message.
	bad := d
	bad.Sector.CommR = commR[:31]
	if _, err := preCommitInfo(bad, 1); err == nil {
		t.Fatal("short comm_r accepted")
	}
	bad = d
	bad.Sector.Ticket = nil
	if _, err := preCommitInfo(bad, 1); err == nil {
		t.Fatal("missing ticket accepted")
	}
}

// TestProveParamsVector: the vector has RequireActivationSuccess true and
// RequireNotificationSuccess false; the pipeline sends the opposite (good
// sectors activate even if one fails; deal notifications must succeed), so
// its encoding differs from the vector in exactly those two bytes.
func TestProveParamsVector(t *testing.T) {
	want := paramVectors(t)["ProveCommitSectors3_single"]
	d := sectorData{Sector: store.Sector{ID: store.SectorID{Miner: 1000, Number: 1}}, Proof: []byte{0xde, 0xad, 0xbe, 0xef}}
	p, err := proveParams([]sectorData{d})
	if err != nil {
		t.Fatal(err)
	}
	ours, err := miner.EncodeParams(p)
	if err != nil {
		t.Fatal(err)
	}
	p.RequireActivationSuccess, p.RequireNotificationSuccess = true, false
	got, err := miner.EncodeParams(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("params\n got %x\nwant %x", got, want)
	}
	n := len(want)
	if !bytes.Equal(ours[:n-2], want[:n-2]) || ours[n-2] != 0xf4 || ours[n-1] != 0xf5 {
		t.Fatalf("pipeline flags: %x", ours)
	}
	if _, err := proveParams([]sectorData{{Sector: d.Sector}}); err == nil {
		t.Fatal("sector without proof accepted")
	}
}

// TestDataSectorParams: a sector with pieces pre-commits its CommD and
// activates its pieces; a deal piece notifies the market actor with the
// deal id as a CBOR unsigned integer.
func TestDataSectorParams(t *testing.T) {
	var cd [32]byte
	cd[0] = 7
	piece := miner.UnsealedCID(cd).String()
	d := sectorData{
		Sector: store.Sector{ID: store.SectorID{Miner: 1000, Number: 9}, ProofType: abi.StackedDrg2KiBV1_1,
			CommR: comm(9, 0xaa), CommD: cd[:], Ticket: &store.Ticket{Epoch: 10}},
		Pieces: []store.Piece{{CID: piece, Size: 1024, DealID: 1000}, {CID: piece, Size: 1024}},
		Proof:  []byte{1},
	}
	info, err := preCommitInfo(d, 99)
	if err != nil {
		t.Fatal(err)
	}
	if info.UnsealedCid == nil || info.UnsealedCid.String() != piece {
		t.Fatalf("unsealed cid %v", info.UnsealedCid)
	}
	p, err := proveParams([]sectorData{d})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := miner.EncodeParams(p)
	back, err := miner.DecodeParams(miner.MethodProveCommitSectors3, raw)
	if err != nil {
		t.Fatal(err)
	}
	pieces := back.(*miner.ProveCommitSectors3Params).SectorActivations[0].Pieces
	if len(pieces) != 2 || pieces[0].Size != 1024 || len(pieces[0].Notify) != 1 || len(pieces[1].Notify) != 0 {
		t.Fatalf("pieces %+v", pieces)
	}
	if n := pieces[0].Notify[0]; n.Address != marketActor || !bytes.Equal(n.Payload, []byte{0x19, 0x03, 0xe8}) {
		t.Fatalf("notification %+v", n)
	}
	bad := d
	bad.Pieces = []store.Piece{{CID: "bafy-not-a-cid", Size: 1024}}
	if _, err := proveParams([]sectorData{bad}); err == nil {
		t.Fatal("bad piece cid accepted")
	}
	bad.Pieces = []store.Piece{{CID: miner.SealedCID(cd).String(), Size: 1024}}
	if _, err := proveParams([]sectorData{bad}); err == nil {
		t.Fatal("sealed cid accepted as a piece cid")
	}
}
