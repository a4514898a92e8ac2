package porep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestC1GoldenRoundTripAndVerify(t *testing.T) {
	dir, rec, g := sealGolden(t)
	out, err := C1(context.Background(), dir, hex32(t, g.Seed))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.VanillaProofs.Partitions[0]; got[0].CommDProofs.ToMerkle().PathIndex() != 48 || got[1].CommDProofs.ToMerkle().PathIndex() != 12 {
		t.Fatalf("proofs are not for the golden challenges [48 12]")
	}
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	// Field order and enum wrappers as serde writes them (spec §10.3).
	for _, frag := range []string{
		`{"registered_proof":"StackedDrg2KiBV1_1","vanilla_proofs":{"StackedDrg2KiBV1":[[{"comm_d_proofs":{"data":{"Single":{"root":[`,
		`"replica_column_proofs":{"c_x":{"column":{"index":48,"rows":[[`,
		`],"_h":null},"inclusion_proof":{"data":{"Single":`,
		`"labeling_proofs":[{"parents":[[`,
		`"layer_index":1,"node":48}`,
		`"encoding_proof":{"parents":[[`,
		`,"comm_r":[183,12,254,118,`,
	} {
		if !bytes.Contains(raw, []byte(frag)) {
			t.Errorf("C1 JSON lacks %q", frag)
		}
	}
	parsed, err := ParseC1(raw)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(parsed)
	if !bytes.Equal(raw, again) {
		t.Fatal("parse/marshal round trip differs")
	}
	rep, err := VerifyC1(parsed, &VerifyOptions{Miner: &rec.Miner, Sector: &rec.Sector})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.TicketBound || rep.Challenges != 2 {
		t.Fatalf("report %+v", rep)
	}
}

func TestC1RejectsTampering(t *testing.T) {
	dir, rec, g := sealGolden(t)
	out, err := C1(context.Background(), dir, hex32(t, g.Seed))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(out)
	opts := &VerifyOptions{Miner: &rec.Miner, Sector: &rec.Sector}
	check := func(t *testing.T, data []byte) error {
		t.Helper()
		parsed, err := ParseC1(data)
		if err != nil {
			return err
		}
		_, err = VerifyC1(parsed, opts)
		return err
	}

	t.Run("semantic", func(t *testing.T) {
		cases := map[string]func(o *SealCommitPhase1Output){
			"wrong seed":     func(o *SealCommitPhase1Output) { o.Seed[0] ^= 1 },
			"wrong ticket":   func(o *SealCommitPhase1Output) { o.Ticket[5] ^= 0x10 },
			"wrong comm_r":   func(o *SealCommitPhase1Output) { o.CommR[31] ^= 1 },
			"wrong comm_d":   func(o *SealCommitPhase1Output) { o.CommD[0] ^= 1 },
			"wrong replica":  func(o *SealCommitPhase1Output) { o.ReplicaID[3] ^= 1 },
			"wrong proof id": func(o *SealCommitPhase1Output) { o.RegisteredProof = "StackedDrg8MiBV1_1" },
			"dropped proof":  func(o *SealCommitPhase1Output) { o.VanillaProofs.Partitions[0] = o.VanillaProofs.Partitions[0][:1] },
			"swapped proofs": func(o *SealCommitPhase1Output) {
				p := o.VanillaProofs.Partitions[0]
				p[0], p[1] = p[1], p[0]
			},
		}
		for name, mutate := range cases {
			t.Run(name, func(t *testing.T) {
				o, _ := ParseC1(raw)
				mutate(o)
				if _, err := VerifyC1(o, opts); !errors.Is(err, ErrInvalidProof) {
					t.Fatalf("accepted or wrong error: %v", err)
				}
			})
		}
	})

	t.Run("flipped bytes", func(t *testing.T) {
		if err := check(t, raw); err != nil {
			t.Fatalf("untampered proof rejected: %v", err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		n := 400
		if testing.Short() {
			n = 200
		}
		for range n {
			pos := rng.IntN(len(raw))
			bit := byte(1) << rng.IntN(8)
			bad := bytes.Clone(raw)
			bad[pos] ^= bit
			if err := check(t, bad); err == nil {
				t.Fatalf("flipping bit %#x of byte %d (%q) was accepted", bit, pos, raw[max(0, pos-20):min(len(raw), pos+20)])
			}
		}
	})
}
