package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/fr32"
	"github.com/sealant/sealant/proofs/merkle"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/proofs/post"
)

// Chain reads what the miner actor records about a sector. *lotus.Client
// satisfies it.
type Chain interface {
	StateSectorGetInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*lotus.SectorOnChainInfo, error)
	StateSectorPreCommitInfo(ctx context.Context, maddr address.Address, sector uint64, tsk types.TipSetKey) (*lotus.SectorPreCommitOnChainInfo, error)
}

var _ Chain = (*lotus.Client)(nil)

// Check names, in the order Verify runs them.
const (
	CheckMetadata  = "metadata"     // proof type, file set and sizes, CIDs parse
	CheckChecksums = "checksums"    // every file's SHA-256 equals the metadata's
	CheckPAux      = "p_aux"        // p_aux = comm_c ‖ comm_r_last of the metadata
	CheckTAux      = "t_aux"        // t_aux decodes and describes this proof type
	CheckCommR     = "comm_r"       // Poseidon2(comm_c, comm_r_last) = CommR
	CheckCommD     = "comm_d"       // CommD = the pieces' CommD (zero for CC)
	CheckChain     = "chain_comm_r" // CommR and proof type = the chain's
	CheckTreeRLast = "tree_r_last"  // TreeR_last recomputed from the replica = received
	CheckPoSt      = "post"         // fallback-PoSt vanilla proofs over the files verify
)

// VerifyInput is what Verify needs.
type VerifyInput struct {
	Metadata api.SectorMetadata
	// Dir is the root the metadata's file names resolve under: the
	// receiver's incoming directory of the sector, or a Lotus/Curio store.
	Dir string
	// Chain provides the on-chain CommR. Nil fails the chain check: a
	// sector is only accepted against the chain.
	Chain Chain
	// Scratch is an empty directory for the recomputed tree (removed by
	// the caller); "" uses a temporary directory.
	Scratch string
	// Rand seeds the PoSt challenges; nil is crypto/rand. The prover
	// cannot predict them, which is what makes the check meaningful.
	Rand io.Reader
	// Workers bounds tree-building parallelism (≤ 0: GOMAXPROCS).
	Workers int
}

// Verify runs every check of a verified import over the sector's files and
// returns them all (a failed check does not stop the others, so the
// provider learns everything that is wrong at once). OK is true only when
// every check passed.
func Verify(ctx context.Context, in VerifyInput) api.VerifyResult {
	v := &verifier{in: in, md: &in.Metadata}
	res := api.VerifyResult{CommR: in.Metadata.CommR}
	for _, c := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{CheckMetadata, v.metadata},
		{CheckChecksums, v.checksums},
		{CheckPAux, v.pAux},
		{CheckTAux, v.tAux},
		{CheckCommR, v.commRCheck},
		{CheckCommD, v.commD},
		{CheckChain, v.chain},
		{CheckTreeRLast, v.treeRLast},
		{CheckPoSt, v.post},
	} {
		if ctx.Err() != nil {
			res.Checks = append(res.Checks, api.VerifyCheck{Name: c.name, Detail: "not run: " + ctx.Err().Error()})
			continue
		}
		err := c.fn(ctx)
		chk := api.VerifyCheck{Name: c.name, OK: err == nil}
		if err != nil {
			chk.Detail = err.Error()
		} else {
			chk.Detail = v.detail
		}
		v.detail = ""
		res.Checks = append(res.Checks, chk)
	}
	res.OK = true
	for _, c := range res.Checks {
		res.OK = res.OK && c.OK
	}
	return res
}

// FailedChecks summarises the failed checks of r in one line.
func FailedChecks(r api.VerifyResult) string {
	var parts []string
	for _, c := range r.Checks {
		if !c.OK {
			parts = append(parts, c.Name+": "+c.Detail)
		}
	}
	return strings.Join(parts, "; ")
}

type verifier struct {
	in     VerifyInput
	md     *api.SectorMetadata
	detail string

	proof     abi.RegisteredSealProof
	files     []api.SectorFile
	commR     [32]byte
	haveCommR bool
	pauxOK    bool
}

var errSkipped = fmt.Errorf("skipped: the metadata is unusable")

func (v *verifier) path(name string) string {
	return filepath.Join(v.in.Dir, filepath.FromSlash(name))
}

