package worker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/fr32"
	"github.com/sealant/sealant/proofs/porep"
)

// Task shapes of the external processor protocol, as damocles'
// vc-processors serialises them with serde (shared/spec/landscape.md
// Appendix A): RegisteredSealProof by variant name, 32-byte values as arrays
// of 32 integers (porep.Bytes32), paths as strings.

// ByteArray is a Vec<u8> as serde_json writes it: an array of integers.
// Decoding also accepts a base64 string (SnarkProof's b64serde form).
type ByteArray []byte

// MarshalJSON writes b as an array of integers.
func (b ByteArray) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 4*len(b)+2)
	out = append(out, '[')
	for i, v := range b {
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, uint64(v), 10)
	}
	return append(out, ']'), nil
}

// UnmarshalJSON reads an array of integers in 0..255 or a base64 string.
func (b *ByteArray) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("worker: proof bytes: %w", err)
		}
		*b = raw
		return nil
	}
	var ints []uint16
	if err := json.Unmarshal(data, &ints); err != nil {
		return fmt.Errorf("worker: byte array: %w", err)
	}
	out := make([]byte, len(ints))
	for i, v := range ints {
		if v > 255 {
			return fmt.Errorf("worker: byte array element %d = %d", i, v)
		}
		out[i] = byte(v)
	}
	*b = out
	return nil
}

// SealProof is a RegisteredSealProof encoded by its variant name.
type SealProof abi.RegisteredSealProof

// MarshalText writes the filecoin-proofs-api variant name ("StackedDrg2KiBV1_1",
// "StackedDrg2KiBV1_2_Feat_NonInteractivePoRep"), which damocles tasks carry.
func (p SealProof) MarshalText() ([]byte, error) {
	if !abi.RegisteredSealProof(p).Valid() {
		return nil, fmt.Errorf("worker: invalid seal proof %d", p)
	}
	return []byte(abi.RegisteredSealProof(p).APIName()), nil
}

// UnmarshalText parses a variant name.
func (p *SealProof) UnmarshalText(b []byte) error {
	v, err := abi.ParseSealProof(string(b))
	if err != nil {
		return err
	}
	*p = SealProof(v)
	return nil
}

// PieceInfo is a piece commitment and its unpadded size.
type PieceInfo struct {
	Commitment porep.Bytes32 `json:"commitment"`
	Size       uint64        `json:"size"`
}

// PieceFile is damocles' PieceFile enum, serialised with camelCase variant
// names: {"url": "…"}, {"local": "/path"} or "pledge" (a zero piece).
type PieceFile struct {
	URL    string
	Local  string
	Pledge bool
}

// MarshalJSON writes the one variant that is set.
func (f PieceFile) MarshalJSON() ([]byte, error) {
	switch {
	case f.Pledge:
		return []byte(`"pledge"`), nil
	case f.URL != "":
		return json.Marshal(map[string]string{"url": f.URL})
	case f.Local != "":
		return json.Marshal(map[string]string{"local": f.Local})
	}
	return nil, fmt.Errorf("worker: empty piece file")
}

