package commp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sealant/sealant/proofs/fr32"
)

// longTests enables the large hashhash vectors: SEALANT_LONG_TESTS=1 runs
// payloads up to 1 GiB, SEALANT_LONG_TESTS=all everything up to MaxPayload
// (hours on a small machine).
var longTests = os.Getenv("SEALANT_LONG_TESTS")

// naiveCommP is an independent, deliberately simple reference: zero-pad
// the payload to 127·2^k, Fr32-pad it, and hash the full tree level by level
// with crypto/sha256 — no zero-subtree shortcut, no chunking, no workers.
func naiveCommP(payload []byte) ([32]byte, uint64) {
	raw := uint64(127)
	for raw < uint64(len(payload)) {
		raw *= 2
	}
	in := make([]byte, raw)
	copy(in, payload)
	level := make([]byte, raw/127*128)
	fr32.Pad(in, level)
	for len(level) > 32 {
		next := make([]byte, len(level)/2)
		for i := 0; i < len(level)/64; i++ {
			h := sha256.Sum256(level[64*i : 64*i+64])
			h[31] &= 0x3f
			copy(next[32*i:], h[:])
		}
		level = next
	}
	return [32]byte(level), raw / 127 * 128
}

// rand1337 returns the first n bytes of the go-fil-commp-hashhash test
// stream: math/rand.NewSource(1337), Uint32 values as 4 little-endian bytes.
func rand1337(n int64) io.Reader {
	return &lcgReader{r: mathrand.New(mathrand.NewSource(1337)), left: n}
}

type lcgReader struct {
	r    *mathrand.Rand
	left int64
	buf  [4]byte
	have int // unread bytes at the end of buf
}

func (l *lcgReader) Read(p []byte) (int, error) {
	if l.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n := 0
	for n < len(p) {
		if l.have == 0 {
			v := l.r.Uint32()
			l.buf = [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
			l.have = 4
		}
		c := copy(p[n:], l.buf[4-l.have:])
		l.have -= c
		n += c
	}
	l.left -= int64(n)
	return n, nil
}

// fillReader yields n copies of one byte.
func fillReader(b byte, n int64) io.Reader {
	return io.LimitReader(byteReader(b), n)
}

type byteReader byte

func (b byteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func mustHex32(t testing.TB, s string) [32]byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hex %q", s)
	}
	return [32]byte(b)
}

func mustPieceCID(t testing.TB, s string) [32]byte {
	t.Helper()
	c, err := ParsePieceCID(s)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return c
}

