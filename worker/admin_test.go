package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
)

func waitThread(t *testing.T, c *rpc.Client, what string, ok func(api.ThreadInfo) bool) api.ThreadInfo {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var threads []api.ThreadInfo
		if err := c.Call(context.Background(), MethodWorkerList, &threads); err != nil {
			t.Fatal(err)
		}
		if ok(threads[0]) {
			return threads[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread never %s: %+v", what, threads[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAdminPauseResume pauses a thread through the admin API while its
// PreCommit poll is in flight, checks that it stays paused, resumes it and
// lets the sector finish. The heartbeat carries the admin URL and threads.
func TestAdminPauseResume(t *testing.T) {
	f := newFakeManager(t, 1)
	cfg, root := testConfig(t, f.URL, 1, "")
	f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "store")}
	f.block(api.MethodPollPreCommitState)
	w, _, _ := runWorker(t, cfg, Options{})
	c, err := rpc.Dial(context.Background(), w.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	<-f.blocked
	if err := c.Call(context.Background(), MethodWorkerPause, nil, "t0"); err != nil {
		t.Fatal(err)
	}
	info := waitThread(t, c, "paused", func(i api.ThreadInfo) bool { return i.Paused })
	if info.State != "Paused" || info.Stage != "PreCommitSubmitted" || info.Sector == nil || info.Error != "paused by operator" {
		t.Errorf("paused thread %+v", info)
	}
	if err := c.Call(context.Background(), MethodWorkerPause, nil, "nope"); err == nil {
		t.Error("pausing an unknown thread succeeded")
	}
	if err := c.Call(context.Background(), MethodWorkerResume, nil, "t0", "Finished"); err == nil {
		t.Error("a forced resume to Finished was accepted")
	}
	f.block("")
	if err := c.Call(context.Background(), MethodWorkerResume, nil, "t0", ""); err != nil {
		t.Fatal(err)
	}
	waitFinished(t, f, 1)
	waitThread(t, c, "idle", func(i api.ThreadInfo) bool { return i.State == "Empty" })
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		var last api.WorkerPing
		if len(f.pings) > 0 {
			last = f.pings[len(f.pings)-1]
		}
		f.mu.Unlock()
		if last.AdminURL == w.AdminURL() && len(last.Threads) == 1 && last.Threads[0].Name == "t0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat with the admin url: %+v", last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeTransferer stands in for package delivery's HTTP client.
type fakeTransferer struct {
	mu     sync.Mutex
	calls  int
	fail   []error // returned by successive calls; nil after
	target api.DeliveryTarget
	files  []LocalFile
}

func (f *fakeTransferer) Upload(_ context.Context, target api.DeliveryTarget, _ api.SectorID, files []LocalFile) (api.DeliveryState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.target, f.files = target, files
	for _, lf := range files {
		if _, err := os.Stat(lf.Path); err != nil {
			return "", err
		}
	}
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return "", err
	}
	return api.DeliveryVerifying, nil
}

// TestDeliverArch2 delivers to an SP receiver through the Transferer: a
// transient failure is retried, a rejection pauses the thread, and after
// the operator resumes it the accepted sector's local copy is removed.
func TestDeliverArch2(t *testing.T) {
	f := newFakeManager(t, 1)
	cfg, root := testConfig(t, f.URL, 1, "")
	f.target = api.DeliveryTarget{Architecture: api.ArchSPProves, ReceiverURL: "https://sp.example/receiver", Token: "tok"}
	tr := &fakeTransferer{fail: []error{errors.New("connection reset"), ErrDeliveryRejected}}
	w, _, _ := runWorker(t, cfg, Options{Transferer: tr})
	c, err := rpc.Dial(context.Background(), w.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	info := waitThread(t, c, "paused", func(i api.ThreadInfo) bool { return i.Paused })
	if info.Stage != "Finalized" {
		t.Errorf("paused in %+v", info)
	}
	if err := c.Call(context.Background(), MethodWorkerResume, nil, "t0", ""); err != nil {
		t.Fatal(err)
	}
	waitFinished(t, f, 1)
	waitThread(t, c, "idle", func(i api.ThreadInfo) bool { return i.State == "Empty" })
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.calls != 3 || tr.target.ReceiverURL != "https://sp.example/receiver" || len(tr.files) < 4 {
		t.Errorf("transfer calls %d target %+v files %d", tr.calls, tr.target, len(tr.files))
	}
	if _, err := os.Stat(filepath.Join(root, "persist", "sealed", "s-t01000-1")); !os.IsNotExist(err) {
		t.Errorf("local copy not removed after acceptance: %v", err)
	}
}

// TestManagerPauseResume: pause and resume commands queued at the manager
// arrive with the heartbeat answer (the manager's admin API path).
func TestManagerPauseResume(t *testing.T) {
	f := newFakeManager(t, 1)
	cfg, root := testConfig(t, f.URL, 1, "")
	cfg.Worker.PingInterval = Duration(20 * time.Millisecond)
	f.target = api.DeliveryTarget{Architecture: api.ArchProviderProves, StorePath: filepath.Join(root, "store")}
	f.block(api.MethodWaitSeed)
	w, _, _ := runWorker(t, cfg, Options{})
	c, err := rpc.Dial(context.Background(), w.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	<-f.blocked
	f.mu.Lock()
	f.pingResp = &api.WorkerPingResponse{Pause: []string{"t0"}}
	f.mu.Unlock()
	info := waitThread(t, c, "paused", func(i api.ThreadInfo) bool { return i.Paused })
	if info.Stage != "PreCommitLanded" {
		t.Errorf("paused in %+v", info)
	}
	f.block("")
	f.mu.Lock()
	f.pingResp = &api.WorkerPingResponse{Resume: []string{"t0"}}
	f.mu.Unlock()
	waitFinished(t, f, 1)
}
