package sigs

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/ipfs/go-cid"
	"golang.org/x/crypto/blake2b"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/internal/chaintest"
	"github.com/sealant/sealant/chain/types"
)

// TestLotusCLIVectors reproduces `lotus wallet export` and `lotus wallet
// sign` output for one secp256k1 and one BLS key.
func TestLotusCLIVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.LotusCLI) != 2 {
		t.Fatalf("want 2 lotus_cli vectors, got %d", len(v.LotusCLI))
	}
	for _, c := range v.LotusCLI {
		t.Run(c.Type, func(t *testing.T) {
			ki, err := ParseKeyInfo([]byte(c.HexLotus))
			if err != nil {
				t.Fatal(err)
			}
			if string(ki.Type) != c.Type {
				t.Fatalf("type = %q, want %q", ki.Type, c.Type)
			}
			if got := ki.HexLotus(); got != c.HexLotus {
				t.Errorf("HexLotus round trip:\n got %s\nwant %s", got, c.HexLotus)
			}
			addr, err := ki.Address()
			if err != nil {
				t.Fatal(err)
			}
			if got := address.Format(addr, address.Mainnet); got != c.Address {
				t.Errorf("address = %s, want %s", got, c.Address)
			}
			kind, err := ki.SigType()
			if err != nil {
				t.Fatal(err)
			}
			msg := chaintest.MustHex(t, c.MessageHex)
			want := chaintest.MustHex(t, c.SignatureHex) // sigType || data, as lotus prints it
			sig, err := Sign(kind, ki.PrivateKey, msg)
			if err != nil {
				t.Fatal(err)
			}
			if want[0] != byte(sig.Type) || !bytes.Equal(sig.Data, want[1:]) {
				t.Errorf("signature:\n got %02x%x\nwant %x", byte(sig.Type), sig.Data, want)
			}
			if err := Verify(sig, mustAddr(t, c.Address), msg); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if err := Verify(sig, mustAddr(t, c.Address), []byte("DUKEZ")); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("Verify(other message) = %v, want ErrInvalidSignature", err)
			}
		})
	}
}

func TestLotusBLSVerifyVectors(t *testing.T) {
	v := loadVectors(t).LotusBLSTest
	addr := mustAddr(t, v.Address)
	msg := chaintest.MustHex(t, v.MessageHex)
	sig := types.Signature{Type: types.SigTypeBLS, Data: chaintest.MustHex(t, v.Valid)}
	if err := Verify(sig, addr, msg); err != nil {
		t.Fatalf("valid signature: %v", err)
	}
	for i, bad := range v.Invalid {
		sig := types.Signature{Type: types.SigTypeBLS, Data: chaintest.MustHex(t, bad)}
		if err := Verify(sig, addr, msg); !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("invalid[%d]: err = %v, want ErrInvalidSignature", i, err)
		}
	}
}

func TestSerializationVectors(t *testing.T) {
	for i, c := range loadVectors(t).SerializationVectors {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			cidBytes := chaintest.MustHex(t, c.CIDHex)
			parsed, err := cid.Decode(c.CID)
			if err != nil || !bytes.Equal(parsed.Bytes(), cidBytes) {
				t.Fatalf("cid %s does not match its hex (%v)", c.CID, err)
			}
			priv := unb64(t, c.PrivateKeyB64)
			addr, err := AddressOf(types.SigTypeBLS, priv)
			if err != nil {
				t.Fatal(err)
			}
			from := mustAddr(t, c.From)
			if addr != from {
				t.Fatalf("address = %s, want %s", addr, from)
			}
			// The recorded signatures predate mainnet (the messages still
			// carry GasPrice) and were made with the pre-IETF hash-to-curve,
			// so they must NOT verify under the mainnet ciphersuite; what
			// this vector pins is the little-endian key -> f3 derivation.
			old := types.Signature{Type: types.SigTypeBLS, Data: unb64(t, c.SignatureB64)}
			if err := Verify(old, from, cidBytes); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("pre-mainnet signature: err = %v, want ErrInvalidSignature", err)
			}
			sig, err := Sign(types.SigTypeBLS, priv, cidBytes)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(sig, from, cidBytes); err != nil {
				t.Errorf("Verify(fresh signature): %v", err)
			}
		})
	}
}

// TestSpecPubkeyAddress ties recovery to the go-address vector: the key
// recovered from a signature hashes to the f1 payload the spec lists.
func TestSpecPubkeyAddress(t *testing.T) {
	v := loadVectors(t).SpecAddress
	a, err := address.NewSecp256k1Address(chaintest.MustHex(t, v.SecpPubkey))
	if err != nil {
		t.Fatal(err)
	}
	if a != mustAddr(t, v.Address) {
		t.Fatalf("address = %s, want %s", a, v.Address)
	}
}

