// Command fpproc is a stand-in for a filecoin-proofs based external
// processor (damocles-worker's builtin pc1/pc2/c2 processors over
// filecoin-proofs-api). It is deliberately not Sealant's processor: it
// speaks the JSON-lines protocol itself, decodes every task with its own
// types, and checks each field the way filecoin-proofs would before doing
// any work — proof names, label configs (one per layer, ids layer-1…n,
// sizes), the tree-d config, the files they name (present, right length),
// paths (absolute, files vs directories), piece sizes, the C1 output's
// partition/challenge/layer counts and the prover id. Only then does it
// answer, using Sealant's proofs library underneath (there is no Rust
// toolchain here); c2 answers with the devnet stand-in proof.
//
//	fpproc STAGE   (tree_d, pc1, pc2 or c2)
//
// FPPROC_PARENT_CACHE is the SDR parent cache directory for pc1; if
// FPPROC_LOG is set, the stage name of every task answered is appended to
// that file. Every check that fails is answered as err_msg "fpproc: …" and the process
// keeps serving, as damocles' processors do.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/c2"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/fr32"
	"github.com/sealant/sealant/proofs/porep"
)

// sizeInfo is filecoin-proofs' per-size constants (constants.rs), written
// out here independently of Sealant's abi package.
type sizeInfo struct {
	shape      string // Labels / VanillaSealProof variant
	sectorSize uint64
	layers     int
	partitions int
	challenges int // per partition
}

var proofs = map[string]sizeInfo{
	"StackedDrg2KiBV1_1":   {"StackedDrg2KiBV1", 2 << 10, 2, 1, 2},
	"StackedDrg8MiBV1_1":   {"StackedDrg8MiBV1", 8 << 20, 2, 1, 2},
	"StackedDrg512MiBV1_1": {"StackedDrg512MiBV1", 512 << 20, 2, 1, 2},
	"StackedDrg32GiBV1_1":  {"StackedDrg32GiBV1", 32 << 30, 11, 10, 18},
	"StackedDrg64GiBV1_1":  {"StackedDrg64GiBV1", 64 << 30, 11, 10, 18},
	// NI-PoRep (FIP-0092): the same graphs, more partitions
	// (filecoin-proofs constants.rs / porep_config.rs).
	"StackedDrg2KiBV1_2_Feat_NonInteractivePoRep":   {"StackedDrg2KiBV1", 2 << 10, 2, 13, 2},
	"StackedDrg8MiBV1_2_Feat_NonInteractivePoRep":   {"StackedDrg8MiBV1", 8 << 20, 2, 13, 2},
	"StackedDrg512MiBV1_2_Feat_NonInteractivePoRep": {"StackedDrg512MiBV1", 512 << 20, 2, 13, 2},
	"StackedDrg32GiBV1_2_Feat_NonInteractivePoRep":  {"StackedDrg32GiBV1", 32 << 30, 11, 126, 18},
	"StackedDrg64GiBV1_2_Feat_NonInteractivePoRep":  {"StackedDrg64GiBV1", 64 << 30, 11, 126, 18},
}

type storeConfig struct {
	Path          *string `json:"path"`
	ID            *string `json:"id"`
	Size          *uint64 `json:"size"`
	RowsToDiscard *uint64 `json:"rows_to_discard"`
}

type pc1Out struct {
	RegisteredProof string                     `json:"registered_proof"`
	Labels          map[string]json.RawMessage `json:"labels"`
	Config          *storeConfig               `json:"config"`
	CommD           *[32]byte                  `json:"comm_d"`
}

type pc2Task struct {
	PC1Out     *json.RawMessage `json:"pc1out"`
	CacheDir   string           `json:"cache_dir"`
	SealedFile string           `json:"sealed_file"`
}

type pieceInfo struct {
	Commitment *[32]byte `json:"commitment"`
	Size       *uint64   `json:"size"`
}

type pc1Task struct {
	RegisteredProof string      `json:"registered_proof"`
	CachePath       string      `json:"cache_path"`
	InPath          string      `json:"in_path"`
	OutPath         string      `json:"out_path"`
	ProverID        *[32]byte   `json:"prover_id"`
	SectorID        *uint64     `json:"sector_id"`
	Ticket          *[32]byte   `json:"ticket"`
	PieceInfos      []pieceInfo `json:"piece_infos"`
}

type c2Task struct {
	C1Out    json.RawMessage `json:"c1out"`
	ProverID *[32]byte       `json:"prover_id"`
	SectorID *uint64         `json:"sector_id"`
	MinerID  *uint64         `json:"miner_id"`
}

func fail(format string, args ...any) error { return fmt.Errorf("fpproc: "+format, args...) }

func fileOfSize(what, path string, size uint64) error {
	st, err := os.Stat(path)
	if err != nil {
		return fail("%s: %v", what, err)
	}
	if !st.Mode().IsRegular() {
		return fail("%s %s is not a file", what, path)
	}
	if size > 0 && uint64(st.Size()) != size {
		return fail("%s %s is %d bytes, want %d", what, path, st.Size(), size)
	}
	return nil
}

