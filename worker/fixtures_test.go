package worker

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sealant/sealant/manager/wdpost"
	"github.com/sealant/sealant/proofs/porep"
)

// TestProcessorFixtures round-trips every stage's golden task and output
// (testdata/processors, written from the Rust types cited in its README)
// byte for byte through the Go types that send and serve them.
func TestProcessorFixtures(t *testing.T) {
	for _, c := range []struct {
		file string
		v    func() any
	}{
		{"add_pieces-task.json", func() any { return new(AddPiecesTask) }},
		{"add_pieces-task-data.json", func() any { return new(AddPiecesTask) }},
		{"add_pieces-output.json", func() any { return new([]PieceInfo) }},
		{"tree_d-task.json", func() any { return new(TreeDTask) }},
		{"tree_d-output.json", func() any { return new(bool) }},
		{"pc1-task.json", func() any { return new(PC1Task) }},
		{"pc1-output.json", func() any { return new(PC1Output) }},
		{"pc2-task.json", func() any { return new(PC2Task) }},
		{"pc2-output.json", func() any { return new(PC2Output) }},
		{"pc2-output.json", func() any { return new(porep.SealPreCommitPhase2Output) }},
		{"c2-task.json", func() any { return new(C2Task) }},
		{"c2-output.json", func() any { return new(C2Output) }},
		{"window_post-task.json", func() any { return new(wdpost.ProcessorTask) }},
		{"window_post-output.json", func() any { return new(wdpost.ProcessorOutput) }},
		{"window_post-output-faults.json", func() any { return new(wdpost.ProcessorOutput) }},
		{"transfer-task.json", func() any { return new(TransferTask) }},
		{"transfer-output.json", func() any { return new(bool) }},
	} {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "processors", c.file))
			if err != nil {
				t.Fatal(err)
			}
			raw = bytes.TrimSuffix(raw, []byte("\n"))
			v := c.v()
			if err := json.Unmarshal(raw, v); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, raw) {
				t.Errorf("round trip differs:\n got %.400s\nwant %.400s", got, raw)
			}
		})
	}
	// The c1out inside the c2 task is a typed SealCommitPhase1Output too.
	raw, _ := os.ReadFile(filepath.Join("testdata", "processors", "c2-task.json"))
	var task C2Task
	if err := json.Unmarshal(raw, &task); err != nil {
		t.Fatal(err)
	}
	c1, err := porep.ParseC1(task.C1Out)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(c1); !bytes.Equal(got, task.C1Out) {
		t.Error("c1out does not round-trip through porep.SealCommitPhase1Output")
	}
	if _, err := porep.VerifyC1(c1, nil); err != nil {
		t.Errorf("c1out fixture does not verify: %v", err)
	}
	// A task's pc1out is the pc1 output.
	var pc2 PC2Task
	raw, _ = os.ReadFile(filepath.Join("testdata", "processors", "pc2-task.json"))
	json.Unmarshal(raw, &pc2)
	want, _ := os.ReadFile(filepath.Join("testdata", "processors", "pc1-output.json"))
	if got, _ := json.Marshal(pc2.PC1Out); !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
		t.Error("pc2 task's pc1out differs from the pc1 output")
	}
}

// TestTaskDecodeLikeSerde: unknown fields are ignored, missing ones are
// errors naming the field, as serde does for damocles' task structs.
func TestTaskDecodeLikeSerde(t *testing.T) {
	raw, _ := os.ReadFile(filepath.Join("testdata", "processors", "pc1-task.json"))
	extra := append([]byte(`{"future_field":[1,2],`), raw[1:]...)
	var task PC1Task
	if err := strictUnmarshal(extra, &task); err != nil || task.SectorID != 1 {
		t.Errorf("unknown field: %v", err)
	}
	missing := bytes.Replace(raw, []byte(`"sector_id":1,`), nil, 1)
	if err := strictUnmarshal(missing, &task); err == nil || err.Error() != `decode task: missing field "sector_id"` {
		t.Errorf("missing field: %v", err)
	}
}
