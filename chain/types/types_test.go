package types

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
)

func TestBigIntCBOR(t *testing.T) {
	// spec/chain.md §2.1.
	tests := []struct {
		v    BigInt
		cbor string
		dec  string
	}{
		{Zero(), "40", "0"},
		{BigInt{}, "40", "0"},
		{NewInt(234), "4200ea", "234"},
		{FromFil(1), "49000de0b6b3a7640000", "1000000000000000000"},
		{NewInt(-1), "420101", "-1"},
		{NewIntUnsigned(1 << 63), "4900" + "8000000000000000", "9223372036854775808"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		if err := tc.v.MarshalCBOR(&buf); err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(buf.Bytes()) != tc.cbor {
			t.Errorf("%s: cbor %x, want %s", tc.dec, buf.Bytes(), tc.cbor)
		}
		var back BigInt
		if err := DecodeExact(buf.Bytes(), &back); err != nil || back.Cmp(tc.v) != 0 {
			t.Errorf("%s: decode %v %v", tc.dec, back, err)
		}
		if tc.v.String() != tc.dec {
			t.Errorf("String = %s, want %s", tc.v.String(), tc.dec)
		}
		js, _ := json.Marshal(tc.v)
		if string(js) != `"`+tc.dec+`"` {
			t.Errorf("json %s", js)
		}
	}
	bad := []string{"4102", "4100", "4101", "420100", "43000001", "4202ff", "00", "5881" + strings.Repeat("01", 129)}
	for _, h := range bad {
		raw, _ := hex.DecodeString(h)
		var b BigInt
		if err := DecodeExact(raw, &b); err == nil {
			t.Errorf("accepted %s", h)
		} else if !errors.Is(err, ErrCBOR) {
			t.Errorf("%s: %v does not wrap ErrCBOR", h, err)
		}
	}
	huge := BigInt{new(big.Int).Lsh(big.NewInt(1), 8*128)}
	if err := huge.MarshalCBOR(&bytes.Buffer{}); !errors.Is(err, ErrBigInt) {
		t.Errorf("oversized encode: %v", err)
	}
}

func TestBigIntJSONAndFIL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`"123"`, "123"}, {`123`, "123"}, {`"-5"`, "-5"}, {`null`, "0"},
	} {
		var b BigInt
		if err := json.Unmarshal([]byte(tc.in), &b); err != nil || b.String() != tc.want {
			t.Errorf("json %s -> %s, %v", tc.in, b.String(), err)
		}
	}
	for _, in := range []string{`"1.5"`, `"abc"`, `""`, `"-"`, `"0x10"`, `true`} {
		var b BigInt
		if err := json.Unmarshal([]byte(in), &b); err == nil {
			t.Errorf("json %s accepted", in)
		}
	}
	for _, tc := range []struct{ in, atto, fil string }{
		{"1", "1000000000000000000", "1 FIL"},
		{"1.5 FIL", "1500000000000000000", "1.5 FIL"},
		{"0.000000000000000001", "1", "0.000000000000000001 FIL"},
		{"0", "0", "0 FIL"},
	} {
		v, err := ParseFIL(tc.in)
		if err != nil || v.String() != tc.atto || v.FIL() != tc.fil {
			t.Errorf("ParseFIL(%q) = %s (%s), %v", tc.in, v.String(), v.FIL(), err)
		}
	}
	for _, in := range []string{"0.0000000000000000001", "1e3", "x", "1/2", "0x10", ".5", "1.", "--1"} {
		if _, err := ParseFIL(in); err == nil {
			t.Errorf("ParseFIL(%q) accepted", in)
		}
	}
	a, b := NewInt(7), NewInt(3)
	if a.Add(b).String() != "10" || a.Sub(b).String() != "4" || a.Mul(b).String() != "21" || a.Div(b).String() != "2" || a.String() != "7" {
		t.Error("arithmetic")
	}
	var n BigInt
	if !n.IsZero() || !n.Nil() || n.Sign() != 0 || n.Add(a).String() != "7" {
		t.Error("nil BigInt")
	}
}

