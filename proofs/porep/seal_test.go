package porep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
)

// sealGolden seals the §11.1 sector into a fresh directory.
func sealGolden(t testing.TB) (string, *Record, golden2K) {
	t.Helper()
	g := loadGolden(t)
	dir := t.TempDir()
	rec, err := Seal(context.Background(), SealRequest{
		Proof: abi.RegisteredSealProof(g.ProofID), Miner: g.Miner, Sector: g.Sector,
		Ticket: hex32(t, g.Ticket), Dir: dir, ParentCacheDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir, rec, g
}

func TestSealGolden2KiB(t *testing.T) {
	dir, rec, g := sealGolden(t)
	for _, c := range []struct {
		name string
		got  Bytes32
		want string
	}{
		{"comm_d", rec.CommD, g.CommDHex},
		{"replica_id", rec.ReplicaID, g.ReplicaID},
		{"comm_c", rec.CommC, g.CommC},
		{"comm_r_last", rec.CommRLast, g.CommRLast},
		{"comm_r", rec.CommR, g.CommRHex},
	} {
		if c.got.String() != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	for _, f := range []struct{ path, want string }{
		{SealedPath(dir), g.SealedSHA},
		{filepath.Join(CachePath(dir), "sc-02-data-layer-1.dat"), g.Layer1SHA},
		{filepath.Join(CachePath(dir), "sc-02-data-layer-2.dat"), g.Layer2SHA},
	} {
		raw, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		if hex.EncodeToString(sum[:]) != f.want {
			t.Errorf("sha256(%s) = %x, want %s", filepath.Base(f.path), sum, f.want)
		}
	}
	paux, err := os.ReadFile(filepath.Join(CachePath(dir), PAuxFileName))
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(paux) != g.CommC+g.CommRLast {
		t.Errorf("p_aux = %x", paux)
	}
	for _, name := range []string{"sc-02-data-tree-d.dat", "sc-02-data-tree-c.dat", "sc-02-data-tree-r-last.dat", TAuxFileName} {
		if _, err := os.Stat(filepath.Join(CachePath(dir), name)); err != nil {
			t.Errorf("missing cache file: %v", err)
		}
	}
}

func TestSealResumeAndRefuseOtherSector(t *testing.T) {
	dir, rec, g := sealGolden(t)
	// Rerunning the same sector is a no-op that returns the same record.
	again, err := Seal(context.Background(), SealRequest{
		Proof: rec.Proof, Miner: rec.Miner, Sector: rec.Sector, Ticket: rec.Ticket, Dir: dir, ParentCacheDir: t.TempDir(),
	})
	if err != nil || again.CommR != rec.CommR {
		t.Fatalf("reseal: %v %s", err, again.CommR)
	}
	// Forget PC2 and redo it: same result.
	rec.Done = rec.Done[:3]
	if err := rec.save(dir); err != nil {
		t.Fatal(err)
	}
	redo, err := Seal(context.Background(), SealRequest{
		Proof: rec.Proof, Miner: rec.Miner, Sector: rec.Sector, Ticket: rec.Ticket, Dir: dir, ParentCacheDir: t.TempDir(),
	})
	if err != nil || redo.CommR.String() != g.CommRHex {
		t.Fatalf("redo pc2: %v %s", err, redo.CommR)
	}
	_, err = Seal(context.Background(), SealRequest{
		Proof: rec.Proof, Miner: rec.Miner, Sector: rec.Sector + 1, Ticket: rec.Ticket, Dir: dir,
	})
	if !errors.Is(err, ErrOtherSector) {
		t.Fatalf("other sector: %v", err)
	}
}

func TestSealPieces(t *testing.T) {
	tmp := t.TempDir()
	write := func(name string, n int, b byte) string {
		p := filepath.Join(tmp, name)
		data := make([]byte, n)
		for i := range data {
			data[i] = b + byte(i)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	small := write("small", 100, 1) // → 127 unpadded, 128 padded
	mid := write("mid", 300, 7)     // → 508 unpadded, 512 padded, aligned to 512
	big := write("big", 3000, 3)    // → 4064 unpadded: larger than a 2KiB sector
	cases := []struct {
		name    string
		pieces  []string
		wantErr error
		offsets []uint64
	}{
		{"two pieces aligned", []string{small, mid}, nil, []uint64{0, 512}},
		{"too large", []string{big}, ErrPiecesTooLarge, nil},
		{"overflow", []string{mid, mid, mid, mid, small}, ErrPiecesTooLarge, nil},
		{"empty", []string{write("empty", 0, 0)}, ErrEmptyPiece, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, err := Seal(context.Background(), SealRequest{
				Proof: abi.StackedDrg2KiBV1_1, Miner: 1000, Sector: 7, Dir: t.TempDir(),
				Pieces: c.pieces, ParentCacheDir: t.TempDir(),
			})
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, off := range c.offsets {
				if rec.Pieces[i].Offset != off {
					t.Errorf("piece %d offset %d, want %d", i, rec.Pieces[i].Offset, off)
				}
			}
		})
	}
}
