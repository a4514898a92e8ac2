package sigs

import (
	"testing"

	"github.com/sealant/sealant/chain/types"
)

// benchSignVerify measures what the signer does per chain message: compute
// the message CID, sign it, and verify the signature against the sender.
func benchSignVerify(b *testing.B, kind types.SigType) {
	priv, err := GenerateKey(kind, detRand(9))
	if err != nil {
		b.Fatal(err)
	}
	m := testMessage(b)
	if m.From, err = AddressOf(kind, priv); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Nonce = uint64(i) // a fresh CID every iteration
		toSign, err := SigningBytes(m)
		if err != nil {
			b.Fatal(err)
		}
		sig, err := Sign(kind, priv, toSign)
		if err != nil {
			b.Fatal(err)
		}
		if err := Verify(sig, m.From, toSign); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignVerifySecp(b *testing.B) { benchSignVerify(b, types.SigTypeSecp256k1) }
func BenchmarkSignVerifyBLS(b *testing.B)  { benchSignVerify(b, types.SigTypeBLS) }

func benchSign(b *testing.B, kind types.SigType) {
	priv, _ := GenerateKey(kind, detRand(9))
	msg := make([]byte, 38)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Sign(kind, priv, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func benchVerify(b *testing.B, kind types.SigType) {
	priv, _ := GenerateKey(kind, detRand(9))
	addr, _ := AddressOf(kind, priv)
	msg := make([]byte, 38)
	sig, _ := Sign(kind, priv, msg)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := Verify(sig, addr, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSignSecp(b *testing.B)   { benchSign(b, types.SigTypeSecp256k1) }
func BenchmarkSignBLS(b *testing.B)    { benchSign(b, types.SigTypeBLS) }
func BenchmarkVerifySecp(b *testing.B) { benchVerify(b, types.SigTypeSecp256k1) }
func BenchmarkVerifyBLS(b *testing.B)  { benchVerify(b, types.SigTypeBLS) }

func BenchmarkParseKeyInfo(b *testing.B) {
	in := []byte(loadVectors(b).LotusCLI[0].HexLotus)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParseKeyInfo(in); err != nil {
			b.Fatal(err)
		}
	}
}