func (v *verifier) metadata(context.Context) error {
	v.proof = abi.RegisteredSealProof(v.md.ProofType)
	files, err := checkFileSet(v.md)
	if err != nil {
		return err
	}
	v.files = files
	c, err := cid.Decode(v.md.CommR)
	if err != nil {
		return fmt.Errorf("comm_r %q: %w", v.md.CommR, err)
	}
	if v.commR, err = commp.CommFromSealedCID(c); err != nil {
		return fmt.Errorf("comm_r: %w", err)
	}
	v.haveCommR = true
	v.detail = fmt.Sprintf("%s, %d files", v.proof, len(files))
	return nil
}

// checksums re-reads every file: the upload checked each chunk and the
// running whole-file hash, but a verify run on a store (or after a restart)
// must not trust bytes that sat on disk.
func (v *verifier) checksums(ctx context.Context) error {
	if v.files == nil {
		return errSkipped
	}
	var bad []string
	buf := make([]byte, 1<<20)
	for _, f := range v.files {
		sum, size, err := hashFile(ctx, v.path(f.Name), buf)
		switch {
		case err != nil:
			bad = append(bad, err.Error())
		case size != f.Size:
			bad = append(bad, fmt.Sprintf("%s is %d bytes, want %d", f.Name, size, f.Size))
		case sum != [32]byte(f.SHA256):
			bad = append(bad, fmt.Sprintf("%s has sha256 %x, want %s", f.Name, sum, f.SHA256))
		}
	}
	if bad != nil {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	v.detail = fmt.Sprintf("%d files", len(v.files))
	return nil
}

func hashFile(ctx context.Context, p string, buf []byte) ([32]byte, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return [32]byte{}, 0, err
	}
	defer f.Close()
	h := sha256.New()
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return [32]byte{}, 0, err
		}
		k, err := f.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return [32]byte{}, 0, fmt.Errorf("read %s: %w", p, err)
		}
	}
	return [32]byte(h.Sum(nil)), n, nil
}

func (v *verifier) cacheFile(name string) string {
	return v.path(path.Join(CacheName(v.md.ID), name))
}

func (v *verifier) pAux(context.Context) error {
	b, err := os.ReadFile(v.cacheFile(porep.PAuxFileName))
	if err != nil {
		return err
	}
	if len(b) != 64 {
		return fmt.Errorf("p_aux is %d bytes, want 64", len(b))
	}
	if !bytes.Equal(b[:32], v.md.CommC[:]) {
		return fmt.Errorf("p_aux comm_c %x, metadata says %s", b[:32], v.md.CommC)
	}
	if !bytes.Equal(b[32:], v.md.CommRLast[:]) {
		return fmt.Errorf("p_aux comm_r_last %x, metadata says %s", b[32:], v.md.CommRLast)
	}
	v.pauxOK = true
	return nil
}

func (v *verifier) tAux(context.Context) error {
	if v.files == nil {
		return errSkipped
	}
	b, err := os.ReadFile(v.cacheFile(porep.TAuxFileName))
	if err != nil {
		return err
	}
	return parseTAux(b, v.proof)
}

func (v *verifier) commRCheck(context.Context) error {
	if !v.haveCommR {
		return errSkipped
	}
	got, err := porep.CommR(v.md.CommC, v.md.CommRLast)
	if err != nil {
		return err
	}
	if got != v.commR {
		return fmt.Errorf("Poseidon2(comm_c, comm_r_last) = %s, metadata CommR is %s", commp.SealedCID(got), v.md.CommR)
	}
	return nil
}

func (v *verifier) commD(context.Context) error {
	if v.files == nil {
		return errSkipped
	}
	c, err := cid.Decode(v.md.CommD)
	if err != nil {
		return fmt.Errorf("comm_d %q: %w", v.md.CommD, err)
	}
	commD, err := commp.CommFromPieceCID(c)
	if err != nil {
		return fmt.Errorf("comm_d: %w", err)
	}
	pieces := make([]commp.PieceInfo, 0, len(v.md.Pieces))
	for _, p := range v.md.Pieces {
		comm, err := commp.ParsePieceCID(p.PieceCID)
		if err != nil {
			return fmt.Errorf("piece %s: %w", p.PieceCID, err)
		}
		pieces = append(pieces, commp.PieceInfo{Size: fr32.PaddedPieceSize(p.Size), Commitment: comm})
	}
	want, err := commp.ComputeCommD(uint64(v.proof.SectorSize()), pieces)
	if err != nil {
		return fmt.Errorf("pieces: %w", err)
	}
	if want != commD {
		return fmt.Errorf("CommD of the pieces is %s, metadata says %s", commp.PieceCID(want), v.md.CommD)
	}
	return nil
}

