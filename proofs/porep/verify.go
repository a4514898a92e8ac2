package porep

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/merkle"
	"github.com/sealant/sealant/proofs/poseidon"
	"github.com/sealant/sealant/proofs/sdr"
)

// ErrInvalidProof is wrapped by every verification failure.
var ErrInvalidProof = errors.New("porep: invalid C1 proof")

// VerifyError names the check a C1 output failed.
type VerifyError struct {
	Partition, Challenge int    // −1 when the check is not per challenge
	Check                string // e.g. "comm_r", "labeling layer 2"
	Reason               string
}

// Error returns "porep: invalid C1 proof: …" naming the partition,
// challenge (when per challenge) and check that failed.
func (e *VerifyError) Error() string {
	if e.Challenge >= 0 {
		return fmt.Sprintf("porep: invalid C1 proof: partition %d challenge %d: %s: %s", e.Partition, e.Challenge, e.Check, e.Reason)
	}
	return fmt.Sprintf("porep: invalid C1 proof: %s: %s", e.Check, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidProof) true.
func (e *VerifyError) Unwrap() error { return ErrInvalidProof }

// VerifyOptions carries what the C1 output does not contain. The miner and
// sector number are passed beside the C1 output to C2 (as in lotus), and are
// the only way to bind the ticket: with both set, the replica id is
// recomputed from them, the ticket and comm_d.
type VerifyOptions struct {
	Miner  *uint64
	Sector *uint64
}

// VerifyReport lists the checks VerifyC1 performed.
type VerifyReport struct {
	Proof      abi.RegisteredSealProof
	Challenges int
	Checks     []string
	// TicketBound is false when no miner/sector was given, so the ticket
	// could not be tied to the replica id.
	TicketBound bool
}

// VerifyC1 checks a SealCommitPhase1Output the way rust-fil-proofs'
// verify_all_partitions does (shared/spec/porep.md §9.4), plus one check the
// reference leaves to the SNARK: the labeling proofs' parent blocks must be
// the labels in the opened parent columns. Without that, vanilla proofs
// alone would not bind the labels to the graph, and the devnet accepts
// vanilla proofs in place of a SNARK.
func VerifyC1(out *SealCommitPhase1Output, opts *VerifyOptions) (*VerifyReport, error) {
	fail := func(check, format string, a ...any) error {
		return &VerifyError{Partition: -1, Challenge: -1, Check: check, Reason: fmt.Sprintf(format, a...)}
	}
	p, err := abi.ParseSealProof(out.RegisteredProof)
	if err != nil || p.APIName() != out.RegisteredProof {
		return nil, fail("registered_proof", "unknown proof %q", out.RegisteredProof)
	}
	if p.IsLegacy() {
		return nil, fail("registered_proof", "%s is not a V1_1 proof", p)
	}
	if out.VanillaProofs.Shape != p.ShapeName() {
		return nil, fail("vanilla_proofs", "shape %q does not match %s (want %q)", out.VanillaProofs.Shape, p, p.ShapeName())
	}
	if out.CommD == (Bytes32{}) || out.CommR == (Bytes32{}) {
		return nil, fail("commitments", "comm_d and comm_r must be non-zero")
	}
	rep := &VerifyReport{Proof: p}
	if opts != nil && opts.Miner != nil && opts.Sector != nil {
		want := sdr.ReplicaID(sdr.ProverID(*opts.Miner), *opts.Sector, out.Ticket, out.CommD, p)
		if want != out.ReplicaID {
			return nil, fail("replica_id", "does not derive from miner %d, sector %d, the ticket and comm_d", *opts.Miner, *opts.Sector)
		}
		rep.TicketBound = true
		rep.Checks = append(rep.Checks, "replica_id derives from miner, sector, ticket, comm_d")
	}
	graph, err := sdr.NewGraph(p)
	if err != nil {
		return nil, err
	}
	challenges := Challenges(p, out.ReplicaID, out.CommR, out.Seed)
	if len(out.VanillaProofs.Partitions) != len(challenges) {
		return nil, fail("vanilla_proofs", "%d partitions, want %d", len(out.VanillaProofs.Partitions), len(challenges))
	}
	for k, part := range out.VanillaProofs.Partitions {
		if len(part) != len(challenges[k]) {
			return nil, fail("vanilla_proofs", "partition %d has %d proofs, want %d", k, len(part), len(challenges[k]))
		}
		commC := part[0].ReplicaColumnProofs.CX.InclusionProof.Root
		commRLast := part[0].CommRLastProof.Root
		commR, err := CommR(commC, commRLast)
		if err != nil || Bytes32(commR) != out.CommR {
			return nil, &VerifyError{Partition: k, Challenge: -1, Check: "comm_r", Reason: "Poseidon2(comm_c, comm_r_last) != comm_r"}
		}
		for i := range part {
			if err := verifyChallenge(p, graph, out, &part[i], challenges[k][i], commC, commRLast); err != nil {
				err.Partition, err.Challenge = k, i
				return nil, err
			}
			rep.Challenges++
		}
	}
	rep.Checks = append(rep.Checks,
		challengeCheck(p),
		"comm_r = Poseidon2(comm_c, comm_r_last)",
		"tree-d inclusion proofs open comm_d at each challenge",
		"tree-c column proofs for each challenge and its 14 parents",
		"tree-r-last inclusion proofs open comm_r_last at each challenge",
		"labels recompute from their parents, which match the parent columns",
		"replica node = data node + key")
	return rep, nil
}

func verifyChallenge(p abi.RegisteredSealProof, g *sdr.Graph, out *SealCommitPhase1Output, cp *ChallengeProof, c uint64, commC, commRLast Bytes32) *VerifyError {
	fail := func(check, format string, a ...any) *VerifyError {
		return &VerifyError{Check: check, Reason: fmt.Sprintf(format, a...)}
	}
	layers := p.Layers()
	wantKind := ProofSingle
	switch s := p.TreeShape(); {
	case s.Top > 0:
		wantKind = ProofTop
	case s.Sub > 0:
		wantKind = ProofSub
	}

	// 1. TreeD opening of the challenge.
	d := &cp.CommDProofs
	if d.Kind != ProofSingle {
		return fail("comm_d_proofs", "not a single-tree proof")
	}
	if err := checkOpening(d, merkle.SHA256, c, out.CommD); err != "" {
		return fail("comm_d_proofs", "%s", err)
	}

	// 2. Column openings: the challenge and its parents.
	var parents [abi.Degree]uint32
	g.Parents(uint32(c), parents[:])
	rc := &cp.ReplicaColumnProofs
	if len(rc.DrgParents) != abi.BaseDegree || len(rc.ExpParents) != abi.ExpansionDegree {
		return fail("replica_column_proofs", "%d drg and %d exp parents, want %d and %d",
			len(rc.DrgParents), len(rc.ExpParents), abi.BaseDegree, abi.ExpansionDegree)
	}
	cols := append([]ColumnProof{rc.CX}, append(append([]ColumnProof{}, rc.DrgParents...), rc.ExpParents...)...)
	for j, col := range cols {
		want := c
		name := "c_x"
		if j > 0 {
			want = uint64(parents[j-1])
			name = fmt.Sprintf("parent column %d", j-1)
		}
		if uint64(col.Column.Index) != want {
			return fail(name, "column index %d, want %d", col.Column.Index, want)
		}
		if len(col.Column.Rows) != layers {
			return fail(name, "%d rows, want %d layers", len(col.Column.Rows), layers)
		}
		if col.InclusionProof.Kind != wantKind {
			return fail(name, "wrong merkle proof variant for %s", p)
		}
		leaf, err := columnHash(col.Column.Rows)
		if err != nil {
			return fail(name, "column hash: %v", err)
		}
		if leaf != col.InclusionProof.Leaf {
			return fail(name, "leaf is not the hash of the column")
		}
		if e := checkOpening(&col.InclusionProof, merkle.Poseidon, want, commC); e != "" {
			return fail(name, "%s", e)
		}
	}

	// 3. TreeR_last opening of the challenge.
	r := &cp.CommRLastProof
	if r.Kind != wantKind {
		return fail("comm_r_last_proof", "wrong merkle proof variant for %s", p)
	}
	if e := checkOpening(r, merkle.Poseidon, c, commRLast); e != "" {
		return fail("comm_r_last_proof", "%s", e)
	}

	// 4. Labels: recomputed from their parent blocks, which must be the
	// parent columns' labels.
	if len(cp.LabelingProofs) != layers {
		return fail("labeling_proofs", "%d proofs, want %d", len(cp.LabelingProofs), layers)
	}
	for i, lp := range cp.LabelingProofs {
		layer := i + 1
		name := fmt.Sprintf("labeling layer %d", layer)
		if e := checkLabeling(out, &lp, layer, c, cp.ReplicaColumnProofs.CX.Column.Rows[layer-1]); e != "" {
			return fail(name, "%s", e)
		}
		want := columnLabelingBlocks(layer, rc)
		for b := range want {
			if lp.Parents[b] != want[b] {
				return fail(name, "parent block %d is not the label in the opened parent column", b)
			}
		}
	}

	// 5. Encoding: replica = data + key, key = last layer's label.
	ep := &cp.EncodingProof
	if e := checkLabeling(out, ep, layers, c, cp.ReplicaColumnProofs.CX.Column.Rows[layers-1]); e != "" {
		return fail("encoding_proof", "%s", e)
	}
	enc, err := encodeNode(d.Leaf, rc.CX.Column.Rows[layers-1])
	if err != nil {
		return fail("encoding_proof", "%v", err)
	}
	if enc != r.Leaf {
		return fail("encoding_proof", "replica node != data node + key")
	}
	return nil
}

// checkOpening verifies an inclusion proof for leaf index want under root.
func checkOpening(m *MerkleProof, h merkle.Hasher, want uint64, root Bytes32) string {
	if m.Root != root {
		return "root differs from the committed root"
	}
	mp := m.ToMerkle()
	if err := mp.Verify(h); err != nil {
		return err.Error()
	}
	if !mp.ProvesChallenge(want) {
		return fmt.Sprintf("proves leaf %d, want %d", mp.PathIndex(), want)
	}
	return ""
}

func checkLabeling(out *SealCommitPhase1Output, lp *LabelingProof, layer int, c uint64, want Bytes32) string {
	if lp.LayerIndex != uint32(layer) {
		return fmt.Sprintf("layer_index %d, want %d", lp.LayerIndex, layer)
	}
	if lp.Node != c {
		return fmt.Sprintf("node %d, want %d", lp.Node, c)
	}
	if len(lp.Parents) != sdr.LabelParentBlocks {
		return fmt.Sprintf("%d parent blocks, want %d", len(lp.Parents), sdr.LabelParentBlocks)
	}
	blocks := make([][32]byte, len(lp.Parents))
	for i, b := range lp.Parents {
		blocks[i] = b
	}
	rid := [32]byte(out.ReplicaID)
	label, err := sdr.LabelFromBlocks(&rid, uint32(layer), c, blocks)
	if err != nil {
		return err.Error()
	}
	if label != want {
		return "label does not match the column"
	}
	return ""
}

// columnHash is Poseidon over a column's labels (arity 2 or 11).
func columnHash(rows []Bytes32) (Bytes32, error) {
	els := make([]fr.Element, len(rows))
	for i, r := range rows {
		e, err := poseidon.ElementFromBytes(r)
		if err != nil {
			return Bytes32{}, err
		}
		els[i] = e
	}
	h, err := poseidon.Hash(els)
	if err != nil {
		return Bytes32{}, err
	}
	return poseidon.ElementToBytes(h), nil
}

func challengeCheck(p abi.RegisteredSealProof) string {
	if p.IsNI() {
		return "NI-PoRep challenges derive from replica_id and comm_r"
	}
	return "challenges derive from replica_id and seed"
}
