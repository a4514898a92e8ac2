package porep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/fr32"
	"github.com/sealant/sealant/proofs/merkle"
	"github.com/sealant/sealant/proofs/sdr"
)

// The standalone stages run PC1, PC2 and TreeD from paths and values alone,
// as filecoin-proofs' seal_pre_commit_phase1/2 and damocles' create_tree_d
// do: no seal record, no sector directory layout. They are what `sealant
// processor pc1|pc2|tree_d` serve to a damocles worker.

// Errors of the standalone stages.
var (
	// ErrBadPath reports a path that is relative, missing, or not a file or
	// directory as the stage needs.
	ErrBadPath = errors.New("porep: bad path")
	// ErrStagedSize reports a staged (unsealed) file whose length does not
	// fit the sector.
	ErrStagedSize = errors.New("porep: staged file has the wrong size")
	// ErrPieceInfos reports piece infos that cannot describe the sector.
	ErrPieceInfos = errors.New("porep: bad piece infos")
	// ErrBadReplica reports a replica an external PC2 wrote that is not the
	// sector's data encoded once with its last label layer.
	ErrBadReplica = errors.New("porep: replica is not the encoded data")
)

// PreCommit1Request is a PC1 task: the staged file at InPath (Fr32-padded
// pieces, as add_pieces writes it) is copied to OutPath, TreeD and the
// label layers are built under CacheDir.
type PreCommit1Request struct {
	Proof    abi.RegisteredSealProof
	CacheDir string
	InPath   string
	OutPath  string
	ProverID [32]byte
	SectorID uint64
	Ticket   [32]byte
	// Pieces are the sector's pieces in order (padded sizes); CommD is
	// computed from them (zero pieces fill any gap and the tail) and must
	// equal the TreeD root of the staged data.
	Pieces []commp.PieceInfo
	// ParentCacheDir holds SDR parent caches ("" = sdr.DefaultParentCacheDir).
	ParentCacheDir string
	// Workers bounds parallelism; ≤ 0 means GOMAXPROCS.
	Workers int
	Logger  *slog.Logger
}

func absPath(what, p string) error {
	if p == "" {
		return fmt.Errorf("%w: %s is empty", ErrBadPath, what)
	}
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%w: %s %q is not absolute", ErrBadPath, what, p)
	}
	return nil
}

func checkV11(p abi.RegisteredSealProof) error {
	if !p.Valid() {
		return fmt.Errorf("porep: unknown seal proof %d", p)
	}
	if p.IsLegacy() {
		return fmt.Errorf("porep: %s is a V1 proof; only V1_1 sealing is supported", p)
	}
	return nil
}

// PreCommit1 runs PC1 from a task's content alone and returns the
// SealPreCommitPhase1Output filecoin-proofs would return. It writes only
// under CacheDir (tree-d, layers, the layer manifest) and to OutPath (the
// data copy PC2 encodes in place); the SDR parent cache lives in
// ParentCacheDir as filecoin-proofs' lives in FIL_PROOFS_PARENT_CACHE. A
// rerun with the same task resumes the layers already written.
func PreCommit1(ctx context.Context, req PreCommit1Request) (*SealPreCommitPhase1Output, error) {
	p := req.Proof
	if err := checkV11(p); err != nil {
		return nil, err
	}
	for _, c := range []struct{ what, path string }{{"cache_path", req.CacheDir}, {"in_path", req.InPath}, {"out_path", req.OutPath}} {
		if err := absPath(c.what, c.path); err != nil {
			return nil, err
		}
	}
	cache, in, out := filepath.Clean(req.CacheDir), filepath.Clean(req.InPath), filepath.Clean(req.OutPath)
	if in == out {
		return nil, fmt.Errorf("%w: in_path and out_path are both %s", ErrBadPath, in)
	}
	for _, f := range []struct{ what, path string }{{"in_path", in}, {"out_path", out}} {
		if rel, err := filepath.Rel(cache, f.path); err == nil && filepath.IsLocal(rel) {
			return nil, fmt.Errorf("%w: %s %s is inside cache_path %s", ErrBadPath, f.what, f.path, cache)
		}
	}
	sectorSize := uint64(p.SectorSize())
	st, err := os.Stat(in)
	if err != nil {
		return nil, fmt.Errorf("%w: in_path: %w", ErrBadPath, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: in_path %s is not a regular file", ErrBadPath, in)
	}
	if uint64(st.Size()) > sectorSize {
		return nil, fmt.Errorf("%w: in_path %s is %d bytes, a %s sector is %d", ErrStagedSize, in, st.Size(), p.SectorSize(), sectorSize)
	}
	want, err := commDOfPieces(p, req.Pieces)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("%w: cache_path: %w", ErrBadPath, err)
	}
	// Copy the staged data to out_path, zero-extended to the sector size, as
	// filecoin-proofs does; PC2 encodes this copy in place.
	if err := copyExtended(in, out, int64(sectorSize)); err != nil {
		return nil, err
	}
	workers := req.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	commD, err := BuildTreeD(ctx, p, out, cache, workers)
	if err != nil {
		return nil, err
	}
	if commD != want {
		return nil, fmt.Errorf("%w: staged data has comm_d %x, piece_infos give %x", ErrCommDMismatch, commD, want)
	}
	replicaID := sdr.ReplicaID(req.ProverID, req.SectorID, req.Ticket, commD, p)
	if _, err := sdr.RunPC1(ctx, cache, replicaID, p, &sdr.PC1Options{
		ParentCacheDir: req.ParentCacheDir, Workers: workers, Logger: req.Logger,
	}); err != nil {
		return nil, fmt.Errorf("porep: pc1: %w", err)
	}
	return PC1Output(p, cache, commD)
}

