package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Callers match them with errors.Is; the returned errors
// wrap them with the offending input.
var (
	// ErrUnknownSectorSize reports a sector size that no registered proof uses.
	ErrUnknownSectorSize = errors.New("abi: unknown sector size")
	// ErrUnknownProof reports a proof id or name that is not registered here.
	ErrUnknownProof = errors.New("abi: unknown registered proof")
)

// NodeSize is the size in bytes of one sector node (a 32-byte field element).
const NodeSize = 32

// SectorSize is a sector's padded size in bytes.
type SectorSize uint64

// The sector sizes with registered proofs.
const (
	SectorSize2KiB   SectorSize = 2 << 10
	SectorSize8MiB   SectorSize = 8 << 20
	SectorSize512MiB SectorSize = 512 << 20
	SectorSize32GiB  SectorSize = 32 << 30
	SectorSize64GiB  SectorSize = 64 << 30
)

// sizeIndex orders the sizes the same way the proof ids do (2KiB = 0 … 64GiB = 4).
var sizes = [5]SectorSize{SectorSize2KiB, SectorSize8MiB, SectorSize512MiB, SectorSize32GiB, SectorSize64GiB}

func sizeIndex(s SectorSize) (int, bool) {
	for i, v := range sizes {
		if v == s {
			return i, true
		}
	}
	return 0, false
}

// String renders the size the way proof names spell it ("2KiB", "32GiB").
func (s SectorSize) String() string {
	switch {
	case s >= 1<<30 && s%(1<<30) == 0:
		return strconv.FormatUint(uint64(s>>30), 10) + "GiB"
	case s >= 1<<20 && s%(1<<20) == 0:
		return strconv.FormatUint(uint64(s>>20), 10) + "MiB"
	case s >= 1<<10 && s%(1<<10) == 0:
		return strconv.FormatUint(uint64(s>>10), 10) + "KiB"
	}
	return strconv.FormatUint(uint64(s), 10)
}

// Nodes is the number of 32-byte nodes in a sector of this size.
func (s SectorSize) Nodes() uint64 { return uint64(s) / NodeSize }

// ParseSectorSize parses "2KiB", "8MiB", "512MiB", "32GiB", "64GiB" (unit
// case-insensitive, "KB"/"K" style abbreviations of the binary units and a
// plain byte count are accepted too). Only sizes with registered proofs parse.
func ParseSectorSize(s string) (SectorSize, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	mult := uint64(1)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || n == 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%w: %q", ErrUnknownSectorSize, s)
	}
	size := SectorSize(n * mult)
	if _, ok := sizeIndex(size); !ok {
		return 0, fmt.Errorf("%w: %q (want 2KiB, 8MiB, 512MiB, 32GiB or 64GiB)", ErrUnknownSectorSize, s)
	}
	return size, nil
}

// APIVersion is the rust-filecoin-proofs-api version a proof id selects. It
// changes how the SDR graph is derived (V1_0 has the legacy parent order and
// the u32-truncating expander) and how PoSt challenges are indexed.
type APIVersion int

// The API versions of registered proofs.
const (
	APIVersion1_0 APIVersion = iota // legacy V1 seal proofs, V1 PoSt
	APIVersion1_1                   // V1_1 seal proofs
	APIVersion1_2                   // SyntheticPoRep seal proofs, Window PoSt V1_1
)

// String renders the version as "1.0.0".
func (v APIVersion) String() string {
	switch v {
	case APIVersion1_0:
		return "1.0.0"
	case APIVersion1_1:
		return "1.1.0"
	case APIVersion1_2:
		return "1.2.0"
	}
	return "APIVersion(" + strconv.Itoa(int(v)) + ")"
}

// RegisteredSealProof is a seal proof id as used on chain (go-state-types
// abi.RegisteredSealProof). The zero value is StackedDrg2KiBV1.
type RegisteredSealProof int64

