package porep

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
)

// TestSeal8MiBEndToEnd seals a data sector of the 8MiB production shape,
// generates C1 for a seed and verifies it. No external vector exists for
// 8MiB: the 2KiB golden sector pins the algorithms, this test pins that the
// same code paths hold at 2^18 nodes (6-level oct trees, rows_to_discard 2).
func TestSeal8MiBEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("8MiB seal skipped in -short")
	}
	tmp := t.TempDir()
	piece := filepath.Join(tmp, "piece")
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i*31 + i>>9)
	}
	if err := os.WriteFile(piece, data, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "sector")
	req := SealRequest{
		Proof: abi.StackedDrg8MiBV1_1, Miner: 1234, Sector: 42, Ticket: [32]byte{9, 8, 7},
		Pieces: []string{piece}, Dir: dir, ParentCacheDir: filepath.Join(tmp, "parents"),
	}
	rec, err := Seal(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Pieces[0].Size != 2<<20 || rec.Pieces[0].PayloadSize != 1<<20 {
		t.Fatalf("piece %+v", rec.Pieces[0])
	}
	// rows_to_discard 2 for 8MiB: the leaves and the two rows above them are
	// dropped, tree-r-last keeps rows 3..6 = 8^3+8^2+8+1 nodes.
	st, err := os.Stat(filepath.Join(CachePath(dir), "sc-02-data-tree-r-last.dat"))
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(512+64+8+1) * 32; st.Size() != want {
		t.Errorf("tree-r-last is %d bytes, want %d", st.Size(), want)
	}
	out, err := C1(context.Background(), dir, [32]byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyC1(out, &VerifyOptions{Miner: &req.Miner, Sector: &req.Sector}); err != nil {
		t.Fatal(err)
	}
	other := req.Sector + 1
	if _, err := VerifyC1(out, &VerifyOptions{Miner: &req.Miner, Sector: &other}); err == nil {
		t.Fatal("C1 verified for the wrong sector number")
	}
}