func TestSignatureCBOR(t *testing.T) {
	s := Signature{Type: SigTypeSecp256k1, Data: []byte{1, 2, 3}}
	b, err := EncodeBytes(&s)
	if err != nil || hex.EncodeToString(b) != "4401010203" {
		t.Fatalf("encode %x %v", b, err)
	}
	var back Signature
	if err := DecodeExact(b, &back); err != nil || back.Type != s.Type || !bytes.Equal(back.Data, s.Data) {
		t.Fatalf("decode %+v %v", back, err)
	}
	for _, h := range []string{"40", "4100", "41ff", "4104", "58c9" + strings.Repeat("01", 201), "6101"} {
		raw, _ := hex.DecodeString(h)
		var x Signature
		if err := DecodeExact(raw, &x); err == nil {
			t.Errorf("accepted %s", h[:min(len(h), 12)])
		}
	}
	js, _ := json.Marshal(s)
	if string(js) != `{"Type":1,"Data":"AQID"}` {
		t.Fatalf("json %s", js)
	}
	if n, err := SigTypeBLS.Name(); err != nil || n != "bls" {
		t.Fatalf("SigTypeBLS.Name = %q, %v", n, err)
	}
	if _, err := SigType(9).Name(); err == nil {
		t.Fatal("SigType(9).Name gave no error")
	}
}

