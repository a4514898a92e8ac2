package porep

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// golden2K is the real lotus-sealed 2KiB sector of shared/spec/porep.md §11.1.
type golden2K struct {
	ProofID    int      `json:"proof_id"`
	Miner      uint64   `json:"miner"`
	Sector     uint64   `json:"sector"`
	Ticket     string   `json:"ticket"`
	CommDHex   string   `json:"comm_d_hex"`
	CommD      string   `json:"comm_d"`
	ReplicaID  string   `json:"replica_id"`
	CommC      string   `json:"comm_c"`
	CommRLast  string   `json:"comm_r_last"`
	CommR      string   `json:"comm_r"`
	CommRHex   string   `json:"comm_r_hex"`
	Seed       string   `json:"seed"`
	Challenges []uint64 `json:"interactive_challenges"`
	SealedSHA  string   `json:"sealed_file_sha256"`
	Layer1SHA  string   `json:"layer1_file_sha256"`
	Layer2SHA  string   `json:"layer2_file_sha256"`
}

func loadGolden(t testing.TB) golden2K {
	t.Helper()
	raw, err := os.ReadFile("testdata/seal-2k-golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden2K
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func hex32(t testing.TB, s string) [32]byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hex32 %q: %v", s, err)
	}
	return [32]byte(b)
}

func TestInteractiveChallengesGolden(t *testing.T) {
	g := loadGolden(t)
	got := InteractiveChallenges(hex32(t, g.ReplicaID), hex32(t, g.Seed), 64, 1, 2)
	if len(got) != 1 || len(got[0]) != len(g.Challenges) {
		t.Fatalf("shape %v", got)
	}
	for i, c := range g.Challenges {
		if got[0][i] != c {
			t.Errorf("challenge %d = %d, want %d", i, got[0][i], c)
		}
	}
}

func TestInteractiveChallengesRange(t *testing.T) {
	var rid, seed [32]byte
	for i := range 32 {
		rid[i], seed[i] = byte(i), byte(255-i)
	}
	for _, n := range []uint64{64, 1 << 18, 1 << 30} {
		cs := InteractiveChallenges(rid, seed, n, 10, 18)
		for _, part := range cs {
			for _, c := range part {
				if c == 0 || c >= n {
					t.Fatalf("challenge %d out of [1,%d)", c, n)
				}
			}
		}
	}
}
