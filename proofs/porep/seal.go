package porep

import (
	"bytes"
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
	"github.com/sealant/sealant/proofs/poseidon"
	"github.com/sealant/sealant/proofs/sdr"
	"golang.org/x/sync/errgroup"
)

// File names inside a sector directory.
const (
	UnsealedFileName = "unsealed"
	SealedFileName   = "sealed"
	CacheDirName     = "cache"
	PAuxFileName     = "p_aux"
	TAuxFileName     = "t_aux"
)

// Errors reported by Seal.
var (
	// ErrOtherSector reports a directory that already holds another sector.
	ErrOtherSector = errors.New("porep: directory holds a different sector")
	// ErrPiecesTooLarge reports pieces that do not fit in the sector.
	ErrPiecesTooLarge = errors.New("porep: pieces do not fit in the sector")
	// ErrEmptyPiece reports a piece file without data.
	ErrEmptyPiece = errors.New("porep: empty piece")
	// ErrCommDMismatch reports a TreeD root that differs from the CommD
	// computed from the piece commitments: the staged file is corrupt.
	ErrCommDMismatch = errors.New("porep: TreeD root does not match the pieces' CommD")
)

// SealRequest describes a sector to seal (PC1 + PC2).
type SealRequest struct {
	Proof  abi.RegisteredSealProof
	Miner  uint64   // miner actor id
	Sector uint64   // sector number
	Ticket [32]byte // the sealing randomness as drawn from the chain
	// Pieces are files holding unpadded payloads, in sector order. Each is
	// zero-padded to the next 127·2^k bytes and placed at an offset aligned
	// to its own padded size; the rest of the sector is zero (CC if none).
	Pieces []string
	// Dir is the sector directory (see the package doc for its layout).
	Dir string
	// ParentCacheDir holds SDR parent caches; "" means sdr.DefaultParentCacheDir.
	ParentCacheDir string
	// Workers bounds parallelism; ≤ 0 means GOMAXPROCS.
	Workers int
	// Logger receives progress; nil discards.
	Logger *slog.Logger
	// OnStage, if set, is called when a stage starts.
	OnStage func(stage string)
}

// Paths of a sector directory.
func UnsealedPath(dir string) string { return filepath.Join(dir, UnsealedFileName) }

// SealedPath is the replica file of a sector directory.
func SealedPath(dir string) string { return filepath.Join(dir, SealedFileName) }

// CachePath is the cache directory of a sector directory.
func CachePath(dir string) string { return filepath.Join(dir, CacheDirName) }

