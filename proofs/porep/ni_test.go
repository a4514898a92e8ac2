package porep

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/sdr"
)

// niFixture is testdata/ni-challenges.json, written by
// testdata/ni_challenges.py from the Rust sources (see testdata/README.md).
type niFixture struct {
	ReplicaID2KNI string `json:"replica_id_2k_ni"`
	Cases         []struct {
		Name         string     `json:"name"`
		Proof        int64      `json:"proof"`
		Nodes        uint64     `json:"nodes"`
		Partitions   int        `json:"partitions"`
		PerPartition int        `json:"per_partition"`
		ReplicaID    string     `json:"replica_id"`
		CommR        string     `json:"comm_r"`
		Seed         string     `json:"seed"`
		Challenges   [][]uint64 `json:"challenges"`
	} `json:"cases"`
}

func TestChallengesFixture(t *testing.T) {
	raw, err := os.ReadFile("testdata/ni-challenges.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx niFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.Cases) < 5 {
		t.Fatalf("%d cases", len(fx.Cases))
	}
	for _, c := range fx.Cases {
		t.Run(c.Name, func(t *testing.T) {
			p := abi.RegisteredSealProof(c.Proof)
			if p.Nodes() != c.Nodes || p.Partitions() != c.Partitions || p.ChallengesPerPartition() != c.PerPartition {
				t.Fatalf("%v: shape %d nodes %d×%d, fixture %d nodes %d×%d", p, p.Nodes(), p.Partitions(), p.ChallengesPerPartition(), c.Nodes, c.Partitions, c.PerPartition)
			}
			var seed [32]byte
			if c.Seed != "" {
				seed = hex32(t, c.Seed)
			} else if !p.IsNI() {
				t.Fatal("interactive case without seed")
			}
			got := Challenges(p, hex32(t, c.ReplicaID), hex32(t, c.CommR), seed)
			if !reflect.DeepEqual(got, c.Challenges) {
				t.Fatalf("challenges differ from the fixture: first partition %v, want %v", got[0], c.Challenges[0])
			}
			if p.IsNI() {
				// The seed plays no part in NI-PoRep challenges.
				if again := Challenges(p, hex32(t, c.ReplicaID), hex32(t, c.CommR), [32]byte{1}); !reflect.DeepEqual(again, got) {
					t.Fatal("NI challenges depend on the seed")
				}
			}
		})
	}
	// The NI replica id of the golden sector (porep id 15) as the script
	// derives it.
	g := loadGolden(t)
	rid := sdr.ReplicaID(sdr.ProverID(g.Miner), g.Sector, hex32(t, g.Ticket), hex32(t, g.CommDHex), abi.StackedDrg2KiBV1_2_Feat_NiPoRep)
	if hex.EncodeToString(rid[:]) != fx.ReplicaID2KNI {
		t.Fatalf("NI replica id %x, fixture %s", rid, fx.ReplicaID2KNI)
	}
}