func TestVectorsSharedJSON(t *testing.T) {
	var f struct {
		Vectors []struct {
			Payload map[string]json.RawMessage
			CID     string
			Padded  uint64
		}
		ZeroPieces map[string]string `json:"zero_pieces"`
	}
	data, err := os.ReadFile("testdata/commp.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.Vectors {
		var payload []byte
		switch {
		case v.Payload["fill"] != nil:
			var fill string
			var size int
			json.Unmarshal(v.Payload["fill"], &fill)
			json.Unmarshal(v.Payload["size"], &size)
			b, _ := hex.DecodeString(fill)
			payload = bytes.Repeat(b, size)
		case v.Payload["rand1337"] != nil:
			var n int64
			json.Unmarshal(v.Payload["rand1337"], &n)
			payload, _ = io.ReadAll(rand1337(n))
		case v.Payload["pattern0123"] != nil:
			for b := range 4 {
				payload = append(payload, bytes.Repeat([]byte{byte(b)}, 127)...)
			}
		default:
			t.Fatalf("unknown payload %v", v.Payload)
		}
		t.Run(fmt.Sprintf("%s_%d", v.CID[len(v.CID)-6:], len(payload)), func(t *testing.T) {
			res, err := FromReader(context.Background(), bytes.NewReader(payload), 2)
			if err != nil {
				t.Fatal(err)
			}
			if got := PieceCID(res.Commitment).String(); got != v.CID {
				t.Errorf("cid %s, want %s", got, v.CID)
			}
			if uint64(res.PieceSize) != v.Padded || res.PayloadSize != uint64(len(payload)) {
				t.Errorf("sizes %d/%d, want %d/%d", res.PieceSize, res.PayloadSize, v.Padded, len(payload))
			}
			if naive, _ := naiveCommP(payload); naive != res.Commitment {
				t.Errorf("naive reference disagrees")
			}
		})
	}
	for name, want := range f.ZeroPieces {
		size, err := parseTestSize(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ZeroCommitment(fr32.PaddedPieceSize(size))
		if err != nil {
			t.Fatal(err)
		}
		var wantComm [32]byte
		if strings.HasPrefix(want, "baga") {
			wantComm = mustPieceCID(t, want)
			if PieceCID(got).String() != want {
				t.Errorf("zero %s: cid %s, want %s", name, PieceCID(got), want)
			}
		} else {
			wantComm = mustHex32(t, want)
		}
		if got != wantComm {
			t.Errorf("zero %s: %x, want %x", name, got, wantComm)
		}
	}
}

func parseTestSize(s string) (uint64, error) {
	for suf, m := range map[string]uint64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if strings.HasSuffix(s, suf) {
			n, err := strconv.ParseUint(strings.TrimSuffix(s, suf), 10, 64)
			return n * m, err
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

type hashhashCase struct {
	payload int64
	padded  uint64
	cid     string
}

func readHashhash(t *testing.T, name string) []hashhashCase {
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []hashhashCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ",")
		if len(parts) != 3 {
			t.Fatalf("bad line %q", sc.Text())
		}
		p, err1 := strconv.ParseInt(parts[0], 10, 64)
		s, err2 := strconv.ParseUint(parts[1], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		out = append(out, hashhashCase{p, s, parts[2]})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no vectors", name)
	}
	return out
}

// TestHashhashVectors replays the go-fil-commp-hashhash vectors (generated
// by lotus). Payloads up to 4 MiB (four 1 MiB chunks plus partial ones) run
// by default; see longTests for the larger ones.
func TestHashhashVectors(t *testing.T) {
	limit := int64(4 << 20)
	switch longTests {
	case "":
	case "all":
		limit = MaxPayload
	default:
		limit = 1 << 30
	}
	sources := []struct {
		file string
		gen  func(n int64) io.Reader
	}{
		{"hashhash_random.txt", rand1337},
		{"hashhash_zero.txt", func(n int64) io.Reader { return fillReader(0, n) }},
		{"hashhash_0xCC.txt", func(n int64) io.Reader { return fillReader(0xcc, n) }},
	}
	for _, src := range sources {
		for _, tc := range readHashhash(t, src.file) {
			if tc.payload > limit {
				continue
			}
			t.Run(fmt.Sprintf("%s/%d", src.file, tc.payload), func(t *testing.T) {
				t.Parallel()
				// Odd read sizes exercise chunk assembly across short reads.
				r := iotest.HalfReader(src.gen(tc.payload))
				res, err := FromReader(context.Background(), r, 2)
				if err != nil {
					t.Fatal(err)
				}
				if got := PieceCID(res.Commitment).String(); got != tc.cid || uint64(res.PieceSize) != tc.padded {
					t.Fatalf("got %s/%d, want %s/%d", got, res.PieceSize, tc.cid, tc.padded)
				}
			})
		}
	}
}

// TestAgainstNaive compares the chunked parallel pipeline with the naive
// reference around every boundary that matters: Fr32 blocks, powers of two
// and 1 MiB chunks, for several worker counts and via Calc.
func TestAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	sizes := []int{65, 100, 126, 127, 128, 254, 255, 1016, 1017, 4064, 4065,
		chunkRaw - 1, chunkRaw, chunkRaw + 1, 2*chunkRaw + 127, 3*chunkRaw - 5}
	for _, n := range sizes {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(rng.Uint32())
		}
		want, wantSize := naiveCommP(payload)
		for _, workers := range []int{1, 2, 3} {
			res, err := FromReader(context.Background(), bytes.NewReader(payload), workers)
			if err != nil {
				t.Fatalf("n=%d w=%d: %v", n, workers, err)
			}
			if res.Commitment != want || uint64(res.PieceSize) != wantSize || res.PayloadSize != uint64(n) {
				t.Fatalf("n=%d w=%d: got %x/%d, want %x/%d", n, workers, res.Commitment, res.PieceSize, want, wantSize)
			}
		}
		var c Calc
		for rest := payload; len(rest) > 0; {
			k := min(len(rest), 1+rng.IntN(70000))
			if _, err := c.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		got, size, err := c.Digest()
		if err != nil || got != want || size != wantSize {
			t.Fatalf("calc n=%d: %x/%d/%v", n, got, size, err)
		}
	}
}

// TestManyWorkers covers the small chunks used when many workers share the
// buffer budget.
func TestManyWorkers(t *testing.T) {
	if got := chunkSizeFor(66); got != 128<<10 {
		t.Fatalf("chunk for 66 buffers = %d, want 128 KiB", got)
	}
	if got := chunkSizeFor(maxWorkers + 2); got*2*(maxWorkers+2) > bufferBudget {
		t.Fatalf("max workers exceed the buffer budget with %d-byte chunks", got)
	}
	payload := make([]byte, 2*chunkRaw+300)
	for i := range payload {
		payload[i] = byte(i * 13)
	}
	want, wantSize := naiveCommP(payload)
	res, err := FromReader(context.Background(), bytes.NewReader(payload), 64)
	if err != nil || res.Commitment != want || uint64(res.PieceSize) != wantSize {
		t.Fatalf("64 workers: %x/%d/%v", res.Commitment, res.PieceSize, err)
	}
}

func TestPayloadLimits(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 1, 64} {
		_, err := FromReader(ctx, bytes.NewReader(make([]byte, n)), 1)
		if !errors.Is(err, ErrPayloadTooSmall) {
			t.Errorf("n=%d: got %v, want ErrPayloadTooSmall", n, err)
		}
	}
	if _, err := FromReader(ctx, bytes.NewReader(make([]byte, MinPayload)), 1); err != nil {
		t.Errorf("n=65: %v", err)
	}
}

