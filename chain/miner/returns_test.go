package miner

import (
	"encoding/hex"
	"testing"

	"github.com/sealant/sealant/chain/types"
)

func TestBatchReturn(t *testing.T) {
	tests := []struct {
		v   BatchReturn
		hex string
	}{
		{BatchReturn{SuccessCount: 4}, "820480"},
		{BatchReturn{SuccessCount: 1, FailCodes: []FailCode{{Idx: 0, Code: types.ErrIllegalArgument}}}, "8201818200" + "10"},
		{BatchReturn{SuccessCount: 0, FailCodes: []FailCode{{Idx: 300, Code: types.ErrForbidden}, {Idx: 1, Code: 1000}}}, "820082" + "8219012c12" + "82011903e8"},
	}
	for _, tc := range tests {
		b, err := types.EncodeBytes(&tc.v)
		if err != nil || hex.EncodeToString(b) != tc.hex {
			t.Fatalf("encode %x %v, want %s", b, err, tc.hex)
		}
		back, err := DecodeBatchReturn(b)
		if err != nil || back.SuccessCount != tc.v.SuccessCount || len(back.FailCodes) != len(tc.v.FailCodes) {
			t.Fatalf("decode %+v %v", back, err)
		}
	}
	for _, bad := range []string{"", "8104", "82048182", "820480ff"} {
		raw, _ := hex.DecodeString(bad)
		if _, err := DecodeBatchReturn(raw); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func FuzzBatchReturn(f *testing.F) {
	f.Add([]byte{0x82, 0x04, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBatchReturn(data)
		if err != nil {
			return
		}
		out, err := types.EncodeBytes(b)
		if err != nil || hex.EncodeToString(out) != hex.EncodeToString(data) {
			t.Fatalf("round trip %x -> %x (%v)", data, out, err)
		}
	})
}
