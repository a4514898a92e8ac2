package address

import (
	"bytes"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"t00", "f01234", "t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq",
		"t3vvmn62lofvhjd2ugzca6sof2j2ubwok6cj4xxbfzz4yuxfkgobpihhd2thlanmsh3w2ptld2gqkn2jvlss4a",
		"f432f77777777x32lpna", "f49223372036854775807fiic6zsy", "t24vg6ut43yw2h2jqydgbg2xq7x6f4kub3bg6as6i", "f0", "<empty>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		// Parse is strict, so the string round-trips exactly (with its own
		// network prefix) and so do the bytes.
		if got := Format(a, Network(s[0])); got != s {
			t.Fatalf("Parse(%q).Format = %q", s, got)
		}
		b, err := FromBytes(a.Bytes())
		if err != nil || b != a {
			t.Fatalf("FromBytes(Bytes()) = %v, %v", b, err)
		}
	})
}

func FuzzFromBytes(f *testing.F) {
	for _, h := range [][]byte{{0, 0}, {0, 0xd2, 0x09}, {4, 0x20, 0xff}, append([]byte{3}, make([]byte, 48)...), append([]byte{1}, make([]byte, 20)...)} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := FromBytes(data)
		if err != nil {
			return
		}
		if !bytes.Equal(a.Bytes(), data) {
			t.Fatalf("bytes changed")
		}
		for _, n := range []Network{Mainnet, Testnet} {
			back, err := Parse(Format(a, n))
			if err != nil || back != a {
				t.Fatalf("Parse(Format(%x)) = %v, %v", data, back, err)
			}
		}
	})
}

func FuzzUnmarshalCBOR(f *testing.F) {
	f.Add([]byte{0x43, 0x00, 0xd2, 0x09})
	f.Add([]byte{0x40})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Address
		r := bytes.NewReader(data)
		if err := a.UnmarshalCBOR(r); err != nil || r.Len() != 0 {
			return
		}
		var buf bytes.Buffer
		if err := a.MarshalCBOR(&buf); err != nil || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("round trip %x -> %x (%v)", data, buf.Bytes(), err)
		}
	})
}
