package sdr

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealant/sealant/proofs/abi"
)

// killChildEnv makes the test binary run batchKillChild instead of tests.
const killChildEnv = "SEALANT_SDR_BATCH_KILL_CHILD"

// stallSecond is a parent source that serves the first layer and then,
// at the second layer's first Iter, says so on stdout and blocks: the
// parent process kills it there, in the middle of a batch.
type stallSecond struct {
	src   ParentSource
	iters atomic.Int32
}

func (s *stallSecond) Iter(first uint64) (ParentIter, error) {
	if s.iters.Add(1) == 2 {
		fmt.Println("layer 2 started")
		select {}
	}
	return s.src.Iter(first)
}

// TestMain lets the test binary double as the child process of
// TestPC1BatchKill9.
func TestMain(m *testing.M) {
	if spec := os.Getenv(killChildEnv); spec != "" {
		batchKillChild(spec)
		return
	}
	os.Exit(m.Run())
}

// batchKillChild runs a 2KiB batch whose second layer never finishes.
// spec is "ROOT;PARENTDIR;RID1,RID2,…".
func batchKillChild(spec string) {
	parts := strings.Split(spec, ";")
	root, pcDir := parts[0], parts[1]
	var batch []BatchSector
	for i, h := range strings.Split(parts[2], ",") {
		var id [32]byte
		hex.Decode(id[:], []byte(h))
		batch = append(batch, BatchSector{CacheDir: filepath.Join(root, fmt.Sprint(i)), ReplicaID: id})
	}
	pc, err := OpenParentCache(context.Background(), abi.StackedDrg2KiBV1_1, pcDir, 1, nil)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	_, err = RunPC1Batch(context.Background(), abi.StackedDrg2KiBV1_1, batch, &BatchOptions{Parents: &stallSecond{src: pc}})
	fmt.Println("error: batch returned", err)
	os.Exit(1)
}

// TestPC1BatchKill9 kills -9 a process in the middle of a batch's second
// layer, restarts the batch here, and checks that only that layer is
// relabelled and that every sector's files equal its single-sector PC1.
func TestPC1BatchKill9(t *testing.T) {
	proof := abi.StackedDrg2KiBV1_1
	ids := batchReplicaIDs(t, 3)
	root := t.TempDir()
	pcDir := filepath.Join(root, "parents")
	var hexIDs []string
	for _, id := range ids {
		hexIDs = append(hexIDs, hex.EncodeToString(id[:]))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+root+";"+pcDir+";"+strings.Join(hexIDs, ","))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case l := <-lines:
		if l != "layer 2 started" {
			t.Fatalf("child said %q", l)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("child never reached layer 2")
	}
	// Layer 1 is written while layer 2 is labelled: wait until every
	// manifest records it, then kill.
	var batch []BatchSector
	for i, id := range ids {
		batch = append(batch, BatchSector{CacheDir: filepath.Join(root, fmt.Sprint(i)), ReplicaID: id})
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range batch {
		for {
			if b, err := os.ReadFile(filepath.Join(s.CacheDir, ManifestFileName)); err == nil && strings.Contains(string(b), `"layer": 1`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("layer 1 never recorded in %s", s.CacheDir)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for _, s := range batch {
		if _, err := os.Stat(LayerPath(s.CacheDir, 2)); err == nil {
			t.Fatalf("%s has layer 2 although the child never labelled it", s.CacheDir)
		}
	}

	res, err := RunPC1Batch(context.Background(), proof, batch, &BatchOptions{ParentCacheDir: pcDir})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range batch {
		if res[i].Resumed != 1 {
			t.Errorf("sector %d: resumed %d layers, want 1 (only layer 2 relabelled)", i, res[i].Resumed)
		}
		single := t.TempDir()
		if _, err := RunPC1(context.Background(), single, ids[i], proof, &PC1Options{ParentCacheDir: pcDir}); err != nil {
			t.Fatal(err)
		}
		got, want := layerSums(t, s.CacheDir, 2), layerSums(t, single, 2)
		if got[0] != want[0] || got[1] != want[1] {
			t.Errorf("sector %d: layers after kill and resume differ from a single-sector PC1", i)
		}
	}
	checkGoldenLayers(t, loadGolden(t), batch[0].CacheDir)
}
