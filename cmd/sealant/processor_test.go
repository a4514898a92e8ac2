package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
)

type procResp struct {
	ID     uint64          `json:"id"`
	ErrMsg *string         `json:"err_msg"`
	Output json.RawMessage `json:"output"`
}

// runProcessor feeds tasks (one per line, ids 1…n) to `sealant processor
// STAGE` and returns the responses by id (lines that do not parse get
// none).
func runProcessor(t *testing.T, stage string, flags []string, tasks ...string) map[uint64]procResp {
	t.Helper()
	var in strings.Builder
	for i, task := range tasks {
		fmt.Fprintf(&in, "{\"id\":%d,\"task\":%s}\n", i+1, task)
	}
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetArgs(append([]string{"processor", stage}, flags...))
	root.SetIn(strings.NewReader(in.String()))
	root.SetOut(&out)
	root.SetErr(&errb)
	if err := root.Execute(); err != nil {
		t.Fatalf("processor %s: %v\n%s", stage, err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if lines[0] != stage+" processor ready" {
		t.Fatalf("first line %q", lines[0])
	}
	got := map[uint64]procResp{}
	for _, l := range lines[1:] {
		var r procResp
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("response %q: %v", l, err)
		}
		got[r.ID] = r
	}
	return got
}

func ok(t *testing.T, r procResp) json.RawMessage {
	t.Helper()
	if r.ID == 0 {
		t.Fatal("no response")
	}
	if r.ErrMsg != nil {
		t.Fatalf("task %d failed: %s", r.ID, *r.ErrMsg)
	}
	return r.Output
}

func shaFile(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(raw)
	return hex.EncodeToString(s[:])
}

func ints(b []byte) string {
	s := make([]string, len(b))
	for i, v := range b {
		s[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(s, ",") + "]"
}

func unhex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestProcessorPC1PC2BareDir: `sealant processor pc1` then `processor pc2`
// on a bare directory holding only the staged zero piece of a 2KiB sector
// give the golden lotus sector's layers, replica and CommR; bad tasks in
// the same stream get errors naming the problem and the processor keeps
// serving; tree_d and window_post work on the result.
func TestProcessorPC1PC2BareDir(t *testing.T) {
	raw, err := os.ReadFile("../../proofs/porep/testdata/seal-2k-golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		ProverID  string `json:"prover_id"`
		Sector    uint64 `json:"sector"`
		Ticket    string `json:"ticket"`
		CommD     string `json:"comm_d_hex"`
		CommR     string `json:"comm_r_hex"`
		Layer1    string `json:"layer1_file_sha256"`
		Layer2    string `json:"layer2_file_sha256"`
		SealedSHA string `json:"sealed_file_sha256"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	staged, cache, sealed := filepath.Join(dir, "staged"), filepath.Join(dir, "cache"), filepath.Join(dir, "sealed")
	os.WriteFile(staged, make([]byte, 2048), 0o644)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 4096), 0o644)
	zero, _ := commp.ZeroCommitment(2048)
	task := func(proof, in, cachePath string, pieces string) string {
		return fmt.Sprintf(`{"registered_proof":%q,"cache_path":%q,"in_path":%q,"out_path":%q,"prover_id":%s,"sector_id":%d,"ticket":%s,"piece_infos":%s}`,
			proof, cachePath, in, sealed, ints(unhex(t, g.ProverID)), g.Sector, ints(unhex(t, g.Ticket)), pieces)
	}
	cc := fmt.Sprintf(`[{"commitment":%s,"size":2032}]`, ints(zero[:]))
	flags := []string{"--parent-cache", t.TempDir(), "--workers", "1"}
	resp := runProcessor(t, "pc1", flags,
		task("StackedDrg2KiBV1_1", filepath.Join(dir, "absent"), cache, cc),
		task("StackedDrg2KiBV1_1", big, cache, cc),
		task("StackedDrg2KiBV1_1", staged, cache, fmt.Sprintf(`[{"commitment":%s,"size":2032},{"commitment":%s,"size":2032}]`, ints(zero[:]), ints(zero[:]))),
		task("StackedDrg2KiBV1_1", staged, "relative/cache", cc),
		task("StackedDrg3KiBV1_1", staged, cache, cc),
		task("StackedDrg2KiBV1_1", staged, cache, `[{"commitment":`+ints(zero[:])+`,"size":2000}]`),
		`{"registered_proof":"StackedDrg2KiBV1_1"`,
		task("StackedDrg2KiBV1_1", staged, cache, cc),
	)
	for id, want := range map[uint64]string{1: "in_path", 2: "4096 bytes", 3: "4096 padded bytes", 4: "not absolute",
		5: "StackedDrg3KiBV1_1", 6: "piece_infos[0]: size 2000"} {
		if r := resp[id]; r.ErrMsg == nil || !strings.Contains(*r.ErrMsg, want) {
			t.Errorf("bad task %d: err_msg %v, want one naming %q", id, r.ErrMsg, want)
		}
	}
	if _, ok := resp[7]; ok {
		t.Error("a line that does not parse was answered (damocles skips it)")
	}
	pc1out := ok(t, resp[8])
	out, err := porep.ParsePC1Output(pc1out)
	if err != nil {
		t.Fatal(err)
	}
	if out.CommD.String() != g.CommD || len(out.Labels.Configs) != 2 || out.Config.Path != cache {
		t.Errorf("pc1 output %s", pc1out)
	}
	if shaFile(t, filepath.Join(cache, "sc-02-data-layer-1.dat")) != g.Layer1 || shaFile(t, filepath.Join(cache, "sc-02-data-layer-2.dat")) != g.Layer2 {
		t.Error("layer files differ from the golden sector's")
	}

	pc2 := func(pc1 json.RawMessage, cacheDir string) string {
		return fmt.Sprintf(`{"pc1out":%s,"cache_dir":%q,"sealed_file":%q}`, pc1, cacheDir, sealed)
	}
	resp = runProcessor(t, "pc2", flags,
		pc2(json.RawMessage(strings.Replace(string(pc1out), `"layer-2"`, `"layer-7"`, 1)), cache),
		pc2(pc1out, t.TempDir()),
		pc2(pc1out, cache),
	)
	if r := resp[1]; r.ErrMsg == nil || !strings.Contains(*r.ErrMsg, "layer-7") {
		t.Errorf("bad label id: %v", r.ErrMsg)
	}
	if r := resp[2]; r.ErrMsg == nil || !strings.Contains(*r.ErrMsg, "cache directory incomplete") {
		t.Errorf("empty cache: %v", r.ErrMsg)
	}
	var p2 struct {
		RegisteredProof string        `json:"registered_proof"`
		CommR           porep.Bytes32 `json:"comm_r"`
		CommD           porep.Bytes32 `json:"comm_d"`
	}
	if err := json.Unmarshal(ok(t, resp[3]), &p2); err != nil {
		t.Fatal(err)
	}
	if p2.RegisteredProof != "StackedDrg2KiBV1_1" || p2.CommR.String() != g.CommR || p2.CommD.String() != g.CommD {
		t.Errorf("pc2 output %+v, want comm_r %s", p2, g.CommR)
	}
	if shaFile(t, sealed) != g.SealedSHA {
		t.Error("replica differs from the golden sector's")
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if strings.Join(names, " ") != "big cache sealed staged" {
		t.Errorf("files in the directory: %v", names)
	}

	// tree_d over the staged file in a fresh cache gives the same tree.
	treeCache := t.TempDir()
	resp = runProcessor(t, "tree_d", flags,
		fmt.Sprintf(`{"registered_proof":"StackedDrg2KiBV1_1","staged_file":%q,"cache_dir":%q}`, staged, treeCache),
		fmt.Sprintf(`{"registered_proof":"StackedDrg2KiBV1_1","staged_file":%q,"cache_dir":%q}`, big, treeCache))
	if string(ok(t, resp[1])) != "true" || shaFile(t, filepath.Join(treeCache, "sc-02-data-tree-d.dat")) != shaFile(t, filepath.Join(cache, "sc-02-data-tree-d.dat")) {
		t.Error("tree_d output or tree differs")
	}
	if r := resp[2]; r.ErrMsg == nil || !strings.Contains(*r.ErrMsg, "wrong size") {
		t.Errorf("tree_d wrong size: %v", r.ErrMsg)
	}

	// window_post on the sealed sector, with the devnet stand-in.
	wp := fmt.Sprintf(`{"miner_id":1002,"proof_type":"StackedDrgWindow2KiBV1_2","replicas":[{"sector_id":%d,"comm_r":%s,"cache_dir":%q,"sealed_file":%q}],"seed":%s}`,
		g.Sector, ints(p2.CommR[:]), cache, sealed, ints(make([]byte, 32)))
	resp = runProcessor(t, "window_post", []string{"--devnet"}, wp, strings.Replace(wp, "V1_2", "V9", 1))
	var wout struct {
		Proofs []string `json:"proofs"`
		Faults []uint64 `json:"faults"`
	}
	if err := json.Unmarshal(ok(t, resp[1]), &wout); err != nil || len(wout.Proofs) != 1 || len(wout.Faults) != 0 {
		t.Errorf("window_post output %+v %v", wout, err)
	}
	if r := resp[2]; r.ErrMsg == nil || !strings.Contains(*r.ErrMsg, "StackedDrgWindow2KiBV9") {
		t.Errorf("window_post bad proof: %v", r.ErrMsg)
	}
}

// TestProcessorTwoPieces: a data sector with two pieces staged by Sealant
// gives the same CommR through `processor pc1` and `pc2` as porep.Seal.
func TestProcessorTwoPieces(t *testing.T) {
	src := t.TempDir()
	a, b := filepath.Join(src, "a"), filepath.Join(src, "b")
	os.WriteFile(a, bytes.Repeat([]byte{7}, 200), 0o644)
	os.WriteFile(b, bytes.Repeat([]byte{9}, 1000), 0o644)
	pcache := t.TempDir()
	sdir := t.TempDir()
	ticket := [32]byte{9, 9, 9}
	rec, err := porep.Seal(context.Background(), porep.SealRequest{Proof: abi.StackedDrg2KiBV1_1, Miner: 1000, Sector: 3,
		Ticket: ticket, Pieces: []string{a, b}, Dir: sdir, ParentCacheDir: pcache, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	staged, cache, sealed := filepath.Join(dir, "staged"), filepath.Join(dir, "cache"), filepath.Join(dir, "sealed")
	data, _ := os.ReadFile(porep.UnsealedPath(sdir))
	os.WriteFile(staged, data, 0o644)
	var pieces []string
	for _, p := range rec.Pieces {
		pieces = append(pieces, fmt.Sprintf(`{"commitment":%s,"size":%d}`, ints(p.CommP[:]), p.Size/128*127))
	}
	flags := []string{"--parent-cache", pcache, "--workers", "1"}
	prover := []byte{0xe8, 0x07}
	resp := runProcessor(t, "pc1", flags, fmt.Sprintf(
		`{"registered_proof":"StackedDrg2KiBV1_1","cache_path":%q,"in_path":%q,"out_path":%q,"prover_id":%s,"sector_id":3,"ticket":%s,"piece_infos":[%s]}`,
		cache, staged, sealed, ints(append(prover, make([]byte, 30)...)), ints(ticket[:]), strings.Join(pieces, ",")))
	pc1out := ok(t, resp[1])
	resp = runProcessor(t, "pc2", flags, fmt.Sprintf(`{"pc1out":%s,"cache_dir":%q,"sealed_file":%q}`, pc1out, cache, sealed))
	var p2 struct {
		CommR porep.Bytes32 `json:"comm_r"`
	}
	if err := json.Unmarshal(ok(t, resp[1]), &p2); err != nil {
		t.Fatal(err)
	}
	if p2.CommR != rec.CommR {
		t.Errorf("comm_r %s, want %s", p2.CommR, rec.CommR)
	}
}