// commDOfPieces checks piece infos and computes the CommD they imply. No
// pieces is refused: damocles and lotus send one zero piece for a CC sector.
func commDOfPieces(p abi.RegisteredSealProof, pieces []commp.PieceInfo) ([32]byte, error) {
	sectorSize := uint64(p.SectorSize())
	if len(pieces) == 0 {
		return [32]byte{}, fmt.Errorf("%w: no pieces (a CC sector has one zero piece of the sector size)", ErrPieceInfos)
	}
	var sum uint64
	for i, pc := range pieces {
		if err := pc.Size.Validate(); err != nil {
			return [32]byte{}, fmt.Errorf("%w: piece %d: %w", ErrPieceInfos, i, err)
		}
		sum += uint64(pc.Size)
	}
	if sum > sectorSize {
		return [32]byte{}, fmt.Errorf("%w: pieces total %d padded bytes, the sector holds %d", ErrPieceInfos, sum, sectorSize)
	}
	d, err := commp.ComputeCommD(sectorSize, pieces)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w: %w", ErrPieceInfos, err)
	}
	return d, nil
}

// copyExtended copies src over dst, in place as filecoin-proofs' fs::copy
// does (nothing is written beside dst), and sets its length to size.
func copyExtended(src, dst string, size int64) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("%w: in_path: %w", ErrBadPath, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%w: out_path: %w", ErrBadPath, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("porep: copy staged data: %w", err)
	}
	if err := out.Truncate(size); err != nil {
		out.Close()
		return fmt.Errorf("porep: size out_path: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BuildTreeD builds TreeD (sc-02-data-tree-d.dat) in cacheDir over the
// staged file, which must hold exactly one sector, and returns its root
// (CommD). It is damocles' tree_d stage.
func BuildTreeD(ctx context.Context, p abi.RegisteredSealProof, stagedFile, cacheDir string, workers int) ([32]byte, error) {
	if err := checkV11(p); err != nil {
		return [32]byte{}, err
	}
	if err := absPath("cache_dir", cacheDir); err != nil {
		return [32]byte{}, err
	}
	if err := absPath("staged_file", stagedFile); err != nil {
		return [32]byte{}, err
	}
	f, err := os.Open(stagedFile)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w: staged file: %w", ErrBadPath, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return [32]byte{}, err
	}
	if !st.Mode().IsRegular() {
		return [32]byte{}, fmt.Errorf("%w: staged file %s is not a regular file", ErrBadPath, stagedFile)
	}
	if uint64(st.Size()) != uint64(p.SectorSize()) {
		return [32]byte{}, fmt.Errorf("%w: %s is %d bytes, a %s sector is %d", ErrStagedSize, stagedFile, st.Size(), p.SectorSize(), uint64(p.SectorSize()))
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return [32]byte{}, fmt.Errorf("%w: cache dir: %w", ErrBadPath, err)
	}
	root, err := merkle.Build(ctx, treeDConfigIn(filepath.Clean(cacheDir), p), merkle.ReaderAtSource(f), &merkle.BuildOptions{Workers: workers})
	if err != nil {
		return [32]byte{}, fmt.Errorf("porep: tree-d: %w", err)
	}
	return root, nil
}

// PreCommit2 runs PC2 from a task's content alone, as filecoin-proofs'
// seal_pre_commit_phase2 does: the stores of pc1out are read from cacheDir
// (whatever paths pc1out records), sealedFile holds PC1's data copy and is
// encoded in place, and TreeC, TreeR_last, p_aux and t_aux are written to
// cacheDir. The tree-d root must equal pc1out's comm_d.
//
// Like filecoin-proofs, PC2 is not idempotent once the replica is encoded:
// rerunning it on an already sealed file encodes it twice. Callers that
// retry restore the data copy first.
func PreCommit2(ctx context.Context, pc1out *SealPreCommitPhase1Output, cacheDir, sealedFile string, workers int) (*SealPreCommitPhase2Output, error) {
	if err := absPath("cache_dir", cacheDir); err != nil {
		return nil, err
	}
	if err := absPath("sealed_file", sealedFile); err != nil {
		return nil, err
	}
	cache := filepath.Clean(cacheDir)
	p, err := pc1out.Check(cache)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(sealedFile)
	if err != nil {
		return nil, fmt.Errorf("%w: sealed_file: %w", ErrBadPath, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: sealed_file %s is not a regular file", ErrBadPath, sealedFile)
	}
	if uint64(st.Size()) != uint64(p.SectorSize()) {
		return nil, fmt.Errorf("%w: sealed_file %s is %d bytes, a %s sector is %d", ErrStagedSize, sealedFile, st.Size(), p.SectorSize(), uint64(p.SectorSize()))
	}
	treeD, err := merkle.Open(treeDConfigIn(cache, p), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: open tree-d: %w", ErrCacheIncomplete, err)
	}
	rootD := treeD.Root()
	treeD.Close()
	if rootD != pc1out.CommD {
		return nil, fmt.Errorf("%w: tree-d root %x, pc1out comm_d %x", ErrCommDMismatch, rootD, pc1out.CommD)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	_, _, commR, err := pc2In(ctx, p, cache, sealedFile, sealedFile, workers)
	if err != nil {
		return nil, err
	}
	return &SealPreCommitPhase2Output{RegisteredProof: p.APIName(), CommR: commR, CommD: pc1out.CommD}, nil
}

// AdoptPC1 records in a sector directory the PC1 an external processor ran
// on it: out must be for the record's proof and comm_d, and name layers and
// a tree-d present at full length in the directory's cache. out is kept as
// PC1OutFileName, the record marks PC1 done. Adopting twice is harmless.
func AdoptPC1(dir string, out *SealPreCommitPhase1Output) (*Record, error) {
	rec, err := LoadRecord(dir)
	if err != nil {
		return nil, err
	}
	if !rec.has(StageTreeD) {
		return nil, fmt.Errorf("porep: adopt pc1: %s has no tree-d yet", dir)
	}
	p, err := out.Check(CachePath(dir))
	if err != nil {
		return nil, err
	}
	if p != rec.Proof {
		return nil, fmt.Errorf("%w: pc1 output is for %s, the sector is %s", ErrBadPC1Output, p, rec.Proof)
	}
	if out.CommD != rec.CommD {
		return nil, fmt.Errorf("%w: pc1 output comm_d %s, the sector's is %s", ErrCommDMismatch, out.CommD, rec.CommD)
	}
	if err := WritePC1Output(dir, out); err != nil {
		return nil, err
	}
	if !rec.has(StagePC1) {
		rec.Done = append(rec.Done, StagePC1)
		if err := rec.save(dir); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// AdoptPC2 records in a sector directory the PC2 an external processor ran
// on it. The output must be for the record's proof and comm_d, and its
// comm_r must be Poseidon(comm_c, comm_r_last) of the p_aux the processor
// wrote, whose comm_r_last must be the root of the tree-r-last in the
// cache; a sample of replica nodes must be the unsealed data encoded with
// the last label layer (a replica encoded twice, or not at all, fails). C1
// then proves challenged nodes of the replica against comm_r.
func AdoptPC2(dir string, out *SealPreCommitPhase2Output) (*Record, error) {
	rec, err := LoadRecord(dir)
	if err != nil {
		return nil, err
	}
	if !rec.has(StagePC1) {
		return nil, fmt.Errorf("porep: adopt pc2: %s has not finished pc1", dir)
	}
	if out.RegisteredProof != rec.Proof.APIName() {
		return nil, fmt.Errorf("porep: adopt pc2: output is for %s, the sector is %s", out.RegisteredProof, rec.Proof)
	}
	if out.CommD != rec.CommD {
		return nil, fmt.Errorf("%w: pc2 output comm_d %s, the sector's is %s", ErrCommDMismatch, out.CommD, rec.CommD)
	}
	paux, err := os.ReadFile(filepath.Join(CachePath(dir), PAuxFileName))
	if err != nil {
		return nil, fmt.Errorf("%w: p_aux: %w", ErrCacheIncomplete, err)
	}
	if len(paux) != 64 {
		return nil, fmt.Errorf("%w: p_aux is %d bytes, want 64", ErrCacheIncomplete, len(paux))
	}
	commC, commRLast := [32]byte(paux[:32]), [32]byte(paux[32:])
	commR, err := CommR(commC, commRLast)
	if err != nil {
		return nil, err
	}
	if commR != out.CommR {
		return nil, fmt.Errorf("porep: adopt pc2: comm_r %s does not match p_aux (gives %x)", out.CommR, commR)
	}
	sealed, err := os.Open(SealedPath(dir))
	if err != nil {
		return nil, fmt.Errorf("%w: replica: %w", ErrCacheIncomplete, err)
	}
	defer sealed.Close()
	treeR, err := merkle.Open(treeRConfig(dir, rec.Proof), merkle.ReaderAtSource(sealed))
	if err != nil {
		return nil, fmt.Errorf("%w: open tree-r-last: %w", ErrCacheIncomplete, err)
	}
	rootR := treeR.Root()
	treeR.Close()
	if rootR != commRLast {
		return nil, fmt.Errorf("porep: adopt pc2: tree-r-last root %x, p_aux comm_r_last %x", rootR, commRLast)
	}
	if err := checkEncodingSample(dir, rec.Proof, sealed, encodingSamples); err != nil {
		return nil, err
	}
	rec.CommC, rec.CommRLast, rec.CommR = commC, commRLast, out.CommR
	if !rec.has(StagePC2) {
		rec.Done = append(rec.Done, StagePC2)
	}
	if err := rec.save(dir); err != nil {
		return nil, err
	}
	return rec, nil
}

// encodingSamples is how many replica nodes AdoptPC2 re-encodes.
const encodingSamples = 64

// checkEncodingSample checks replica[i] = unsealed[i] + key[i] at n nodes
// spread over the sector, key being the last label layer.
func checkEncodingSample(dir string, p abi.RegisteredSealProof, replica *os.File, n int) error {
	data, err := os.Open(UnsealedPath(dir))
	if err != nil {
		return fmt.Errorf("porep: adopt pc2: %w", err)
	}
	defer data.Close()
	key, err := os.Open(sdr.LayerPath(CachePath(dir), p.Layers()))
	if err != nil {
		return fmt.Errorf("%w: last label layer: %w", ErrCacheIncomplete, err)
	}
	defer key.Close()
	nodes := p.Nodes()
	n = int(min(uint64(n), nodes))
	var d, k, r [32]byte
	for j := range n {
		node := uint64(j)*nodes/uint64(n) + uint64(j)%(nodes/uint64(n))
		off := int64(node * 32)
		for _, rd := range []struct {
			f   *os.File
			buf *[32]byte
		}{{data, &d}, {key, &k}, {replica, &r}} {
			if _, err := rd.f.ReadAt(rd.buf[:], off); err != nil {
				return fmt.Errorf("porep: adopt pc2: read node %d of %s: %w", node, rd.f.Name(), err)
			}
		}
		want, err := encodeNode(d, k)
		if err != nil {
			return fmt.Errorf("porep: adopt pc2: node %d: %w", node, err)
		}
		if want != r {
			return fmt.Errorf("%w: replica node %d is not the data encoded with the last layer", ErrBadReplica, node)
		}
	}
	return nil
}

// AdoptTreeD records in a sector directory the TreeD an external tree_d
// processor built over its unsealed file: the tree's root must be the CommD
// the staged pieces imply (ErrCommDMismatch otherwise). The record gets
// CommD (and the replica id, once the ticket is known) and marks tree-d
// done. Adopting twice is harmless.
func AdoptTreeD(dir string) (*Record, error) {
	rec, err := LoadRecord(dir)
	if err != nil {
		return nil, err
	}
	if !rec.has(StagePieces) {
		return nil, fmt.Errorf("porep: adopt tree-d: %s has no staged pieces yet", dir)
	}
	t, err := merkle.Open(treeDConfig(dir, rec.Proof), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: open tree-d: %w", ErrCacheIncomplete, err)
	}
	root := t.Root()
	t.Close()
	infos := make([]commp.PieceInfo, len(rec.Pieces))
	for i, p := range rec.Pieces {
		infos[i] = commp.PieceInfo{Size: fr32.PaddedPieceSize(p.Size), Commitment: p.CommP}
	}
	want, err := commp.ComputeCommD(uint64(rec.Proof.SectorSize()), infos)
	if err != nil {
		return nil, fmt.Errorf("porep: comm_d from pieces: %w", err)
	}
	if root != want {
		return nil, fmt.Errorf("%w: tree root %x, pieces give %x", ErrCommDMismatch, root, want)
	}
	rec.CommD = root
	rec.ReplicaID = sdr.ReplicaID(sdr.ProverID(rec.Miner), rec.Sector, rec.Ticket, rec.CommD, rec.Proof)
	if !rec.has(StageTreeD) {
		rec.Done = append(rec.Done, StageTreeD)
	}
	if err := rec.save(dir); err != nil {
		return nil, err
	}
	return rec, nil
}