func isDir(what, path string) error {
	if !filepath.IsAbs(path) {
		return fail("%s %q is not absolute", what, path)
	}
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return fail("%s %s must be a directory (%v)", what, path, err)
	}
	return nil
}

// checkPC1Out checks a pc1out as validate_cache_for_precommit_phase2 does,
// against cacheDir (which overrides the recorded paths).
func checkPC1Out(raw json.RawMessage, cacheDir string) (sizeInfo, error) {
	var o pc1Out
	if err := json.Unmarshal(raw, &o); err != nil {
		return sizeInfo{}, fail("pc1out: %v", err)
	}
	si, ok := proofs[o.RegisteredProof]
	if !ok {
		return si, fail("pc1out: unsupported registered_proof %q", o.RegisteredProof)
	}
	if o.CommD == nil {
		return si, fail("pc1out: missing comm_d")
	}
	if len(o.Labels) != 1 || o.Labels[si.shape] == nil {
		return si, fail("pc1out: labels must be the one variant %s", si.shape)
	}
	var labels struct {
		Labels []storeConfig    `json:"labels"`
		H      *json.RawMessage `json:"_h"`
	}
	if err := json.Unmarshal(o.Labels[si.shape], &labels); err != nil {
		return si, fail("pc1out labels: %v", err)
	}
	if labels.H != nil && string(*labels.H) != "null" {
		return si, fail("pc1out labels: _h must be null")
	}
	if len(labels.Labels) != si.layers {
		return si, fail("pc1out: %d label configs, want %d layers", len(labels.Labels), si.layers)
	}
	nodes := si.sectorSize / 32
	check := func(c *storeConfig, id string, size uint64) error {
		if c == nil || c.Path == nil || c.ID == nil || c.Size == nil || c.RowsToDiscard == nil {
			return fail("store config %s: missing field", id)
		}
		if *c.ID != id || *c.Size != size {
			return fail("store config id %q size %d, want %q size %d", *c.ID, *c.Size, id, size)
		}
		return fileOfSize("store "+id, filepath.Join(cacheDir, "sc-02-data-"+id+".dat"), size*32)
	}
	for i := range labels.Labels {
		if err := check(&labels.Labels[i], fmt.Sprintf("layer-%d", i+1), nodes); err != nil {
			return si, err
		}
	}
	return si, check(o.Config, "tree-d", 2*nodes-1)
}

type treeDTask struct {
	RegisteredProof string `json:"registered_proof"`
	StagedFile      string `json:"staged_file"`
	CacheDir        string `json:"cache_dir"`
}

