package merkle

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/sealant/sealant/proofs/poseidon"
)

// randLeaves returns n pseudo-random canonical field elements (top two bits
// cleared, as labels and tree nodes always are).
func randLeaves(seed uint64, n int) []Node {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]Node, n)
	for i := range out {
		for j := 0; j < NodeSize; j += 8 {
			u := rng.Uint64()
			for k := range 8 {
				out[i][j+k] = byte(u >> (8 * k))
			}
		}
		out[i][31] &= 0x3f
	}
	return out
}

// refRoot is a deliberately naive recursive definition of the compound
// root, independent of the builder: base trees by recursion over halves…
// of arity-sized groups, then sub-tree and top-tree nodes.
func refRoot(t *testing.T, h Hasher, s Shape, leaves []Node) Node {
	t.Helper()
	hash := func(arity int, children []Node) Node {
		var out [1]Node
		if err := h.HashNodes(arity, out[:], children); err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	var tree func(ls []Node) Node
	tree = func(ls []Node) Node {
		if len(ls) == 1 {
			return ls[0]
		}
		part := len(ls) / s.Base
		kids := make([]Node, s.Base)
		for i := range kids {
			kids[i] = tree(ls[i*part : (i+1)*part])
		}
		return hash(s.Base, kids)
	}
	nb := s.BaseTrees()
	per := len(leaves) / nb
	roots := make([]Node, nb)
	for b := range roots {
		roots[b] = tree(leaves[b*per : (b+1)*per])
	}
	if s.Sub == 0 {
		return roots[0]
	}
	subs := make([]Node, nb/s.Sub)
	for k := range subs {
		subs[k] = hash(s.Sub, roots[k*s.Sub:(k+1)*s.Sub])
	}
	if s.Top == 0 {
		return subs[0]
	}
	return hash(s.Top, subs)
}

// shapeCases are small synthetic trees that exercise the same code paths as
// the production shapes (single oct tree; 32 GiB Sub8; 64 GiB Top2; the
// 4 KiB test shape Sub2; binary TreeD).
var shapeCases = []struct {
	name   string
	h      Hasher
	shape  Shape
	leaves int
}{
	{"binary-sha", SHA256, ShapeBinary, 256},
	{"oct-single", Poseidon, ShapeBase, 512},
	{"oct-sub8", Poseidon, ShapeSub8, 8 * 64},
	{"oct-sub2", Poseidon, Shape{Base: 8, Sub: 2}, 2 * 64},
	{"oct-top2", Poseidon, ShapeTop2, 16 * 8},
	{"quad-sub4-top2", Poseidon, Shape{Base: 4, Sub: 4, Top: 2}, 8 * 16},
}

func TestCompoundShapes(t *testing.T) {
	ctx := context.Background()
	for i, tc := range shapeCases {
		t.Run(tc.name, func(t *testing.T) {
			leaves := randLeaves(uint64(i), tc.leaves)
			want := refRoot(t, tc.h, tc.shape, leaves)

			mem, err := BuildMem(tc.h, tc.shape, leaves)
			if err != nil {
				t.Fatal(err)
			}
			if mem.Root() != want {
				t.Fatalf("BuildMem root %x, reference %x", mem.Root(), want)
			}
			r, err := Root(ctx, tc.h, tc.shape, SliceSource(leaves), uint64(len(leaves)), nil)
			if err != nil || r != want {
				t.Fatalf("Root = %x, %v; want %x", r, err, want)
			}

			base := uint64(tc.leaves / tc.shape.BaseTrees())
			w, _ := LevelWidths(base, tc.shape.Base)
			// Full DiskStore layout, then every legal LevelCache depth.
			layouts := []Config{{}}
			for d := 0; d < len(w)-1; d++ {
				layouts = append(layouts, Config{LevelCache: true, RowsToDiscard: d})
			}
			for _, l := range layouts {
				cfg := Config{Hasher: tc.h, Shape: tc.shape, Leaves: uint64(tc.leaves), Dir: t.TempDir(), ID: "tree-x",
					LevelCache: l.LevelCache, RowsToDiscard: l.RowsToDiscard}
				name := fmt.Sprintf("levelcache=%v/d=%d", l.LevelCache, l.RowsToDiscard)
				root, err := Build(ctx, cfg, SliceSource(leaves), &BuildOptions{Workers: 2})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if root != want {
					t.Fatalf("%s: root %x, want %x", name, root, want)
				}
				checkLayout(t, cfg, mem)
				checkProofs(t, cfg, mem, leaves)
			}
		})
	}
}

// checkLayout compares every base-tree file byte for byte with the rows of
// the in-memory tree: all rows leaves first for a DiskStore, the rows above
// RowsToDiscard for a LevelCacheStore.
func checkLayout(t *testing.T, cfg Config, mem *MemTree) {
	t.Helper()
	paths := cfg.Paths()
	if len(paths) > 1 && paths[1] != DataPath(cfg.Dir, cfg.ID+"-1") {
		t.Fatalf("multi-tree file name %s", paths[1])
	}
	for b, p := range paths {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		first := 0
		if cfg.LevelCache {
			first = cfg.RowsToDiscard + 1
		}
		for r := first; r <= mem.lay.height(); r++ {
			want = append(want, nodesAsBytes(mem.Row(b, r))...)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: file content differs from rows %d.. (len %d vs %d)", p, first, len(got), len(want))
		}
		var n uint64
		if cfg.LevelCache {
			n, err = CacheLen(cfg.BaseLeaves(), cfg.Shape.Base, cfg.RowsToDiscard)
		} else {
			n, err = TreeLen(cfg.BaseLeaves(), cfg.Shape.Base)
		}
		if err != nil || int64(len(got)) != int64(n)*NodeSize {
			t.Fatalf("%s: %d bytes, size function says %d nodes (%v)", p, len(got), n, err)
		}
	}
}

func checkProofs(t *testing.T, cfg Config, mem *MemTree, leaves []Node) {
	t.Helper()
	tree, err := Open(cfg, SliceSource(leaves))
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	if tree.Root() != mem.Root() {
		t.Fatalf("opened root %x, want %x", tree.Root(), mem.Root())
	}
	n := uint64(len(leaves))
	for _, i := range []uint64{0, 1, n / 3, n / 2, n - 2, n - 1} {
		p, err := tree.Proof(i)
		if err != nil {
			t.Fatalf("proof %d: %v", i, err)
		}
		mp, err := mem.Proof(i)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(p) != fmt.Sprint(mp) {
			t.Fatalf("proof %d from files differs from in-memory proof", i)
		}
		if p.Leaf != leaves[i] || !p.ProvesChallenge(i) {
			t.Fatalf("proof %d: leaf %x index %d", i, p.Leaf, p.PathIndex())
		}
		if err := p.Verify(cfg.Hasher); err != nil {
			t.Fatalf("proof %d: %v", i, err)
		}
		wantBase := len(mem.lay.widths) - 1
		wantSub, wantTop := 0, 0
		if cfg.Shape.Sub > 0 {
			wantSub = 1
		}
		if cfg.Shape.Top > 0 {
			wantTop = 1
		}
		if len(p.Base) != wantBase || len(p.Sub) != wantSub || len(p.Top) != wantTop {
			t.Fatalf("proof %d shape %d/%d/%d", i, len(p.Base), len(p.Sub), len(p.Top))
		}
		checkTampering(t, cfg.Hasher, p)
	}
}

// checkTampering flips one bit in every sibling, the leaf and the root in
// turn, and moves every index; each must make verification fail.
func checkTampering(t *testing.T, h Hasher, p *Proof) {
	t.Helper()
	mustFail := func(what string, q *Proof) {
		t.Helper()
		if err := q.Verify(h); !errors.Is(err, ErrProofInvalid) {
			t.Fatalf("tampered %s: Verify = %v, want ErrProofInvalid", what, err)
		}
	}
	clone := func() *Proof {
		q := *p
		for _, part := range []*[]PathElement{&q.Base, &q.Sub, &q.Top} {
			old := *part
			*part = make([]PathElement, len(old))
			for i, e := range old {
				(*part)[i] = PathElement{Hashes: append([]Node(nil), e.Hashes...), Index: e.Index}
			}
		}
		return &q
	}
	q := clone()
	q.Leaf[0] ^= 1
	mustFail("leaf", q)
	q = clone()
	q.Root[5] ^= 0x10
	mustFail("root", q)
	for pi, part := range [][]PathElement{p.Base, p.Sub, p.Top} {
		for li, e := range part {
			for si := range e.Hashes {
				q := clone()
				parts := [][]PathElement{q.Base, q.Sub, q.Top}
				parts[pi][li].Hashes[si][3] ^= 4
				mustFail(fmt.Sprintf("sibling %d/%d/%d", pi, li, si), q)
			}
			q := clone()
			parts := [][]PathElement{q.Base, q.Sub, q.Top}
			parts[pi][li].Index = (e.Index + 1) % uint64(len(e.Hashes)+1)
			// Moving the index changes the hashed order unless the
			// neighbours happen to be equal, which random leaves exclude.
			mustFail(fmt.Sprintf("index %d/%d", pi, li), q)
			q = clone()
			parts = [][]PathElement{q.Base, q.Sub, q.Top}
			parts[pi][li].Index = uint64(len(e.Hashes) + 1)
			mustFail(fmt.Sprintf("out-of-range index %d/%d", pi, li), q)
		}
	}
}

// TestChunkedBuild covers trees larger than one worker chunk, so the chunk
// roots and the upper rows are assembled separately, with one and two
// workers, against the in-memory builder.
func TestChunkedBuild(t *testing.T) {
	ctx := context.Background()
	leaves := randLeaves(99, 4*maxChunkLeaves)
	mem, err := BuildMem(SHA256, ShapeBinary, leaves)
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2, 3} {
		for _, lc := range []bool{false, true} {
			cfg := Config{Hasher: SHA256, Shape: ShapeBinary, Leaves: uint64(len(leaves)), Dir: t.TempDir(), ID: IDTreeD,
				LevelCache: lc, RowsToDiscard: DefaultRowsToDiscard(uint64(len(leaves)), 2)}
			root, err := Build(ctx, cfg, SliceSource(leaves), &BuildOptions{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if root != mem.Root() {
				t.Fatalf("workers=%d levelcache=%v: root %x, want %x", workers, lc, root, mem.Root())
			}
			checkLayout(t, cfg, mem)
		}
	}
}

func TestSizes(t *testing.T) {
	cases := []struct {
		leaves   uint64
		arity    int
		treeLen  uint64
		rows     int
		discard  int
		cacheLen uint64
	}{
		{64, 8, 73, 3, 1, 1},                          // 2 KiB tree-r-last: only the root
		{64, 2, 127, 7, 5, 1},                         // 2 KiB tree-d
		{1 << 18, 8, 299593, 7, 2, 585},               // 8 MiB
		{1 << 24, 8, 19173961, 9, 2, 37449},           // 512 MiB
		{1 << 27, 8, 153391689, 10, 2, 299593},        // 32/64 GiB base tree: rows 3..9
		{1 << 30, 2, 1<<31 - 1, 31, 7, 1<<(30-7) - 1}, // 32 GiB TreeD geometry
		{8, 8, 9, 2, 0, 1},
	}
	for _, c := range cases {
		w, err := LevelWidths(c.leaves, c.arity)
		if err != nil {
			t.Fatal(err)
		}
		n, err := TreeLen(c.leaves, c.arity)
		if err != nil || n != c.treeLen || len(w) != c.rows {
			t.Errorf("%d/%d: TreeLen %d rows %d (%v), want %d, %d", c.leaves, c.arity, n, len(w), err, c.treeLen, c.rows)
		}
		if d := DefaultRowsToDiscard(c.leaves, c.arity); d != c.discard {
			t.Errorf("%d/%d: DefaultRowsToDiscard %d, want %d", c.leaves, c.arity, d, c.discard)
		}
		if c.discard == 0 {
			continue
		}
		cl, err := CacheLen(c.leaves, c.arity, c.discard)
		if err != nil || cl != c.cacheLen {
			t.Errorf("%d/%d: CacheLen %d (%v), want %d", c.leaves, c.arity, cl, err, c.cacheLen)
		}
	}
	// 32 GiB: 2^18 + 2^15 + … + 1 nodes kept per base tree (porep.md §8).
	var sum uint64
	for n := uint64(1 << 18); n >= 1; n >>= 3 {
		sum += n
		if n == 1 {
			break
		}
	}
	if got, _ := CacheLen(1<<27, 8, 2); got != sum {
		t.Errorf("32 GiB cache len %d, want %d", got, sum)
	}
	bad := []struct {
		leaves uint64
		arity  int
	}{{0, 8}, {4, 8}, {16, 8}, {96, 8}, {64, 3}, {64, 1}}
	for _, b := range bad {
		if _, err := LevelWidths(b.leaves, b.arity); !errors.Is(err, ErrShape) {
			t.Errorf("LevelWidths(%d, %d) = %v, want ErrShape", b.leaves, b.arity, err)
		}
	}
	if _, err := CacheLen(64, 8, 2); !errors.Is(err, ErrShape) {
		t.Errorf("CacheLen discarding every row: %v", err)
	}
}

func TestShapeForSectorSize(t *testing.T) {
	cases := []struct {
		size  uint64
		shape Shape
		trees int
	}{
		{2 << 10, ShapeBase, 1}, {8 << 20, ShapeBase, 1}, {512 << 20, ShapeBase, 1},
		{32 << 30, ShapeSub8, 8}, {64 << 30, ShapeTop2, 16},
	}
	for _, c := range cases {
		s, err := ShapeForSectorSize(c.size)
		if err != nil || s != c.shape || s.BaseTrees() != c.trees {
			t.Errorf("%d: %v %v (%d trees)", c.size, s, err, s.BaseTrees())
		}
	}
	if _, err := ShapeForSectorSize(4 << 10); !errors.Is(err, ErrShape) {
		t.Errorf("4 KiB: %v", err)
	}
	for _, s := range []Shape{{Base: 3}, {Base: 8, Top: 2}, {Base: 8, Sub: 6}, {Base: 32}} {
		if err := s.Validate(); !errors.Is(err, ErrShape) {
			t.Errorf("%v: Validate = %v", s, err)
		}
	}
}

func TestFileNames(t *testing.T) {
	if got := DataPath("/c", IDTreeRLast); got != "/c/sc-02-data-tree-r-last.dat" {
		t.Error(got)
	}
	if got := BaseTreePath("/c", IDTreeC, 0, 1); got != "/c/sc-02-data-tree-c.dat" {
		t.Error(got)
	}
	if got := BaseTreePath("/c", IDTreeC, 7, 8); got != "/c/sc-02-data-tree-c-7.dat" {
		t.Error(got)
	}
}

// TestLevelCacheWrongReplica: proving from a replica that does not match the
// cached rows must fail loudly, not yield a proof.
func TestLevelCacheWrongReplica(t *testing.T) {
	ctx := context.Background()
	leaves := randLeaves(5, 512)
	cfg := Config{Hasher: Poseidon, Shape: ShapeBase, Leaves: 512, Dir: t.TempDir(), ID: IDTreeRLast, LevelCache: true, RowsToDiscard: 1}
	if _, err := Build(ctx, cfg, SliceSource(leaves), nil); err != nil {
		t.Fatal(err)
	}
	bad := append([]Node(nil), leaves...)
	bad[100][0] ^= 1
	tree, err := Open(cfg, SliceSource(bad))
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	if _, err := tree.Proof(101); !errors.Is(err, ErrStore) {
		t.Fatalf("proof over altered replica: %v, want ErrStore", err)
	}
	if _, err := tree.Proof(300); err != nil {
		t.Fatalf("untouched segment: %v", err)
	}
	if _, err := tree.Proof(512); err == nil {
		t.Fatal("out-of-range leaf accepted")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	leaves := randLeaves(6, 64)
	dir := t.TempDir()
	cfg := Config{Hasher: Poseidon, Shape: ShapeBase, Leaves: 64, Dir: dir, ID: IDTreeC}
	if _, err := Build(ctx, cfg, SliceSource(leaves), nil); err != nil {
		t.Fatal(err)
	}
	// Same file opened as a level-cache tree: wrong size.
	lc := cfg
	lc.LevelCache, lc.RowsToDiscard = true, 1
	if _, err := Open(lc, SliceSource(leaves)); !errors.Is(err, ErrStore) {
		t.Errorf("level-cache open of a full file: %v", err)
	}
	if _, err := Open(lc, nil); err == nil {
		t.Error("level-cache open without leaf source accepted")
	}
	missing := cfg
	missing.ID = "nope"
	if _, err := Open(missing, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	// A non-canonical leaf (≥ p) cannot enter a Poseidon tree.
	leaves := randLeaves(8, 64)
	for i := range leaves[17] {
		leaves[17][i] = 0xff
	}
	cfg := Config{Hasher: Poseidon, Shape: ShapeBase, Leaves: 64, Dir: t.TempDir(), ID: IDTreeC}
	if _, err := Build(ctx, cfg, SliceSource(leaves), nil); !errors.Is(err, poseidon.ErrNonCanonical) {
		t.Errorf("non-canonical leaf: %v", err)
	}
	if _, err := os.Stat(DataPath(cfg.Dir, IDTreeC)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed build left a file behind: %v", err)
	}
	// Short leaf source.
	if _, err := Build(ctx, cfg, SliceSource(leaves[:32]), nil); err == nil {
		t.Error("short source accepted")
	}
	// Leaves not splitting into the base trees.
	bad := Config{Hasher: Poseidon, Shape: ShapeSub8, Leaves: 64 * 7, Dir: t.TempDir(), ID: IDTreeC}
	if _, err := Build(ctx, bad, SliceSource(randLeaves(1, 64*7)), nil); !errors.Is(err, ErrShape) {
		t.Errorf("bad split: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Build(cctx, cfg, SliceSource(randLeaves(2, 64)), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled build: %v", err)
	}
}

// BenchmarkBuildPoseidon8 builds a single oct tree of 8^5 leaves (4681
// Poseidon-8 hashes) with the file builder on all cores; hashes/s is the
// figure to compare with a 32 GiB TreeC/TreeR (2^30·8/7 ≈ 1.23e9 hashes).
func BenchmarkBuildPoseidon8(b *testing.B) {
	benchBuild(b, Poseidon, ShapeBase, 1<<15, false)
}

// BenchmarkBuildPoseidon8LevelCache is the tree-r-last variant.
func BenchmarkBuildPoseidon8LevelCache(b *testing.B) {
	benchBuild(b, Poseidon, ShapeBase, 1<<15, true)
}

// BenchmarkBuildTreeC2Layers is TreeC of a 2-layer sector: a Poseidon-2
// column hash per leaf plus the Poseidon-8 tree (hashes/s counts both).
func BenchmarkBuildTreeC2Layers(b *testing.B) {
	const leaves = 1 << 15
	l1 := nodesAsBytes(randLeaves(2, leaves))
	l2 := nodesAsBytes(randLeaves(3, leaves))
	src, err := ColumnSource([]io.ReaderAt{readerOf(l1), readerOf(l2)})
	if err != nil {
		b.Fatal(err)
	}
	benchBuildSrc(b, Poseidon, ShapeBase, leaves, false, src, leaves)
}

// BenchmarkBuildSHA256 builds a binary TreeD over 2^18 leaves (8 MiB).
func BenchmarkBuildSHA256(b *testing.B) {
	benchBuild(b, SHA256, ShapeBinary, 1<<18, false)
}

func benchBuild(b *testing.B, h Hasher, s Shape, leaves int, lc bool) {
	benchBuildSrc(b, h, s, leaves, lc, SliceSource(randLeaves(1, leaves)), 0)
}

// benchBuildSrc reports wall-clock hashes/s and hashes per CPU-second (the
// machine is shared, so the latter is the steadier figure; with two idle
// cores wall ≈ 2× per-CPU).
func benchBuildSrc(b *testing.B, h Hasher, s Shape, leaves int, lc bool, src LeafSource, extraHashes uint64) {
	w, _ := LevelWidths(uint64(leaves), s.Base)
	hashes := extraHashes
	for _, x := range w[1:] {
		hashes += x
	}
	cfg := Config{Hasher: h, Shape: s, Leaves: uint64(leaves), Dir: b.TempDir(), ID: "bench",
		LevelCache: lc, RowsToDiscard: DefaultRowsToDiscard(uint64(leaves), s.Base)}
	b.SetBytes(int64(leaves) * NodeSize)
	b.ReportAllocs()
	cpu0 := cpuNow()
	for b.Loop() {
		if _, err := Build(context.Background(), cfg, src, nil); err != nil {
			b.Fatal(err)
		}
	}
	total := float64(hashes) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "hashes/s")
	b.ReportMetric(total/(cpuNow()-cpu0).Seconds(), "hashes/cpu-s")
}