func (v *verifier) chain(ctx context.Context) error {
	if !v.haveCommR {
		return errSkipped
	}
	if v.in.Chain == nil {
		return fmt.Errorf("no chain configured: cannot compare with the on-chain CommR")
	}
	maddr := address.NewIDAddress(v.md.ID.Miner)
	var onChain cid.Cid
	var proof int64
	src := "sector info"
	si, err := v.in.Chain.StateSectorGetInfo(ctx, maddr, v.md.ID.Number, types.EmptyTSK)
	if err != nil {
		return fmt.Errorf("StateSectorGetInfo: %w", err)
	}
	if si != nil {
		onChain, proof = si.SealedCID, si.SealProof
	} else {
		pc, err := v.in.Chain.StateSectorPreCommitInfo(ctx, maddr, v.md.ID.Number, types.EmptyTSK)
		if err != nil {
			return fmt.Errorf("StateSectorPreCommitInfo: %w", err)
		}
		if pc == nil {
			return fmt.Errorf("sector %s is neither proven nor pre-committed on chain", v.md.ID)
		}
		onChain, proof, src = pc.Info.SealedCID, int64(pc.Info.SealProof), "pre-commit"
	}
	got, err := commp.CommFromSealedCID(onChain)
	if err != nil {
		return fmt.Errorf("on-chain sealed CID %s: %w", onChain, err)
	}
	if got != v.commR {
		return fmt.Errorf("on-chain CommR (%s) is %s, delivered sector has %s", src, onChain, v.md.CommR)
	}
	if proof != v.md.ProofType {
		return fmt.Errorf("on-chain seal proof %d, metadata says %d", proof, v.md.ProofType)
	}
	v.detail = "matches the " + src
	return nil
}

// treeRLast rebuilds TreeR_last from the received replica and compares the
// root with comm_r_last and every byte of the rebuilt files with the
// received ones: a flipped replica byte changes the root, a flipped
// tree-r-last byte differs from the rebuilt file.
func (v *verifier) treeRLast(ctx context.Context) error {
	if v.files == nil {
		return errSkipped
	}
	scratch := v.in.Scratch
	if scratch == "" {
		d, err := os.MkdirTemp("", "sealant-verify-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		scratch = d
	}
	sealed, err := os.Open(v.path(SealedName(v.md.ID)))
	if err != nil {
		return err
	}
	defer sealed.Close()
	cfg := treeRConfig(scratch, v.proof)
	root, err := merkle.Build(ctx, cfg, merkle.ReaderAtSource(sealed), &merkle.BuildOptions{Workers: v.in.Workers})
	if err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	var bad []string
	if root != [32]byte(v.md.CommRLast) {
		bad = append(bad, fmt.Sprintf("root of the replica is %x, comm_r_last is %s", root[:], v.md.CommRLast))
	}
	recv := treeRConfig(v.path(CacheName(v.md.ID)), v.proof)
	for i, p := range cfg.Paths() {
		same, err := sameContents(p, recv.Paths()[i])
		if err != nil {
			return err
		}
		if !same {
			bad = append(bad, filepath.Base(p)+" differs from the tree rebuilt from the replica")
		}
	}
	if bad != nil {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	v.detail = "root " + hex.EncodeToString(root[:])
	return nil
}

func sameContents(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == ea, nil
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil {
			return false, eb
		}
	}
}

// post proves and verifies a WindowPoSt and a WinningPoSt vanilla proof
// over the received files with fresh randomness: exactly what the SP's
// lotus-miner or Curio will have to do every proving period.
func (v *verifier) post(ctx context.Context) error {
	if v.files == nil || !v.haveCommR {
		return errSkipped
	}
	src := v.in.Rand
	if src == nil {
		src = rand.Reader
	}
	var seed [32]byte
	if _, err := io.ReadFull(src, seed[:]); err != nil {
		return fmt.Errorf("randomness: %w", err)
	}
	r := post.Randomness(seed)
	s := post.Sector{Number: v.md.ID.Number, SealedPath: v.path(SealedName(v.md.ID)), CacheDir: v.path(CacheName(v.md.ID))}
	n := 0
	for _, pt := range []abi.RegisteredPoStProof{v.proof.WindowPoSt(), v.proof.WinningPoSt()} {
		sp, err := post.Prove(ctx, pt, r, 0, s)
		if err != nil {
			return fmt.Errorf("%s: %w", pt, err)
		}
		if err := post.Verify(pt, r, 0, v.commR, sp); err != nil {
			return fmt.Errorf("%s: %w", pt, err)
		}
		n += len(sp.Openings)
	}
	v.detail = fmt.Sprintf("%d challenges, randomness %x", n, r[:])
	return nil
}
