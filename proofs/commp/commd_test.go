package commp

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/sealant/sealant/proofs/fr32"
)

// TestCommDMainnet reproduces the CommD of mainnet sector f01392893:139074
// from its deal pieces (go-commp-utils TestGenerateUnsealedCID), both with
// the explicit zero filler pieces of the upstream test and with the
// automatic fill of ComputeCommD.
func TestCommDMainnet(t *testing.T) {
	var f struct {
		SectorSize uint64 `json:"sector_size"`
		Pieces     []struct {
			CID  string
			Size uint64
		}
		CommD string
	}
	data, err := os.ReadFile("testdata/commd_mainnet.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	var pieces []PieceInfo
	for _, p := range f.Pieces {
		pieces = append(pieces, PieceInfo{Size: fr32.PaddedPieceSize(p.Size), Commitment: mustPieceCID(t, p.CID)})
	}
	z8, _ := ZeroCommitment(8 << 30)
	z16, _ := ZeroCommitment(16 << 30)
	explicit := append(append([]PieceInfo(nil), pieces...), PieceInfo{8 << 30, z8}, PieceInfo{16 << 30, z16})
	for name, ps := range map[string][]PieceInfo{"autofill": pieces, "explicit": explicit} {
		got, err := ComputeCommD(f.SectorSize, ps)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if PieceCID(got).String() != f.CommD {
			t.Errorf("%s: %s, want %s", name, PieceCID(got), f.CommD)
		}
	}
}

// TestCommDLayout checks ComputeCommD against the CommP of the sector bytes
// themselves, laid out by hand: each piece at the next multiple of its own
// size, zeros elsewhere. This pins down the alignment rule independently of
// the stack algorithm.
func TestCommDLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	piece := func(size int) ([]byte, PieceInfo) {
		raw := make([]byte, size/128*127)
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		comm, _ := naiveCommP(raw)
		padded := make([]byte, size)
		fr32.Pad(raw, padded)
		return padded, PieceInfo{Size: fr32.PaddedPieceSize(size), Commitment: comm}
	}
	tests := []struct {
		name   string
		sector int
		sizes  []int
	}{
		{"empty 2KiB", 2048, nil},
		{"one small", 2048, []int{128}},
		{"full", 2048, []int{2048}},
		{"align gap", 4096, []int{128, 512, 1024}},
		{"descending", 4096, []int{1024, 512, 256, 128}},
		{"ascending", 8192, []int{128, 256, 512, 1024, 2048}},
		{"repeat", 2048, []int{256, 256, 256, 128}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sector := make([]byte, tc.sector)
			var infos []PieceInfo
			off := 0
			for _, s := range tc.sizes {
				off = (off + s - 1) / s * s
				b, info := piece(s)
				copy(sector[off:], b)
				off += s
				infos = append(infos, info)
			}
			want := naiveTreeRoot(sector)
			got, err := ComputeCommD(uint64(tc.sector), infos)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("got %x, want %x", got, want)
			}
		})
	}
}

// naiveTreeRoot hashes already-padded bytes (a power of two) to the root.
func naiveTreeRoot(level []byte) [32]byte {
	level = bytes.Clone(level)
	for len(level) > 32 {
		next := make([]byte, len(level)/2)
		for i := 0; i < len(level)/64; i++ {
			h := HashPair([32]byte(level[64*i:]), [32]byte(level[64*i+32:]))
			copy(next[32*i:], h[:])
		}
		level = next
	}
	return [32]byte(level)
}

func TestCommDEmptySectors(t *testing.T) {
	tests := []struct {
		sector uint64
		want   string
	}{
		// rust-fil-proofs tests/pieces.rs test_compute_comm_d_empty
		{128, "3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333"},
		{2048, "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833"},
		{32 << 30, "077e5fde35c50a9303a55009e3498a4ebedff39c42b710b730d8ec7ac7afa63e"},
		{64 << 30, "e64005a6bfe3777953b8ad6ef93f0fca1049b2041654f2a411f7702799cece02"},
	}
	for _, tc := range tests {
		got, err := ComputeCommD(tc.sector, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got != mustHex32(t, tc.want) {
			t.Errorf("sector %d: %x, want %s", tc.sector, got, tc.want)
		}
	}
}

func TestCommDErrors(t *testing.T) {
	p := func(size uint64) PieceInfo { return PieceInfo{Size: fr32.PaddedPieceSize(size)} }
	tests := []struct {
		name   string
		sector uint64
		pieces []PieceInfo
		want   error
	}{
		{"sector not pow2", 3000, nil, ErrSectorSize},
		{"sector too small", 64, nil, ErrSectorSize},
		{"sector too large", 128 << 30, nil, ErrSectorSize},
		{"piece not pow2", 2048, []PieceInfo{p(384)}, fr32.ErrInvalidPieceSize},
		{"piece too small", 2048, []PieceInfo{p(64)}, fr32.ErrInvalidPieceSize},
		{"piece larger than sector", 2048, []PieceInfo{p(4096)}, ErrPiecesOverflow},
		{"sum overflow", 2048, []PieceInfo{p(1024), p(1024), p(128)}, ErrPiecesOverflow},
		// The sizes sum to 1664 ≤ 2048, but the 512-byte piece would start at
		// 2048 once the 1024-byte piece is aligned to 1024.
		{"alignment overflow", 2048, []PieceInfo{p(128), p(1024), p(512)}, ErrPiecesOverflow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ComputeCommD(tc.sector, tc.pieces); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