// The registered interactive PoRep seal proofs (spec §3.1).
const (
	StackedDrg2KiBV1 RegisteredSealProof = iota
	StackedDrg8MiBV1
	StackedDrg512MiBV1
	StackedDrg32GiBV1
	StackedDrg64GiBV1

	StackedDrg2KiBV1_1
	StackedDrg8MiBV1_1
	StackedDrg512MiBV1_1
	StackedDrg32GiBV1_1
	StackedDrg64GiBV1_1

	StackedDrg2KiBV1_1_Feat_SyntheticPoRep
	StackedDrg8MiBV1_1_Feat_SyntheticPoRep
	StackedDrg512MiBV1_1_Feat_SyntheticPoRep
	StackedDrg32GiBV1_1_Feat_SyntheticPoRep
	StackedDrg64GiBV1_1_Feat_SyntheticPoRep

	// The NI-PoRep (FIP-0092) proofs, go-state-types
	// RegisteredSealProof_StackedDrg*V1_2_Feat_NiPoRep; filecoin-proofs-api
	// spells them StackedDrg*V1_2_Feat_NonInteractivePoRep (registry.rs).
	StackedDrg2KiBV1_2_Feat_NiPoRep
	StackedDrg8MiBV1_2_Feat_NiPoRep
	StackedDrg512MiBV1_2_Feat_NiPoRep
	StackedDrg32GiBV1_2_Feat_NiPoRep
	StackedDrg64GiBV1_2_Feat_NiPoRep

	numSealProofs = iota
)

// Graph constants shared by every registered proof (spec §3.2).
const (
	BaseDegree      = 6                            // DRG parents per node, parent 0 is node-1
	ExpansionDegree = 8                            // Feistel expander parents per node
	Degree          = BaseDegree + ExpansionDegree // parents per node in the stacked graph
	// MaxChallengesPerPartition bounds select_challenges (parameters.rs).
	MaxChallengesPerPartition = 18
	// PartitionProofBytes is the Groth16 proof size of one partition.
	PartitionProofBytes = 192
)

// TreeShape is the arity of the base, sub and top levels of an LCTree
// (rust-fil-proofs SectorShape*); 0 means the level is absent.
type TreeShape struct{ Base, Sub, Top int }

// sizeParams are the per-size constants of spec §3.2 and §12.
type sizeParams struct {
	layers        int
	partitions    int
	minChallenges int
	// NI-PoRep partitions and minimum challenges (filecoin-proofs
	// constants.rs get_porep_non_interactive_partitions and
	// get_porep_non_interactive_minimum_challenges).
	niPartitions    int
	niMinChallenges int
	shape           TreeShape
	windowSectors   int // WindowPoSt sectors per partition
}

var sizeTable = [5]sizeParams{
	{layers: 2, partitions: 1, minChallenges: 2, niPartitions: 13, niMinChallenges: 26, shape: TreeShape{8, 0, 0}, windowSectors: 2},
	{layers: 2, partitions: 1, minChallenges: 2, niPartitions: 13, niMinChallenges: 26, shape: TreeShape{8, 0, 0}, windowSectors: 2},
	{layers: 2, partitions: 1, minChallenges: 2, niPartitions: 13, niMinChallenges: 26, shape: TreeShape{8, 0, 0}, windowSectors: 2},
	{layers: 11, partitions: 10, minChallenges: 176, niPartitions: 126, niMinChallenges: 2253, shape: TreeShape{8, 8, 0}, windowSectors: 2349},
	{layers: 11, partitions: 10, minChallenges: 176, niPartitions: 126, niMinChallenges: 2253, shape: TreeShape{8, 8, 2}, windowSectors: 2300},
}

// Valid reports whether p is one of the registered proofs above.
func (p RegisteredSealProof) Valid() bool { return p >= 0 && p < numSealProofs }

func (p RegisteredSealProof) params() sizeParams { return sizeTable[int(p)%5] }

// SectorSize is the padded sector size; 0 for an invalid id.
func (p RegisteredSealProof) SectorSize() SectorSize {
	if !p.Valid() {
		return 0
	}
	return sizes[int(p)%5]
}

// Nodes is the number of 32-byte nodes in the sector (and in the SDR graph).
func (p RegisteredSealProof) Nodes() uint64 { return p.SectorSize().Nodes() }

