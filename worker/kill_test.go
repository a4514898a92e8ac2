package worker

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/internal/testenv"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/porep"
)

type child struct {
	cmd    *exec.Cmd
	stderr *testenv.Buffer
	done   chan struct{}
}

func startChild(t *testing.T, cfgPath string) *child {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: exec.Command(self), stderr: &testenv.Buffer{}, done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), envChildWorker+"="+cfgPath)
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

func (c *child) kill9() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

func readState(t *testing.T, location string) string {
	data, err := os.ReadFile(filepath.Join(location, metaDir, recordFile))
	if err != nil {
		return ""
	}
	var r struct {
		State string `json:"state"`
	}
	_ = json.Unmarshal(data, &r)
	return r.State
}

var sealStageRe = regexp.MustCompile(`msg="seal stage".*? stage=(\S+)`)

// TestKill9Resume kills a worker process with SIGKILL in every state of
// the sealing pipeline (while a chosen manager call is in flight, or as
// soon as the thread's record reaches a state), restarts it, and checks
// that the sector finishes with the CommR of an independent seal and that
// no porep stage recorded as done before the kill ran again.
func TestKill9Resume(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns worker processes")
	}
	cases := []struct {
		name   string
		method string // block this call, then kill
		skip   int    // let this many calls of method through first
		state  string // or kill when the record reaches this state
	}{
		{name: "Allocated", method: api.MethodAcquirePieces},
		{name: "PiecesAcquired", state: "PiecesAcquired"},
		{name: "TreeDBuilt", method: api.MethodAssignTicket},
		{name: "TicketAssigned", state: "TicketAssigned"},
		{name: "PC1Done", state: "PC1Done"},
		{name: "PC2Done", method: api.MethodSubmitPreCommit},
		{name: "PreCommitSubmitted", method: api.MethodPollPreCommitState},
		{name: "PreCommitLanded", method: api.MethodWaitSeed},
		{name: "SeedAssigned", state: "SeedAssigned"},
		{name: "C2Done", method: api.MethodSubmitProof},
		{name: "ProofSubmitted", method: api.MethodPollProofState},
		{name: "ProofLanded", method: api.MethodReportFinalized},
		{name: "Finalized", method: api.MethodDeliveryTarget},
		// Killed while waiting for the verdict: the restart resumes
		// waiting (checked below: no second delivery report).
		{name: "Delivered", method: api.MethodDeliveryStatus},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeManager(t, 1)
			_, root := testConfig(t, f.URL, 1, "")
			f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "store")}
			cfgPath := filepath.Join(root, "worker.toml")
			loc := filepath.Join(root, "t0")
			if tc.method != "" {
				f.block(tc.method)
				f.blockSkip = tc.skip
			}
			c := startChild(t, cfgPath)
			deadline := time.After(60 * time.Second)
		wait:
			for {
				if tc.method != "" {
					select {
					case <-f.blocked:
						break wait
					case <-deadline:
						t.Fatalf("worker never called %s; stderr:\n%s", tc.method, c.stderr.String())
					}
				}
				if s := readState(t, loc); s == tc.state {
					break
				}
				select {
				case <-deadline:
					t.Fatalf("never reached %s", tc.state)
				case <-c.done:
					t.Fatalf("worker exited; stderr:\n%s", c.stderr.String())
				default:
					time.Sleep(200 * time.Microsecond)
				}
			}
			c.kill9()
			killedIn := readState(t, loc)
			var doneBefore []string
			if r, err := porep.LoadRecord(filepath.Join(loc, dataDir)); err == nil {
				doneBefore = r.Done
			}
			f.block("")
			c2 := startChild(t, cfgPath)
			var id api.SectorID
			select {
			case id = <-f.finished:
			case <-time.After(60 * time.Second):
				t.Fatalf("killed in %s: sector did not finish after restart; stderr:\n%s", killedIn, c2.stderr.String())
			}
			s, _ := f.sector(id)
			want := expectedCommR(t, root, id, s.ticket.Ticket, nil)
			if s.precommit.CommR != commp.SealedCID(want).String() {
				t.Fatalf("killed in %s: comm_r %s, want %s", killedIn, s.precommit.CommR, commp.SealedCID(want))
			}
			rerun := map[string]bool{}
			for _, m := range sealStageRe.FindAllStringSubmatch(c2.stderr.String(), -1) {
				rerun[m[1]] = true
			}
			for _, st := range doneBefore {
				if rerun[st] {
					t.Errorf("killed in %s: stage %s was done before the kill and ran again", killedIn, st)
				}
			}
			if tc.name == "Delivered" {
				f.mu.Lock()
				n := f.calls[api.MethodReportDelivery]
				f.mu.Unlock()
				if n != 1 {
					t.Errorf("killed in %s: %d delivery reports, want 1 (the restart must resume waiting, not deliver again)", killedIn, n)
				}
			}
			t.Logf("killed in %s (porep done %v); restart ran stages %v", killedIn, doneBefore, keys(rerun))
			if len(doneBefore) < 4 && len(rerun) == 0 {
				t.Errorf("killed in %s with porep stages %v done, but the restart logged no seal stage", killedIn, doneBefore)
			}
			_ = c2.cmd.Process.Signal(syscall.SIGTERM)
			<-c2.done
		})
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

