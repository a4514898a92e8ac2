package porep

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/fr32"
	"github.com/sealant/sealant/proofs/sdr"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(raw, []byte("\n"))
}

// TestPC1OutputGolden round-trips the serde fixtures byte for byte and
// checks that PC1Output writes the same JSON filecoin-proofs would.
func TestPC1OutputGolden(t *testing.T) {
	for _, name := range []string{"pc1out-2k.json", "pc1out-2k-lotus.json"} {
		raw := readFixture(t, name)
		out, err := ParsePC1Output(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		again, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, raw) {
			t.Errorf("%s round trip:\n got %s\nwant %s", name, again, raw)
		}
	}
	g := loadGolden(t)
	own, err := PC1Output(abi.RegisteredSealProof(g.ProofID), "/data/sealing/cache/s-t01002-1", hex32(t, g.CommDHex))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(own)
	if want := readFixture(t, "pc1out-2k.json"); !bytes.Equal(b, want) {
		t.Errorf("PC1Output:\n got %s\nwant %s", b, want)
	}

	var pc2 SealPreCommitPhase2Output
	raw := readFixture(t, "pc2out-2k.json")
	if err := json.Unmarshal(raw, &pc2); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(pc2); !bytes.Equal(b, raw) || pc2.CommR.String() != g.CommRHex {
		t.Errorf("pc2 output round trip %s", b)
	}
}

// TestPC1OutputUnknownFields: serde ignores unknown fields of these structs
// (no deny_unknown_fields), so Sealant drops them too.
func TestPC1OutputUnknownFields(t *testing.T) {
	raw := readFixture(t, "pc1out-2k.json")
	extra := append([]byte(`{"extra":1,`), raw[1:]...)
	out, err := ParsePC1Output(extra)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(out); !bytes.Equal(b, raw) {
		t.Errorf("unknown field kept: %s", b)
	}
}

func TestPC1OutputValidate(t *testing.T) {
	raw := string(readFixture(t, "pc1out-2k.json"))
	for _, c := range []struct{ name, old, new, want string }{
		{"proof", `"StackedDrg2KiBV1_1"`, `"StackedDrg3KiBV1_1"`, "registered_proof"},
		{"legacy", `"registered_proof":"StackedDrg2KiBV1_1"`, `"registered_proof":"StackedDrg2KiBV1"`, "V1 proof"},
		{"shape", `"StackedDrg2KiBV1":{`, `"StackedDrg8MiBV1":{`, "labels variant"},
		{"layer id", `"layer-2"`, `"layer-3"`, `want "layer-2"`},
		{"layer size", `"layer-1","size":64`, `"layer-1","size":null`, "size null"},
		{"tree-d size", `"tree-d","size":127`, `"tree-d","size":128`, "want 127"},
		{"tree-d id", `"tree-d"`, `"tree-c"`, `want "tree-d"`},
		{"phantom", `"_h":null`, `"_h":1`, "_h"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := strings.Replace(raw, c.old, c.new, 1)
			_, err := ParsePC1Output([]byte(bad))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want one naming %q", err, c.want)
			}
		})
	}
}

