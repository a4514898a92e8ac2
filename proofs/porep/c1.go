package porep

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/merkle"
	"github.com/sealant/sealant/proofs/sdr"
)

// C1 computes the challenges of a sealed sector and the vanilla proof of
// each (SealCommitPhase1), then verifies the result as rust-fil-proofs does
// before returning it. Interactive proofs derive the challenges from seed;
// an NI-PoRep sector (proof 15–19) derives them from replica_id and comm_r,
// ignores seed (as seal_commit_phase1 does) and records a zero seed. The
// output has one partition per Groth16 partition of the proof (13 or 126
// for NI-PoRep).
func C1(ctx context.Context, dir string, seed [32]byte) (*SealCommitPhase1Output, error) {
	rec, err := LoadRecord(dir)
	if err != nil {
		return nil, err
	}
	if !rec.has(StagePC2) {
		return nil, fmt.Errorf("porep: c1: sector t0%d-%d in %s has not finished PC2", rec.Miner, rec.Sector, dir)
	}
	p := rec.Proof
	graph, err := sdr.NewGraph(p)
	if err != nil {
		return nil, fmt.Errorf("porep: c1: %w", err)
	}
	treeD, err := merkle.Open(treeDConfig(dir, p), nil)
	if err != nil {
		return nil, fmt.Errorf("porep: c1: open tree-d: %w", err)
	}
	defer treeD.Close()
	treeC, err := merkle.Open(treeCConfig(dir, p), nil)
	if err != nil {
		return nil, fmt.Errorf("porep: c1: open tree-c: %w", err)
	}
	defer treeC.Close()
	sealed, err := os.Open(SealedPath(dir))
	if err != nil {
		return nil, fmt.Errorf("porep: c1: open replica: %w", err)
	}
	defer sealed.Close()
	treeR, err := merkle.Open(treeRConfig(dir, p), merkle.ReaderAtSource(sealed))
	if err != nil {
		return nil, fmt.Errorf("porep: c1: open tree-r-last: %w", err)
	}
	defer treeR.Close()
	if treeD.Root() != rec.CommD || treeC.Root() != rec.CommC || treeR.Root() != rec.CommRLast {
		return nil, fmt.Errorf("porep: c1: tree roots in %s do not match the seal record", dir)
	}
	layerFiles, err := openLayers(dir, p)
	if err != nil {
		return nil, err
	}
	defer closeAll(layerFiles)
	labels := layerReader(layerFiles)

	if p.IsNI() {
		seed = [32]byte{}
	}
	challenges := Challenges(p, rec.ReplicaID, rec.CommR, seed)
	out := &SealCommitPhase1Output{
		RegisteredProof: p.APIName(),
		VanillaProofs:   VanillaProofs{Shape: p.ShapeName(), Partitions: make([][]ChallengeProof, len(challenges))},
		CommR:           rec.CommR,
		CommD:           rec.CommD,
		ReplicaID:       rec.ReplicaID,
		Seed:            seed,
		Ticket:          rec.Ticket,
	}
	for k, part := range challenges {
		out.VanillaProofs.Partitions[k] = make([]ChallengeProof, len(part))
		for i, c := range part {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			cp, err := proveChallenge(p, graph, treeD, treeC, treeR, labels, c)
			if err != nil {
				return nil, fmt.Errorf("porep: c1: challenge %d (node %d): %w", i, c, err)
			}
			out.VanillaProofs.Partitions[k][i] = cp
		}
	}
	if _, err := VerifyC1(out, &VerifyOptions{Miner: &rec.Miner, Sector: &rec.Sector}); err != nil {
		return nil, fmt.Errorf("porep: c1: self-check failed: %w", err)
	}
	return out, nil
}

// layerReader reads single labels from the layer files (1-based layers).
type layerReader []*os.File

func (l layerReader) label(layer int, node uint64) ([32]byte, error) {
	var b [32]byte
	if _, err := l[layer-1].ReadAt(b[:], int64(node)*32); err != nil {
		return b, fmt.Errorf("read label %d of layer %d: %w", node, layer, err)
	}
	return b, nil
}

func (l layerReader) column(node uint64) ([]Bytes32, error) {
	rows := make([]Bytes32, len(l))
	for i := range l {
		v, err := l.label(i+1, node)
		if err != nil {
			return nil, err
		}
		rows[i] = v
	}
	return rows, nil
}

