package rand

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"golang.org/x/crypto/blake2b"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/internal/chaintest"
)

type randomnessVector struct {
	Randomness struct {
		VRFDigest string `json:"vrf_digest"`
		Entropy   string `json:"entropy"`
		Out       string `json:"out"`
	} `json:"randomness"`
}

// TestVector checks both derivation steps against the spec vector
// (spec/chain.md §5.2): VRFProof = bytes 0x00..0x5f, tag 5, epoch 1000,
// entropy CBOR(f01000).
func TestVector(t *testing.T) {
	v := chaintest.LoadJSON[randomnessVector](t, "testdata/randomness.json")
	vrf := make([]byte, 96)
	for i := range vrf {
		vrf[i] = byte(i)
	}
	d := DigestOf(vrf)
	if got := d.String(); got != v.Randomness.VRFDigest {
		t.Fatalf("digest = %s, want %s", got, v.Randomness.VRFDigest)
	}
	entropy, err := SealEntropyForID(1000)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(entropy, chaintest.MustHex(t, v.Randomness.Entropy)) {
		t.Fatalf("entropy = %x, want %s", entropy, v.Randomness.Entropy)
	}
	if got := DrawRandomnessFromDigest(d, TagSealRandomness, 1000, entropy).String(); got != v.Randomness.Out {
		t.Errorf("DrawRandomnessFromDigest = %s, want %s", got, v.Randomness.Out)
	}
	if got := DrawRandomness(vrf, TagSealRandomness, 1000, entropy).String(); got != v.Randomness.Out {
		t.Errorf("DrawRandomness = %s, want %s", got, v.Randomness.Out)
	}
}

// TestLayout recomputes the preimage by hand so a change in field order,
// width or endianness (including negative tags and epochs, which Lotus
// writes as two's complement int64) is caught independently of the vector.
func TestLayout(t *testing.T) {
	var d Digest
	for i := range d {
		d[i] = byte(0xa0 + i)
	}
	cases := []struct {
		name    string
		tag     DomainSeparationTag
		epoch   int64
		entropy []byte
	}{
		{"seal", TagSealRandomness, 1000, []byte{0x43, 0x00, 0xe8, 0x07}},
		{"seed no entropy", TagInteractiveSealChallengeSeed, 0, nil},
		{"negative epoch", TagTicketProduction, -1, []byte{1}},
		{"large epoch", TagWindowedPoStChallengeSeed, 1 << 40, bytes.Repeat([]byte{7}, 100)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pre := binary.BigEndian.AppendUint64(nil, uint64(tc.tag))
			pre = append(pre, d[:]...)
			pre = binary.BigEndian.AppendUint64(pre, uint64(tc.epoch))
			pre = append(pre, tc.entropy...)
			want := blake2b.Sum256(pre)
			if got := DrawRandomnessFromDigest(d, tc.tag, tc.epoch, tc.entropy); got != want {
				t.Fatalf("got %x, want %x", got, want)
			}
		})
	}
	// Every input must matter.
	base := DrawRandomnessFromDigest(d, 5, 10, []byte{1})
	if DrawRandomnessFromDigest(d, 6, 10, []byte{1}) == base ||
		DrawRandomnessFromDigest(d, 5, 11, []byte{1}) == base ||
		DrawRandomnessFromDigest(d, 5, 10, []byte{2}) == base ||
		DrawRandomnessFromDigest(Digest{}, 5, 10, []byte{1}) == base {
		t.Fatal("an input did not change the output")
	}
}

func TestSealEntropyForID(t *testing.T) {
	cases := []struct {
		id   uint64
		want string
	}{
		{0, "420000"},
		{1000, "4300e807"},
		{123456, "4400c0c407"}, // spec §5.3: f0123456
		{1<<63 - 1, "4a00ffffffffffffffff7f"},
	}
	for _, tc := range cases {
		got, err := SealEntropyForID(tc.id)
		if err != nil {
			t.Fatalf("id %d: %v", tc.id, err)
		}
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("id %d: got %x, want %s", tc.id, got, tc.want)
		}
	}
	if _, err := SealEntropyForID(1 << 63); !errors.Is(err, ErrBadActorID) {
		t.Errorf("id 2^63: err = %v, want ErrBadActorID", err)
	}
}

func TestParseDigest(t *testing.T) {
	good := "6528ea458efd23391e968e0dd3a40202ac94e3854d1a4642cbbe0d13a15cb849"
	d, err := ParseDigest(good)
	if err != nil || d.String() != good {
		t.Fatalf("ParseDigest(good) = %s, %v", d, err)
	}
	for _, bad := range []string{"", "00", good + "00", "zz" + good[2:], good[:63]} {
		if _, err := ParseDigest(bad); err == nil {
			t.Errorf("ParseDigest(%q) succeeded", bad)
		}
	}
	if _, err := ParseDigest("00"); !errors.Is(err, ErrBadLength) {
		t.Errorf("short digest: err = %v, want ErrBadLength", err)
	}
	var r Randomness
	if err := r.UnmarshalText([]byte(good)); err != nil || r.String() != good {
		t.Fatalf("UnmarshalText: %s, %v", r, err)
	}
	txt, _ := r.MarshalText()
	if string(txt) != good {
		t.Fatalf("MarshalText = %s", txt)
	}
}

func TestTagString(t *testing.T) {
	if TagSealRandomness.String() != "SealRandomness" || !TagSealRandomness.Known() {
		t.Error("tag 5")
	}
	if DomainSeparationTag(99).String() != "DomainSeparationTag(99)" || DomainSeparationTag(99).Known() {
		t.Error("tag 99")
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add("6528ea458efd23391e968e0dd3a40202ac94e3854d1a4642cbbe0d13a15cb849")
	f.Add("zz")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			return
		}
		d2, err := ParseDigest(d.String())
		if err != nil || d2 != d {
			t.Fatalf("round trip of %q failed", s)
		}
	})
}

func BenchmarkDrawRandomnessFromDigest(b *testing.B) {
	var d Digest
	entropy := []byte{0x43, 0x00, 0xe8, 0x07}
	b.ReportAllocs()
	b.SetBytes(int64(8 + DigestSize + 8 + len(entropy)))
	for i := 0; b.Loop(); i++ {
		d = Digest(DrawRandomnessFromDigest(d, TagSealRandomness, int64(i), entropy))
	}
}

func TestSealEntropy(t *testing.T) {
	ent, err := SealEntropy(address.NewIDAddress(1000))
	if err != nil || hex.EncodeToString(ent) != "4300e807" {
		t.Fatalf("SealEntropy(f01000) = %x, %v", ent, err)
	}
	robust, err := address.Parse("t24vg6ut43yw2h2jqydgbg2xq7x6f4kub3bg6as6i")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SealEntropy(robust); !errors.Is(err, ErrNotIDAddress) {
		t.Fatalf("robust address: err = %v, want ErrNotIDAddress", err)
	}
	if _, err := SealEntropy(address.Undef); !errors.Is(err, ErrNotIDAddress) {
		t.Fatalf("undef address: err = %v", err)
	}
}