func TestPayloadTooLarge(t *testing.T) {
	ctx := context.Background()
	// The limit is checked while reading, with the same code path as
	// MaxPayload; a small limit keeps the test fast.
	const limit = 2*chunkRaw + 10
	if _, err := fromReader(ctx, fillReader(0, limit), 2, limit); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if _, err := fromReader(ctx, fillReader(0, limit+1), 2, limit); !errors.Is(err, ErrPayloadTooLarge) {
		t.Fatalf("past the limit: got %v", err)
	}
	if MaxPayload != 34091302912 {
		t.Fatalf("MaxPayload = %d, want 32 GiB·127/128", uint64(MaxPayload))
	}
}

func TestReadErrorAndCancel(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(make([]byte, 3*chunkRaw)), iotest.ErrReader(boom))
	if _, err := FromReader(context.Background(), r, 2); !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := runtime.NumGoroutine()
	if _, err := FromReader(ctx, byteReader(1), 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	// Not a timing assertion: FromReader waits for its goroutines, so the
	// count cannot have grown (other tests in this package are not parallel
	// with this one).
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("goroutines leaked: %d -> %d", before, after)
	}
}

func TestCalcLifecycle(t *testing.T) {
	var c Calc
	if _, _, err := c.Digest(); !errors.Is(err, ErrPayloadTooSmall) {
		t.Fatalf("empty digest: %v", err)
	}
	c.Write(make([]byte, 64))
	if _, _, err := c.Digest(); !errors.Is(err, ErrPayloadTooSmall) {
		t.Fatalf("64-byte digest: %v", err)
	}
	c.Write([]byte{1})
	c.Reset()
	c.Reset()
	c.Write(bytes.Repeat([]byte{0xcc}, 127))
	got, size, err := c.Digest()
	if err != nil || size != 128 || PieceCID(got).String() != "baga6ea4seaqmfldjtozgne6adk7eve2vdxte7vzlivae7nzsbrawobo546zkijq" {
		t.Fatalf("reuse after reset: %s %d %v", PieceCID(got), size, err)
	}
}

