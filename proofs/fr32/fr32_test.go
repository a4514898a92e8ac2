package fr32

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// refPad is a deliberately naive bit-by-bit transcription of the layout in
// shared/spec/porep.md §1: input bit i (LSB-first) goes to element i/254,
// bit i%254. The fast word-based Pad must agree with it exactly.
func refPad(in []byte) []byte {
	blocks := (len(in) + 126) / 127
	src := make([]byte, blocks*127)
	copy(src, in)
	out := make([]byte, blocks*128)
	for blk := 0; blk < blocks; blk++ {
		for i := 0; i < 1016; i++ {
			bit := src[blk*127+i/8] >> (i % 8) & 1
			e, j := i/254, i%254
			out[blk*128+e*32+j/8] |= bit << (j % 8)
		}
	}
	return out
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestPadMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	inputs := map[string][]byte{
		"zero":  make([]byte, 127),
		"ones":  bytes.Repeat([]byte{0xff}, 127),
		"0xcc":  bytes.Repeat([]byte{0xcc}, 254),
		"rand1": randBytes(r, 127),
		"rand8": randBytes(r, 127*8),
	}
	// A single set bit at every position catches any shift/mask slip.
	for i := 0; i < 1016; i++ {
		b := make([]byte, 127)
		b[i/8] = 1 << (i % 8)
		inputs[fmt.Sprintf("bit%d", i)] = b
	}
	for name, in := range inputs {
		got := make([]byte, len(in)/127*128)
		Pad(in, got)
		if want := refPad(in); !bytes.Equal(got, want) {
			t.Fatalf("%s: Pad mismatch\n got %x\nwant %x", name, got, want)
		}
		back := make([]byte, len(in))
		Unpad(got, back)
		if !bytes.Equal(back, in) {
			t.Fatalf("%s: Unpad(Pad(x)) != x", name)
		}
	}
}

func TestPadAllOnes(t *testing.T) {
	// 127 bytes of 0xff: every element is all ones except the two top bits.
	out := make([]byte, 128)
	Pad(bytes.Repeat([]byte{0xff}, 127), out)
	want := bytes.Repeat(append(bytes.Repeat([]byte{0xff}, 31), 0x3f), 4)
	if !bytes.Equal(out, want) {
		t.Fatalf("got %x", out)
	}
}

func TestUnpadIgnoresTopBits(t *testing.T) {
	in := make([]byte, 128)
	for k := 0; k < 4; k++ {
		in[32*k+31] = 0xc0 // only the two forbidden bits set
	}
	out := make([]byte, 127)
	Unpad(in, out)
	if !bytes.Equal(out, make([]byte, 127)) {
		t.Fatalf("top bits leaked into output: %x", out)
	}
}

func TestPadPanicsOnBadLengths(t *testing.T) {
	cases := []struct {
		name    string
		f       func(in, out []byte)
		in, out int
	}{
		{"pad short in", Pad, 126, 128},
		{"pad short out", Pad, 127, 127},
		{"unpad short in", Unpad, 127, 127},
		{"unpad long out", Unpad, 128, 128},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tc.f(make([]byte, tc.in), make([]byte, tc.out))
		})
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		unpadded UnpaddedPieceSize
		padded   PaddedPieceSize
	}{
		{127, 128},
		{254, 256},
		{2032, 2048},
		{8323072, 8 << 20},
		{532676608, 512 << 20},
		{34091302912, 32 << 30},
		{68182605824, 64 << 30},
	}
	for _, tc := range tests {
		if err := tc.unpadded.Validate(); err != nil {
			t.Errorf("%d: %v", tc.unpadded, err)
		}
		if err := tc.padded.Validate(); err != nil {
			t.Errorf("%d: %v", tc.padded, err)
		}
		if got := tc.unpadded.Padded(); got != tc.padded {
			t.Errorf("%d.Padded() = %d, want %d", tc.unpadded, got, tc.padded)
		}
		if got := tc.padded.Unpadded(); got != tc.unpadded {
			t.Errorf("%d.Unpadded() = %d, want %d", tc.padded, got, tc.unpadded)
		}
	}
	for _, bad := range []UnpaddedPieceSize{0, 1, 126, 128, 200, 255, 381, 127*3 + 1} {
		if err := bad.Validate(); !errors.Is(err, ErrInvalidPieceSize) {
			t.Errorf("unpadded %d: got %v, want ErrInvalidPieceSize", bad, err)
		}
	}
	for _, bad := range []PaddedPieceSize{0, 1, 32, 64, 127, 129, 384, 1<<40 + 1} {
		if err := bad.Validate(); !errors.Is(err, ErrInvalidPieceSize) {
			t.Errorf("padded %d: got %v, want ErrInvalidPieceSize", bad, err)
		}
	}
}

// wrap lists reader shapes that stress the block gathering of the adapters.
var wrap = map[string]func(io.Reader) io.Reader{
	"plain":   func(r io.Reader) io.Reader { return r },
	"onebyte": iotest.OneByteReader,
	"half":    iotest.HalfReader,
	"dataerr": iotest.DataErrReader,
}

