package porep

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/sealant/sealant/proofs/abi"
)

// The compact vanilla-proof encoding.
//
// A SealCommitPhase1Output repeats a lot: every column proof carries the
// comm_c root, labeling proofs repeat the parent columns' labels, path
// indices follow from the challenge. The compact form keeps only what cannot
// be recomputed, in the layout of rust-fil-proofs' SynthProofs (params.rs):
//
//	magic "SLNTC1v1" (8) ‖ u64_le proof id ‖ root_d ‖ root_c ‖ root_r (32 each)
//	for each partition, for each challenge:
//	    u64_le challenge ‖ 14 × u64_le parent (6 DRG, then 8 expander)
//	    proof_d: leaf ‖ log2(N) siblings
//	    column of the challenge: ℓ labels ‖ leaf ‖ TreeC path siblings
//	    14 parent columns, same form
//	    proof_r: leaf ‖ TreeR path siblings
//
// where a TreeC/TreeR path has 7 siblings per base level, then 7 for a sub
// level and 1 for a top level as the shape requires. The header fields of
// the C1 output (proof, comm_r, comm_d, replica_id, seed, ticket) are not
// stored: whoever verifies knows them (the devnet reads them from chain
// state), which is also what binds the proof to them.
//
// This is Sealant's devnet proof: the devnet accepts it in place of a Groth16
// SNARK, and says so everywhere. It is about 9 KiB per challenge for
// 2KiB/8MiB sectors.

const compactMagic = "SLNTC1v1"

// ErrCompact reports a malformed compact proof.
var ErrCompact = errors.New("porep: malformed compact proof")

// EncodeCompact encodes the vanilla proofs of out compactly.
func EncodeCompact(out *SealCommitPhase1Output) ([]byte, error) {
	p, err := abi.ParseSealProof(out.RegisteredProof)
	if err != nil {
		return nil, err
	}
	if len(out.VanillaProofs.Partitions) == 0 || len(out.VanillaProofs.Partitions[0]) == 0 {
		return nil, fmt.Errorf("%w: no proofs", ErrCompact)
	}
	first := &out.VanillaProofs.Partitions[0][0]
	var b bytes.Buffer
	b.WriteString(compactMagic)
	putU64(&b, uint64(p))
	b.Write(first.CommDProofs.Root[:])
	b.Write(first.ReplicaColumnProofs.CX.InclusionProof.Root[:])
	b.Write(first.CommRLastProof.Root[:])
	for _, part := range out.VanillaProofs.Partitions {
		for i := range part {
			cp := &part[i]
			putU64(&b, cp.CommDProofs.ToMerkle().PathIndex())
			for _, col := range cp.ReplicaColumnProofs.DrgParents {
				putU64(&b, uint64(col.Column.Index))
			}
			for _, col := range cp.ReplicaColumnProofs.ExpParents {
				putU64(&b, uint64(col.Column.Index))
			}
			writeProof(&b, &cp.CommDProofs)
			writeColumn(&b, &cp.ReplicaColumnProofs.CX)
			for j := range cp.ReplicaColumnProofs.DrgParents {
				writeColumn(&b, &cp.ReplicaColumnProofs.DrgParents[j])
			}
			for j := range cp.ReplicaColumnProofs.ExpParents {
				writeColumn(&b, &cp.ReplicaColumnProofs.ExpParents[j])
			}
			writeProof(&b, &cp.CommRLastProof)
		}
	}
	return b.Bytes(), nil
}

func putU64(b *bytes.Buffer, v uint64) {
	var x [8]byte
	binary.LittleEndian.PutUint64(x[:], v)
	b.Write(x[:])
}

func writeProof(b *bytes.Buffer, m *MerkleProof) {
	b.Write(m.Leaf[:])
	for _, els := range [][]PathElement{m.Base, m.Sub, m.Top} {
		for _, e := range els {
			for _, h := range e.Hashes {
				b.Write(h[:])
			}
		}
	}
}

func writeColumn(b *bytes.Buffer, c *ColumnProof) {
	for _, r := range c.Column.Rows {
		b.Write(r[:])
	}
	writeProof(b, &c.InclusionProof)
}

// CompactHeader is what a compact proof does not carry.
type CompactHeader struct {
	Proof     abi.RegisteredSealProof
	CommR     [32]byte
	CommD     [32]byte
	ReplicaID [32]byte
	Seed      [32]byte
	Ticket    [32]byte
}