var layerDoneRe = regexp.MustCompile(`msg="pc1 layer done".*? layer=(\d+)`)

// TestKill9MidPC1 kills a worker sealing an 8MiB sector right after PC1
// finished its first layer: the restart must resume PC1 at layer 2 (the
// layer-1 file verifies against sdr's manifest) and still reach the CommR
// of an independent seal. It seals 8MiB twice (over a minute on a loaded
// 2-core machine), so it runs only with SEALANT_WORKER_SLOW=1.
func TestKill9MidPC1(t *testing.T) {
	if testing.Short() || os.Getenv("SEALANT_WORKER_SLOW") == "" {
		t.Skip("set SEALANT_WORKER_SLOW=1 (8MiB seals in child processes)")
	}
	f := newFakeManager(t, 1)
	f.proof = 6 // StackedDrg8MiBV1_1
	_, root := testConfig(t, f.URL, 1, "")
	f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "store")}
	cfgPath := filepath.Join(root, "worker.toml")
	c := startChild(t, cfgPath)
	deadline := time.Now().Add(120 * time.Second)
	for {
		if m := layerDoneRe.FindStringSubmatch(c.stderr.String()); m != nil && m[1] == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pc1 layer 1 never finished; stderr:\n%s", c.stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
	c.kill9()
	if s := readState(t, filepath.Join(root, "t0")); s != "TicketAssigned" {
		t.Skipf("killed in %s, not during PC1 (machine too fast or too slow)", s)
	}
	c2 := startChild(t, cfgPath)
	var id api.SectorID
	select {
	case id = <-f.finished:
	case <-time.After(120 * time.Second):
		t.Fatalf("sector did not finish after restart; stderr:\n%s", c2.stderr.String())
	}
	var layers []string
	for _, m := range layerDoneRe.FindAllStringSubmatch(c2.stderr.String(), -1) {
		layers = append(layers, m[1])
	}
	if len(layers) != 1 || layers[0] != "2" {
		t.Errorf("restart labelled layers %v, want only layer 2", layers)
	}
	s, _ := f.sector(id)
	rec, err := porep.Seal(context.Background(), porep.SealRequest{Proof: 6, Miner: id.Miner, Sector: id.Number,
		Ticket: s.ticket.Ticket, Dir: t.TempDir(), ParentCacheDir: filepath.Join(root, "parents")})
	if err != nil {
		t.Fatal(err)
	}
	if s.precommit.CommR != commp.SealedCID(rec.CommR).String() {
		t.Fatalf("comm_r %s, want %s", s.precommit.CommR, commp.SealedCID(rec.CommR))
	}
	_ = c2.cmd.Process.Signal(syscall.SIGTERM)
	<-c2.done
}
