package types

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/internal/chaintest"
)

type messageVectors struct {
	Unsigned struct {
		JSON json.RawMessage `json:"json"`
		CBOR string          `json:"cbor"`
		CID  string          `json:"cid"`
	} `json:"unsigned"`
}

func loadMessageVectors(t testing.TB) messageVectors {
	t.Helper()
	return chaintest.LoadJSON[messageVectors](t, "testdata/message.json")
}

// vectorMessage is the lotus chain/types/message_test.go message
// (spec/chain.md §2.4), built field by field.
func vectorMessage() *Message {
	return &Message{
		To:         address.NewIDAddress(4),
		From:       address.NewIDAddress(0),
		Nonce:      34,
		Value:      Zero(),
		GasLimit:   123,
		GasFeeCap:  NewInt(234),
		GasPremium: NewInt(234),
		Method:     6,
		Params:     []byte("hai"),
	}
}

func TestMessageVector(t *testing.T) {
	v := loadMessageVectors(t)
	want := chaintest.MustHex(t, v.Unsigned.CBOR)

	m := vectorMessage()
	got, err := m.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("cbor\n got %x\nwant %x", got, want)
	}
	if c := m.Cid(); c.String() != v.Unsigned.CID {
		t.Fatalf("cid %s, want %s", c, v.Unsigned.CID)
	}
	// Spec §2.4 also gives the binary CID.
	if h := hex.EncodeToString(m.Cid().Bytes()); h != "0171a0e40220fb11bf3df93dc90bec1d92dd8568119677a00b6c5e7d0d61a14e5f20e0f6c6c1" {
		t.Fatalf("cid bytes %s", h)
	}

	// The vector's Lotus JSON decodes to the same message.
	var fromJSON Message
	if err := json.Unmarshal(v.Unsigned.JSON, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if b, _ := fromJSON.Serialize(); !bytes.Equal(b, want) {
		t.Fatalf("json-decoded message cbor %x", b)
	}

	// CBOR decode round trip.
	dec, err := DecodeMessage(want)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := dec.Serialize(); !bytes.Equal(b, want) {
		t.Fatalf("re-encoded %x", b)
	}

	// JSON output: exact Lotus text (with mainnet prefix, as in the spec).
	defer address.SetNetwork(address.SetNetwork(address.Mainnet))
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"Version":0,"To":"f04","From":"f00","Nonce":34,"Value":"0","GasLimit":123,"GasFeeCap":"234","GasPremium":"234","Method":6,"Params":"aGFp","CID":{"/":"bafy2bzaced5rdpz57e64sc7mdwjn3blicglhpialnrph2dlbufhf6iha63dmc"}}`
	if string(out) != wantJSON {
		t.Fatalf("json\n got %s\nwant %s", out, wantJSON)
	}
	// Value receivers: a Message value marshals the same way.
	out2, _ := json.Marshal(*m)
	if string(out2) != wantJSON {
		t.Fatalf("value json %s", out2)
	}
}

func TestSignedMessageVector(t *testing.T) {
	sm := &SignedMessage{Message: *vectorMessage()}
	got, err := sm.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	const wantCBOR = "828a00420004420000182240187b4200ea4200ea06436861694100"
	if hex.EncodeToString(got) != wantCBOR {
		t.Fatalf("cbor %x", got)
	}
	if c := sm.Cid().String(); c != "bafy2bzacea5ainifngxj3rygaw2hppnyz2cw72x5pysqty2x6dxmjs5qg2uus" {
		t.Fatalf("cid %s", c)
	}
	defer address.SetNetwork(address.SetNetwork(address.Mainnet))
	out, _ := json.Marshal(sm)
	want := `{"Message":{"Version":0,"To":"f04","From":"f00","Nonce":34,"Value":"0","GasLimit":123,"GasFeeCap":"234","GasPremium":"234","Method":6,"Params":"aGFp","CID":{"/":"bafy2bzaced5rdpz57e64sc7mdwjn3blicglhpialnrph2dlbufhf6iha63dmc"}},"Signature":{"Type":0,"Data":null},"CID":{"/":"bafy2bzacea5ainifngxj3rygaw2hppnyz2cw72x5pysqty2x6dxmjs5qg2uus"}}`
	if string(out) != want {
		t.Fatalf("json\n got %s\nwant %s", out, want)
	}
	// Type 0 is not decodable (go-state-types accepts only 1, 2, 3).
	if _, err := DecodeSignedMessage(got); !errors.Is(err, ErrSignature) {
		t.Fatalf("decode type-0 signature: %v", err)
	}
}

func TestSignedMessageCidRules(t *testing.T) {
	m := vectorMessage()
	tests := []struct {
		name     string
		sig      Signature
		unsigned bool
	}{
		{"bls uses unsigned cid", Signature{Type: SigTypeBLS, Data: bytes.Repeat([]byte{1}, 96)}, true},
		{"secp uses signed cid", Signature{Type: SigTypeSecp256k1, Data: bytes.Repeat([]byte{2}, 65)}, false},
		{"delegated uses signed cid", Signature{Type: SigTypeDelegated, Data: bytes.Repeat([]byte{3}, 65)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sm := &SignedMessage{Message: *m, Signature: tc.sig}
			data, err := sm.Serialize()
			if err != nil {
				t.Fatal(err)
			}
			want := CidOf(data)
			if tc.unsigned {
				want = m.Cid()
			}
			if sm.Cid() != want {
				t.Fatalf("cid %s, want %s", sm.Cid(), want)
			}
			dec, err := DecodeSignedMessage(data)
			if err != nil {
				t.Fatal(err)
			}
			if dec.Cid() != sm.Cid() || dec.Signature.Type != tc.sig.Type || !bytes.Equal(dec.Signature.Data, tc.sig.Data) {
				t.Fatalf("decoded %+v", dec)
			}
			js, err := json.Marshal(sm)
			if err != nil {
				t.Fatal(err)
			}
			var back SignedMessage
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			if back.Cid() != sm.Cid() {
				t.Fatalf("json round trip cid %s", back.Cid())
			}
		})
	}
}

func TestMessageDecodeErrors(t *testing.T) {
	good := "8a00420004420000182240187b4200ea4200ea0643686169"
	tests := []struct {
		name, hex string
	}{
		{"empty", ""},
		{"truncated", good[:len(good)-2]},
		{"trailing", good + "00"},
		{"9 fields", "89" + good[2:]},
		{"11 fields", "8b" + good[2:] + "00"},
		{"version 1", "8a01" + good[4:]},
		{"map", "a0"},
		{"indefinite array", "9f" + good[2:] + "ff"},
		{"non-canonical nonce", strings.Replace(good, "1822", "190022", 1)},
		{"bad to", strings.Replace(good, "420004", "420504", 1)},
		{"empty from", strings.Replace(good, "420000", "40", 1)},
		{"negative nonce", strings.Replace(good, "1822", "3822", 1)},
		{"big sign byte 2", strings.Replace(good, "4200ea4200ea", "4202ea4200ea", 1)},
		{"big leading zero", strings.Replace(good, "4200ea4200ea", "430000ea4200ea", 1)},
		{"big sign only", strings.Replace(good, "4200ea4200ea", "41004200ea", 1)},
		{"params text", strings.Replace(good, "43686169", "63686169", 1)},
		{"huge params length", strings.Replace(good, "43686169", "5b00000000ffffffff", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeMessage(chaintest.MustHex(t, tc.hex)); err == nil {
				t.Fatal("decoded without error")
			} else if !errors.Is(err, ErrCBOR) {
				t.Fatalf("error %v does not wrap ErrCBOR", err)
			}
		})
	}
	// Negative GasLimit is representable (and rejected only by validation).
	m := vectorMessage()
	m.GasLimit = -5
	b, _ := m.Serialize()
	if dec, err := DecodeMessage(b); err != nil || dec.GasLimit != -5 {
		t.Fatalf("negative gas limit: %v %v", dec, err)
	}
	// Undefined addresses cannot be encoded.
	m.To = address.Undef
	if _, err := m.Serialize(); err == nil {
		t.Fatal("encoded undefined To")
	}
	if m.Cid().Defined() {
		t.Fatal("cid of unencodable message")
	}
}

func BenchmarkMessageCid(b *testing.B) {
	m := vectorMessage()
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Cid()
	}
}

func BenchmarkDecodeMessage(b *testing.B) {
	data, _ := vectorMessage().Serialize()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := DecodeMessage(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSigningBytes(t *testing.T) {
	m := vectorMessage()
	b, err := m.SigningBytes()
	if err != nil || hex.EncodeToString(b) != "0171a0e40220fb11bf3df93dc90bec1d92dd8568119677a00b6c5e7d0d61a14e5f20e0f6c6c1" {
		t.Fatalf("signing bytes %x %v", b, err)
	}
	m.From = address.Undef
	if b, err := m.SigningBytes(); err == nil || b != nil {
		t.Fatalf("unencodable message gave %x %v", b, err)
	}
	if _, err := m.ComputeCid(); !errors.Is(err, address.ErrEmpty) {
		t.Fatalf("ComputeCid: %v", err)
	}
}