// Seal runs AddPieces, TreeD, PC1 and PC2 for a sector, resuming from the
// last finished stage if the directory already holds this sector. It returns
// the sector's record with every commitment filled in.
func Seal(ctx context.Context, req SealRequest) (*Record, error) {
	if !req.Proof.Valid() {
		return nil, fmt.Errorf("porep: unknown seal proof %d", req.Proof)
	}
	if req.Proof.IsLegacy() {
		return nil, fmt.Errorf("porep: %s is a V1 proof; only V1_1 sealing is supported", req.Proof)
	}
	if req.Workers <= 0 {
		req.Workers = runtime.GOMAXPROCS(0)
	}
	log := req.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stage := func(s string) {
		log.Info("seal stage", "stage", s, "miner", req.Miner, "sector", req.Sector)
		if req.OnStage != nil {
			req.OnStage(s)
		}
	}
	if err := os.MkdirAll(CachePath(req.Dir), 0o755); err != nil {
		return nil, fmt.Errorf("porep: create sector dir: %w", err)
	}
	rec, err := openOrCreateRecord(req)
	if err != nil {
		return nil, err
	}

	if !rec.has(StagePieces) {
		stage(StagePieces)
		if err := stagePieces(ctx, req, rec); err != nil {
			return nil, err
		}
		rec.Done = append(rec.Done, StagePieces)
		if err := rec.save(req.Dir); err != nil {
			return nil, err
		}
	}
	if !rec.has(StageTreeD) {
		stage(StageTreeD)
		if err := buildTreeD(ctx, req, rec); err != nil {
			return nil, err
		}
		rec.Done = append(rec.Done, StageTreeD)
		if err := rec.save(req.Dir); err != nil {
			return nil, err
		}
	}
	if !rec.has(StagePC1) {
		stage(StagePC1)
		_, err := sdr.RunPC1(ctx, CachePath(req.Dir), rec.ReplicaID, req.Proof, &sdr.PC1Options{
			ParentCacheDir: req.ParentCacheDir,
			Workers:        req.Workers,
			Logger:         log,
		})
		if err != nil {
			return nil, fmt.Errorf("porep: pc1: %w", err)
		}
		if err := writeOwnPC1Output(req.Dir, rec); err != nil {
			return nil, err
		}
		rec.Done = append(rec.Done, StagePC1)
		if err := rec.save(req.Dir); err != nil {
			return nil, err
		}
	}
	if !rec.has(StagePC2) {
		stage(StagePC2)
		if err := runPC2(ctx, req.Dir, rec, req.Workers); err != nil {
			return nil, err
		}
		rec.Done = append(rec.Done, StagePC2)
		if err := rec.save(req.Dir); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// openOrCreateRecord loads the directory's record and checks it is the same
// sector, or starts a new one.
func openOrCreateRecord(req SealRequest) (*Record, error) {
	rec, err := LoadRecord(req.Dir)
	if errors.Is(err, ErrNoRecord) {
		return &Record{Proof: req.Proof, Miner: req.Miner, Sector: req.Sector, Ticket: req.Ticket}, nil
	}
	if err != nil {
		return nil, err
	}
	if rec.Proof != req.Proof || rec.Miner != req.Miner || rec.Sector != req.Sector || rec.Ticket != Bytes32(req.Ticket) {
		return nil, fmt.Errorf("%w: %s holds %s sector t0%d-%d with ticket %s", ErrOtherSector, req.Dir,
			rec.Proof, rec.Miner, rec.Sector, rec.Ticket)
	}
	if rec.has(StagePieces) && len(rec.Pieces) != len(req.Pieces) {
		return nil, fmt.Errorf("%w: %s was staged with %d pieces, not %d", ErrOtherSector, req.Dir, len(rec.Pieces), len(req.Pieces))
	}
	return rec, nil
}

// stagePieces writes the Fr32-padded pieces into the unsealed file at their
// aligned offsets and computes each piece's commitment from what was written.
func stagePieces(ctx context.Context, req SealRequest, rec *Record) error {
	sectorSize := uint64(req.Proof.SectorSize())
	path := UnsealedPath(req.Dir)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("porep: create unsealed file: %w", err)
	}
	defer f.Close()

	rec.Pieces = rec.Pieces[:0]
	var offset uint64
	for i, name := range req.Pieces {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := stageOnePiece(f, name, offset, sectorSize)
		if err != nil {
			return fmt.Errorf("porep: piece %d (%s): %w", i+1, name, err)
		}
		rec.Pieces = append(rec.Pieces, p)
		offset = p.Offset + p.Size
	}
	// The rest of the sector is zero: extend sparsely.
	if err := f.Truncate(int64(sectorSize)); err != nil {
		return fmt.Errorf("porep: size unsealed file: %w", err)
	}
	for i := range rec.Pieces {
		p := &rec.Pieces[i]
		src := merkle.ReaderAtSource(io.NewSectionReader(f, int64(p.Offset), int64(p.Size)))
		root, err := merkle.Root(ctx, merkle.SHA256, merkle.ShapeBinary, src, p.Size/32, nil)
		if err != nil {
			return fmt.Errorf("porep: piece %d commitment: %w", i+1, err)
		}
		p.CommP = root
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("porep: sync unsealed file: %w", err)
	}
	return nil
}

func stageOnePiece(dst *os.File, name string, offset, sectorSize uint64) (Piece, error) {
	src, err := os.Open(name)
	if err != nil {
		return Piece{}, err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return Piece{}, err
	}
	payload := uint64(st.Size())
	offset, size, unpadded, err := placePiece(payload, offset, sectorSize)
	if err != nil {
		return Piece{}, err
	}
	body := io.MultiReader(io.LimitReader(src, int64(payload)), io.LimitReader(zeroReader{}, int64(unpadded-payload)))
	n, err := io.Copy(io.NewOffsetWriter(dst, int64(offset)), fr32.NewPadReader(body))
	if err != nil {
		return Piece{}, err
	}
	if uint64(n) != size {
		return Piece{}, fmt.Errorf("piece changed while reading: wrote %d padded bytes, want %d", n, size)
	}
	return Piece{PayloadSize: payload, Offset: offset, Size: size}, nil
}

// placePiece lays out a piece of payload bytes after offset as add_piece
// does: zero-padded to the next 127·2^k bytes (unpadded), Fr32-expanded to
// size = unpadded/127·128, and aligned to its own size. It returns the
// piece's offset and sizes, or ErrEmptyPiece / ErrPiecesTooLarge.
func placePiece(payload, offset, sectorSize uint64) (off, size, unpadded uint64, err error) {
	if payload == 0 {
		return 0, 0, 0, ErrEmptyPiece
	}
	unpadded = uint64(fr32.UnpaddedBlockSize)
	for unpadded < payload && unpadded <= sectorSize {
		unpadded *= 2
	}
	size = unpadded / 127 * 128
	if size > sectorSize {
		return 0, 0, 0, fmt.Errorf("%w: payload of %d bytes needs a %d-byte piece, sector is %d bytes",
			ErrPiecesTooLarge, payload, size, sectorSize)
	}
	if rem := offset % size; rem != 0 {
		offset += size - rem
	}
	if offset+size > sectorSize {
		return 0, 0, 0, fmt.Errorf("%w: piece of %d bytes at offset %d overflows the %d-byte sector",
			ErrPiecesTooLarge, size, offset, sectorSize)
	}
	return offset, size, unpadded, nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// buildTreeD builds TreeD over the unsealed file, checks its root against the
// CommD implied by the pieces, and derives the replica id.
func buildTreeD(ctx context.Context, req SealRequest, rec *Record) error {
	f, err := os.Open(UnsealedPath(req.Dir))
	if err != nil {
		return fmt.Errorf("porep: open unsealed file: %w", err)
	}
	defer f.Close()
	nodes := req.Proof.Nodes()
	root, err := merkle.Build(ctx, merkle.Config{
		Hasher: merkle.SHA256, Shape: merkle.ShapeBinary, Leaves: nodes,
		Dir: CachePath(req.Dir), ID: merkle.IDTreeD,
	}, merkle.ReaderAtSource(f), &merkle.BuildOptions{Workers: req.Workers})
	if err != nil {
		return fmt.Errorf("porep: tree-d: %w", err)
	}
	infos := make([]commp.PieceInfo, len(rec.Pieces))
	for i, p := range rec.Pieces {
		infos[i] = commp.PieceInfo{Size: fr32.PaddedPieceSize(p.Size), Commitment: p.CommP}
	}
	want, err := commp.ComputeCommD(uint64(req.Proof.SectorSize()), infos)
	if err != nil {
		return fmt.Errorf("porep: comm_d from pieces: %w", err)
	}
	if root != want {
		return fmt.Errorf("%w: tree root %x, pieces give %x", ErrCommDMismatch, root, want)
	}
	rec.CommD = root
	rec.ReplicaID = sdr.ReplicaID(sdr.ProverID(rec.Miner), rec.Sector, rec.Ticket, rec.CommD, rec.Proof)
	return nil
}

// treeShape is the TreeC/TreeR_last shape of a proof.
func treeShape(p abi.RegisteredSealProof) merkle.Shape {
	s := p.TreeShape()
	return merkle.Shape{Base: s.Base, Sub: s.Sub, Top: s.Top}
}

// treeCConfig and treeRConfig describe the sector's TreeC and TreeR_last.
func treeCConfig(dir string, p abi.RegisteredSealProof) merkle.Config {
	return treeCConfigIn(CachePath(dir), p)
}

func treeRConfig(dir string, p abi.RegisteredSealProof) merkle.Config {
	return treeRConfigIn(CachePath(dir), p)
}

func treeDConfig(dir string, p abi.RegisteredSealProof) merkle.Config {
	return treeDConfigIn(CachePath(dir), p)
}

// treeCConfigIn, treeRConfigIn and treeDConfigIn take the cache directory
// itself (a processor task names it; it need not be <sector dir>/cache).
func treeCConfigIn(cache string, p abi.RegisteredSealProof) merkle.Config {
	return merkle.Config{Hasher: merkle.Poseidon, Shape: treeShape(p), Leaves: p.Nodes(), Dir: cache, ID: merkle.IDTreeC}
}

func treeRConfigIn(cache string, p abi.RegisteredSealProof) merkle.Config {
	return merkle.Config{
		Hasher: merkle.Poseidon, Shape: treeShape(p), Leaves: p.Nodes(), Dir: cache,
		ID: merkle.IDTreeRLast, LevelCache: true, RowsToDiscard: p.RowsToDiscard(),
	}
}

func treeDConfigIn(cache string, p abi.RegisteredSealProof) merkle.Config {
	return merkle.Config{Hasher: merkle.SHA256, Shape: merkle.ShapeBinary, Leaves: p.Nodes(), Dir: cache, ID: merkle.IDTreeD}
}

// openLayers opens the label layer files of a sector.
func openLayers(dir string, p abi.RegisteredSealProof) ([]*os.File, error) {
	return openLayersIn(CachePath(dir), p)
}

// openLayersIn opens the label layer files in a cache directory.
func openLayersIn(cache string, p abi.RegisteredSealProof) ([]*os.File, error) {
	var files []*os.File
	for l := 1; l <= p.Layers(); l++ {
		f, err := os.Open(sdr.LayerPath(cache, l))
		if err != nil {
			closeAll(files)
			return nil, fmt.Errorf("porep: open label layer %d: %w", l, err)
		}
		files = append(files, f)
	}
	return files, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// runPC2 builds TreeC, encodes the replica, builds TreeR_last and writes
// comm_r, p_aux and t_aux.
func runPC2(ctx context.Context, dir string, rec *Record, workers int) error {
	commC, commRLast, commR, err := pc2In(ctx, rec.Proof, CachePath(dir), UnsealedPath(dir), SealedPath(dir), workers)
	if err != nil {
		return err
	}
	rec.CommC, rec.CommRLast, rec.CommR = commC, commRLast, commR
	return nil
}

// pc2In is PC2 over a cache directory: TreeC from the layers, the replica
// written to replicaPath as data (read from dataPath, which may be
// replicaPath itself: filecoin-proofs encodes its PC1 copy in place) plus
// the last layer, TreeR_last, p_aux and t_aux.
func pc2In(ctx context.Context, p abi.RegisteredSealProof, cache, dataPath, replicaPath string, workers int) (commC, commRLast, commR [32]byte, err error) {
	layers, err := openLayersIn(cache, p)
	if err != nil {
		return commC, commRLast, commR, err
	}
	defer closeAll(layers)
	readers := make([]io.ReaderAt, len(layers))
	for i, f := range layers {
		readers[i] = f
	}
	cols, err := merkle.ColumnSource(readers)
	if err != nil {
		return commC, commRLast, commR, fmt.Errorf("porep: tree-c columns: %w", err)
	}
	opts := &merkle.BuildOptions{Workers: workers}
	if commC, err = merkle.Build(ctx, treeCConfigIn(cache, p), cols, opts); err != nil {
		return commC, commRLast, commR, fmt.Errorf("porep: tree-c: %w", err)
	}
	if err := encodeReplicaTo(ctx, dataPath, replicaPath, layers[len(layers)-1], workers); err != nil {
		return commC, commRLast, commR, err
	}
	sealed, err := os.Open(replicaPath)
	if err != nil {
		return commC, commRLast, commR, fmt.Errorf("porep: open replica: %w", err)
	}
	defer sealed.Close()
	if commRLast, err = merkle.Build(ctx, treeRConfigIn(cache, p), merkle.ReaderAtSource(sealed), opts); err != nil {
		return commC, commRLast, commR, fmt.Errorf("porep: tree-r-last: %w", err)
	}
	if commR, err = CommR(commC, commRLast); err != nil {
		return commC, commRLast, commR, err
	}
	if err := writeFileAtomic(filepath.Join(cache, PAuxFileName), append(commC[:], commRLast[:]...)); err != nil {
		return commC, commRLast, commR, err
	}
	return commC, commRLast, commR, writeFileAtomic(filepath.Join(cache, TAuxFileName), encodeTAuxIn(cache, p))
}

// CommR combines comm_c and comm_r_last: Poseidon2(comm_c, comm_r_last).
func CommR(commC, commRLast [32]byte) ([32]byte, error) {
	c, err := poseidon.ElementFromBytes(commC)
	if err != nil {
		return [32]byte{}, fmt.Errorf("porep: comm_c: %w", err)
	}
	r, err := poseidon.ElementFromBytes(commRLast)
	if err != nil {
		return [32]byte{}, fmt.Errorf("porep: comm_r_last: %w", err)
	}
	return poseidon.ElementToBytes(poseidon.Hash2(c, r)), nil
}

// encodeReplica writes sealed[i] = unsealed[i] + key[i] (mod r), key being
// the last label layer, in parallel chunks. (The sector-directory form of
// encodeReplicaTo, kept for callers that think in sector directories.)
func encodeReplica(ctx context.Context, dir string, key io.ReaderAt, workers int) error {
	return encodeReplicaTo(ctx, UnsealedPath(dir), SealedPath(dir), key, workers)
}

// encodeReplicaTo writes replica[i] = data[i] + key[i] (mod r) through a
// temporary file renamed over replicaPath (which may be dataPath).
func encodeReplicaTo(ctx context.Context, dataPath, replicaPath string, key io.ReaderAt, workers int) error {
	data, err := os.Open(dataPath)
	if err != nil {
		return fmt.Errorf("porep: open unsealed file: %w", err)
	}
	defer data.Close()
	st, err := data.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	tmp := replicaPath + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("porep: create replica: %w", err)
	}
	defer out.Close()
	const chunk = 1 << 20
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for off := int64(0); off < size; off += chunk {
		n := min(int64(chunk), size-off)
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			d := make([]byte, n)
			k := make([]byte, n)
			if _, err := data.ReadAt(d, off); err != nil {
				return fmt.Errorf("porep: read unsealed at %d: %w", off, err)
			}
			if _, err := key.ReadAt(k, off); err != nil {
				return fmt.Errorf("porep: read key layer at %d: %w", off, err)
			}
			for i := int64(0); i < n; i += 32 {
				enc, err := encodeNode([32]byte(d[i:i+32]), [32]byte(k[i:i+32]))
				if err != nil {
					return fmt.Errorf("porep: encode node %d: %w", (off+i)/32, err)
				}
				copy(d[i:], enc[:])
			}
			if _, err := out.WriteAt(d, off); err != nil {
				return fmt.Errorf("porep: write replica: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("porep: sync replica: %w", err)
	}
	if err := os.Rename(tmp, replicaPath); err != nil {
		return fmt.Errorf("porep: rename replica: %w", err)
	}
	return syncDir(filepath.Dir(replicaPath))
}

// encodeNode is rust-fil-proofs encode: key + data in the field.
func encodeNode(data, key [32]byte) ([32]byte, error) {
	d, err := poseidon.ElementFromBytes(data)
	if err != nil {
		return [32]byte{}, err
	}
	k, err := poseidon.ElementFromBytes(key)
	if err != nil {
		return [32]byte{}, err
	}
	k.Add(&k, &d)
	return poseidon.ElementToBytes(k), nil
}

// encodeTAux writes bincode(TemporaryAux) as rust-fil-proofs persists it:
// labels (Vec<StoreConfig> + PhantomData), tree_d_config, tree_r_last_config,
// tree_c_config, PhantomData. StoreConfig is {path, id, size: Option<usize>,
// rows_to_discard}; bincode 1 uses little-endian u64 lengths and a one-byte
// Option tag. Lotus reads it in C1 and when finalizing; Sealant writes it so
// the cache directory is complete, and does not read it back.
func encodeTAux(dir string, p abi.RegisteredSealProof) []byte {
	return encodeTAuxIn(CachePath(dir), p)
}

// encodeTAuxIn is encodeTAux for a cache directory named directly.
func encodeTAuxIn(cacheDir string, p abi.RegisteredSealProof) []byte {
	cache, err := filepath.Abs(cacheDir)
	if err != nil {
		cache = cacheDir
	}
	var b bytes.Buffer
	u64 := func(v uint64) {
		var x [8]byte
		for i := range 8 {
			x[i] = byte(v >> (8 * i))
		}
		b.Write(x[:])
	}
	str := func(s string) { u64(uint64(len(s))); b.WriteString(s) }
	storeConfig := func(id string, size uint64, rows int) {
		str(cache)
		str(id)
		b.WriteByte(1)
		u64(size)
		u64(uint64(rows))
	}
	nodes := p.Nodes()
	u64(uint64(p.Layers()))
	for l := 1; l <= p.Layers(); l++ {
		storeConfig(fmt.Sprintf("layer-%d", l), nodes, 0)
	}
	baseLeaves := p.BaseTreeLeaves()
	dLen, _ := merkle.TreeLen(nodes, 2)
	rLen, _ := merkle.TreeLen(baseLeaves, 8)
	storeConfig(merkle.IDTreeD, dLen, 0)
	storeConfig(merkle.IDTreeRLast, rLen, p.RowsToDiscard())
	storeConfig(merkle.IDTreeC, rLen, 0)
	return b.Bytes()
}
