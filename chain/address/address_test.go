package address

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sealant/sealant/chain/internal/chaintest"
)

type vectorFile struct {
	Vectors []struct {
		Str        string `json:"str"`
		Hex        string `json:"hex"`
		SecpPubkey string `json:"secp_pubkey"`
		ActorData  string `json:"actor_data"`
	} `json:"vectors"`
	Invalid []string `json:"invalid"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	v := chaintest.LoadJSON[vectorFile](t, "testdata/address.json")
	if len(v.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func TestVectors(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.Vectors {
		t.Run(tc.Str, func(t *testing.T) {
			want := chaintest.MustHex(t, tc.Hex)
			a, err := Parse(tc.Str)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !bytes.Equal(a.Bytes(), want) {
				t.Fatalf("bytes = %x, want %x", a.Bytes(), want)
			}
			if got := Format(a, Network(tc.Str[0])); got != tc.Str {
				t.Fatalf("Format = %q, want %q", got, tc.Str)
			}
			if got := Format(a, Mainnet); got != "f"+tc.Str[1:] {
				t.Fatalf("Format(Mainnet) = %q", got)
			}
			b, err := FromBytes(want)
			if err != nil || b != a {
				t.Fatalf("FromBytes = %v, %v", b, err)
			}
			// Constructors reproduce the same address from the source data.
			var c Address
			switch {
			case tc.SecpPubkey != "":
				c, err = NewSecp256k1Address(chaintest.MustHex(t, tc.SecpPubkey))
			case tc.ActorData != "":
				c, err = NewActorAddress(chaintest.MustHex(t, tc.ActorData))
			case a.Protocol() == BLS:
				c, err = NewBLSAddress(want[1:])
			case a.Protocol() == ID:
				id, ierr := IDOf(a)
				if ierr != nil {
					t.Fatal(ierr)
				}
				c = NewIDAddress(id)
			default:
				c = a
			}
			if err != nil || c != a {
				t.Fatalf("constructor = %v, %v; want %v", c, err, a)
			}
		})
	}
	for _, s := range v.Invalid {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", s)
		}
	}
}

func TestSpecExtraVectors(t *testing.T) {
	// spec/chain.md §1.4: delegated vectors and string-only round trips.
	tests := []struct {
		str, hex string
	}{
		{"f432f77777777x32lpna", "0420ffffffffff"},
		{"f49223372036854775807fiic6zsy", "04ffffffffffffffff7f"},
		{"t12fiakbhe2gwd5cnmrenekasyn6v5tnaxaqizq6a", ""},
		{"t1wbxhu3ypkuo6eyp6hjx6davuelxaxrvwb2kuwva", ""},
		{"t1xtwapqc6nh4si2hcwpr3656iotzmlwumogqbuaa", ""},
		{"t1xcbgdhkgkwht3hrrnui3jdopeejsoatkzmoltqy", ""},
		{"t17uoq6tp427uzv7fztkbsnn64iwotfrristwpryy", ""},
		{"t3wmuu6crofhqmm3v4enos73okk2l366ck6yc4owxwbdtkmpk42ohkqxfitcpa57pjdcftql4tojda2poeruwa", "03b3294f0a2e29e0c66ebc235d2fedca5697bf784af605c75af608e6a63d5cd38ea85ca8989e0efde9188b382f9372460d"},
		{"f1xpbyy4tkdx5si2bgo37dubc2xwv6fum5tk57mia", ""},
	}
	for _, tc := range tests {
		a, err := Parse(tc.str)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.str, err)
			continue
		}
		if tc.hex != "" && hex.EncodeToString(a.Bytes()) != tc.hex {
			t.Errorf("Parse(%q) bytes %x, want %s", tc.str, a.Bytes(), tc.hex)
		}
		if got := Format(a, Network(tc.str[0])); got != tc.str {
			t.Errorf("round trip %q -> %q", tc.str, got)
		}
	}
	d, err := NewDelegatedAddress(32, bytes.Repeat([]byte{0xff}, 5))
	if err != nil || Format(d, Mainnet) != "f432f77777777x32lpna" {
		t.Errorf("NewDelegatedAddress = %v, %v", Format(d, Mainnet), err)
	}
}

func TestParseErrors(t *testing.T) {
	long := "t0" + strings.Repeat("1", 20)
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrEmpty},
		{"t0", ErrInvalidLength},
		{"x01", ErrUnknownNetwork},
		{"F01", ErrUnknownNetwork},
		{"t51", ErrUnknownProtocol},
		{"t0a", ErrInvalidPayload},
		{"t0-1", ErrInvalidPayload},
		{"t0+1", ErrInvalidPayload},
		{"t001", ErrInvalidPayload},                  // leading zero: would not round-trip
		{"t09223372036854775808", ErrInvalidPayload}, // 2^63
		{long, ErrInvalidLength},
		{"f1xpbyy4tkdx5si2bgo37dubc2xwv6fum5tk57mid", ErrInvalidEncoding}, // non-canonical tail bits
		{"f1xpbyy4tkdx5si2bgo37dubc2xwv6fum5tk57mib", ErrInvalidEncoding},
		{"f1XPBYY4TKDX5SI2BGO37DUBC2XWV6FUM5TK57MIA", ErrInvalidEncoding}, // upper case
		{"f1xpbyy4tkdx5si2bgo37dubc2xwv6fum5tk57mqa", ErrInvalidChecksum}, // flipped checksum bit
		{"f1aaaa", ErrInvalidLength},
		{"t1", ErrInvalidLength},
		{"t3vvmn62lofvhjd2ugzca6sof2j2ubwok6cj4xxbfzz4yuxfkgobpihhd2thlanmsh3w2ptld2gqkn2jvlss4b", ErrInvalidEncoding},
		{"f432", ErrInvalidPayload},                  // no separator
		{"f4032f77777777x32lpna", ErrInvalidPayload}, // leading zero namespace
		{"f432faa", ErrInvalidLength},                // shorter than checksum
		{"f432f77777777x32lpnq", ErrInvalidChecksum},
		{"f432f77777777x32lpnb", ErrInvalidEncoding},
		{"f4" + strings.Repeat("f", 90), ErrInvalidLength},
	}
	for _, tc := range tests {
		_, err := Parse(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("Parse(%q) = %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestFromBytesErrors(t *testing.T) {
	tests := []struct {
		hex  string
		want error
	}{
		{"", ErrEmpty},
		{"00", ErrInvalidPayload},
		{"0080", ErrInvalidPayload},
		{"000080", ErrInvalidPayload},                 // trailing bytes after varint 0
		{"008000", ErrInvalidPayload},                 // non-minimal
		{"00ffffffffffffffffff01", ErrInvalidPayload}, // > 63 bits
		{"00ffffffffffffffff80", ErrInvalidPayload},   // truncated 10-byte varint
		{"01" + strings.Repeat("00", 19), ErrInvalidPayload},
		{"01" + strings.Repeat("00", 21), ErrInvalidPayload},
		{"02" + strings.Repeat("00", 19), ErrInvalidPayload},
		{"03" + strings.Repeat("00", 47), ErrInvalidPayload},
		{"03" + strings.Repeat("00", 49), ErrInvalidPayload},
		{"04", ErrInvalidPayload},
		{"048000", ErrInvalidPayload},
		{"040a" + strings.Repeat("00", 55), ErrInvalidLength},
		{"05", ErrUnknownProtocol},
		{"ff00", ErrUnknownProtocol},
	}
	for _, tc := range tests {
		_, err := FromBytes(chaintest.MustHex(t, tc.hex))
		if !errors.Is(err, tc.want) {
			t.Errorf("FromBytes(%s) = %v, want %v", tc.hex, err, tc.want)
		}
	}
	// Largest delegated address: 9-byte namespace + 54-byte sub-address.
	sub := bytes.Repeat([]byte{7}, MaxSubaddressLen)
	d, err := NewDelegatedAddress(1<<63-1, sub)
	if err != nil || len(d.Bytes()) != MaxAddressBytesLength {
		t.Fatalf("max delegated: %v, %d bytes", err, len(d.Bytes()))
	}
	if back, err := Parse(d.String()); err != nil || back != d {
		t.Fatalf("max delegated round trip: %v", err)
	}
	if _, err := NewDelegatedAddress(1<<63, nil); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("namespace 2^63: %v", err)
	}
	if _, err := NewSecp256k1Address(make([]byte, 33)); !errors.Is(err, ErrInvalidPayload) {
		t.Errorf("compressed secp key accepted: %v", err)
	}
}

func TestIDAccessors(t *testing.T) {
	a := NewIDAddress(1234)
	if id, err := IDOf(a); err != nil || id != 1234 {
		t.Fatalf("ID = %d, %v", id, err)
	}
	if a.Protocol() != ID || !bytes.Equal(a.Payload(), []byte{0xd2, 0x09}) {
		t.Fatalf("protocol/payload = %d %x", a.Protocol(), a.Payload())
	}
	b, _ := NewActorAddress([]byte("x"))
	if _, err := IDOf(b); !errors.Is(err, ErrNotID) {
		t.Fatalf("ID on actor address: %v", err)
	}
	if !Undef.Empty() || Undef.String() != UndefAddressString || a.Empty() {
		t.Fatal("Empty/Undef mismatch")
	}
	defer SetNetwork(SetNetwork(Mainnet))
	if a.String() != "f01234" {
		t.Fatalf("mainnet string %q", a.String())
	}
}

func TestCBOR(t *testing.T) {
	a := NewIDAddress(1234)
	var buf bytes.Buffer
	if err := a.MarshalCBOR(&buf); err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(buf.Bytes()) != "4300d209" {
		t.Fatalf("cbor %x, want 4300d209", buf.Bytes())
	}
	var b Address
	if err := b.UnmarshalCBOR(bytes.NewReader(buf.Bytes())); err != nil || b != a {
		t.Fatalf("unmarshal: %v %v", b, err)
	}
	var nilAddr *Address
	buf.Reset()
	if err := nilAddr.MarshalCBOR(&buf); err != nil || hex.EncodeToString(buf.Bytes()) != "f6" {
		t.Fatalf("nil cbor %x %v", buf.Bytes(), err)
	}
	// go-address's own CBOR methods: they reject the same inputs, with their
	// own error values (not this package's sentinels).
	if err := Undef.MarshalCBOR(&buf); err == nil {
		t.Fatalf("undef marshal: %v", err)
	}
	bad := []struct {
		hex  string
		want error
	}{
		{"40", nil},                              // go-address: "cbor input should not contain empty addresses"
		{"0100", nil},                            // go-address: "cbor type for address unmarshal was not byte string"
		{"4300d2", nil},                          // truncated: io error
		{"5841" + strings.Repeat("00", 65), nil}, // go-address: "too many bytes to unmarshal for an address"
		{"42ff00", ErrUnknownProtocol},
		{"", nil},
	}
	for _, tc := range bad {
		var x Address
		err := x.UnmarshalCBOR(bytes.NewReader(chaintest.MustHex(t, tc.hex)))
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("UnmarshalCBOR(%s) = %v, want %v", tc.hex, err, tc.want)
		}
	}
}

func TestJSON(t *testing.T) {
	type wrap struct {
		A Address
		B Address
	}
	in := `{"A":"f01000","B":"<empty>"}`
	var w wrap
	if err := json.Unmarshal([]byte(in), &w); err != nil {
		t.Fatal(err)
	}
	if id, _ := IDOf(w.A); id != 1000 || !w.B.Empty() {
		t.Fatalf("decoded %+v", w)
	}
	out, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	// encoding/json escapes '<' and '>' exactly as it does for Lotus.
	if string(out) != `{"A":"t01000","B":"\u003cempty\u003e"}` {
		t.Fatalf("json %s", out)
	}
	for _, bad := range []string{`1`, `"t0x"`, `null1`} {
		var a Address
		if err := json.Unmarshal([]byte(bad), &a); err == nil {
			t.Errorf("json %s accepted", bad)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	s := "t3vvmn62lofvhjd2ugzca6sof2j2ubwok6cj4xxbfzz4yuxfkgobpihhd2thlanmsh3w2ptld2gqkn2jvlss4a"
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkString(b *testing.B) {
	a, _ := Parse("t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq")
	b.ReportAllocs()
	for b.Loop() {
		_ = a.String()
	}
}

func TestMaxStringLength(t *testing.T) {
	d, err := NewDelegatedAddress(1<<63-1, bytes.Repeat([]byte{0xee}, MaxSubaddressLen))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.String()); n != MaxAddressStringLength {
		t.Fatalf("longest address string is %d chars, constant says %d", n, MaxAddressStringLength)
	}
}