func handle(ctx context.Context, stage string, raw json.RawMessage) (any, error) {
	switch stage {
	case "tree_d":
		var t treeDTask
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fail("task: %v", err)
		}
		si, ok := proofs[t.RegisteredProof]
		if !ok {
			return nil, fail("unsupported registered_proof %q", t.RegisteredProof)
		}
		if err := isDir("cache_dir", t.CacheDir); err != nil {
			return nil, err
		}
		// damocles mmaps the staged file as the tree's leaves: one sector.
		if err := fileOfSize("staged_file", t.StagedFile, si.sectorSize); err != nil {
			return nil, err
		}
		proof, _ := abi.ParseSealProof(t.RegisteredProof)
		if _, err := porep.BuildTreeD(ctx, proof, t.StagedFile, t.CacheDir, 1); err != nil {
			return nil, err
		}
		return true, nil
	case "pc1":
		var t pc1Task
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fail("task: %v", err)
		}
		si, ok := proofs[t.RegisteredProof]
		if !ok {
			return nil, fail("unsupported registered_proof %q", t.RegisteredProof)
		}
		if t.ProverID == nil || t.SectorID == nil || t.Ticket == nil || len(t.PieceInfos) == 0 {
			return nil, fail("pc1 task misses prover_id, sector_id, ticket or piece_infos")
		}
		if err := isDir("cache_path", t.CachePath); err != nil {
			return nil, err
		}
		if err := fileOfSize("in_path", t.InPath, 0); err != nil {
			return nil, err
		}
		if err := fileOfSize("out_path", t.OutPath, 0); err != nil {
			return nil, err // filecoin-proofs: "out_path must be a file"
		}
		var pieces []commp.PieceInfo
		var sum uint64
		for i, p := range t.PieceInfos {
			if p.Commitment == nil || p.Size == nil || *p.Size%127 != 0 {
				return nil, fail("piece_infos[%d] is not {commitment, unpadded size}", i)
			}
			padded := *p.Size / 127 * 128
			sum += padded
			pieces = append(pieces, commp.PieceInfo{Size: fr32.PaddedPieceSize(padded), Commitment: *p.Commitment})
		}
		if sum > si.sectorSize {
			return nil, fail("piece_infos exceed the sector")
		}
		proof, _ := abi.ParseSealProof(t.RegisteredProof)
		return porep.PreCommit1(ctx, porep.PreCommit1Request{Proof: proof, CacheDir: t.CachePath, InPath: t.InPath,
			OutPath: t.OutPath, ProverID: *t.ProverID, SectorID: *t.SectorID, Ticket: *t.Ticket, Pieces: pieces, Workers: 1,
			ParentCacheDir: os.Getenv("FPPROC_PARENT_CACHE")})
	case "pc2":
		var t pc2Task
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fail("task: %v", err)
		}
		if t.PC1Out == nil {
			return nil, fail("pc2 task misses pc1out")
		}
		if err := isDir("cache_dir", t.CacheDir); err != nil {
			return nil, err
		}
		si, err := checkPC1Out(*t.PC1Out, t.CacheDir)
		if err != nil {
			return nil, err
		}
		if !filepath.IsAbs(t.SealedFile) {
			return nil, fail("sealed_file %q is not absolute", t.SealedFile)
		}
		if err := fileOfSize("sealed_file", t.SealedFile, si.sectorSize); err != nil {
			return nil, err
		}
		out, err := porep.ParsePC1Output(*t.PC1Out)
		if err != nil {
			return nil, err
		}
		return porep.PreCommit2(ctx, out, t.CacheDir, t.SealedFile, 1)
	case "c2":
		var t c2Task
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fail("task: %v", err)
		}
		if t.ProverID == nil || t.SectorID == nil || t.MinerID == nil {
			return nil, fail("c2 task misses prover_id, sector_id or miner_id")
		}
		// prover_id is the miner's actor id as an unsigned LEB128 varint,
		// zero-padded to 32 bytes (filecoin-ffi).
		var want [32]byte
		for i, v := 0, *t.MinerID; ; i++ {
			want[i] = byte(v & 0x7f)
			if v >>= 7; v == 0 {
				break
			}
			want[i] |= 0x80
		}
		if *t.ProverID != want {
			return nil, fail("prover_id does not encode miner_id %d", *t.MinerID)
		}
		var c1 struct {
			RegisteredProof string `json:"registered_proof"`
			VanillaProofs   map[string][][]struct {
				LabelingProofs []json.RawMessage `json:"labeling_proofs"`
				EncodingProof  *json.RawMessage  `json:"encoding_proof"`
			} `json:"vanilla_proofs"`
			CommR     *[32]byte `json:"comm_r"`
			CommD     *[32]byte `json:"comm_d"`
			ReplicaID *[32]byte `json:"replica_id"`
			Seed      *[32]byte `json:"seed"`
			Ticket    *[32]byte `json:"ticket"`
		}
		if err := json.Unmarshal(t.C1Out, &c1); err != nil {
			return nil, fail("c1out: %v", err)
		}
		si, ok := proofs[c1.RegisteredProof]
		if !ok {
			return nil, fail("c1out: unsupported registered_proof %q", c1.RegisteredProof)
		}
		if c1.CommR == nil || c1.CommD == nil || c1.ReplicaID == nil || c1.Seed == nil || c1.Ticket == nil {
			return nil, fail("c1out misses comm_r, comm_d, replica_id, seed or ticket")
		}
		parts := c1.VanillaProofs[si.shape]
		if len(c1.VanillaProofs) != 1 || len(parts) != si.partitions {
			return nil, fail("c1out: want %d partitions under %s", si.partitions, si.shape)
		}
		for k, part := range parts {
			if len(part) != si.challenges {
				return nil, fail("c1out partition %d: %d challenges, want %d", k, len(part), si.challenges)
			}
			for i, p := range part {
				if len(p.LabelingProofs) != si.layers || p.EncodingProof == nil {
					return nil, fail("c1out partition %d challenge %d: %d labeling proofs, want %d, and an encoding proof", k, i, len(p.LabelingProofs), si.layers)
				}
			}
		}
		proof, err := c2.Devnet.ProveC2(ctx, t.C1Out, *t.MinerID, *t.SectorID)
		if err != nil {
			return nil, err
		}
		ints := make([]int, len(proof))
		for i, b := range proof {
			ints[i] = int(b)
		}
		return map[string]any{"proof": ints}, nil
	}
	return nil, errors.New("fpproc: unknown stage " + stage)
}

func main() {
	stage := os.Args[1]
	fmt.Println(stage + " processor ready")
	var mu sync.Mutex
	write := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			fmt.Fprintln(os.Stderr, "encode:", err)
			return
		}
		mu.Lock()
		os.Stdout.Write(append(b, '\n'))
		mu.Unlock()
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	var wg sync.WaitGroup
	for sc.Scan() {
		var req struct {
			ID   uint64          `json:"id"`
			Task json.RawMessage `json:"task"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			fmt.Fprintln(os.Stderr, "bad request:", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := handle(context.Background(), stage, req.Task)
			if err != nil {
				fmt.Fprintln(os.Stderr, "task", req.ID, "failed:", err)
				write(map[string]any{"id": req.ID, "err_msg": err.Error(), "output": nil})
				return
			}
			if log := os.Getenv("FPPROC_LOG"); log != "" {
				if f, err := os.OpenFile(log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
					fmt.Fprintln(f, stage)
					f.Close()
				}
			}
			write(map[string]any{"id": req.ID, "err_msg": nil, "output": out})
		}()
	}
	wg.Wait()
}