// stageZeroSector writes a bare directory holding only the staged zero
// piece of a 2KiB sector, as damocles' add_pieces leaves it for CC.
func stageZeroSector(t *testing.T, size int) (root, staged string) {
	t.Helper()
	root = t.TempDir()
	staged = filepath.Join(root, "staged")
	if err := os.WriteFile(staged, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, staged
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(raw)
	return hex.EncodeToString(s[:])
}

// TestStandalonePC1PC2Golden runs PreCommit1 then PreCommit2 on a bare
// directory (a staged zero piece, nothing else) and gets the golden lotus
// sector's layers, replica and CommR.
func TestStandalonePC1PC2Golden(t *testing.T) {
	g := loadGolden(t)
	p := abi.RegisteredSealProof(g.ProofID)
	root, staged := stageZeroSector(t, 2048)
	cache, sealed := filepath.Join(root, "cache"), filepath.Join(root, "sealed")
	zero, err := commp.ZeroCommitment(2048)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := PreCommit1(ctx, PreCommit1Request{
		Proof: p, CacheDir: cache, InPath: staged, OutPath: sealed,
		ProverID: hex32(t, "ea07000000000000000000000000000000000000000000000000000000000000"),
		SectorID: g.Sector, Ticket: hex32(t, g.Ticket),
		Pieces:         []commp.PieceInfo{{Size: 2048, Commitment: zero}},
		ParentCacheDir: t.TempDir(), Workers: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.CommD.String() != g.CommDHex {
		t.Errorf("comm_d %s, want %s", out.CommD, g.CommDHex)
	}
	if got, want := fileSHA(t, filepath.Join(cache, "sc-02-data-layer-1.dat")), g.Layer1SHA; got != want {
		t.Errorf("layer-1 sha256 %s, want %s", got, want)
	}
	if got, want := fileSHA(t, filepath.Join(cache, "sc-02-data-layer-2.dat")), g.Layer2SHA; got != want {
		t.Errorf("layer-2 sha256 %s, want %s", got, want)
	}
	// PC2 gets the JSON lotus logged for this sector (written by
	// filecoin-proofs' PC1: another directory, rows_to_discard 5), so the
	// task's cache_dir must win over the recorded paths.
	in, err := ParsePC1Output(readFixture(t, "pc1out-2k-lotus.json"))
	if err != nil {
		t.Fatal(err)
	}
	pc2, err := PreCommit2(ctx, in, cache, sealed, 1)
	if err != nil {
		t.Fatal(err)
	}
	if pc2.CommR.String() != g.CommRHex || pc2.CommD.String() != g.CommDHex || pc2.RegisteredProof != "StackedDrg2KiBV1_1" {
		t.Errorf("pc2 output %+v, want comm_r %s", pc2, g.CommRHex)
	}
	if got := fileSHA(t, sealed); got != g.SealedSHA {
		t.Errorf("sealed sha256 %s, want %s", got, g.SealedSHA)
	}
	if raw, _ := os.ReadFile(staged); !bytes.Equal(raw, make([]byte, 2048)) {
		t.Error("staged file changed")
	}
	// Nothing was written outside cache and the out path.
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if n := e.Name(); n != "cache" && n != "sealed" && n != "staged" {
			t.Errorf("stray file %s", n)
		}
	}
}

// TestStandaloneTwoPieces: a data sector with two pieces staged by
// Sealant's own add-pieces seals to the same layers and CommR through the
// standalone stages as through Seal.
func TestStandaloneTwoPieces(t *testing.T) {
	src := t.TempDir()
	a, b := filepath.Join(src, "a"), filepath.Join(src, "b")
	os.WriteFile(a, bytes.Repeat([]byte{0x5a}, 300), 0o644)
	os.WriteFile(b, bytes.Repeat([]byte{0xa5}, 900), 0o644)
	dir := t.TempDir()
	ticket := [32]byte{1, 2, 3}
	pcache := t.TempDir()
	rec, err := Seal(context.Background(), SealRequest{
		Proof: abi.StackedDrg2KiBV1_1, Miner: 1000, Sector: 9, Ticket: ticket,
		Pieces: []string{a, b}, Dir: dir, ParentCacheDir: pcache, Workers: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	staged := filepath.Join(root, "staged")
	raw, _ := os.ReadFile(UnsealedPath(dir))
	os.WriteFile(staged, raw, 0o644)
	var infos []commp.PieceInfo
	for _, pc := range rec.Pieces {
		infos = append(infos, commp.PieceInfo{Size: fr32.PaddedPieceSize(pc.Size), Commitment: pc.CommP})
	}
	cache, sealed := filepath.Join(root, "cache"), filepath.Join(root, "sealed")
	ctx := context.Background()
	out, err := PreCommit1(ctx, PreCommit1Request{
		Proof: rec.Proof, CacheDir: cache, InPath: staged, OutPath: sealed,
		ProverID: sdr.ProverID(1000), SectorID: 9, Ticket: ticket, Pieces: infos,
		ParentCacheDir: pcache, Workers: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.CommD != rec.CommD {
		t.Errorf("comm_d %s, want %s", out.CommD, rec.CommD)
	}
	for _, name := range []string{"sc-02-data-layer-1.dat", "sc-02-data-layer-2.dat", "sc-02-data-tree-d.dat"} {
		if fileSHA(t, filepath.Join(cache, name)) != fileSHA(t, filepath.Join(CachePath(dir), name)) {
			t.Errorf("%s differs from Seal's", name)
		}
	}
	pc2, err := PreCommit2(ctx, out, cache, sealed, 1)
	if err != nil {
		t.Fatal(err)
	}
	if pc2.CommR != rec.CommR {
		t.Errorf("comm_r %s, want %s", pc2.CommR, rec.CommR)
	}
	if fileSHA(t, sealed) != fileSHA(t, SealedPath(dir)) {
		t.Error("replica differs from Seal's")
	}
	// Seal wrote its own pc1out, which names the same stores.
	own, err := LoadPC1Output(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := own.Check(CachePath(dir)); err != nil {
		t.Error(err)
	}
}

func TestStandaloneBadTasks(t *testing.T) {
	p := abi.StackedDrg2KiBV1_1
	zero, _ := commp.ZeroCommitment(2048)
	cc := []commp.PieceInfo{{Size: 2048, Commitment: zero}}
	root, staged := stageZeroSector(t, 2048)
	big := filepath.Join(root, "big")
	os.WriteFile(big, make([]byte, 4096), 0o644)
	ok := func() PreCommit1Request {
		return PreCommit1Request{Proof: p, CacheDir: filepath.Join(root, "cache"), InPath: staged,
			OutPath: filepath.Join(root, "sealed"), Pieces: cc, ParentCacheDir: t.TempDir(), Workers: 1}
	}
	for _, c := range []struct {
		name string
		mod  func(*PreCommit1Request)
		want error
		text string
	}{
		{"missing staged file", func(r *PreCommit1Request) { r.InPath = filepath.Join(root, "nope") }, ErrBadPath, "in_path"},
		{"wrong size", func(r *PreCommit1Request) { r.InPath = big }, ErrStagedSize, "4096 bytes"},
		{"pieces overflow", func(r *PreCommit1Request) { r.Pieces = append(cc, cc...) }, ErrPieceInfos, "4096 padded bytes"},
		{"no pieces", func(r *PreCommit1Request) { r.Pieces = nil }, ErrPieceInfos, "no pieces"},
		{"bad piece size", func(r *PreCommit1Request) { r.Pieces = []commp.PieceInfo{{Size: 1000}} }, ErrPieceInfos, "piece 0"},
		{"wrong comm", func(r *PreCommit1Request) { r.Pieces = []commp.PieceInfo{{Size: 2048, Commitment: [32]byte{1}}} }, ErrCommDMismatch, "piece_infos"},
		{"relative path", func(r *PreCommit1Request) { r.CacheDir = "cache" }, ErrBadPath, "not absolute"},
		{"out inside cache", func(r *PreCommit1Request) { r.OutPath = filepath.Join(root, "cache", "x") }, ErrBadPath, "inside cache_path"},
		{"unknown proof", func(r *PreCommit1Request) { r.Proof = 99 }, nil, "unknown seal proof"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := ok()
			c.mod(&req)
			_, err := PreCommit1(context.Background(), req)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) || !strings.Contains(err.Error(), c.text) {
				t.Errorf("err %v, want %v naming %q", err, c.want, c.text)
			}
		})
	}
	// PC2 on a cache without layers.
	pc1, _ := PC1Output(p, filepath.Join(root, "cache"), zero)
	os.WriteFile(filepath.Join(root, "sealed"), make([]byte, 2048), 0o644)
	if _, err := PreCommit2(context.Background(), pc1, t.TempDir(), filepath.Join(root, "sealed"), 1); !errors.Is(err, ErrCacheIncomplete) || !strings.Contains(err.Error(), "layer-1") {
		t.Errorf("pc2 on empty cache: %v", err)
	}
}

// TestAdoptExternal: a sector directory adopts PC1 and PC2 run by the
// standalone stages (as an external processor would), and refuses a wrong
// comm_d and a replica encoded twice.
func TestAdoptExternal(t *testing.T) {
	g := loadGolden(t)
	ctx := context.Background()
	pcache := t.TempDir()
	prepare := func() string {
		dir := t.TempDir()
		_, err := SealUpTo(ctx, SealRequest{Proof: abi.RegisteredSealProof(g.ProofID), Miner: g.Miner, Sector: g.Sector,
			Ticket: hex32(t, g.Ticket), Dir: dir, ParentCacheDir: pcache, Workers: 1}, StagePC1)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(UnsealedPath(dir))
		os.WriteFile(SealedPath(dir), raw, 0o644)
		return dir
	}
	dir := prepare()
	out, err := LoadPC1Output(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AdoptPC1(dir, out); err != nil {
		t.Fatal(err)
	}
	bad := *out
	bad.CommD[0] ^= 1
	if _, err := AdoptPC1(dir, &bad); !errors.Is(err, ErrCommDMismatch) {
		t.Errorf("wrong comm_d adopted: %v", err)
	}
	abs, _ := filepath.Abs(dir)
	pc2, err := PreCommit2(ctx, out, CachePath(abs), SealedPath(abs), 1)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := AdoptPC2(dir, pc2)
	if err != nil {
		t.Fatal(err)
	}
	if rec.CommR.String() != g.CommRHex || rec.CommC.String() != g.CommC || !rec.Has(StagePC2) {
		t.Errorf("adopted record %+v", rec)
	}
	// PC2 run twice on the same copy (a retry without a fresh copy).
	dir = prepare()
	abs, _ = filepath.Abs(dir)
	for range 2 {
		if pc2, err = PreCommit2(ctx, out, CachePath(abs), SealedPath(abs), 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := AdoptPC2(dir, pc2); !errors.Is(err, ErrBadReplica) {
		t.Errorf("double-encoded replica adopted: %v", err)
	}
}
