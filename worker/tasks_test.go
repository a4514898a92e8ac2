package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
)

// TestTaskWireFormat checks the serde shapes of Appendix A.
func TestTaskWireFormat(t *testing.T) {
	task := C2Task{C1Out: json.RawMessage(`{"x":1}`), SectorID: 7, MinerID: 1000}
	task.ProverID[0] = 0xe8
	task.ProverID[1] = 0x07
	b, err := json.Marshal(task)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"c1out":{"x":1},"prover_id":[232,7,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"sector_id":7,"miner_id":1000}`
	if string(b) != want {
		t.Errorf("c2 task:\n got %s\nwant %s", b, want)
	}
	pc2, _ := json.Marshal(PC2Output{RegisteredProof: 5})
	if !strings.HasPrefix(string(pc2), `{"registered_proof":"StackedDrg2KiBV1_1","comm_r":[0,`) {
		t.Errorf("pc2 output %s", pc2)
	}
	var out C2Output
	if err := json.Unmarshal([]byte(`{"proof":[1,2,255]}`), &out); err != nil || !bytes.Equal(out.Proof, []byte{1, 2, 255}) {
		t.Errorf("proof ints: %v %v", out.Proof, err)
	}
	if err := json.Unmarshal([]byte(`{"proof":"AQL/"}`), &out); err != nil || !bytes.Equal(out.Proof, []byte{1, 2, 255}) {
		t.Errorf("proof base64: %v %v", out.Proof, err)
	}
	if err := json.Unmarshal([]byte(`{"proof":[256]}`), &out); err == nil {
		t.Error("byte 256 accepted")
	}
}

// TestServeProcessor drives the child side: ready line first, responses
// by id, malformed lines skipped, err_msg for failures.
func TestServeProcessor(t *testing.T) {
	in := strings.NewReader("{\"id\":1,\"task\":{\"echo\":\"a\"}}\nnot json\n{\"id\":2,\"task\":{\"fail\":true}}\n")
	var out bytes.Buffer
	h := func(_ context.Context, raw json.RawMessage) (any, error) {
		var t struct {
			Echo string
			Fail bool
		}
		json.Unmarshal(raw, &t)
		if t.Fail {
			return nil, io.ErrUnexpectedEOF
		}
		return t.Echo, nil
	}
	if err := ServeProcessor(context.Background(), "pc1", h, in, &out, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || lines[0] != "pc1 processor ready" {
		t.Fatalf("output %q", out.String())
	}
	got := map[string]bool{}
	for _, l := range lines[1:] {
		got[l] = true
	}
	if !got[`{"id":1,"err_msg":null,"output":"a"}`] || !got[`{"id":2,"err_msg":"unexpected EOF","output":null}`] {
		t.Errorf("responses %q", lines[1:])
	}
}

// FuzzServeProcessor: arbitrary input never panics and every response
// line is valid JSON with an id.
func FuzzServeProcessor(f *testing.F) {
	f.Add([]byte("{\"id\":1,\"task\":null}\n"))
	f.Add([]byte("{\"id\":-1}\n\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		h := func(_ context.Context, raw json.RawMessage) (any, error) { return len(raw), nil }
		_ = ServeProcessor(context.Background(), "c2", h, bytes.NewReader(data), &out, nil)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		for _, l := range lines[1:] {
			var r struct {
				ID *uint64 `json:"id"`
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.ID == nil {
				t.Fatalf("bad response line %q", l)
			}
		}
	})
}

// TestSealProofNames: tasks name proofs as filecoin-proofs-api's serde
// does, which for NI-PoRep differs from the chain's name; both parse back.
func TestSealProofNames(t *testing.T) {
	for _, c := range []struct {
		proof abi.RegisteredSealProof
		want  string
	}{
		{abi.StackedDrg2KiBV1_1, "StackedDrg2KiBV1_1"},
		{abi.StackedDrg32GiBV1_1, "StackedDrg32GiBV1_1"},
		{abi.RegisteredSealProof(15), "StackedDrg2KiBV1_2_Feat_NonInteractivePoRep"},
		{abi.RegisteredSealProof(18), "StackedDrg32GiBV1_2_Feat_NonInteractivePoRep"},
	} {
		b, err := SealProof(c.proof).MarshalText()
		if err != nil || string(b) != c.want {
			t.Errorf("%d: %q, %v; want %q", c.proof, b, err, c.want)
		}
		var back SealProof
		if err := back.UnmarshalText(b); err != nil || abi.RegisteredSealProof(back) != c.proof {
			t.Errorf("%q parses to %d, %v", b, back, err)
		}
	}
}
