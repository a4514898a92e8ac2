package abi

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
)

func TestParseSectorSize(t *testing.T) {
	cases := []struct {
		in   string
		want SectorSize
		err  bool
	}{
		{"2KiB", SectorSize2KiB, false},
		{"2kib", SectorSize2KiB, false},
		{"2048", SectorSize2KiB, false},
		{" 8MiB ", SectorSize8MiB, false},
		{"512MiB", SectorSize512MiB, false},
		{"32GiB", SectorSize32GiB, false},
		{"32G", SectorSize32GiB, false},
		{"64GiB", SectorSize64GiB, false},
		{"4KiB", 0, true},
		{"1GiB", 0, true},
		{"", 0, true},
		{"GiB", 0, true},
		{"-2KiB", 0, true},
		{"2 KiB", SectorSize2KiB, false},
		{"99999999999999999999GiB", 0, true},
		{"0", 0, true},
	}
	for _, c := range cases {
		got, err := ParseSectorSize(c.in)
		if c.err {
			if !errors.Is(err, ErrUnknownSectorSize) {
				t.Errorf("ParseSectorSize(%q) err = %v, want ErrUnknownSectorSize", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseSectorSize(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// TestSealProofTable pins the per-size constants of spec §3.2 for every id.
func TestSealProofTable(t *testing.T) {
	type row struct {
		size                        SectorSize
		nodes                       uint64
		layers, parts, perPart, tot int
		shape                       TreeShape
		baseTrees                   int
		rowsToDiscard               int
		windowSectors               int
	}
	rows := []row{
		{SectorSize2KiB, 64, 2, 1, 2, 2, TreeShape{8, 0, 0}, 1, 1, 2},
		{SectorSize8MiB, 1 << 18, 2, 1, 2, 2, TreeShape{8, 0, 0}, 1, 2, 2},
		{SectorSize512MiB, 1 << 24, 2, 1, 2, 2, TreeShape{8, 0, 0}, 1, 2, 2},
		{SectorSize32GiB, 1 << 30, 11, 10, 18, 180, TreeShape{8, 8, 0}, 8, 2, 2349},
		{SectorSize64GiB, 1 << 31, 11, 10, 18, 180, TreeShape{8, 8, 2}, 16, 2, 2300},
	}
	names := []string{"2KiB", "8MiB", "512MiB", "32GiB", "64GiB"}
	for id := range int64(15) {
		p := RegisteredSealProof(id)
		if p.APIName() != p.String() || p.IsNI() {
			t.Errorf("%v: API name %q differs or NI set", p, p.APIName())
		}
		r := rows[id%5]
		if !p.Valid() || p.SectorSize() != r.size || p.Nodes() != r.nodes || p.Layers() != r.layers ||
			p.Partitions() != r.parts || p.ChallengesPerPartition() != r.perPart || p.TotalChallenges() != r.tot ||
			p.TreeShape() != r.shape || p.BaseTreeCount() != r.baseTrees || p.RowsToDiscard() != r.rowsToDiscard ||
			p.ColumnArity() != r.layers || p.BaseTreeLeaves()*uint64(r.baseTrees) != r.nodes {
			t.Errorf("%v (id %d): constants do not match spec §3.2 row %+v", p, id, r)
		}
		if p.ChallengesPerPartition() > MaxChallengesPerPartition {
			t.Errorf("%v: %d challenges per partition", p, p.ChallengesPerPartition())
		}
		wantName := "StackedDrg" + names[id%5] + []string{"V1", "V1_1", "V1_1_Feat_SyntheticPoRep"}[id/5]
		if p.String() != wantName || p.ShapeName() != "StackedDrg"+names[id%5]+"V1" {
			t.Errorf("id %d: names %q/%q, want %q", id, p.String(), p.ShapeName(), wantName)
		}
		if p.IsLegacy() != (id < 5) || p.IsSynthetic() != (id >= 10) {
			t.Errorf("%v: legacy/synthetic flags wrong", p)
		}
		if v := p.APIVersion(); v != []APIVersion{APIVersion1_0, APIVersion1_1, APIVersion1_2}[id/5] {
			t.Errorf("%v: api version %v", p, v)
		}
		win, wdw := p.WinningPoSt(), p.WindowPoSt()
		if win.SectorSize() != r.size || !win.IsWinning() || win.SectorCount() != 1 || win.ChallengeCount() != 66 {
			t.Errorf("%v: winning post %v wrong", p, win)
		}
		if wdw.SectorSize() != r.size || wdw.IsWinning() || wdw.SectorCount() != r.windowSectors ||
			wdw.ChallengeCount() != 10 || wdw.APIVersion() != APIVersion1_2 || int64(wdw) != 10+id%5 {
			t.Errorf("%v: window post %v wrong", p, wdw)
		}
	}
	niRows := []struct{ parts, perPart, tot int }{{13, 2, 26}, {13, 2, 26}, {13, 2, 26}, {126, 18, 2268}, {126, 18, 2268}}
	for id := int64(15); id < 20; id++ {
		p := RegisteredSealProof(id)
		r, nr := rows[id%5], niRows[id%5]
		if !p.Valid() || !p.IsNI() || p.IsSynthetic() || p.IsLegacy() || p.SectorSize() != r.size || p.Layers() != r.layers ||
			p.TreeShape() != r.shape || p.Partitions() != nr.parts || p.ChallengesPerPartition() != nr.perPart ||
			p.TotalChallenges() != nr.tot || p.APIVersion() != APIVersion1_2 {
			t.Errorf("%v (id %d): NI constants wrong", p, id)
		}
		chain := "StackedDrg" + names[id%5] + "V1_2_Feat_NiPoRep"
		api := "StackedDrg" + names[id%5] + "V1_2_Feat_NonInteractivePoRep"
		if p.String() != chain || p.APIName() != api || p.ShapeName() != "StackedDrg"+names[id%5]+"V1" {
			t.Errorf("id %d: names %q/%q", id, p.String(), p.APIName())
		}
		if RegisteredSealProof(id%5+5).NI() != p || p.NI() != p {
			t.Errorf("id %d: NI() wrong", id)
		}
		if RegisteredSealProof(id - 5).IsNI() {
			t.Errorf("id %d: synthetic proof reports NI", id-5)
		}
	}
	for _, bad := range []RegisteredSealProof{-1, 20, 25, 1 << 40} {
		if bad.Valid() || bad.SectorSize() != 0 {
			t.Errorf("%d should be invalid", bad)
		}
	}
}

// TestPoRepID checks porep_id = u64_le(id) ‖ u64_le(0) ‖ 0^16 for every
// registered id (spec §4.1) and the two examples spelled out in the spec.
func TestPoRepID(t *testing.T) {
	for _, p := range SealProofs() {
		id := p.PoRepID()
		if binary.LittleEndian.Uint64(id[:8]) != uint64(p) {
			t.Errorf("%v: porep_id %x does not start with its id", p, id)
		}
		for i, b := range id[8:] {
			if b != 0 {
				t.Errorf("%v: porep_id byte %d = %d, want 0 (nonce 0)", p, 8+i, b)
			}
		}
	}
	for p, want := range map[RegisteredSealProof]string{
		StackedDrg2KiBV1_1:                      "0500000000000000000000000000000000000000000000000000000000000000",
		StackedDrg32GiBV1_1:                     "0800000000000000000000000000000000000000000000000000000000000000",
		StackedDrg64GiBV1_1_Feat_SyntheticPoRep: "0e00000000000000000000000000000000000000000000000000000000000000",
		StackedDrg2KiBV1_2_Feat_NiPoRep:         "0f00000000000000000000000000000000000000000000000000000000000000",
		StackedDrg64GiBV1_2_Feat_NiPoRep:        "1300000000000000000000000000000000000000000000000000000000000000",
	} {
		id := p.PoRepID()
		if got := hex.EncodeToString(id[:]); got != want {
			t.Errorf("%v porep_id = %s, want %s", p, got, want)
		}
	}
}

func TestParseSealProof(t *testing.T) {
	cases := []struct {
		in   string
		want RegisteredSealProof
		err  bool
	}{
		{"5", StackedDrg2KiBV1_1, false},
		{"0", StackedDrg2KiBV1, false},
		{"14", StackedDrg64GiBV1_1_Feat_SyntheticPoRep, false},
		{"StackedDrg32GiBV1_1", StackedDrg32GiBV1_1, false},
		{"stackeddrg32gibv1", StackedDrg32GiBV1, false},
		{"RegisteredSealProof_StackedDrg8MiBV1_1", StackedDrg8MiBV1_1, false},
		{"StackedDrg512MiBV1_1_Feat_SyntheticPoRep", StackedDrg512MiBV1_1_Feat_SyntheticPoRep, false},
		{"32GiB", StackedDrg32GiBV1_1, false},
		{"2KiB", StackedDrg2KiBV1_1, false},
		{"15", StackedDrg2KiBV1_2_Feat_NiPoRep, false},
		{"19", StackedDrg64GiBV1_2_Feat_NiPoRep, false},
		{"StackedDrg2KiBV1_2_Feat_NiPoRep", StackedDrg2KiBV1_2_Feat_NiPoRep, false},
		{"RegisteredSealProof_StackedDrg32GiBV1_2_Feat_NiPoRep", StackedDrg32GiBV1_2_Feat_NiPoRep, false},
		{"StackedDrg8MiBV1_2_Feat_NonInteractivePoRep", StackedDrg8MiBV1_2_Feat_NiPoRep, false},
		{"20", 0, true},
		{"-1", 0, true},
		{"StackedDrg4KiBV1_1", 0, true},
		{"", 0, true},
	}
	for _, c := range cases {
		got, err := ParseSealProof(c.in)
		if c.err {
			if !errors.Is(err, ErrUnknownProof) {
				t.Errorf("ParseSealProof(%q) err = %v, want ErrUnknownProof", c.in, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseSealProof(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

func TestPoStProofNames(t *testing.T) {
	for id, want := range map[RegisteredPoStProof]string{
		StackedDrgWinning2KiBV1:   "StackedDrgWinning2KiBV1",
		StackedDrgWindow32GiBV1:   "StackedDrgWindow32GiBV1",
		StackedDrgWindow64GiBV1_1: "StackedDrgWindow64GiBV1_1",
	} {
		if id.String() != want {
			t.Errorf("%d = %q, want %q", id, id.String(), want)
		}
	}
	if StackedDrgWindow32GiBV1.APIVersion() != APIVersion1_0 || StackedDrgWinning32GiBV1.APIVersion() != APIVersion1_0 {
		t.Error("V1 PoSt must be API 1.0.0")
	}
	if RegisteredPoStProof(15).Valid() || RegisteredPoStProof(15).SectorSize() != 0 {
		t.Error("15 is not a PoSt proof")
	}
}

func FuzzParseSectorSize(f *testing.F) {
	for _, s := range []string{"2KiB", "32GiB", "512m", "2048", "x", "1e9", "64GB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		size, err := ParseSectorSize(s)
		if err != nil {
			return
		}
		again, err := ParseSectorSize(size.String())
		if err != nil || again != size {
			t.Fatalf("%q → %v does not round-trip: %v, %v", s, size, again, err)
		}
		if _, err := SealProofForSize(size); err != nil {
			t.Fatalf("parsed size %v has no proof: %v", size, err)
		}
	})
}

func FuzzParseSealProof(f *testing.F) {
	for _, s := range []string{"5", "StackedDrg2KiBV1_1", "32GiB", "registeredsealproof_stackeddrg64gibv1", "99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseSealProof(s)
		if err != nil {
			return
		}
		if !p.Valid() {
			t.Fatalf("%q parsed to invalid %d", s, p)
		}
		if again, err := ParseSealProof(p.String()); err != nil || again != p {
			t.Fatalf("%v does not round-trip: %v, %v", p, again, err)
		}
	})
}
