package porep

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
)

func TestCompactRoundTrip(t *testing.T) {
	dir, rec, g := sealGolden(t)
	out, err := C1(context.Background(), dir, hex32(t, g.Seed))
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeCompact(out)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := json.Marshal(out)
	t.Logf("compact proof %d bytes (C1 JSON %d bytes)", len(data), len(full))
	h := CompactHeader{Proof: abi.StackedDrg2KiBV1_1, CommR: rec.CommR, CommD: rec.CommD, ReplicaID: rec.ReplicaID, Seed: out.Seed, Ticket: rec.Ticket}
	back, err := DecodeCompact(data, h)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(back)
	if string(again) != string(full) {
		t.Fatal("compact round trip changed the C1 output")
	}
	if _, err := VerifyC1(back, &VerifyOptions{Miner: &rec.Miner, Sector: &rec.Sector}); err != nil {
		t.Fatal(err)
	}
	// Truncation, trailing bytes and a flipped bit are all rejected.
	if _, err := DecodeCompact(data[:len(data)-1], h); !errors.Is(err, ErrCompact) {
		t.Errorf("truncated: %v", err)
	}
	if _, err := DecodeCompact(append(data[:len(data):len(data)], 0), h); !errors.Is(err, ErrCompact) {
		t.Errorf("trailing: %v", err)
	}
	for _, pos := range []int{20, 60, 200, len(data) / 2, len(data) - 3} {
		bad := append([]byte(nil), data...)
		bad[pos] ^= 4
		o, err := DecodeCompact(bad, h)
		if err == nil {
			_, err = VerifyC1(o, &VerifyOptions{Miner: &rec.Miner, Sector: &rec.Sector})
		}
		if err == nil {
			t.Errorf("flip at %d accepted", pos)
		}
	}
}

func FuzzDecodeCompact(f *testing.F) {
	f.Add([]byte(compactMagic + "\x05\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := DecodeCompact(data, CompactHeader{Proof: abi.StackedDrg2KiBV1_1})
		if err == nil {
			_, _ = VerifyC1(out, nil)
		}
	})
}
