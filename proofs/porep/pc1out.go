package porep

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/merkle"
)

// This file defines SealPreCommitPhase1Output, the PC1 → PC2 hand-off, with
// the JSON layout filecoin-ffi and damocles' vc-processors produce (serde
// derives of rust-filecoin-proofs-api src/seal.rs SealPreCommitPhase1Output
// and Labels, rust-fil-proofs storage-proofs-porep params.rs Labels<Tree>,
// merkletree src/store/mod.rs StoreConfig; shared/spec/porep.md §10.1; the
// commits are in testdata/README.md):
//
//	{"registered_proof": "StackedDrg2KiBV1_1",
//	 "labels": {"StackedDrg2KiBV1": {"labels": [StoreConfig × layers], "_h": null}},
//	 "config": StoreConfig,            // tree-d
//	 "comm_d": [32 ints]}
//	StoreConfig = {"path": cache dir, "id": "layer-N"|"tree-d", "size": nodes|null, "rows_to_discard": n}
//
// The Rust structs do not deny unknown fields, so serde drops them; decoding
// here drops them too (they do not survive a round trip). "_h" must be null.

// PC1OutFileName is the file in a sector directory where Sealant keeps the
// sector's SealPreCommitPhase1Output (written after PC1, in-process or
// external), so PC2 — in-process or in an external processor — gets exactly
// what PC1 answered.
const PC1OutFileName = "pc1out.json"

// Errors reported when checking a PC1 output against a cache directory.
var (
	// ErrBadPC1Output reports a SealPreCommitPhase1Output that does not
	// describe the proof's layers and tree-d.
	ErrBadPC1Output = errors.New("porep: bad pc1 output")
	// ErrCacheIncomplete reports a cache directory missing a file a PC1
	// output names, or holding it at the wrong length.
	ErrCacheIncomplete = errors.New("porep: cache directory incomplete")
)

// StoreConfig is merkletree's StoreConfig: where a store (label layer or
// tree) lives. Its file is <Path>/sc-02-data-<ID>.dat.
type StoreConfig struct {
	Path          string  `json:"path"`
	ID            string  `json:"id"`
	Size          *uint64 `json:"size"` // nodes; Option<usize>
	RowsToDiscard uint64  `json:"rows_to_discard"`
}

// DataPath is the store's file under dir (the task's cache directory, which
// filecoin-proofs honours over the recorded Path).
func (c StoreConfig) DataPath(dir string) string { return merkle.DataPath(dir, c.ID) }

// Labels is the shape-keyed enum {"StackedDrg2KiBV1": {"labels": [...],
// "_h": null}}. Shape is always the "…V1" name of the sector size, whatever
// the proof version.
type Labels struct {
	Shape   string
	Configs []StoreConfig
}

type rawLabels struct {
	Labels []StoreConfig `json:"labels"`
	H      phantom       `json:"_h"`
}

// MarshalJSON encodes the one-variant enum object.
func (l Labels) MarshalJSON() ([]byte, error) {
	configs := l.Configs
	if configs == nil {
		configs = []StoreConfig{}
	}
	inner, err := json.Marshal(rawLabels{Labels: configs})
	if err != nil {
		return nil, err
	}
	return enumObject(l.Shape, inner)
}

// UnmarshalJSON decodes the one-variant enum object.
func (l *Labels) UnmarshalJSON(data []byte) error {
	key, inner, err := oneVariant(data)
	if err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	var raw rawLabels
	if err := json.Unmarshal(inner, &raw); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	l.Shape, l.Configs = key, raw.Labels
	return nil
}

// SealPreCommitPhase1Output is the API output of seal_pre_commit_phase1 (and
// the pc1out of a pc2 task).
type SealPreCommitPhase1Output struct {
	RegisteredProof string      `json:"registered_proof"`
	Labels          Labels      `json:"labels"`
	Config          StoreConfig `json:"config"`
	CommD           Bytes32     `json:"comm_d"`
}

// SealPreCommitPhase2Output is the API output of seal_pre_commit_phase2.
type SealPreCommitPhase2Output struct {
	RegisteredProof string  `json:"registered_proof"`
	CommR           Bytes32 `json:"comm_r"`
	CommD           Bytes32 `json:"comm_d"`
}

// PC1Output describes the PC1 result of a sector whose layers and tree-d
// are in cacheDir, as filecoin-proofs' seal_pre_commit_phase1 returns it:
// label configs layer-1…layer-ℓ of Nodes() nodes and the tree-d config of
// 2·Nodes()−1 nodes, all at cacheDir with rows_to_discard 0. It does not
// look at the files (see Check). cacheDir is made absolute, because the
// output travels to other processes.
func PC1Output(proof abi.RegisteredSealProof, cacheDir string, commD [32]byte) (*SealPreCommitPhase1Output, error) {
	if !proof.Valid() {
		return nil, fmt.Errorf("porep: unknown seal proof %d", proof)
	}
	abs, err := filepath.Abs(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("porep: cache dir: %w", err)
	}
	nodes := proof.Nodes()
	dLen, err := merkle.TreeLen(nodes, 2)
	if err != nil {
		return nil, err
	}
	out := &SealPreCommitPhase1Output{
		RegisteredProof: proof.APIName(),
		Labels:          Labels{Shape: proof.ShapeName()},
		Config:          StoreConfig{Path: abs, ID: merkle.IDTreeD, Size: &dLen},
		CommD:           commD,
	}
	for l := 1; l <= proof.Layers(); l++ {
		n := nodes
		out.Labels.Configs = append(out.Labels.Configs, StoreConfig{Path: abs, ID: layerID(l), Size: &n})
	}
	return out, nil
}