// TestZeroCommitments checks the zero-piece table for every size from
// 128 B to 64 GiB against the published lotus table, and the small sizes
// also against a direct hash of zero payloads.
func TestZeroCommitments(t *testing.T) {
	var f struct {
		Zero map[string]string `json:"zero_commitments"`
	}
	data, err := os.ReadFile("testdata/zerocomm.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for size := uint64(128); size <= MaxPieceSize; size *= 2 {
		want, ok := f.Zero[strconv.FormatUint(size, 10)]
		if !ok {
			t.Fatalf("no vector for %d", size)
		}
		got, err := ZeroCommitment(fr32.PaddedPieceSize(size))
		if err != nil {
			t.Fatal(err)
		}
		if got != mustHex32(t, want) {
			t.Errorf("size %d: %x, want %s", size, got, want)
		}
		if size <= 4<<20 {
			naive, _ := naiveCommP(make([]byte, size/128*127))
			if naive != got {
				t.Errorf("size %d: direct hash %x differs", size, naive)
			}
		}
		checked++
	}
	if checked != 30 {
		t.Fatalf("checked %d sizes, want 30 (128 B … 64 GiB)", checked)
	}
	for _, bad := range []uint64{0, 32, 64, 100, 129, 3 << 20, 128 << 30} {
		if _, err := ZeroCommitment(fr32.PaddedPieceSize(bad)); !errors.Is(err, fr32.ErrInvalidPieceSize) {
			t.Errorf("size %d: got %v, want ErrInvalidPieceSize", bad, err)
		}
	}
}

func TestHashPair(t *testing.T) {
	// Z(64) = H(0,0) and Z(128) = H(Z64, Z64): the 128-byte zero piece.
	var z [32]byte
	z64 := HashPair(z, z)
	if got := HashPair(z64, z64); got != mustHex32(t, "3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333") {
		t.Fatalf("got %x", got)
	}
	// The truncation must clear exactly the two top bits of byte 31.
	a := [32]byte{1}
	full := sha256.Sum256(append(a[:], z[:]...))
	got := HashPair(a, z)
	if got[31] != full[31]&0x3f || !bytes.Equal(got[:31], full[:31]) {
		t.Fatalf("truncation mismatch: %x vs %x", got, full)
	}
}

func BenchmarkCommP(b *testing.B) {
	const size = 64 << 20
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	for _, cores := range []int{1, 2} {
		b.Run(fmt.Sprintf("cores=%d", cores), func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cores))
			b.SetBytes(size)
			b.ReportAllocs()
			cpu0 := processCPUSeconds()
			for b.Loop() {
				if _, err := FromReader(context.Background(), bytes.NewReader(payload), cores); err != nil {
					b.Fatal(err)
				}
			}
			if cpu := processCPUSeconds() - cpu0; cpu > 0 {
				// Throughput per CPU-second: robust to other load on the
				// machine, and its drop from 1 to N cores is the parallel
				// overhead.
				b.ReportMetric(float64(size)*float64(b.N)/cpu/1e6, "MB/cpu-s")
			}
		})
	}
}

// BenchmarkHashPair measures one node hash (two SHA-256 compressions).
func BenchmarkHashPair(b *testing.B) {
	var x, y [32]byte
	b.SetBytes(64)
	b.ReportAllocs()
	cpu0 := processCPUSeconds()
	for b.Loop() {
		x = HashPair(x, y)
	}
	b.ReportMetric((processCPUSeconds()-cpu0)*1e9/float64(b.N), "cpu-ns/op")
}

// BenchmarkChunkRoot measures the single-core hashing of one 1 MiB chunk.
func BenchmarkChunkRoot(b *testing.B) {
	buf := make([]byte, chunkPadded)
	nh := newNodeHasher()
	b.SetBytes(chunkRaw)
	b.ReportAllocs()
	cpu0 := processCPUSeconds()
	for b.Loop() {
		nh.root(buf)
	}
	b.ReportMetric(float64(chunkRaw)*float64(b.N)/(processCPUSeconds()-cpu0)/1e6, "MB/cpu-s")
}
