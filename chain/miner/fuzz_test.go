package miner

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/sealant/sealant/chain/types"
)

// fuzzParams checks that DecodeParams for method never panics and that any
// accepted input re-encodes to itself and survives a JSON round trip.
func fuzzParams(f *testing.F, method types.MethodNum) {
	for _, tc := range paramCases(f) {
		if tc.method == method {
			b, _ := hex.DecodeString(tc.cbor)
			f.Add(b)
		}
	}
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeParams(method, data)
		if err != nil {
			return
		}
		out, err := EncodeParams(v.(Params))
		if err != nil {
			t.Fatalf("accepted %x but cannot re-encode: %v", data, err)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("non-canonical accept:\n in  %x\n out %x", data, out)
		}
		js, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json: %v", err)
		}
		fresh, _ := NewParams(method)
		if err := json.Unmarshal(js, fresh); err != nil {
			t.Fatalf("json back %s: %v", js, err)
		}
		if again, err := EncodeParams(fresh); err != nil || !bytes.Equal(again, data) {
			t.Fatalf("json round trip %s: %x %v", js, again, err)
		}
	})
}

func FuzzPreCommitSectorBatch2(f *testing.F) { fuzzParams(f, MethodPreCommitSectorBatch2) }
func FuzzProveCommitSectors3(f *testing.F)   { fuzzParams(f, MethodProveCommitSectors3) }
func FuzzProveCommitSectorsNI(f *testing.F)  { fuzzParams(f, MethodProveCommitSectorsNI) }
func FuzzSubmitWindowedPoSt(f *testing.F)    { fuzzParams(f, MethodSubmitWindowedPoSt) }
func FuzzDeclareFaultsRecovered(f *testing.F) {
	fuzzParams(f, MethodDeclareFaultsRecovered)
}
func FuzzWithdrawBalance(f *testing.F)      { fuzzParams(f, MethodWithdrawBalance) }
func FuzzPreCommitSector(f *testing.F)      { fuzzParams(f, MethodPreCommitSector) }
func FuzzProveCommitSector(f *testing.F)    { fuzzParams(f, MethodProveCommitSector) }
func FuzzPreCommitSectorBatch(f *testing.F) { fuzzParams(f, MethodPreCommitSectorBatch) }
func FuzzProveCommitAggregate(f *testing.F) { fuzzParams(f, MethodProveCommitAggregate) }
