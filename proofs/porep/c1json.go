package porep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// This file defines SealCommitPhase1Output, the C1 → C2 hand-off, with the
// JSON layout that filecoin-ffi produces (serde derives of
// rust-filecoin-proofs-api seal.rs and rust-fil-proofs params.rs /
// merkle/proof.rs; shared/spec/porep.md §10.3):
//
//   - [u8; 32] values are arrays of 32 integers (Bytes32);
//   - data-carrying enum variants are one-key objects ({"Single": {...}});
//   - fields appear in Rust declaration order (Go struct order here);
//   - PhantomData fields ("_h") are null.
//
// Decoding is strict: unknown fields, a missing or extra enum variant, a
// non-null "_h", or trailing data are errors, so that a tampered file fails
// to parse or fails verification, never half-parses.

// SealCommitPhase1Output is the C1 output lotus stores as Commit1Out and
// hands to C2.
type SealCommitPhase1Output struct {
	RegisteredProof string        `json:"registered_proof"`
	VanillaProofs   VanillaProofs `json:"vanilla_proofs"`
	CommR           Bytes32       `json:"comm_r"`
	CommD           Bytes32       `json:"comm_d"`
	ReplicaID       Bytes32       `json:"replica_id"`
	Seed            Bytes32       `json:"seed"`
	Ticket          Bytes32       `json:"ticket"`
}

// VanillaProofs is the shape-keyed enum {"StackedDrg2KiBV1": [[Proof]]},
// indexed [partition][challenge]. Shape is always the "…V1" name of the
// sector size, whatever the proof version.
type VanillaProofs struct {
	Shape      string
	Partitions [][]ChallengeProof
}

// MarshalJSON encodes the one-variant enum object.
func (v VanillaProofs) MarshalJSON() ([]byte, error) {
	inner, err := json.Marshal(v.Partitions)
	if err != nil {
		return nil, err
	}
	return enumObject(v.Shape, inner)
}

// UnmarshalJSON decodes the one-variant enum object.
func (v *VanillaProofs) UnmarshalJSON(data []byte) error {
	key, inner, err := oneVariant(data)
	if err != nil {
		return fmt.Errorf("vanilla_proofs: %w", err)
	}
	v.Shape = key
	return strictUnmarshal(inner, &v.Partitions)
}

// ChallengeProof is the vanilla proof of one challenge (Rust Proof<Tree, G>).
type ChallengeProof struct {
	CommDProofs         MerkleProof        `json:"comm_d_proofs"`
	CommRLastProof      MerkleProof        `json:"comm_r_last_proof"`
	ReplicaColumnProofs ReplicaColumnProof `json:"replica_column_proofs"`
	LabelingProofs      []LabelingProof    `json:"labeling_proofs"`
	EncodingProof       LabelingProof      `json:"encoding_proof"`
}

// ReplicaColumnProof holds the TreeC openings of the challenged column and of
// its 6 DRG and 8 expander parents.
type ReplicaColumnProof struct {
	CX         ColumnProof   `json:"c_x"`
	DrgParents []ColumnProof `json:"drg_parents"`
	ExpParents []ColumnProof `json:"exp_parents"`
}

// ColumnProof is one column (the labels of a node in every layer) and its
// TreeC inclusion proof.
type ColumnProof struct {
	Column         Column      `json:"column"`
	InclusionProof MerkleProof `json:"inclusion_proof"`
}

// Column is the labels of node Index, layer 1 first.
type Column struct {
	Index uint32    `json:"index"`
	Rows  []Bytes32 `json:"rows"`
	H     phantom   `json:"_h"`
}

// LabelingProof is the 37 parent blocks hashed to produce the label of Node
// in layer LayerIndex (1-based). The encoding proof has the same shape, for
// the last layer.
type LabelingProof struct {
	Parents    []Bytes32 `json:"parents"`
	LayerIndex uint32    `json:"layer_index"`
	Node       uint64    `json:"node"`
}

// PathElement is one level of a Merkle path: the arity−1 siblings left to
// right, skipping the node's own position, and that position.
type PathElement struct {
	Hashes []Bytes32 `json:"hashes"`
	Index  uint64    `json:"index"`
}

// ProofKind says which rust-fil-proofs ProofData variant a MerkleProof is.
type ProofKind int

// Merkle proof variants.
const (
	ProofSingle ProofKind = iota // one base tree (TreeD; TreeC/TreeR up to 512MiB)
	ProofSub                     // base + sub tree (32GiB shapes)
	ProofTop                     // base + sub + top tree (64GiB shapes)
)

// MerkleProof is an inclusion proof as rust-fil-proofs serialises
// MerkleProof: {"data": {"Single"|"Sub"|"Top": {...}}}.
type MerkleProof struct {
	Kind ProofKind
	Root Bytes32
	Leaf Bytes32
	Base []PathElement
	Sub  []PathElement // ProofSub and ProofTop only
	Top  []PathElement // ProofTop only
}

type pathJSON struct {
	Path []PathElement `json:"path"`
}

type singleJSON struct {
	Root Bytes32  `json:"root"`
	Leaf Bytes32  `json:"leaf"`
	Path pathJSON `json:"path"`
}

type subJSON struct {
	BaseProof pathJSON `json:"base_proof"`
	SubProof  pathJSON `json:"sub_proof"`
	Root      Bytes32  `json:"root"`
	Leaf      Bytes32  `json:"leaf"`
}

