package types

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// seedsHex are valid encodings (spec/chain.md §2.4 and signed variants).
var seedsHex = []string{
	"8a00420004420000182240187b4200ea4200ea0643686169",
	"828a00420004420000182240187b4200ea4200ea0643686169" + "4401010203",
	"828a00420004420000182240187b4200ea4200ea0643686169" + "4102",
	"4200ea", "40", "420101", "840040" + "01f6", "83004001",
}

func addSeeds(f *testing.F) {
	for _, h := range seedsHex {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
}

// roundTrip decodes data with v; if accepted, the re-encoding must equal
// the input (all decoders accept canonical input only).
func roundTrip(t *testing.T, data []byte, v interface {
	CborMarshaler
	CborUnmarshaler
}) {
	if err := DecodeExact(data, v); err != nil {
		return
	}
	out, err := EncodeBytes(v)
	if err != nil {
		t.Fatalf("accepted %x but cannot re-encode: %v", data, err)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("non-canonical accept:\n in  %x\n out %x", data, out)
	}
}

func FuzzDecodeMessage(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		roundTrip(t, data, &m)
		if err := DecodeExact(data, &m); err == nil {
			if m.Cid() != CidOf(data) {
				t.Fatalf("cid mismatch for %x", data)
			}
			js, err := json.Marshal(m)
			if err != nil {
				t.Fatalf("json: %v", err)
			}
			var back Message
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatalf("json back %s: %v", js, err)
			}
			if back.Cid() != m.Cid() {
				t.Fatalf("json round trip changed cid: %s", js)
			}
		}
	})
}

func FuzzDecodeSignedMessage(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var sm SignedMessage
		roundTrip(t, data, &sm)
	})
}

func FuzzBigInt(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var b BigInt
		roundTrip(t, data, &b)
	})
}

func FuzzSignature(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Signature
		roundTrip(t, data, &s)
	})
}

func FuzzReceipt(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var r MessageReceipt
		roundTrip(t, data, &r)
	})
}

// FuzzMessageJSON checks the JSON decoder never panics and that accepted
// messages with defined addresses encode.
func FuzzMessageJSON(f *testing.F) {
	f.Add([]byte(`{"Version":0,"To":"f04","From":"f00","Nonce":34,"Value":"0","GasLimit":123,"GasFeeCap":"234","GasPremium":"234","Method":6,"Params":"aGFp"}`))
	f.Add([]byte(`{"Message":{"To":"t01"},"Signature":{"Type":1,"Data":"AQ=="}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Message
		if json.Unmarshal(data, &m) == nil && !m.To.Empty() && !m.From.Empty() && m.Value.Sign() >= 0 {
			if _, err := m.Serialize(); err != nil && len(m.Params) <= MaxParamsLen {
				// Only oversized big ints may fail here.
				if m.Value.BitLen() < 1000 && m.GasFeeCap.BitLen() < 1000 && m.GasPremium.BitLen() < 1000 {
					t.Fatalf("serialize: %v", err)
				}
			}
		}
		var sm SignedMessage
		_ = json.Unmarshal(data, &sm)
	})
}