func testMessage(t testing.TB) *types.Message {
	t.Helper()
	v := loadVectors(t).Message
	m, err := types.DecodeMessage(chaintest.MustHex(t, v.CBOR))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Cid().String(); got != v.CID {
		t.Fatalf("message cid = %s, want %s", got, v.CID)
	}
	return m
}

func TestSignMessage(t *testing.T) {
	want := loadVectors(t).Message
	for _, kind := range []types.SigType{types.SigTypeSecp256k1, types.SigTypeBLS} {
		name, _ := kind.Name()
		t.Run(name, func(t *testing.T) {
			priv, err := GenerateKey(kind, detRand(1))
			if err != nil {
				t.Fatal(err)
			}
			m := testMessage(t)
			toSign, err := SigningBytes(m)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(toSign) != want.CIDHex {
				t.Fatalf("signing bytes = %x, want %s", toSign, want.CIDHex)
			}
			// From f00 (an ID address) cannot be checked against the key.
			if _, err := SignMessage(kind, priv, m); err != nil {
				t.Fatalf("SignMessage with ID sender: %v", err)
			}
			m.From, err = AddressOf(kind, priv)
			if err != nil {
				t.Fatal(err)
			}
			sm, err := SignMessage(kind, priv, m)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyMessage(sm); err != nil {
				t.Fatalf("VerifyMessage: %v", err)
			}
			// BLS-signed messages are identified by the unsigned CID,
			// secp256k1 ones by the CID of the SignedMessage.
			if (sm.Cid() == m.Cid()) != (kind == types.SigTypeBLS) {
				t.Errorf("signed cid %s vs message cid %s", sm.Cid(), m.Cid())
			}
			tampered := *sm
			tampered.Message.Nonce++
			if err := VerifyMessage(&tampered); !errors.Is(err, ErrInvalidSignature) {
				t.Errorf("tampered message: err = %v", err)
			}
			other, _ := GenerateKey(kind, detRand(2))
			if _, err := SignMessage(kind, other, m); !errors.Is(err, ErrKeyMismatch) {
				t.Errorf("wrong key: err = %v, want ErrKeyMismatch", err)
			}
		})
	}
}

// detRand is a deterministic entropy source so key generation in tests is
// reproducible.
func detRand(seed uint64) *mrand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return mrand.NewChaCha8(s)
}

func TestGenerateKeyRoundTrip(t *testing.T) {
	for _, kind := range []types.SigType{types.SigTypeSecp256k1, types.SigTypeBLS} {
		for seed := range uint64(4) {
			priv, err := GenerateKey(kind, detRand(seed))
			if err != nil {
				t.Fatal(err)
			}
			addr, err := AddressOf(kind, priv)
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte(fmt.Sprintf("message %d", seed))
			sig, err := Sign(kind, priv, msg)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(sig, addr, msg); err != nil {
				t.Fatalf("%v seed %d: %v", kind, seed, err)
			}
			ki, err := NewKeyInfo(kind, priv)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseKeyInfo([]byte(ki.HexLotus()))
			if err != nil || !bytes.Equal(back.PrivateKey, priv) || back.Type != ki.Type {
				t.Fatalf("key info round trip: %v", err)
			}
		}
	}
	if _, err := GenerateKey(types.SigTypeSecp256k1, nil); err != nil {
		t.Fatalf("crypto/rand default: %v", err)
	}
	if _, err := GenerateKey(types.SigTypeBLS, bytes.NewReader(nil)); err == nil {
		t.Fatal("BLS keygen from an empty reader succeeded")
	}
}

// highS returns the malleated twin of a low-S signature: S' = N − S with
// the recovery parity flipped. It recovers the same key, which is exactly
// why it must be refused.
func highS(t *testing.T, sig []byte) []byte {
	t.Helper()
	var s secp256k1.ModNScalar
	s.SetByteSlice(sig[32:64])
	s.Negate()
	out := bytes.Clone(sig)
	b := s.Bytes()
	copy(out[32:64], b[:])
	out[64] ^= 1
	return out
}

func TestSecpMalleability(t *testing.T) {
	priv, _ := GenerateKey(types.SigTypeSecp256k1, detRand(7))
	addr, _ := AddressOf(types.SigTypeSecp256k1, priv)
	msg := []byte("malleable")
	sig, err := Sign(types.SigTypeSecp256k1, priv, msg)
	if err != nil {
		t.Fatal(err)
	}
	var s secp256k1.ModNScalar
	s.SetByteSlice(sig.Data[32:64])
	if s.IsOverHalfOrder() {
		t.Fatal("Sign produced a high-S signature")
	}
	mal := highS(t, sig.Data)
	// The twin is a mathematically valid signature by the same key...
	compact := append([]byte{27 + mal[64]}, mal[:64]...)
	digest := blake2b.Sum256(msg)
	pub, _, err := ecdsa.RecoverCompact(compact, digest[:])
	if err != nil {
		t.Fatalf("decred rejects the twin itself: %v", err)
	}
	if a, _ := address.NewSecp256k1Address(pub.SerializeUncompressed()); a != addr {
		t.Fatal("twin recovers a different key; the test is not exercising malleability")
	}
	// ...and Verify still refuses it.
	err = Verify(types.Signature{Type: types.SigTypeSecp256k1, Data: mal}, addr, msg)
	if !errors.Is(err, ErrInvalidSignature) {
		t.Fatalf("high-S accepted: %v", err)
	}
}

