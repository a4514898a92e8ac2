package post

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/porep"
)

func sealed2K(t *testing.T) (Sector, [32]byte) {
	t.Helper()
	ticket, _ := hex.DecodeString("c3a1ca12b981a8a59f9a4764edf3398edd239b2afa8ca2bbd57e0091ec193aa0")
	dir := t.TempDir()
	rec, err := porep.Seal(context.Background(), porep.SealRequest{
		Proof: abi.StackedDrg2KiBV1_1, Miner: 1002, Sector: 1, Ticket: [32]byte(ticket), Dir: dir, ParentCacheDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return Sector{Number: 1, SealedPath: porep.SealedPath(dir), CacheDir: porep.CachePath(dir)}, rec.CommR
}

func TestWindowPoStProveVerify(t *testing.T) {
	s, commR := sealed2K(t)
	proofs := []abi.RegisteredPoStProof{abi.StackedDrgWindow2KiBV1_1, abi.StackedDrgWindow2KiBV1, abi.StackedDrgWinning2KiBV1}
	rand := Randomness([32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 0xff})
	for _, pt := range proofs {
		t.Run(pt.String(), func(t *testing.T) {
			sp, err := Prove(context.Background(), pt, rand, 0, s)
			if err != nil {
				t.Fatal(err)
			}
			if len(sp.Openings) != pt.ChallengeCount() {
				t.Fatalf("%d openings", len(sp.Openings))
			}
			if err := Verify(pt, rand, 0, commR, sp); err != nil {
				t.Fatal(err)
			}
			enc := Encode(sp)
			back, err := Decode(pt, rand, 0, enc)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(pt, rand, 0, commR, back); err != nil {
				t.Fatalf("decoded: %v", err)
			}
			// Wrong CommR, other randomness, flipped bytes: rejected.
			bad := commR
			bad[0] ^= 1
			if err := Verify(pt, rand, 0, bad, sp); !errors.Is(err, ErrInvalidProof) {
				t.Errorf("wrong comm_r: %v", err)
			}
			other := rand
			other[0] ^= 1
			if d, err := Decode(pt, other, 0, enc); err == nil {
				if err := Verify(pt, other, 0, commR, d); err == nil {
					t.Errorf("other randomness accepted")
				}
			}
			for _, pos := range []int{10, 20, 50, 100, len(enc) / 2, len(enc) - 1} {
				b := append([]byte(nil), enc...)
				b[pos] ^= 0x10
				d, err := Decode(pt, rand, 0, b)
				if err == nil {
					err = Verify(pt, rand, 0, commR, d)
				}
				if err == nil {
					t.Errorf("flip at %d accepted", pos)
				}
			}
		})
	}
}

func TestLeafChallengesRange(t *testing.T) {
	var r [32]byte
	for i := range r {
		r[i] = byte(i)
	}
	for _, pt := range []abi.RegisteredPoStProof{abi.StackedDrgWindow32GiBV1_1, abi.StackedDrgWindow2KiBV1_1} {
		nodes := uint64(pt.SectorSize()) / 32
		cs := LeafChallenges(pt, r, 3, 77)
		if len(cs) != pt.ChallengeCount() {
			t.Fatal(len(cs))
		}
		for _, c := range cs {
			if c >= nodes {
				t.Fatalf("challenge %d ≥ %d", c, nodes)
			}
		}
	}
	// API 1.2 challenges do not depend on the sector's position; earlier
	// versions do.
	a := LeafChallenges(abi.StackedDrgWindow2KiBV1_1, r, 0, 5)
	b := LeafChallenges(abi.StackedDrgWindow2KiBV1_1, r, 4, 5)
	if a[0] != b[0] {
		t.Error("V1_1 window challenges depend on sector index")
	}
	c := LeafChallenges(abi.StackedDrgWindow2KiBV1, r, 4, 5)
	if a[0] == c[0] && a[1] == c[1] {
		t.Error("V1 window challenges ignore sector index")
	}
}