// Layers is the number of SDR label layers.
func (p RegisteredSealProof) Layers() int { return p.params().layers }

// Partitions is the number of PoRep partitions (Groth16 proofs) per sector:
// 1 or 10 for interactive proofs, 13 or 126 for NI-PoRep
// (porep_config.rs enable_feature).
func (p RegisteredSealProof) Partitions() int {
	if p.IsNI() {
		return p.params().niPartitions
	}
	return p.params().partitions
}

// MinChallenges is the minimum number of PoRep challenges: 2 or 176
// interactive, 26 or 2253 (ceil(12.8 × interactive)) for NI-PoRep.
func (p RegisteredSealProof) MinChallenges() int {
	if p.IsNI() {
		return p.params().niMinChallenges
	}
	return p.params().minChallenges
}

// ChallengesPerPartition is ceil(MinChallenges/Partitions)
// (parameters.rs select_challenges): 2 or 18 for every proof.
func (p RegisteredSealProof) ChallengesPerPartition() int {
	n, k := p.MinChallenges(), p.Partitions()
	return (n + k - 1) / k
}

// TotalChallenges is Partitions × ChallengesPerPartition (180 for 32/64GiB,
// 26 and 2268 for the NI test and production sizes).
func (p RegisteredSealProof) TotalChallenges() int {
	return p.Partitions() * p.ChallengesPerPartition()
}

// TreeShape is the shape of TreeC and TreeR_last.
func (p RegisteredSealProof) TreeShape() TreeShape { return p.params().shape }

// BaseTreeCount is the number of base trees TreeC and TreeR_last are split
// into (1, 8 or 16).
func (p RegisteredSealProof) BaseTreeCount() int {
	s := p.TreeShape()
	n := 1
	if s.Sub > 0 {
		n *= s.Sub
	}
	if s.Top > 0 {
		n *= s.Top
	}
	return n
}

// BaseTreeLeaves is the number of leaves of one base tree.
func (p RegisteredSealProof) BaseTreeLeaves() uint64 {
	return p.Nodes() / uint64(p.BaseTreeCount())
}

// ColumnArity is the Poseidon arity of the TreeC column hash (= Layers).
func (p RegisteredSealProof) ColumnArity() int { return p.Layers() }

// RowsToDiscard is rust-fil-proofs' default_rows_to_discard for one
// TreeR_last base tree (oct tree, default setting 2). It only decides which
// tree levels are kept on disk, never a commitment.
func (p RegisteredSealProof) RowsToDiscard() int {
	leaves := p.BaseTreeLeaves()
	rows := 1
	for l := leaves; l > 1; l /= 8 {
		rows++
	}
	switch {
	case rows <= 2:
		return 0
	case rows == 3:
		return 1
	}
	return min(rows-2, 2)
}

// APIVersion is the proofs API version of p.
func (p RegisteredSealProof) APIVersion() APIVersion {
	switch {
	case p < StackedDrg2KiBV1_1:
		return APIVersion1_0
	case p < StackedDrg2KiBV1_1_Feat_SyntheticPoRep:
		return APIVersion1_1
	}
	return APIVersion1_2 // Synthetic and NI
}

// IsLegacy reports a V1 (API 1.0.0) proof, whose SDR graph puts node-1 last
// among the DRG parents and truncates expander parents to u32 before dividing.
func (p RegisteredSealProof) IsLegacy() bool { return p.Valid() && p < StackedDrg2KiBV1_1 }

// IsSynthetic reports a SyntheticPoRep proof id.
func (p RegisteredSealProof) IsSynthetic() bool {
	return p >= StackedDrg2KiBV1_1_Feat_SyntheticPoRep && p < StackedDrg2KiBV1_2_Feat_NiPoRep
}

// IsNI reports a non-interactive PoRep (FIP-0092) proof id (15–19).
func (p RegisteredSealProof) IsNI() bool {
	return p >= StackedDrg2KiBV1_2_Feat_NiPoRep && p < numSealProofs
}