// UnmarshalJSON reads "pledge", {"url": s} or {"local": path}.
func (f *PieceFile) UnmarshalJSON(data []byte) error {
	var unit string
	if json.Unmarshal(data, &unit) == nil {
		if unit != "pledge" {
			return fmt.Errorf("worker: unknown piece file variant %q", unit)
		}
		*f = PieceFile{Pledge: true}
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil || len(m) != 1 {
		return fmt.Errorf("worker: piece file must be \"pledge\", {\"url\": …} or {\"local\": …}")
	}
	switch {
	case m["url"] != "":
		*f = PieceFile{URL: m["url"]}
	case m["local"] != "":
		*f = PieceFile{Local: m["local"]}
	default:
		return fmt.Errorf("worker: unknown piece file variant in %s", data)
	}
	return nil
}

// AddPiece is one piece of an add_pieces task; PieceSize is unpadded.
type AddPiece struct {
	PieceFile   PieceFile `json:"piece_file"`
	PayloadSize uint64    `json:"payload_size"`
	PieceSize   uint64    `json:"piece_size"`
}

// AddPiecesTask is the add_pieces stage's task; the output is the pieces'
// []PieceInfo. Sealant's worker stages pieces itself; the type is here for
// the wire format.
type AddPiecesTask struct {
	SealProofType  SealProof  `json:"seal_proof_type"`
	Pieces         []AddPiece `json:"pieces"`
	StagedFilepath string     `json:"staged_filepath"`
}

// PC1Task is the pc1 stage's task.
type PC1Task struct {
	RegisteredProof SealProof     `json:"registered_proof"`
	CachePath       string        `json:"cache_path"`
	InPath          string        `json:"in_path"`
	OutPath         string        `json:"out_path"`
	ProverID        porep.Bytes32 `json:"prover_id"`
	SectorID        uint64        `json:"sector_id"`
	Ticket          porep.Bytes32 `json:"ticket"`
	PieceInfos      []PieceInfo   `json:"piece_infos"`
}

// PC1Output is the pc1 stage's output and the pc1out of a pc2 task: the
// whole SealPreCommitPhase1Output (labels with their store configs, the
// tree-d config, comm_d), which filecoin-proofs' PC2 needs.
type PC1Output = porep.SealPreCommitPhase1Output

// PC2Task is the pc2 stage's task.
type PC2Task struct {
	PC1Out     PC1Output `json:"pc1out"`
	CacheDir   string    `json:"cache_dir"`
	SealedFile string    `json:"sealed_file"`
}

// TreeDTask is the tree_d stage's task: build sc-02-data-tree-d.dat in
// CacheDir over the staged (unsealed) file. The output is true.
type TreeDTask struct {
	RegisteredProof SealProof `json:"registered_proof"`
	StagedFile      string    `json:"staged_file"`
	CacheDir        string    `json:"cache_dir"`
}

// PC2Output is SealPreCommitPhase2Output.
type PC2Output struct {
	RegisteredProof SealProof     `json:"registered_proof"`
	CommR           porep.Bytes32 `json:"comm_r"`
	CommD           porep.Bytes32 `json:"comm_d"`
}

// C2Task is the c2 stage's task. C1Out is the SealCommitPhase1Output JSON.
type C2Task struct {
	C1Out    json.RawMessage `json:"c1out"`
	ProverID porep.Bytes32   `json:"prover_id"`
	SectorID uint64          `json:"sector_id"`
	MinerID  uint64          `json:"miner_id"`
}

// C2Output is SealCommitPhase2Output.
type C2Output struct {
	Proof ByteArray `json:"proof"`
}

// TransferStore is a named store of a transfer task.
type TransferStore struct {
	Name string            `json:"name"`
	Meta map[string]string `json:"meta"`
}

// TransferEnd is a route end: a store-relative or absolute uri.
type TransferEnd struct {
	StoreName *string `json:"store_name"`
	URI       string  `json:"uri"`
}

// TransferOption refines a route.
type TransferOption struct {
	IsDir     bool `json:"is_dir"`
	AllowLink bool `json:"allow_link"`
}

// TransferRoute is one copy.
type TransferRoute struct {
	Src  TransferEnd     `json:"src"`
	Dest TransferEnd     `json:"dest"`
	Opt  *TransferOption `json:"opt"`
}

// TransferTask is the transfer stage's task; the output is true.
type TransferTask struct {
	Stores map[string]TransferStore `json:"stores"`
	Routes []TransferRoute          `json:"routes"`
}

// pieceInfos converts a task's piece infos (unpadded sizes) to padded
// ones, refusing sizes that are not 127·2^k.
func pieceInfos(in []PieceInfo) ([]commp.PieceInfo, error) {
	out := make([]commp.PieceInfo, len(in))
	for i, p := range in {
		if p.Size == 0 || p.Size%127 != 0 {
			return nil, fmt.Errorf("piece_infos[%d]: size %d is not an unpadded piece size (127·2^k)", i, p.Size)
		}
		padded := fr32.PaddedPieceSize(p.Size / 127 * 128)
		if err := padded.Validate(); err != nil {
			return nil, fmt.Errorf("piece_infos[%d]: size %d: %w", i, p.Size, err)
		}
		out[i] = commp.PieceInfo{Size: padded, Commitment: p.Commitment}
	}
	return out, nil
}

// BuiltinOptions configure Sealant's own stage implementations.
type BuiltinOptions struct {
	ParentCacheDir string
	Workers        int
	// Devnet lets the c2 stage answer with the labelled devnet proof (the
	// compact C1 vanilla proofs, see proofs/c2); without it c2 fails with
	// c2.ErrNoProver, because Sealant has no Groth16 prover.
	Devnet bool
}

// BuiltinHandler returns Sealant's in-process implementation of stage as a
// processor TaskHandler (what `sealant processor STAGE` serves).
func BuiltinHandler(stage string, o BuiltinOptions) (TaskHandler, error) {
	switch stage {
	// pc1, pc2 and tree_d serve a task from its content alone (paths and
	// values, as filecoin-proofs does): no Sealant seal record is needed.
	case StagePC1:
		return func(ctx context.Context, raw json.RawMessage) (any, error) {
			var t PC1Task
			if err := strictUnmarshal(raw, &t); err != nil {
				return nil, err
			}
			pieces, err := pieceInfos(t.PieceInfos)
			if err != nil {
				return nil, err
			}
			return porep.PreCommit1(ctx, porep.PreCommit1Request{
				Proof: abi.RegisteredSealProof(t.RegisteredProof), CacheDir: t.CachePath, InPath: t.InPath,
				OutPath: t.OutPath, ProverID: t.ProverID, SectorID: t.SectorID, Ticket: t.Ticket, Pieces: pieces,
				ParentCacheDir: o.ParentCacheDir, Workers: o.Workers,
			})
		}, nil
	case StagePC2:
		return func(ctx context.Context, raw json.RawMessage) (any, error) {
			var t PC2Task
			if err := strictUnmarshal(raw, &t); err != nil {
				return nil, err
			}
			out, err := porep.PreCommit2(ctx, &t.PC1Out, t.CacheDir, t.SealedFile, o.Workers)
			if err != nil {
				return nil, err
			}
			return out, nil
		}, nil
	case StageTreeD:
		return func(ctx context.Context, raw json.RawMessage) (any, error) {
			var t TreeDTask
			if err := strictUnmarshal(raw, &t); err != nil {
				return nil, err
			}
			if _, err := porep.BuildTreeD(ctx, abi.RegisteredSealProof(t.RegisteredProof), t.StagedFile, t.CacheDir, o.Workers); err != nil {
				return nil, err
			}
			return true, nil
		}, nil
	case StageC2:
		prover := c2.Unavailable
		if o.Devnet {
			prover = c2.Devnet
		}
		return func(ctx context.Context, raw json.RawMessage) (any, error) {
			var t C2Task
			if err := strictUnmarshal(raw, &t); err != nil {
				return nil, err
			}
			proof, err := prover.ProveC2(ctx, t.C1Out, t.MinerID, t.SectorID)
			if err != nil {
				return nil, err
			}
			return C2Output{Proof: proof}, nil
		}, nil
	case StageTransfer:
		return func(ctx context.Context, raw json.RawMessage) (any, error) {
			var t TransferTask
			if err := strictUnmarshal(raw, &t); err != nil {
				return nil, err
			}
			for i, r := range t.Routes {
				if r.Src.StoreName != nil || r.Dest.StoreName != nil {
					return nil, fmt.Errorf("route %d: named stores are not supported by Sealant's transfer processor; send absolute uris", i)
				}
				if r.Opt != nil && r.Opt.IsDir {
					return nil, fmt.Errorf("route %d: directory routes are not supported; list files", i)
				}
				if err := copyFileSync(r.Src.URI, r.Dest.URI); err != nil {
					return nil, fmt.Errorf("route %d: %w", i, err)
				}
			}
			return true, nil
		}, nil
	}
	return nil, fmt.Errorf("worker: sealant has no built-in %q processor (tree_d, pc1, pc2, c2, transfer)", stage)
}

// strictUnmarshal decodes a task as serde does: unknown fields are ignored,
// but every field of the task struct must be present (none of damocles'
// task fields is an Option), so a missing field is an error naming it
// rather than a silent zero.
func strictUnmarshal(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode task: %w", err)
	}
	rt := reflect.TypeOf(v)
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	if rt.Kind() != reflect.Struct {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("decode task: %w", err)
	}
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if _, ok := fields[name]; !ok {
			return fmt.Errorf("decode task: missing field %q", name)
		}
	}
	return nil
}

// copyFileSync copies src to dst (creating parents) through a temp file,
// fsyncs it and renames it into place, so dst is either absent or whole.
func copyFileSync(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".part"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}
