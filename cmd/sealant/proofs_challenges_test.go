package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
)

// TestChallengesCLI checks "proofs challenges --json" against the
// independently derived fixture (proofs/porep/testdata/ni-challenges.json),
// with CommR given as a CID and as hex, and its flag errors.
func TestChallengesCLI(t *testing.T) {
	raw, err := os.ReadFile("../../proofs/porep/testdata/ni-challenges.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Cases []struct {
			Proof      int64      `json:"proof"`
			ReplicaID  string     `json:"replica_id"`
			CommR      string     `json:"comm_r"`
			Seed       string     `json:"seed"`
			Challenges [][]uint64 `json:"challenges"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	sizes := []string{"2KiB", "8MiB", "512MiB", "32GiB", "64GiB"}
	for i, c := range fx.Cases {
		commR, err := parseHex32(c.CommR)
		if err != nil {
			t.Fatal(err)
		}
		cr := commp.SealedCID(commR).String()
		if i%2 == 1 {
			cr = c.CommR
		}
		args := []string{"proofs", "challenges", "--proof", sizes[c.Proof%5], "--replica-id", c.ReplicaID, "--comm-r", cr, "--json"}
		if c.Seed != "" {
			args = append(args, "--seed", c.Seed)
		} else {
			args = append(args, "--ni")
		}
		out, _, err := runSealant(t, nil, args...)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		var got struct {
			Challenges [][]uint64 `json:"challenges"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Challenges, c.Challenges) {
			t.Errorf("case %d: challenges differ from the fixture", i)
		}
	}
	rid, cr := strings.Repeat("01", 32), strings.Repeat("02", 32)
	for name, args := range map[string][]string{
		"neither ni nor seed": {"--proof", "2KiB", "--replica-id", rid, "--comm-r", cr},
		"both":                {"--proof", "2KiB", "--replica-id", rid, "--comm-r", cr, "--ni", "--seed", rid},
		"ni with V1_1 name":   {"--proof", "StackedDrg2KiBV1_1", "--replica-id", rid, "--comm-r", cr, "--ni"},
		"seed with NI name":   {"--proof", "StackedDrg2KiBV1_2_Feat_NiPoRep", "--replica-id", rid, "--comm-r", cr, "--seed", rid},
		"bad comm_r":          {"--proof", "2KiB", "--replica-id", rid, "--comm-r", "xyz", "--ni"},
	} {
		if _, _, err := runSealant(t, nil, append([]string{"proofs", "challenges"}, args...)...); exitCode(err) != 2 {
			t.Errorf("%s: exit %d (%v), want 2", name, exitCode(err), err)
		}
	}
}