// NI is the NI-PoRep proof of p's sector size (p itself when already NI).
func (p RegisteredSealProof) NI() RegisteredSealProof {
	return StackedDrg2KiBV1_2_Feat_NiPoRep + RegisteredSealProof(int(p)%5)
}

// PoRepID is the 32-byte porep_id: u64_le(id) ‖ u64_le(nonce = 0) ‖ 16 zero
// bytes (rust-filecoin-proofs-api registry.rs, spec §4.1).
func (p RegisteredSealProof) PoRepID() [32]byte {
	var id [32]byte
	binary.LittleEndian.PutUint64(id[0:8], uint64(p))
	return id
}

// String is the chain's (go-state-types) name, e.g. "StackedDrg2KiBV1_1" or
// "StackedDrg2KiBV1_2_Feat_NiPoRep".
func (p RegisteredSealProof) String() string {
	if p.IsNI() {
		return "StackedDrg" + p.SectorSize().String() + "V1_2_Feat_NiPoRep"
	}
	return p.APIName()
}

// APIName is the rust-filecoin-proofs-api enum name (registry.rs), which
// C1/PC1 JSON carries: the chain name except for NI-PoRep, spelled
// "StackedDrg2KiBV1_2_Feat_NonInteractivePoRep" there.
func (p RegisteredSealProof) APIName() string {
	if !p.Valid() {
		return "RegisteredSealProof(" + strconv.FormatInt(int64(p), 10) + ")"
	}
	name := "StackedDrg" + p.SectorSize().String()
	switch {
	case p.APIVersion() == APIVersion1_0:
		return name + "V1"
	case p.APIVersion() == APIVersion1_1:
		return name + "V1_1"
	case p.IsNI():
		return name + "V1_2_Feat_NonInteractivePoRep"
	}
	return name + "V1_1_Feat_SyntheticPoRep"
}

// ShapeName is the name of the tree-shape variant rust-filecoin-proofs-api
// uses to key PC1 labels and C1 vanilla proofs ("StackedDrg2KiBV1" for every
// version, spec §10.1).
func (p RegisteredSealProof) ShapeName() string {
	return "StackedDrg" + p.SectorSize().String() + "V1"
}

// WinningPoSt is the Winning PoSt proof for sectors sealed with p.
func (p RegisteredSealProof) WinningPoSt() RegisteredPoStProof {
	return StackedDrgWinning2KiBV1 + RegisteredPoStProof(int(p)%5)
}

// WindowPoSt is the current (V1_1, network version ≥ 19) Window PoSt proof for
// sectors sealed with p.
func (p RegisteredSealProof) WindowPoSt() RegisteredPoStProof {
	return StackedDrgWindow2KiBV1_1 + RegisteredPoStProof(int(p)%5)
}

// SealProofs lists every registered seal proof in id order.
func SealProofs() []RegisteredSealProof {
	out := make([]RegisteredSealProof, numSealProofs)
	for i := range out {
		out[i] = RegisteredSealProof(i)
	}
	return out
}

// SealProofForSize is the current (V1_1) seal proof of a sector size.
func SealProofForSize(s SectorSize) (RegisteredSealProof, error) {
	i, ok := sizeIndex(s)
	if !ok {
		return 0, fmt.Errorf("%w: %d", ErrUnknownSectorSize, uint64(s))
	}
	return StackedDrg2KiBV1_1 + RegisteredSealProof(i), nil
}