// DecodeCompact rebuilds the SealCommitPhase1Output of a compact proof. The
// result still has to be checked with VerifyC1: decoding only restores the
// structure (labeling and encoding proofs are rebuilt from the parent
// columns, path positions from the stored node indices).
func DecodeCompact(data []byte, h CompactHeader) (*SealCommitPhase1Output, error) {
	p := h.Proof
	if !p.Valid() || p.IsLegacy() {
		return nil, fmt.Errorf("%w: unsupported proof %d", ErrCompact, p)
	}
	r := &reader{data: data}
	if string(r.bytes(len(compactMagic))) != compactMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrCompact)
	}
	if id := r.u64(); id != uint64(p) {
		return nil, fmt.Errorf("%w: proof is for seal proof %d, want %d", ErrCompact, id, p)
	}
	rootD, rootC, rootR := r.node(), r.node(), r.node()
	nodes := p.Nodes()
	dDepth := bits.Len64(nodes) - 1
	shape := p.TreeShape()
	base := shape.Base
	baseLeaves := p.BaseTreeLeaves()
	baseDepth := (bits.Len64(baseLeaves) - 1) / (bits.Len(uint(base)) - 1)
	layers := p.Layers()
	kind := ProofSingle
	if shape.Top > 0 {
		kind = ProofTop
	} else if shape.Sub > 0 {
		kind = ProofSub
	}
	readTreeProof := func(x uint64, root Bytes32) MerkleProof {
		m := MerkleProof{Kind: kind, Root: root, Leaf: r.node()}
		idx := x % baseLeaves
		for range baseDepth {
			m.Base = append(m.Base, r.element(base, idx%uint64(base)))
			idx /= uint64(base)
		}
		tree := x / baseLeaves
		if shape.Sub > 0 {
			m.Sub = append(m.Sub, r.element(shape.Sub, tree%uint64(shape.Sub)))
			tree /= uint64(shape.Sub)
		}
		if shape.Top > 0 {
			m.Top = append(m.Top, r.element(shape.Top, tree%uint64(shape.Top)))
		}
		return m
	}
	readColumn := func(x uint64) ColumnProof {
		rows := make([]Bytes32, layers)
		for i := range rows {
			rows[i] = r.node()
		}
		return ColumnProof{Column: Column{Index: uint32(x), Rows: rows}, InclusionProof: readTreeProof(x, rootC)}
	}
	out := &SealCommitPhase1Output{
		RegisteredProof: p.APIName(),
		VanillaProofs:   VanillaProofs{Shape: p.ShapeName()},
		CommR:           h.CommR, CommD: h.CommD, ReplicaID: h.ReplicaID, Seed: h.Seed, Ticket: h.Ticket,
	}
	for range p.Partitions() {
		part := make([]ChallengeProof, p.ChallengesPerPartition())
		for i := range part {
			c := r.u64()
			var parents [abi.Degree]uint64
			for j := range parents {
				parents[j] = r.u64()
			}
			if r.err != nil {
				return nil, r.err
			}
			if c >= nodes {
				return nil, fmt.Errorf("%w: challenge %d out of range", ErrCompact, c)
			}
			for _, x := range parents {
				if x >= nodes {
					return nil, fmt.Errorf("%w: parent %d out of range", ErrCompact, x)
				}
			}
			cp := &part[i]
			cp.CommDProofs = MerkleProof{Kind: ProofSingle, Root: rootD, Leaf: r.node()}
			for level := range dDepth {
				cp.CommDProofs.Base = append(cp.CommDProofs.Base, r.element(2, (c>>level)&1))
			}
			cp.ReplicaColumnProofs.CX = readColumn(c)
			for j, x := range parents {
				col := readColumn(x)
				if j < abi.BaseDegree {
					cp.ReplicaColumnProofs.DrgParents = append(cp.ReplicaColumnProofs.DrgParents, col)
				} else {
					cp.ReplicaColumnProofs.ExpParents = append(cp.ReplicaColumnProofs.ExpParents, col)
				}
			}
			cp.CommRLastProof = readTreeProof(c, rootR)
			if r.err != nil {
				return nil, r.err
			}
			for layer := 1; layer <= layers; layer++ {
				blocks := columnLabelingBlocks(layer, &cp.ReplicaColumnProofs)
				cp.LabelingProofs = append(cp.LabelingProofs, LabelingProof{Parents: blocks, LayerIndex: uint32(layer), Node: c})
			}
			last := cp.LabelingProofs[layers-1]
			cp.EncodingProof = LabelingProof{Parents: append([]Bytes32(nil), last.Parents...), LayerIndex: last.LayerIndex, Node: c}
		}
		out.VanillaProofs.Partitions = append(out.VanillaProofs.Partitions, part)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(data) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCompact, len(data)-r.off)
	}
	return out, nil
}

// reader consumes a compact proof; the first short read sets err and every
// later read returns zeros.
type reader struct {
	data []byte
	off  int
	err  error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || r.off+n > len(r.data) {
		if r.err == nil {
			r.err = fmt.Errorf("%w: truncated at byte %d", ErrCompact, r.off)
		}
		return make([]byte, n)
	}
	b := r.data[r.off : r.off+n]
	r.off += n
	return b
}

func (r *reader) u64() uint64       { return binary.LittleEndian.Uint64(r.bytes(8)) }
func (r *reader) node() (b Bytes32) { copy(b[:], r.bytes(32)); return b }

func (r *reader) element(arity int, index uint64) PathElement {
	e := PathElement{Index: index, Hashes: make([]Bytes32, arity-1)}
	for i := range e.Hashes {
		e.Hashes[i] = r.node()
	}
	return e
}