func TestPadReaderMatchesPad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 126, 127, 128, 254, 1000, 127 * streamBlocks, 127*streamBlocks + 5, 3*127*streamBlocks - 1} {
		in := randBytes(r, n)
		want := refPad(in)
		for name, w := range wrap {
			got, err := io.ReadAll(NewPadReader(w(bytes.NewReader(in))))
			if err != nil {
				t.Fatalf("n=%d %s: %v", n, name, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("n=%d %s: pad reader output differs", n, name)
			}
			back, err := io.ReadAll(NewUnpadReader(w(bytes.NewReader(got))))
			if err != nil {
				t.Fatalf("n=%d %s: unpad: %v", n, name, err)
			}
			wantBack := append(append([]byte(nil), in...), make([]byte, len(back)-n)...)
			if len(back) != (n+126)/127*127 || !bytes.Equal(back, wantBack) {
				t.Fatalf("n=%d %s: unpad(pad(x)) != x‖zeros", n, name)
			}
		}
		var buf bytes.Buffer
		pw := NewPadWriter(&buf)
		// Write in uneven pieces to exercise the carry logic.
		for rest := in; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(300))
			if _, err := pw.Write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("n=%d: pad writer output differs", n)
		}
	}
}

func TestIotestReaders(t *testing.T) {
	in := randBytes(rand.New(rand.NewPCG(5, 6)), 5000)
	if err := iotest.TestReader(NewPadReader(bytes.NewReader(in)), refPad(in)); err != nil {
		t.Fatal(err)
	}
	padded := refPad(in)
	want := make([]byte, len(padded)/128*127)
	Unpad(padded, want)
	if err := iotest.TestReader(NewUnpadReader(bytes.NewReader(padded)), want); err != nil {
		t.Fatal(err)
	}
}

func TestUnpadReaderTruncated(t *testing.T) {
	got, err := io.ReadAll(NewUnpadReader(bytes.NewReader(make([]byte, 128*3+5))))
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("got err %v, want ErrTruncated", err)
	}
	if len(got) != 127*3 {
		t.Fatalf("got %d bytes before the error, want %d", len(got), 127*3)
	}
}

func TestReaderPropagatesErrors(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(bytes.NewReader(make([]byte, 300)), iotest.ErrReader(boom))
	got, err := io.ReadAll(NewPadReader(r))
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if len(got) != 256 { // two whole blocks before the failure
		t.Fatalf("got %d bytes, want 256", len(got))
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestPadWriterErrors(t *testing.T) {
	pw := NewPadWriter(&failWriter{after: 1})
	big := make([]byte, 3*127*streamBlocks)
	if _, err := pw.Write(big); err == nil {
		t.Fatal("want write error")
	}
	if _, err := pw.Write([]byte{1}); err == nil {
		t.Fatal("error must be sticky")
	}
	if err := pw.Close(); err == nil {
		t.Fatal("close must report the sticky error")
	}
	pw = NewPadWriter(io.Discard)
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal("second close:", err)
	}
	if _, err := pw.Write([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

// FuzzPadReader checks the round-trip properties of the streaming adapters
// on arbitrary input and read sizes: the padded stream has the right length,
// every element is a field element (top two bits clear), it equals the block
// transform, the pad writer agrees, and unpadding restores the input
// followed only by zero fill.
func FuzzPadReader(f *testing.F) {
	f.Add([]byte{}, uint8(1))
	f.Add(bytes.Repeat([]byte{0xff}, 127), uint8(7))
	f.Add(bytes.Repeat([]byte{0xcc}, 300), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		var src io.Reader = bytes.NewReader(in)
		if chunk > 0 {
			src = &chunkReader{r: src, n: int(chunk)}
		}
		padded, err := io.ReadAll(NewPadReader(src))
		if err != nil {
			t.Fatal(err)
		}
		blocks := (len(in) + 126) / 127
		if len(padded) != blocks*128 {
			t.Fatalf("padded length %d for %d input bytes", len(padded), len(in))
		}
		for i := 31; i < len(padded); i += 32 {
			if padded[i]&0xc0 != 0 {
				t.Fatalf("element %d has top bits set", i/32)
			}
		}
		full := make([]byte, blocks*127)
		copy(full, in)
		direct := make([]byte, len(padded))
		Pad(full, direct)
		if !bytes.Equal(direct, padded) {
			t.Fatal("reader and Pad disagree")
		}
		var wbuf bytes.Buffer
		pw := NewPadWriter(&wbuf)
		if _, err := pw.Write(in); err != nil {
			t.Fatal(err)
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(wbuf.Bytes(), padded) {
			t.Fatal("writer and reader disagree")
		}
		back, err := io.ReadAll(NewUnpadReader(&chunkReader{r: bytes.NewReader(padded), n: int(chunk) + 1}))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, full) {
			t.Fatal("unpad(pad(x)) != x‖zeros")
		}
	})
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

func BenchmarkFr32Pad(b *testing.B) {
	in := randBytes(rand.New(rand.NewPCG(7, 8)), 127*8192) // 1 MiB padded
	out := make([]byte, 128*8192)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	cpu0 := processCPUSeconds()
	for b.Loop() {
		Pad(in, out)
	}
	if cpu := processCPUSeconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(len(in))*float64(b.N)/cpu/1e6, "MB/cpu-s")
	}
}

func BenchmarkFr32Unpad(b *testing.B) {
	in := make([]byte, 128*8192)
	out := make([]byte, 127*8192)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		Unpad(in, out)
	}
}

func BenchmarkPadReader(b *testing.B) {
	in := make([]byte, 127*8192)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewPadReader(bytes.NewReader(in))
		for {
			if _, err := r.Read(buf); err != nil {
				break
			}
		}
	}
}