func TestRejects(t *testing.T) {
	secpPriv, _ := GenerateKey(types.SigTypeSecp256k1, detRand(3))
	secpAddr, _ := AddressOf(types.SigTypeSecp256k1, secpPriv)
	blsPriv, _ := GenerateKey(types.SigTypeBLS, detRand(3))
	blsAddr, _ := AddressOf(types.SigTypeBLS, blsPriv)
	msg := []byte("hello")
	secpSig, _ := Sign(types.SigTypeSecp256k1, secpPriv, msg)
	blsSig, _ := Sign(types.SigTypeBLS, blsPriv, msg)

	// secp256k1 group order N and BLS12-381 scalar order r.
	secpN := chaintest.MustHex(t, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
	blsRLE := chaintest.MustHex(t, "01000000fffffffffe5bfeff02a4bd5305d8a10908d83933487d9d2953a7ed73") // r, little-endian
	// The compressed G1 identity (0xc0 || 0…) is a well-formed f3 payload
	// but must never verify anything.
	infinity, err := address.NewBLSAddress(append([]byte{0xc0}, make([]byte, 47)...))
	if err != nil {
		t.Fatal(err)
	}
	infSig := append([]byte{0xc0}, make([]byte, 95)...)
	badV := bytes.Clone(secpSig.Data)
	badV[64] = 4

	keyCases := []struct {
		name string
		kind types.SigType
		priv []byte
		want error
	}{
		{"secp short", types.SigTypeSecp256k1, make([]byte, 31), ErrInvalidPrivateKey},
		{"secp zero", types.SigTypeSecp256k1, make([]byte, 32), ErrInvalidPrivateKey},
		{"secp N", types.SigTypeSecp256k1, secpN, ErrInvalidPrivateKey},
		{"bls long", types.SigTypeBLS, make([]byte, 33), ErrInvalidPrivateKey},
		{"bls zero", types.SigTypeBLS, make([]byte, 32), ErrInvalidPrivateKey},
		{"bls r", types.SigTypeBLS, blsRLE, ErrInvalidPrivateKey},
		{"delegated", types.SigTypeDelegated, secpPriv, ErrUnsupportedType},
	}
	for _, tc := range keyCases {
		t.Run("key/"+tc.name, func(t *testing.T) {
			if _, err := Sign(tc.kind, tc.priv, msg); !errors.Is(err, tc.want) {
				t.Errorf("Sign: %v, want %v", err, tc.want)
			}
			if _, err := AddressOf(tc.kind, tc.priv); !errors.Is(err, tc.want) {
				t.Errorf("AddressOf: %v, want %v", err, tc.want)
			}
		})
	}

	verifyCases := []struct {
		name string
		sig  types.Signature
		addr address.Address
		want error
	}{
		{"secp sig, f3 addr", secpSig, blsAddr, ErrInvalidSignature},
		{"secp sig, ID addr", secpSig, address.NewIDAddress(1000), ErrInvalidSignature},
		{"bls sig, f1 addr", blsSig, secpAddr, ErrInvalidSignature},
		{"secp short", types.Signature{Type: types.SigTypeSecp256k1, Data: secpSig.Data[:64]}, secpAddr, ErrInvalidSignature},
		{"secp recid 4", types.Signature{Type: types.SigTypeSecp256k1, Data: badV}, secpAddr, ErrInvalidSignature},
		{"secp zero", types.Signature{Type: types.SigTypeSecp256k1, Data: make([]byte, 65)}, secpAddr, ErrInvalidSignature},
		{"bls short", types.Signature{Type: types.SigTypeBLS, Data: blsSig.Data[:95]}, blsAddr, ErrInvalidSignature},
		{"bls garbage", types.Signature{Type: types.SigTypeBLS, Data: bytes.Repeat([]byte{0xff}, 96)}, blsAddr, ErrInvalidSignature},
		{"bls infinity key and sig", types.Signature{Type: types.SigTypeBLS, Data: infSig}, infinity, ErrInvalidSignature},
		{"bls wrong key", blsSig, infinity, ErrInvalidSignature},
		{"unknown type", types.Signature{Type: types.SigTypeUnknown, Data: secpSig.Data}, secpAddr, ErrUnsupportedType},
	}
	for _, tc := range verifyCases {
		t.Run("verify/"+tc.name, func(t *testing.T) {
			if err := Verify(tc.sig, tc.addr, msg); !errors.Is(err, tc.want) {
				t.Errorf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestKeyInfoParse(t *testing.T) {
	priv := chaintest.MustHex(t, "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
	b64 := "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
	jsonSecp := `{"Type":"secp256k1","PrivateKey":"` + b64 + `"}`
	cases := []struct {
		name  string
		in    string
		want  KeyType
		isErr bool
	}{
		{"json-lotus", jsonSecp, KTSecp256k1, false},
		{"hex-lotus", hex.EncodeToString([]byte(jsonSecp)), KTSecp256k1, false},
		{"hex-lotus trailing newline", hex.EncodeToString([]byte(jsonSecp)) + "\n", KTSecp256k1, false},
		{"upper-case hex", strings.ToUpper(hex.EncodeToString([]byte(jsonSecp))), KTSecp256k1, false},
		{"integer type 1", `{"Type":1,"PrivateKey":"` + b64 + `"}`, KTSecp256k1, false},
		{"integer type 2", `{"Type":2,"PrivateKey":"` + b64 + `"}`, KTBLS, false},
		{"delegated parses", `{"Type":"delegated","PrivateKey":"` + b64 + `"}`, KTDelegated, false},
		{"empty", "", "", true},
		{"odd hex", "7b2", "", true},
		{"not hex", "zz", "", true},
		{"bad json", "{", "", true},
		{"no type", `{"PrivateKey":"` + b64 + `"}`, "", true},
		{"no key", `{"Type":"bls"}`, "", true},
		{"integer type 9", `{"Type":9,"PrivateKey":"` + b64 + `"}`, "", true},
		{"bad base64", `{"Type":"bls","PrivateKey":"!!"}`, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ki, err := ParseKeyInfo([]byte(tc.in))
			if tc.isErr {
				if !errors.Is(err, ErrBadKeyInfo) {
					t.Fatalf("err = %v, want ErrBadKeyInfo", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ki.Type != tc.want || !bytes.Equal(ki.PrivateKey, priv) {
				t.Fatalf("got %s %x", ki.Type, ki.PrivateKey)
			}
		})
	}
	ki, _ := ParseKeyInfo([]byte(jsonSecp))
	for _, s := range []string{fmt.Sprint(ki), fmt.Sprintf("%+v", ki), fmt.Sprintf("%#v", ki), fmt.Sprintf("%v", &ki)} {
		if strings.Contains(s, b64) || strings.Contains(s, "[1 2 3") || strings.Contains(s, "0x1, 0x2") {
			t.Errorf("formatted KeyInfo leaks the key: %s", s)
		}
	}
	if _, err := (KeyInfo{Type: KTDelegated, PrivateKey: priv}).SigType(); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("delegated SigType: %v", err)
	}
	if _, err := NewKeyInfo(types.SigTypeSecp256k1, make([]byte, 32)); !errors.Is(err, ErrInvalidPrivateKey) {
		t.Errorf("NewKeyInfo(zero key): %v", err)
	}
}

func FuzzParseKeyInfo(f *testing.F) {
	for _, c := range loadVectors(f).LotusCLI {
		f.Add([]byte(c.HexLotus))
	}
	f.Add([]byte(`{"Type":1,"PrivateKey":"AA=="}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ki, err := ParseKeyInfo(data)
		if err != nil {
			if !errors.Is(err, ErrBadKeyInfo) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		back, err := ParseKeyInfo([]byte(ki.HexLotus()))
		if err != nil || back.Type != ki.Type || !bytes.Equal(back.PrivateKey, ki.PrivateKey) {
			t.Fatalf("round trip failed: %v", err)
		}
		_, _ = ki.Address() // must not panic on any key bytes
	})
}

func FuzzVerify(f *testing.F) {
	v := loadVectors(f)
	f.Add(uint8(2), chaintest.MustHex(f, v.LotusBLSTest.Valid), []byte("potato"), []byte(v.LotusBLSTest.Address))
	f.Add(uint8(1), chaintest.MustHex(f, v.LotusCLI[0].SignatureHex)[1:], chaintest.MustHex(f, "44554b45"), []byte(v.LotusCLI[0].Address))
	f.Fuzz(func(t *testing.T, typ uint8, sig, msg, addr []byte) {
		a, err := address.Parse(string(addr))
		if err != nil {
			return
		}
		err = Verify(types.Signature{Type: types.SigType(typ), Data: sig}, a, msg)
		if err != nil && !errors.Is(err, ErrInvalidSignature) && !errors.Is(err, ErrUnsupportedType) {
			t.Fatalf("unexpected error class: %v", err)
		}
	})
}