type topJSON struct {
	BaseProof pathJSON `json:"base_proof"`
	SubProof  pathJSON `json:"sub_proof"`
	TopProof  pathJSON `json:"top_proof"`
	Root      Bytes32  `json:"root"`
	Leaf      Bytes32  `json:"leaf"`
}

// MarshalJSON encodes the proof with its enum wrapper.
func (p MerkleProof) MarshalJSON() ([]byte, error) {
	var (
		name  string
		inner any
	)
	switch p.Kind {
	case ProofSingle:
		name, inner = "Single", singleJSON{Root: p.Root, Leaf: p.Leaf, Path: pathJSON{nonNil(p.Base)}}
	case ProofSub:
		name, inner = "Sub", subJSON{BaseProof: pathJSON{nonNil(p.Base)}, SubProof: pathJSON{nonNil(p.Sub)}, Root: p.Root, Leaf: p.Leaf}
	case ProofTop:
		name, inner = "Top", topJSON{BaseProof: pathJSON{nonNil(p.Base)}, SubProof: pathJSON{nonNil(p.Sub)}, TopProof: pathJSON{nonNil(p.Top)}, Root: p.Root, Leaf: p.Leaf}
	default:
		return nil, fmt.Errorf("porep: unknown merkle proof kind %d", p.Kind)
	}
	raw, err := json.Marshal(inner)
	if err != nil {
		return nil, err
	}
	data, err := enumObject(name, raw)
	if err != nil {
		return nil, err
	}
	return append(append([]byte(`{"data":`), data...), '}'), nil
}

// UnmarshalJSON decodes {"data": {variant: ...}} strictly.
func (p *MerkleProof) UnmarshalJSON(b []byte) error {
	var outer struct {
		Data json.RawMessage `json:"data"`
	}
	if err := strictUnmarshal(b, &outer); err != nil {
		return fmt.Errorf("merkle proof: %w", err)
	}
	if outer.Data == nil {
		return errors.New("merkle proof: missing \"data\"")
	}
	name, inner, err := oneVariant(outer.Data)
	if err != nil {
		return fmt.Errorf("merkle proof: %w", err)
	}
	*p = MerkleProof{}
	switch name {
	case "Single":
		var s singleJSON
		if err := strictUnmarshal(inner, &s); err != nil {
			return fmt.Errorf("merkle proof: %w", err)
		}
		p.Kind, p.Root, p.Leaf, p.Base = ProofSingle, s.Root, s.Leaf, s.Path.Path
	case "Sub":
		var s subJSON
		if err := strictUnmarshal(inner, &s); err != nil {
			return fmt.Errorf("merkle proof: %w", err)
		}
		p.Kind, p.Root, p.Leaf, p.Base, p.Sub = ProofSub, s.Root, s.Leaf, s.BaseProof.Path, s.SubProof.Path
	case "Top":
		var s topJSON
		if err := strictUnmarshal(inner, &s); err != nil {
			return fmt.Errorf("merkle proof: %w", err)
		}
		p.Kind, p.Root, p.Leaf, p.Base, p.Sub, p.Top = ProofTop, s.Root, s.Leaf, s.BaseProof.Path, s.SubProof.Path, s.TopProof.Path
	default:
		return fmt.Errorf("merkle proof: unknown variant %q", name)
	}
	return nil
}

// ParseC1 decodes a SealCommitPhase1Output strictly.
func ParseC1(data []byte) (*SealCommitPhase1Output, error) {
	var out SealCommitPhase1Output
	if err := strictUnmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("porep: parse C1 output: %w", err)
	}
	// encoding/json matches field names case-insensitively; serde does not.
	// Requiring the canonical encoding (whitespace aside) rejects renamed
	// fields, reordered fields and duplicate keys alike.
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, fmt.Errorf("porep: parse C1 output: %w", err)
	}
	canon, err := json.Marshal(&out)
	if err != nil {
		return nil, fmt.Errorf("porep: parse C1 output: %w", err)
	}
	if !bytes.Equal(canon, compact.Bytes()) {
		at := 0
		for at < len(canon) && at < compact.Len() && canon[at] == compact.Bytes()[at] {
			at++
		}
		return nil, fmt.Errorf("porep: parse C1 output: not in canonical form at byte %d (field names, order or number format differ from serde's)", at)
	}
	return &out, nil
}

// phantom is Rust's PhantomData as serde writes it: null.
type phantom struct{}

func (phantom) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

func (*phantom) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) != "null" {
		return fmt.Errorf("\"_h\" must be null, got %.20s", b)
	}
	return nil
}

func nonNil(p []PathElement) []PathElement {
	if p == nil {
		return []PathElement{}
	}
	return p
}

func enumObject(name string, inner []byte) ([]byte, error) {
	key, err := json.Marshal(name)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(key)+len(inner)+3)
	out = append(out, '{')
	out = append(out, key...)
	out = append(out, ':')
	out = append(out, inner...)
	return append(out, '}'), nil
}

// oneVariant splits a serde enum object {"Variant": value}.
func oneVariant(data []byte) (string, json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return "", nil, err
	}
	if len(m) != 1 {
		return "", nil, fmt.Errorf("enum object must have exactly one variant, has %d", len(m))
	}
	for k, v := range m {
		return k, v, nil
	}
	panic("unreachable")
}

// strictUnmarshal decodes one JSON value into v, rejecting unknown fields and
// trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err == nil {
		return errors.New("trailing data after JSON value")
	}
	return nil
}