// ParseSealProof accepts a numeric id ("5"), a chain or API name
// ("StackedDrg2KiBV1_1", "StackedDrg2KiBV1_2_Feat_NiPoRep",
// "StackedDrg2KiBV1_2_Feat_NonInteractivePoRep"; case-insensitive, with or without the
// "RegisteredSealProof_" prefix) or a bare size ("2KiB"), which selects the
// V1_1 proof of that size.
func ParseSealProof(s string) (RegisteredSealProof, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.ParseInt(t, 10, 64); err == nil {
		p := RegisteredSealProof(n)
		if !p.Valid() {
			return 0, fmt.Errorf("%w: id %d", ErrUnknownProof, n)
		}
		return p, nil
	}
	low := strings.TrimPrefix(strings.ToLower(t), "registeredsealproof_")
	for _, p := range SealProofs() {
		if strings.ToLower(p.String()) == low || strings.ToLower(p.APIName()) == low {
			return p, nil
		}
	}
	if size, err := ParseSectorSize(t); err == nil {
		return SealProofForSize(size)
	}
	return 0, fmt.Errorf("%w: %q (want a size 2KiB|8MiB|512MiB|32GiB|64GiB, a name like StackedDrg32GiBV1_1 or StackedDrg32GiBV1_2_Feat_NiPoRep, or an id 0-19)", ErrUnknownProof, s)
}

// RegisteredPoStProof is a PoSt proof id (go-state-types abi.RegisteredPoStProof).
type RegisteredPoStProof int64

// The registered PoSt proofs (spec §3.1).
const (
	StackedDrgWinning2KiBV1 RegisteredPoStProof = iota
	StackedDrgWinning8MiBV1
	StackedDrgWinning512MiBV1
	StackedDrgWinning32GiBV1
	StackedDrgWinning64GiBV1

	StackedDrgWindow2KiBV1
	StackedDrgWindow8MiBV1
	StackedDrgWindow512MiBV1
	StackedDrgWindow32GiBV1
	StackedDrgWindow64GiBV1

	StackedDrgWindow2KiBV1_1
	StackedDrgWindow8MiBV1_1
	StackedDrgWindow512MiBV1_1
	StackedDrgWindow32GiBV1_1
	StackedDrgWindow64GiBV1_1

	numPoStProofs = iota
)

// Fallback PoSt constants (rust-fil-proofs constants.rs, spec §12).
const (
	WinningPoStChallengeCount = 66 // leaf challenges of the one Winning PoSt sector
	WinningPoStSectorCount    = 1
	WindowPoStChallengeCount  = 10 // leaf challenges per Window PoSt sector
)

// Valid reports whether p is a registered PoSt proof.
func (p RegisteredPoStProof) Valid() bool { return p >= 0 && p < numPoStProofs }

// IsWinning reports a Winning PoSt proof.
func (p RegisteredPoStProof) IsWinning() bool { return p.Valid() && p < StackedDrgWindow2KiBV1 }

// SectorSize is the sector size the proof is for; 0 for an invalid id.
func (p RegisteredPoStProof) SectorSize() SectorSize {
	if !p.Valid() {
		return 0
	}
	return sizes[int(p)%5]
}

// SectorCount is the number of sectors per proof partition (1 for Winning,
// 2349 / 2300 for 32 / 64GiB Window, 2 for the test sizes).
func (p RegisteredPoStProof) SectorCount() int {
	if p.IsWinning() {
		return WinningPoStSectorCount
	}
	return sizeTable[int(p)%5].windowSectors
}

// ChallengeCount is the number of leaf challenges per sector.
func (p RegisteredPoStProof) ChallengeCount() int {
	if p.IsWinning() {
		return WinningPoStChallengeCount
	}
	return WindowPoStChallengeCount
}

// APIVersion is 1.2.0 for Window V1_1 (its challenge index no longer depends
// on the sector's position), 1.0.0 otherwise.
func (p RegisteredPoStProof) APIVersion() APIVersion {
	if p >= StackedDrgWindow2KiBV1_1 {
		return APIVersion1_2
	}
	return APIVersion1_0
}

// String is the go-state-types name, e.g. "StackedDrgWindow32GiBV1_1".
func (p RegisteredPoStProof) String() string {
	if !p.Valid() {
		return "RegisteredPoStProof(" + strconv.FormatInt(int64(p), 10) + ")"
	}
	size := p.SectorSize().String()
	switch {
	case p.IsWinning():
		return "StackedDrgWinning" + size + "V1"
	case p < StackedDrgWindow2KiBV1_1:
		return "StackedDrgWindow" + size + "V1"
	}
	return "StackedDrgWindow" + size + "V1_1"
}