func proveChallenge(p abi.RegisteredSealProof, g *sdr.Graph, treeD, treeC, treeR *merkle.Tree, labels layerReader, c uint64) (ChallengeProof, error) {
	var cp ChallengeProof
	dp, err := treeD.Proof(c)
	if err != nil {
		return cp, fmt.Errorf("tree-d proof: %w", err)
	}
	cp.CommDProofs = FromMerkle(dp)
	rp, err := treeR.Proof(c)
	if err != nil {
		return cp, fmt.Errorf("tree-r-last proof: %w", err)
	}
	cp.CommRLastProof = FromMerkle(rp)

	var parents [abi.Degree]uint32
	g.Parents(uint32(c), parents[:])
	columnProof := func(x uint64) (ColumnProof, error) {
		rows, err := labels.column(x)
		if err != nil {
			return ColumnProof{}, err
		}
		cp, err := treeC.Proof(x)
		if err != nil {
			return ColumnProof{}, fmt.Errorf("tree-c proof of %d: %w", x, err)
		}
		return ColumnProof{Column: Column{Index: uint32(x), Rows: rows}, InclusionProof: FromMerkle(cp)}, nil
	}
	if cp.ReplicaColumnProofs.CX, err = columnProof(c); err != nil {
		return cp, err
	}
	for i, x := range parents {
		col, err := columnProof(uint64(x))
		if err != nil {
			return cp, err
		}
		if i < abi.BaseDegree {
			cp.ReplicaColumnProofs.DrgParents = append(cp.ReplicaColumnProofs.DrgParents, col)
		} else {
			cp.ReplicaColumnProofs.ExpParents = append(cp.ReplicaColumnProofs.ExpParents, col)
		}
	}
	for layer := 1; layer <= p.Layers(); layer++ {
		blocks, err := labelingBlocks(layer, parents, func(l int, node uint32) ([32]byte, error) {
			return labels.label(l, uint64(node))
		})
		if err != nil {
			return cp, err
		}
		cp.LabelingProofs = append(cp.LabelingProofs, LabelingProof{Parents: blocks, LayerIndex: uint32(layer), Node: c})
	}
	last := cp.LabelingProofs[len(cp.LabelingProofs)-1]
	cp.EncodingProof = LabelingProof{Parents: append([]Bytes32(nil), last.Parents...), LayerIndex: last.LayerIndex, Node: c}
	return cp, nil
}

// labelingBlocks lists the 37 parent blocks hashed into a label (spec §6):
// in layer 1 the six DRG parents' labels repeated, in later layers the six
// DRG parents (this layer) and eight expander parents (previous layer)
// repeated, truncated to 37.
func labelingBlocks(layer int, parents [abi.Degree]uint32, label func(layer int, node uint32) ([32]byte, error)) ([]Bytes32, error) {
	var base []Bytes32
	for i, x := range parents {
		var (
			v   [32]byte
			err error
		)
		switch {
		case i < abi.BaseDegree:
			v, err = label(layer, x)
		case layer > 1:
			v, err = label(layer-1, x)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		base = append(base, v)
	}
	return cycleBlocks(base), nil
}

// cycleBlocks repeats the distinct parent labels (6 in layer 1, 14 after)
// to the 37 blocks a label hashes.
func cycleBlocks(base []Bytes32) []Bytes32 {
	out := make([]Bytes32, sdr.LabelParentBlocks)
	for i := range out {
		out[i] = base[i%len(base)]
	}
	return out
}

// columnLabelingBlocks is the labeling proof a challenge's opened parent
// columns imply for layer: the DRG parents' labels in that layer, then the
// expander parents' labels in the layer below, cycled to 37. Parents are
// taken by position, not by node number, because parents repeat.
func columnLabelingBlocks(layer int, rc *ReplicaColumnProof) []Bytes32 {
	base := make([]Bytes32, 0, abi.Degree)
	for _, col := range rc.DrgParents {
		base = append(base, col.Column.Rows[layer-1])
	}
	if layer > 1 {
		for _, col := range rc.ExpParents {
			base = append(base, col.Column.Rows[layer-2])
		}
	}
	return cycleBlocks(base)
}

// FromMerkle converts a merkle package proof to its C1 JSON form.
func FromMerkle(p *merkle.Proof) MerkleProof {
	conv := func(els []merkle.PathElement) []PathElement {
		out := make([]PathElement, len(els))
		for i, e := range els {
			hs := make([]Bytes32, len(e.Hashes))
			for j, h := range e.Hashes {
				hs[j] = h
			}
			out[i] = PathElement{Hashes: hs, Index: e.Index}
		}
		return out
	}
	mp := MerkleProof{Root: p.Root, Leaf: p.Leaf, Base: conv(p.Base)}
	switch {
	case len(p.Top) > 0:
		mp.Kind, mp.Sub, mp.Top = ProofTop, conv(p.Sub), conv(p.Top)
	case len(p.Sub) > 0:
		mp.Kind, mp.Sub = ProofSub, conv(p.Sub)
	default:
		mp.Kind = ProofSingle
	}
	return mp
}

// ToMerkle converts a proof back to the merkle package's form for
// verification.
func (m *MerkleProof) ToMerkle() *merkle.Proof {
	conv := func(els []PathElement) []merkle.PathElement {
		out := make([]merkle.PathElement, len(els))
		for i, e := range els {
			hs := make([]merkle.Node, len(e.Hashes))
			for j, h := range e.Hashes {
				hs[j] = h
			}
			out[i] = merkle.PathElement{Hashes: hs, Index: e.Index}
		}
		return out
	}
	return &merkle.Proof{Leaf: m.Leaf, Root: m.Root, Base: conv(m.Base), Sub: conv(m.Sub), Top: conv(m.Top)}
}

var _ io.ReaderAt = (*os.File)(nil)
