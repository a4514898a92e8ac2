package commp_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	hashhash "github.com/filecoin-project/go-fil-commp-hashhash"

	"github.com/sealant/sealant/proofs/commp"
)

// TestCrossCheckHashhash compares Sealant's CommP with go-fil-commp-hashhash
// (the field's Go implementation, a test-only dependency) on random
// payloads: the same commitment and the same padded piece size for every
// length, including the edges around each power-of-two piece size.
func TestCrossCheckHashhash(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 16))
	sizes := []int{int(hashhash.MinPiecePayload), 127, 128, 254, 255, 508, 1016, 1017, 4064, 4065, 65024, 127*1024 + 1}
	for range 12 {
		sizes = append(sizes, int(hashhash.MinPiecePayload)+rng.IntN(1<<20))
	}
	if !testing.Short() {
		sizes = append(sizes, 8<<20-8<<20/128, 8<<20-8<<20/128+1) // 8 MiB piece, full and one byte over
	}
	for _, n := range sizes {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(rng.Uint32())
		}
		var cp hashhash.Calc
		if _, err := cp.Write(payload); err != nil {
			t.Fatal(err)
		}
		want, wantSize, err := cp.Digest()
		if err != nil {
			t.Fatalf("%d bytes: hashhash: %v", n, err)
		}
		got, err := commp.FromReader(context.Background(), bytes.NewReader(payload), 0)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if !bytes.Equal(got.Commitment[:], want) || uint64(got.PieceSize) != wantSize {
			t.Errorf("%d bytes: commp %x size %d, hashhash %x size %d", n, got.Commitment, got.PieceSize, want, wantSize)
		}
	}
}
