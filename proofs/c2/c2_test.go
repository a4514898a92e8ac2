package c2

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/porep"
)

func TestProvers(t *testing.T) {
	ticket, _ := hex.DecodeString("c3a1ca12b981a8a59f9a4764edf3398edd239b2afa8ca2bbd57e0091ec193aa0")
	dir := t.TempDir()
	rec, err := porep.Seal(context.Background(), porep.SealRequest{
		Proof: abi.StackedDrg2KiBV1_1, Miner: 1002, Sector: 1, Ticket: [32]byte(ticket), Dir: dir, ParentCacheDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := porep.C1(context.Background(), dir, [32]byte{7})
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := json.Marshal(out)

	if _, err := Unavailable.ProveC2(context.Background(), c1, 1002, 1); !errors.Is(err, ErrNoProver) {
		t.Fatalf("Unavailable: %v", err)
	}
	proof, err := Devnet.ProveC2(context.Background(), c1, 1002, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !IsDevnetProof(proof) || IsDevnetProof(make([]byte, GrothProofSize)) {
		t.Fatal("IsDevnetProof misclassifies")
	}
	back, err := porep.DecodeCompact(proof, porep.CompactHeader{
		Proof: abi.StackedDrg2KiBV1_1, CommR: rec.CommR, CommD: rec.CommD, ReplicaID: rec.ReplicaID, Seed: out.Seed, Ticket: rec.Ticket,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := porep.VerifyC1(back, nil); err != nil {
		t.Fatal(err)
	}
	// The devnet prover refuses a C1 output for another sector number: the
	// ticket would not be bound.
	if _, err := Devnet.ProveC2(context.Background(), c1, 1002, 2); err == nil {
		t.Fatal("devnet proof made for the wrong sector")
	}
}

func TestDevnetAggregate(t *testing.T) {
	parts := [][]byte{[]byte("SLNTC1v1 one"), {}, []byte("SLNTC1v1 three")}
	agg := EncodeDevnetAggregate(parts)
	got, err := DecodeDevnetAggregate(agg)
	if err != nil || len(got) != 3 || string(got[0]) != string(parts[0]) || len(got[1]) != 0 || string(got[2]) != string(parts[2]) {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	for name, bad := range map[string][]byte{
		"no magic":  agg[1:],
		"truncated": agg[:len(agg)-1],
		"short len": append(EncodeDevnetAggregate(nil), 1, 0),
		"groth16":   make([]byte, 192),
	} {
		if _, err := DecodeDevnetAggregate(bad); !errors.Is(err, ErrAggregate) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
