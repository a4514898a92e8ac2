package commp

import (
	"encoding/binary"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
)

func TestCIDKnownValues(t *testing.T) {
	// shared/spec/porep.md §2.2 and §11.1.
	unsealed := mustHex32(t, "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833")
	const unsealedCID = "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"
	sealed := mustHex32(t, "b70cfe76f30bdc2abb6b495b6c999f692061800dbc8ac916c66cb5ec3c6f6528")
	const sealedCID = "bagboea4b5abcbnym7z3pgc64fk5wwsk3nsmz62jamgaa3pekzelmm3fv5q6g6zji"

	if got := PieceCID(unsealed).String(); got != unsealedCID {
		t.Errorf("PieceCID = %s", got)
	}
	if got := SealedCID(sealed).String(); got != sealedCID {
		t.Errorf("SealedCID = %s", got)
	}
	if got, err := ParsePieceCID(unsealedCID); err != nil || got != unsealed {
		t.Errorf("ParsePieceCID = %x, %v", got, err)
	}
	if got, err := ParseSealedCID(sealedCID); err != nil || got != sealed {
		t.Errorf("ParseSealedCID = %x, %v", got, err)
	}
	c, _ := cid.Decode(sealedCID)
	if got, err := CommFromSealedCID(c); err != nil || got != sealed {
		t.Errorf("CommFromSealedCID = %x, %v", got, err)
	}
}

// rawCID builds a CIDv1 with arbitrary codec, multihash code and digest.
func rawCID(codec, mh uint64, digest []byte) cid.Cid {
	b := binary.AppendUvarint(nil, mh)
	b = binary.AppendUvarint(b, uint64(len(digest)))
	return cid.NewCidV1(codec, append(b, digest...))
}

func TestCIDRejects(t *testing.T) {
	good := make([]byte, 32)
	topBits := make([]byte, 32)
	topBits[31] = 0x80
	tests := []struct {
		name  string
		c     cid.Cid
		want  error
		piece bool // parse as unsealed (else sealed)
	}{
		{"undefined", cid.Undef, ErrBadCID, true},
		{"sealed as piece", rawCID(CodecSealed, HashSealed, good), ErrWrongCodec, true},
		{"piece as sealed", rawCID(CodecUnsealed, HashUnsealed, good), ErrWrongCodec, false},
		{"dag-pb", rawCID(cid.DagProtobuf, 0x12, good), ErrWrongCodec, true},
		{"raw codec", rawCID(cid.Raw, HashUnsealed, good), ErrWrongCodec, true},
		{"unsealed with sha256", rawCID(CodecUnsealed, 0x12, good), ErrWrongHash, true},
		{"unsealed with poseidon", rawCID(CodecUnsealed, HashSealed, good), ErrWrongHash, true},
		{"sealed with trunc254", rawCID(CodecSealed, HashUnsealed, good), ErrWrongHash, false},
		{"short digest", rawCID(CodecUnsealed, HashUnsealed, good[:31]), ErrBadCommitment, true},
		{"long digest", rawCID(CodecUnsealed, HashUnsealed, append(good, 0)), ErrBadCommitment, true},
		{"top bits set", rawCID(CodecUnsealed, HashUnsealed, topBits), ErrBadCommitment, true},
		{"sealed = modulus", rawCID(CodecSealed, HashSealed, blsModulusLE[:]), ErrBadCommitment, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.piece {
				_, err = CommFromPieceCID(tc.c)
			} else {
				_, err = CommFromSealedCID(tc.c)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	for _, s := range []string{"", "hello", "baga6ea4seaq", "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
		"bafy2bzacec3dyxgqfbjekvnbin6uhcel7adis576346bi3tahp64bhijeiymy"} {
		if _, err := ParsePieceCID(s); err == nil {
			t.Errorf("%q: accepted", s)
		}
	}
}

func TestModulusConstant(t *testing.T) {
	r, _ := new(big.Int).SetString("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16)
	be := r.FillBytes(make([]byte, 32))
	for i := range 32 {
		if be[31-i] != blsModulusLE[i] {
			t.Fatalf("byte %d", i)
		}
	}
	below := blsModulusLE
	below[0]-- // r - 1
	if !lessThanModulus(&below) || lessThanModulus(&blsModulusLE) {
		t.Fatal("lessThanModulus wrong at the boundary")
	}
}

// FuzzParsePieceCID feeds arbitrary strings to the parser: it must never
// panic, and whatever it accepts must be a well-formed unsealed commitment
// that survives a canonical round trip.
func FuzzParsePieceCID(f *testing.F) {
	f.Add("baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy")
	f.Add("bagboea4b5abcbnym7z3pgc64fk5wwsk3nsmz62jamgaa3pekzelmm3fv5q6g6zji")
	f.Add("bafy2bzacec3dyxgqfbjekvnbin6uhcel7adis576346bi3tahp64bhijeiymy")
	f.Add("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		comm, err := ParsePieceCID(s)
		if err != nil {
			if !errors.Is(err, ErrBadCID) && !errors.Is(err, ErrWrongCodec) &&
				!errors.Is(err, ErrWrongHash) && !errors.Is(err, ErrBadCommitment) {
				t.Fatalf("error %v has no sentinel", err)
			}
			return
		}
		if comm[31]&0xc0 != 0 {
			t.Fatal("accepted a commitment with top bits set")
		}
		canon := PieceCID(comm).String()
		if !strings.HasPrefix(canon, "baga6ea4seaq") {
			t.Fatalf("canonical form %s", canon)
		}
		back, err := ParsePieceCID(canon)
		if err != nil || back != comm {
			t.Fatalf("round trip: %x %v", back, err)
		}
		if _, err := ParseSealedCID(s); err == nil {
			t.Fatal("a string parsed as both unsealed and sealed")
		}
	})
}