func TestTipSetKey(t *testing.T) {
	c1 := CidOf([]byte("a"))
	c2 := CidOf([]byte("b"))
	k := NewTipSetKey(c1, c2)
	js, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"/":"` + c1.String() + `"},{"/":"` + c2.String() + `"}]`
	if string(js) != want {
		t.Fatalf("json %s", js)
	}
	var back TipSetKey
	if err := json.Unmarshal(js, &back); err != nil || back != k {
		t.Fatalf("round trip %v %v", back, err)
	}
	if got := back.Cids(); len(got) != 2 || got[0] != c1 || got[1] != c2 {
		t.Fatalf("Cids %v", got)
	}
	if js, _ := json.Marshal(EmptyTSK); string(js) != `[]` {
		t.Fatalf("empty json %s", js)
	}
	for _, in := range []string{`null`, `[]`} {
		var e TipSetKey
		if err := json.Unmarshal([]byte(in), &e); err != nil || !e.IsEmpty() {
			t.Errorf("%s: %v", in, err)
		}
	}
	var bad TipSetKey
	if err := json.Unmarshal([]byte(`[{"/":"notacid"}]`), &bad); err == nil {
		t.Error("bad cid accepted")
	}
	if !strings.HasPrefix(k.String(), "{bafy2bzace") {
		t.Errorf("String %s", k.String())
	}
}

func TestReceipt(t *testing.T) {
	root := CidOf([]byte("events"))
	tests := []struct {
		name string
		r    MessageReceipt
		hex  string
	}{
		{"ok no events", MessageReceipt{ExitCode: Ok, Return: nil, GasUsed: 1000}, "84" + "00" + "40" + "1903e8" + "f6"},
		{"failed", MessageReceipt{ExitCode: ErrInsufficientFunds, Return: []byte{1}, GasUsed: 5}, "84" + "13" + "4101" + "05" + "f6"},
		{"events", MessageReceipt{ExitCode: Ok, GasUsed: 1, EventsRoot: &root}, "84" + "00" + "40" + "01" + "d82a5827" + "00" + hex.EncodeToString(root.Bytes())},
		{"v0", MessageReceipt{ExitCode: Ok, GasUsed: 1, v0: true}, "83" + "00" + "40" + "01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeBytes(&tc.r)
			if err != nil || hex.EncodeToString(b) != tc.hex {
				t.Fatalf("encode %x %v, want %s", b, err, tc.hex)
			}
			var back MessageReceipt
			if err := DecodeExact(b, &back); err != nil {
				t.Fatal(err)
			}
			again, _ := EncodeBytes(&back)
			if !bytes.Equal(again, b) {
				t.Fatalf("re-encode %x", again)
			}
		})
	}
	js, _ := json.Marshal(MessageReceipt{ExitCode: 0, Return: []byte{1}, GasUsed: 2})
	if string(js) != `{"ExitCode":0,"Return":"AQ==","GasUsed":2,"EventsRoot":null}` {
		t.Fatalf("json %s", js)
	}
	var bad MessageReceipt
	if err := DecodeExact([]byte{0x82, 0, 0x40}, &bad); err == nil {
		t.Fatal("2-field receipt accepted")
	}
	var ml MsgLookup
	in := `{"Message":{"/":"` + root.String() + `"},"Receipt":{"ExitCode":18,"Return":null,"GasUsed":7,"EventsRoot":null},"ReturnDec":null,"TipSet":[{"/":"` + root.String() + `"}],"Height":10}`
	if err := json.Unmarshal([]byte(in), &ml); err != nil {
		t.Fatal(err)
	}
	if ml.Message != root || ml.Receipt.ExitCode != ErrForbidden || ml.Height != 10 || len(ml.TipSet.Cids()) != 1 {
		t.Fatalf("lookup %+v", ml)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		c    ExitCode
		want string
	}{
		{Ok, "Ok(0)"},
		{SysErrOutOfGas, "SysErrOutOfGas(7)"},
		{ErrIllegalArgument, "ErrIllegalArgument(16)"},
		{ErrInsufficientFunds, "ErrInsufficientFunds(19)"},
		{ErrNotPayable, "ErrNotPayable(26)"},
		{1000, "1000"},
		{-1, "-1"},
	}
	for _, tc := range tests {
		if tc.c.String() != tc.want {
			t.Errorf("%d: %s, want %s", int64(tc.c), tc.c.String(), tc.want)
		}
	}
	if !SysErrInsufficientFunds.IsError() || !Ok.IsSuccess() || !SysErrSenderInvalid.IsSendFailure() || ErrIllegalState.String() != "ErrIllegalState(20)" {
		t.Error("classification")
	}
}

func TestCborHelpers(t *testing.T) {
	// CIDv0 in a tag is accepted by go-cid and round-trips; a CIDv1 with
	// trailing junk inside the byte string is rejected.
	c := CidOf([]byte("x"))
	var buf bytes.Buffer
	cw := newTestWriter(&buf)
	if err := CborWriteCid(cw, c); err != nil {
		t.Fatal(err)
	}
	if got, err := CborReadCid(newTestReader(buf.Bytes())); err != nil || got != c {
		t.Fatalf("cid round trip %v %v", got, err)
	}
	junk := append([]byte{0xd8, 0x2a, 0x58, byte(len(c.Bytes()) + 2), 0}, append(c.Bytes(), 0xff)...)
	if _, err := CborReadCid(newTestReader(junk)); err == nil {
		t.Fatal("cid with trailing junk accepted")
	}
	if err := CborWriteCid(cw, cid.Undef); err == nil {
		t.Fatal("undefined cid encoded")
	}
	for _, tc := range []struct {
		hex string
		v   int64
		ok  bool
	}{
		{"00", 0, true}, {"17", 23, true}, {"1818", 24, true}, {"20", -1, true}, {"3863", -100, true},
		{"1b7fffffffffffffff", 1<<63 - 1, true}, {"3b7fffffffffffffff", -1 << 63, true},
		{"1b8000000000000000", 0, false}, {"3b8000000000000000", 0, false}, {"1817", 0, false}, {"40", 0, false},
	} {
		raw, _ := hex.DecodeString(tc.hex)
		v, err := CborReadInt64(newTestReader(raw))
		if (err == nil) != tc.ok || (tc.ok && v != tc.v) {
			t.Errorf("%s: %d %v", tc.hex, v, err)
		}
		if tc.ok {
			var out bytes.Buffer
			_ = CborWriteInt64(newTestWriter(&out), tc.v)
			if hex.EncodeToString(out.Bytes()) != tc.hex {
				t.Errorf("write %d = %x", tc.v, out.Bytes())
			}
		}
	}
}