// TestSealNICLI seals an NI-PoRep 2KiB sector under each of its three
// names, runs "proofs c1 --ni" and "proofs verify-c1", and checks that the
// C1 challenges are those "proofs challenges --ni" prints.
func TestSealNICLI(t *testing.T) {
	root := t.TempDir()
	pc := filepath.Join(root, "parents")
	var commRs []string
	for i, name := range []string{"StackedDrg2KiBV1_2_Feat_NiPoRep", "StackedDrg2KiBV1_2_Feat_NonInteractivePoRep", "15"} {
		dir := filepath.Join(root, fmt.Sprint(i))
		out, _, err := runSealant(t, nil, "proofs", "seal", "--proof", name, "--miner", "t01000", "--sector", "3",
			"--ticket", strings.Repeat("5a", 32), "--dir", dir, "--parent-cache-dir", pc, "--json")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var so sealOutput
		if err := json.Unmarshal([]byte(out), &so); err != nil {
			t.Fatal(err)
		}
		commRs = append(commRs, so.CommR)
		if i > 0 {
			continue
		}
		// The V1_1 seal of the same inputs has another CommR.
		v11 := filepath.Join(root, "v11")
		out11, _, err := runSealant(t, nil, "proofs", "seal", "--proof", "2KiB", "--miner", "t01000", "--sector", "3",
			"--ticket", strings.Repeat("5a", 32), "--dir", v11, "--parent-cache-dir", pc, "--json")
		if err != nil {
			t.Fatal(err)
		}
		var so11 sealOutput
		json.Unmarshal([]byte(out11), &so11)
		if so11.CommR == so.CommR || so11.ReplicaID == so.ReplicaID {
			t.Fatal("NI and V1_1 seals agree on CommR or replica id")
		}
		c1 := filepath.Join(root, "c1.json")
		if _, _, err := runSealant(t, nil, "proofs", "c1", "--dir", dir, "--seed", strings.Repeat("11", 32), "--out", c1); err == nil {
			t.Fatal("c1 --seed accepted an NI sector")
		}
		if _, _, err := runSealant(t, nil, "proofs", "c1", "--dir", v11, "--ni", "--out", c1); err == nil {
			t.Fatal("c1 --ni accepted a V1_1 sector")
		}
		if _, _, err := runSealant(t, nil, "proofs", "c1", "--dir", dir, "--ni", "--out", c1); err != nil {
			t.Fatal(err)
		}
		vout, _, err := runSealant(t, nil, "proofs", "verify-c1", "--json", c1)
		if err != nil {
			t.Fatal(err)
		}
		var vr verifyOutput
		json.Unmarshal([]byte(vout), &vr)
		if !vr.OK || vr.Challenges != 26 || !vr.TicketBound || vr.Proof != "StackedDrg2KiBV1_2_Feat_NiPoRep" {
			t.Fatalf("verify-c1: %s", vout)
		}
		raw, _ := os.ReadFile(c1)
		parsed, err := porep.ParseC1(raw)
		if err != nil {
			t.Fatal(err)
		}
		chOut, _, err := runSealant(t, nil, "proofs", "challenges", "--proof", "2KiB", "--ni", "--replica-id", so.ReplicaID, "--comm-r", so.CommR, "--json")
		if err != nil {
			t.Fatal(err)
		}
		var ch challengesOutput
		json.Unmarshal([]byte(chOut), &ch)
		if len(ch.Challenges) != 13 {
			t.Fatalf("%d partitions", len(ch.Challenges))
		}
		for k, part := range parsed.VanillaProofs.Partitions {
			for j := range part {
				if part[j].CommDProofs.ToMerkle().PathIndex() != ch.Challenges[k][j] {
					t.Fatalf("C1 partition %d proof %d is not for challenge %d", k, j, ch.Challenges[k][j])
				}
			}
		}
		// Tampered: verify-c1 exits 1.
		raw[len(raw)/2] ^= 1
		bad := filepath.Join(root, "bad.json")
		os.WriteFile(bad, raw, 0o644)
		if _, _, err := runSealant(t, nil, "proofs", "verify-c1", "--miner", "1000", "--sector", "3", bad); exitCode(err) != 1 {
			t.Fatalf("tampered NI C1: exit %d (%v)", exitCode(err), err)
		}
	}
	if commRs[0] != commRs[1] || commRs[1] != commRs[2] {
		t.Fatalf("the three names of proof 15 sealed differently: %v", commRs)
	}
}

// TestSealBatchNISpec checks that a seal-batch spec may name an NI proof.
func TestSealBatchNISpec(t *testing.T) {
	root := t.TempDir()
	spec, _ := json.Marshal(map[string]any{"proof": "StackedDrg2KiBV1_2_Feat_NiPoRep", "parent_cache": filepath.Join(root, "parents"), "sectors": []map[string]any{
		{"miner": 1000, "sector": 1, "ticket": strings.Repeat("01", 32), "dir": filepath.Join(root, "a")},
		{"miner": 1000, "sector": 2, "ticket": strings.Repeat("02", 32), "dir": filepath.Join(root, "b"), "proof": "16"},
	}})
	specPath := filepath.Join(root, "spec.json")
	os.WriteFile(specPath, spec, 0o644)
	if _, _, err := runSealant(t, nil, "proofs", "seal-batch", "--spec", specPath, "--json"); err == nil {
		t.Fatal("a spec mixing 2KiB NI and 8MiB NI was accepted")
	}
	spec, _ = json.Marshal(map[string]any{"proof": "StackedDrg2KiBV1_2_Feat_NonInteractivePoRep", "parent_cache": filepath.Join(root, "parents"), "sectors": []map[string]any{
		{"miner": 1000, "sector": 1, "ticket": strings.Repeat("01", 32), "dir": filepath.Join(root, "a")},
		{"miner": 1000, "sector": 2, "ticket": strings.Repeat("02", 32), "dir": filepath.Join(root, "b"), "proof": "15"},
	}})
	os.WriteFile(specPath, spec, 0o644)
	out, _, err := runSealant(t, nil, "proofs", "seal-batch", "--spec", specPath, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got []sealOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 2 {
		t.Fatalf("%v: %s", err, out)
	}
	single, _, err := runSealant(t, nil, "proofs", "seal", "--proof", "15", "--miner", "1000", "--sector", "1",
		"--ticket", strings.Repeat("01", 32), "--dir", filepath.Join(root, "single"), "--parent-cache-dir", filepath.Join(root, "parents"), "--json")
	if err != nil {
		t.Fatal(err)
	}
	var so sealOutput
	json.Unmarshal([]byte(single), &so)
	if so != got[0] {
		t.Fatalf("batch NI seal %+v differs from single %+v", got[0], so)
	}
	if _, _, err := runSealant(t, nil, "proofs", "c1", "--dir", filepath.Join(root, "b"), "--ni", "--out", filepath.Join(root, "c1b.json")); err != nil {
		t.Fatal(err)
	}
}