// sealNI seals a CC (or data) sector with an NI-PoRep proof.
func sealNI(t testing.TB, proof abi.RegisteredSealProof, pieces []string) (string, *Record) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sector")
	rec, err := Seal(context.Background(), SealRequest{
		Proof: proof, Miner: 1002, Sector: 1, Ticket: [32]byte{0xc3, 0xa1, 7},
		Pieces: pieces, Dir: dir, ParentCacheDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, rec
}

func TestC1NI2KiB(t *testing.T) {
	dir, rec := sealNI(t, abi.StackedDrg2KiBV1_2_Feat_NiPoRep, nil)
	// The NI porep id gives another replica id (and graph), hence another CommR.
	g := loadGolden(t)
	if rec.CommR.String() == g.CommRHex || rec.ReplicaID.String() == g.ReplicaID {
		t.Fatal("NI sector has the interactive replica id or CommR")
	}
	out, err := C1(context.Background(), dir, [32]byte{9, 9, 9})
	if err != nil {
		t.Fatal(err)
	}
	if out.Seed != (Bytes32{}) {
		t.Fatal("NI C1 output records a seed")
	}
	want := NIChallenges(rec.ReplicaID, rec.CommR, 64, 13, 2)
	if len(out.VanillaProofs.Partitions) != 13 {
		t.Fatalf("%d partitions, want 13", len(out.VanillaProofs.Partitions))
	}
	for k, part := range out.VanillaProofs.Partitions {
		for i := range part {
			if c := part[i].CommDProofs.ToMerkle().PathIndex(); c != want[k][i] {
				t.Fatalf("partition %d proof %d is for node %d, want %d", k, i, c, want[k][i])
			}
		}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte(`{"registered_proof":"StackedDrg2KiBV1_2_Feat_NonInteractivePoRep","vanilla_proofs":{"StackedDrg2KiBV1":[[{`)) {
		t.Fatalf("C1 JSON starts %q", raw[:120])
	}
	opts := &VerifyOptions{Miner: &rec.Miner, Sector: &rec.Sector}
	parsed, err := ParseC1(raw)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyC1(parsed, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Proof != abi.StackedDrg2KiBV1_2_Feat_NiPoRep || rep.Challenges != 26 || !rep.TicketBound {
		t.Fatalf("report %+v", rep)
	}
	// The compact devnet proof round-trips for the 13 partitions.
	compact, err := EncodeCompact(out)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeCompact(compact, CompactHeader{Proof: abi.StackedDrg2KiBV1_2_Feat_NiPoRep, CommR: out.CommR, CommD: out.CommD, ReplicaID: out.ReplicaID, Ticket: out.Ticket})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyC1(back, opts); err != nil {
		t.Fatalf("compact NI proof: %v", err)
	}

	t.Run("semantic tampering", func(t *testing.T) {
		cases := map[string]func(o *SealCommitPhase1Output){
			"wrong ticket":      func(o *SealCommitPhase1Output) { o.Ticket[5] ^= 0x10 },
			"wrong comm_r":      func(o *SealCommitPhase1Output) { o.CommR[31] ^= 1 },
			"wrong comm_d":      func(o *SealCommitPhase1Output) { o.CommD[0] ^= 1 },
			"wrong replica":     func(o *SealCommitPhase1Output) { o.ReplicaID[3] ^= 1 },
			"interactive label": func(o *SealCommitPhase1Output) { o.RegisteredProof = "StackedDrg2KiBV1_1" },
			"chain name":        func(o *SealCommitPhase1Output) { o.RegisteredProof = "StackedDrg2KiBV1_2_Feat_NiPoRep" },
			"dropped partition": func(o *SealCommitPhase1Output) { o.VanillaProofs.Partitions = o.VanillaProofs.Partitions[:12] },
			"dropped proof":     func(o *SealCommitPhase1Output) { o.VanillaProofs.Partitions[4] = o.VanillaProofs.Partitions[4][:1] },
			"swapped partitions": func(o *SealCommitPhase1Output) {
				p := o.VanillaProofs.Partitions
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
		rng := rand.New(rand.NewPCG(3, 4))
		for range 150 {
			pos := rng.IntN(len(raw))
			bad := bytes.Clone(raw)
			bad[pos] ^= byte(1) << rng.IntN(8)
			o, err := ParseC1(bad)
			if err != nil {
				continue
			}
			if _, err := VerifyC1(o, opts); err == nil {
				t.Fatalf("flipping byte %d (%q) was accepted", pos, raw[max(0, pos-20):min(len(raw), pos+20)])
			}
		}
	})
}

// TestC1NIRejectsInteractiveSector checks that an interactive C1 output
// relabelled as NI fails: its replica id and challenges differ.
func TestC1NIRejectsInteractiveSector(t *testing.T) {
	dir, rec, g := sealGolden(t)
	out, err := C1(context.Background(), dir, hex32(t, g.Seed))
	if err != nil {
		t.Fatal(err)
	}
	out.RegisteredProof = abi.StackedDrg2KiBV1_2_Feat_NiPoRep.APIName()
	if _, err := VerifyC1(out, &VerifyOptions{Miner: &rec.Miner, Sector: &rec.Sector}); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("relabelled interactive proof: %v", err)
	}
	if _, err := VerifyC1(out, nil); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("relabelled interactive proof without binding: %v", err)
	}
}

func TestC1NI8MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("8MiB seal skipped in -short")
	}
	dir, rec := sealNI(t, abi.StackedDrg8MiBV1_2_Feat_NiPoRep, nil)
	out, err := C1(context.Background(), dir, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	opts := &VerifyOptions{Miner: &rec.Miner, Sector: &rec.Sector}
	rep, err := VerifyC1(out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Challenges != 26 || len(out.VanillaProofs.Partitions) != 13 {
		t.Fatalf("report %+v, %d partitions", rep, len(out.VanillaProofs.Partitions))
	}
	out.VanillaProofs.Partitions[7][1].CommRLastProof.Leaf[0] ^= 1
	if _, err := VerifyC1(out, opts); !errors.Is(err, ErrInvalidProof) {
		t.Fatalf("tampered 8MiB NI proof: %v", err)
	}
}
