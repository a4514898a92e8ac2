package porep

import (
	"encoding/json"
	"testing"
)

func TestBytes32JSON(t *testing.T) {
	var ok Bytes32
	for i := range ok {
		ok[i] = byte(i * 8)
	}
	raw, _ := json.Marshal(ok)
	var back Bytes32
	if err := json.Unmarshal(raw, &back); err != nil || back != ok {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{
		`[1,2,3]`, `"abc"`, `null`, `[]`,
		`[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,256]`,
		`[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,-1]`,
		`[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,01]`,
		`[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1.0]`,
		`[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]`,
	} {
		var b Bytes32
		if err := json.Unmarshal([]byte(bad), &b); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func FuzzParseC1(f *testing.F) {
	f.Add([]byte(`{"registered_proof":"StackedDrg2KiBV1_1"}`))
	f.Add([]byte(`{"data":{"Single":{"root":[],"leaf":[],"path":{"path":[]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := ParseC1(data)
		if err != nil {
			return
		}
		// Whatever parses must verify or fail cleanly, never panic.
		_, _ = VerifyC1(out, nil)
	})
}
