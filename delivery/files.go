package delivery

import (
	"context"
	"fmt"
	"path"
	"path/filepath"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/abi"
)

// DescribeFiles lists the files a sector is delivered with, read from a
// sealed replica and a cache directory (any layout: a porep sector
// directory, a worker's persist store or a Lotus store), with sizes and
// SHA-256 computed from the files themselves. The names are the layout
// names the receiver expects.
func DescribeFiles(ctx context.Context, id api.SectorID, proof abi.RegisteredSealProof, sealedPath, cacheDir string) ([]api.LocalFile, error) {
	exp, err := ExpectedFiles(id, proof)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 1<<20)
	out := make([]api.LocalFile, 0, len(exp))
	for _, e := range exp {
		p := sealedPath
		if e.Name != SealedName(id) {
			p = filepath.Join(cacheDir, path.Base(e.Name))
		}
		sum, size, err := hashFile(ctx, p, buf)
		if err != nil {
			return nil, fmt.Errorf("delivery: describe %s: %w", e.Name, err)
		}
		if e.Size >= 0 && size != e.Size {
			return nil, fmt.Errorf("delivery: %s is %d bytes, want %d", p, size, e.Size)
		}
		out = append(out, api.LocalFile{SectorFile: api.SectorFile{Name: e.Name, Size: size, SHA256: api.Hex32(sum)}, Path: p})
	}
	return out, nil
}

// SectorFiles drops the local paths.
func SectorFiles(files []api.LocalFile) []api.SectorFile {
	out := make([]api.SectorFile, len(files))
	for i, f := range files {
		out[i] = f.SectorFile
	}
	return out
}