func layerID(l int) string { return fmt.Sprintf("layer-%d", l) }

// ParsePC1Output decodes a SealPreCommitPhase1Output and checks its shape
// against its proof (see Validate).
func ParsePC1Output(data []byte) (*SealPreCommitPhase1Output, error) {
	var out SealPreCommitPhase1Output
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPC1Output, err)
	}
	if _, err := out.Validate(); err != nil {
		return nil, err
	}
	return &out, nil
}

// Proof parses RegisteredProof.
func (o *SealPreCommitPhase1Output) Proof() (abi.RegisteredSealProof, error) {
	p, err := abi.ParseSealProof(o.RegisteredProof)
	if err != nil {
		return 0, fmt.Errorf("%w: registered_proof: %w", ErrBadPC1Output, err)
	}
	return p, nil
}

// Validate checks what filecoin-proofs checks before PC2 without touching
// the disk: a known V1_1 proof, the labels variant of its sector shape, one
// label config per layer with ids layer-1…layer-ℓ and Nodes() nodes each,
// and a tree-d config of 2·Nodes()−1 nodes. It returns the proof.
func (o *SealPreCommitPhase1Output) Validate() (abi.RegisteredSealProof, error) {
	p, err := o.Proof()
	if err != nil {
		return 0, err
	}
	if p.IsLegacy() {
		return 0, fmt.Errorf("%w: %s is a V1 proof; only V1_1 sealing is supported", ErrBadPC1Output, p)
	}
	if o.Labels.Shape != p.ShapeName() {
		return 0, fmt.Errorf("%w: labels variant %q, proof %s needs %q", ErrBadPC1Output, o.Labels.Shape, p, p.ShapeName())
	}
	if len(o.Labels.Configs) != p.Layers() {
		return 0, fmt.Errorf("%w: %d label configs, %s has %d layers", ErrBadPC1Output, len(o.Labels.Configs), p, p.Layers())
	}
	nodes := p.Nodes()
	for i, c := range o.Labels.Configs {
		if want := layerID(i + 1); c.ID != want {
			return 0, fmt.Errorf("%w: label config %d has id %q, want %q", ErrBadPC1Output, i, c.ID, want)
		}
		if c.Size == nil || *c.Size != nodes {
			return 0, fmt.Errorf("%w: label config %s has size %s, want %d nodes", ErrBadPC1Output, c.ID, sizeString(c.Size), nodes)
		}
	}
	dLen, _ := merkle.TreeLen(nodes, 2)
	if o.Config.ID != merkle.IDTreeD {
		return 0, fmt.Errorf("%w: config has id %q, want %q", ErrBadPC1Output, o.Config.ID, merkle.IDTreeD)
	}
	if o.Config.Size == nil || *o.Config.Size != dLen {
		return 0, fmt.Errorf("%w: tree-d config has size %s, want %d nodes", ErrBadPC1Output, sizeString(o.Config.Size), dLen)
	}
	return p, nil
}

func sizeString(s *uint64) string {
	if s == nil {
		return "null"
	}
	return fmt.Sprint(*s)
}

// Check validates o (Validate) and then the files it names under cacheDir —
// the cache directory of the PC2 task, which overrides the paths recorded
// in o as filecoin-proofs' validate_cache_for_precommit_phase2 does: every
// label layer file of Nodes()·32 bytes and the tree-d file of
// (2·Nodes()−1)·32 bytes.
func (o *SealPreCommitPhase1Output) Check(cacheDir string) (abi.RegisteredSealProof, error) {
	p, err := o.Validate()
	if err != nil {
		return 0, err
	}
	want := func(c StoreConfig) error {
		path := c.DataPath(cacheDir)
		st, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrCacheIncomplete, c.ID, err)
		}
		if n := uint64(st.Size()); n != *c.Size*32 {
			return fmt.Errorf("%w: %s is %d bytes, want %d", ErrCacheIncomplete, path, n, *c.Size*32)
		}
		return nil
	}
	for _, c := range o.Labels.Configs {
		if err := want(c); err != nil {
			return 0, err
		}
	}
	if err := want(o.Config); err != nil {
		return 0, err
	}
	return p, nil
}

// WritePC1Output writes out as the sector directory's PC1OutFileName,
// atomically.
func WritePC1Output(dir string, out *SealPreCommitPhase1Output) error {
	data, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, PC1OutFileName), data)
}

// LoadPC1Output reads the sector directory's PC1OutFileName.
func LoadPC1Output(dir string) (*SealPreCommitPhase1Output, error) {
	data, err := os.ReadFile(filepath.Join(dir, PC1OutFileName))
	if err != nil {
		return nil, fmt.Errorf("porep: read pc1 output: %w", err)
	}
	return ParsePC1Output(data)
}

// writeOwnPC1Output records the PC1 output of a sector Sealant's own PC1
// just labelled.
func writeOwnPC1Output(dir string, rec *Record) error {
	out, err := PC1Output(rec.Proof, CachePath(dir), rec.CommD)
	if err != nil {
		return err
	}
	return WritePC1Output(dir, out)
}
