package delivery

import (
	"fmt"
	"path"
	"path/filepath"
	"slices"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/merkle"
	"github.com/sealant/sealant/proofs/porep"
)

// The Lotus/Curio storage layout (lotus storage/paths, Curio the same):
//
//	<store>/sealed/s-t0<miner>-<n>
//	<store>/cache/s-t0<miner>-<n>/p_aux, t_aux, sc-02-data-tree-r-last[-k].dat
//
// Delivered file names are relative paths in this layout, so a received
// sector is imported by moving its files under the store root unchanged.
const (
	sealedDir = "sealed"
	cacheDir  = "cache"
)

// SealedName is the layout name of a sector's replica.
func SealedName(id api.SectorID) string { return path.Join(sealedDir, id.String()) }

// CacheName is the layout name of a sector's cache directory.
func CacheName(id api.SectorID) string { return path.Join(cacheDir, id.String()) }

// ExpectedFile is a file the SP needs to prove a sector, with the size it
// must have (-1: not fixed, t_aux).
type ExpectedFile struct {
	Name string
	Size int64
}

// ExpectedFiles lists exactly the files a sector of proof type p is
// delivered with: the sealed replica, p_aux, t_aux and the TreeR_last
// base-tree files (rust-fil-proofs clear_cache keeps exactly these).
func ExpectedFiles(id api.SectorID, p abi.RegisteredSealProof) ([]ExpectedFile, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("%w: unknown seal proof %d", ErrInvalid, p)
	}
	cfg := treeRConfig(CacheName(id), p)
	treeSize, err := cfg.FileSize()
	if err != nil {
		return nil, fmt.Errorf("%w: tree-r-last of %s: %v", ErrInvalid, p, err)
	}
	out := []ExpectedFile{
		{Name: SealedName(id), Size: int64(p.SectorSize())},
		{Name: path.Join(CacheName(id), porep.PAuxFileName), Size: 64},
		{Name: path.Join(CacheName(id), porep.TAuxFileName), Size: -1},
	}
	for _, tp := range cfg.Paths() {
		out = append(out, ExpectedFile{Name: filepath.ToSlash(tp), Size: treeSize})
	}
	return out, nil
}

// treeRConfig is the TreeR_last of a sector whose cache directory is dir
// (porep's configuration: Poseidon, the proof's shape, level cache with the
// default rows to discard).
func treeRConfig(dir string, p abi.RegisteredSealProof) merkle.Config {
	s := p.TreeShape()
	return merkle.Config{
		Hasher: merkle.Poseidon, Shape: merkle.Shape{Base: s.Base, Sub: s.Sub, Top: s.Top}, Leaves: p.Nodes(),
		Dir: dir, ID: merkle.IDTreeRLast, LevelCache: true, RowsToDiscard: p.RowsToDiscard(),
	}
}

// checkFileSet verifies that md lists exactly the expected files with the
// expected sizes, and returns them in the expected order.
func checkFileSet(md *api.SectorMetadata) ([]api.SectorFile, error) {
	exp, err := ExpectedFiles(md.ID, abi.RegisteredSealProof(md.ProofType))
	if err != nil {
		return nil, err
	}
	byName := make(map[string]api.SectorFile, len(md.Files))
	for _, f := range md.Files {
		if _, dup := byName[f.Name]; dup {
			return nil, fmt.Errorf("%w: file %q listed twice", ErrInvalid, f.Name)
		}
		byName[f.Name] = f
	}
	out := make([]api.SectorFile, 0, len(exp))
	for _, e := range exp {
		f, ok := byName[e.Name]
		if !ok {
			return nil, fmt.Errorf("%w: metadata lacks %s", ErrInvalid, e.Name)
		}
		switch {
		case e.Size >= 0 && f.Size != e.Size:
			return nil, fmt.Errorf("%w: %s is %d bytes, a %s sector needs %d", ErrInvalid, f.Name, f.Size,
				abi.RegisteredSealProof(md.ProofType), e.Size)
		case e.Size < 0 && (f.Size <= 0 || f.Size > maxTAuxSize):
			return nil, fmt.Errorf("%w: %s is %d bytes", ErrInvalid, f.Name, f.Size)
		}
		out = append(out, f)
		delete(byName, e.Name)
	}
	if len(byName) > 0 {
		extra := make([]string, 0, len(byName))
		for n := range byName {
			extra = append(extra, n)
		}
		slices.Sort(extra)
		return nil, fmt.Errorf("%w: unexpected files %q (a sector is delivered with sealed, p_aux, t_aux and tree-r-last only)", ErrInvalid, extra)
	}
	return out, nil
}
