package devnet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet"
	"github.com/sealant/sealant/rpc"
)

// startNode initialises and starts a devnet driven by the returned clock.
func startNode(t testing.TB, miners int) (*devnet.Node, *clock, string) {
	t.Helper()
	return startNodeEvery(t, miners, 2*time.Millisecond)
}

func startNodeEvery(t testing.TB, miners int, period time.Duration) (*devnet.Node, *clock, string) {
	t.Helper()
	dir := t.TempDir()
	if err := devnet.Init(context.Background(), dir, devnet.DefaultGenesis(miners)); err != nil {
		t.Fatal(err)
	}
	clk := newClock(period)
	n, err := devnet.New(devnet.Config{Dir: dir, Listen: "127.0.0.1:0", Ticks: clk.ch})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.run(n.Head)
	t.Cleanup(func() {
		clk.stop()
		n.Close()
	})
	return n, clk, dir
}

func client(t testing.TB, info string) *lotus.Client {
	t.Helper()
	c, err := lotus.New(lotus.Config{APIInfo: info, Retry: lotus.RetryPolicy{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInitFiles(t *testing.T) {
	dir := t.TempDir()
	if err := devnet.Init(context.Background(), dir, devnet.DefaultGenesis(2)); err != nil {
		t.Fatal(err)
	}
	if err := devnet.Init(context.Background(), dir, devnet.DefaultGenesis(2)); err == nil {
		t.Fatal("second init over an existing chain succeeded")
	}
	g, err := devnet.LoadGenesis(filepath.Join(dir, devnet.GenesisFileName))
	if err != nil || len(g.Miners) != 2 || g.Policy.PreCommitChallengeDelay != 10 {
		t.Fatalf("written genesis %+v %v", g, err)
	}
	for _, name := range []string{"faucet", "sp1-owner", "sp1-worker", "sp2-owner", "sp2-worker"} {
		fi, err := os.Stat(devnet.OwnerKeyPath(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file %s: %v %v", name, fi, err)
		}
	}
	b, _ := os.ReadFile(devnet.OwnerKeyPath(dir, "sp1-worker"))
	ki, err := sigs.ParseKeyInfo(b)
	if err != nil || ki.Type != sigs.KTBLS {
		t.Fatalf("worker key %v %v", ki, err)
	}
	if _, err := devnet.New(devnet.Config{Dir: t.TempDir()}); !errors.Is(err, devnet.ErrNotInitialized) {
		t.Fatalf("New on an empty dir: %v", err)
	}
}

func TestGenesisErrors(t *testing.T) {
	for name, g := range map[string]*devnet.Genesis{
		"unknown owner":    {Miners: []devnet.MinerSpec{{Name: "m", Owner: "nobody"}}},
		"bad sector size":  {Accounts: []devnet.AccountSpec{{Name: "a"}}, Miners: []devnet.MinerSpec{{Name: "m", Owner: "a", SectorSize: "3KiB"}}},
		"bad key type":     {Accounts: []devnet.AccountSpec{{Name: "a", Type: "rsa"}}},
		"duplicate names":  {Accounts: []devnet.AccountSpec{{Name: "a"}, {Name: "a"}}},
		"path in name":     {Accounts: []devnet.AccountSpec{{Name: "../x"}}},
		"bad balance":      {Accounts: []devnet.AccountSpec{{Name: "a", Balance: "lots"}}},
		"bad seed":         {Seed: "zz"},
		"bad address":      {Accounts: []devnet.AccountSpec{{Name: "a", Address: "f1nope"}}},
		"missing key file": {Accounts: []devnet.AccountSpec{{Name: "a", KeyFile: "/nonexistent/key.json"}}},
		"secp worker":      {Accounts: []devnet.AccountSpec{{Name: "a"}}, Miners: []devnet.MinerSpec{{Name: "m", Owner: "a"}}},
	} {
		t.Run(name, func(t *testing.T) {
			if err := devnet.Init(context.Background(), t.TempDir(), g); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	path := filepath.Join(t.TempDir(), "g.toml")
	os.WriteFile(path, []byte("network_name = \"x\"\nbogus = 1\n"), 0o644)
	if _, err := devnet.LoadGenesis(path); !errors.Is(err, devnet.ErrConfig) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestAPIBasics(t *testing.T) {
	n, _, dir := startNode(t, 1)
	ctx := context.Background()
	api := client(t, n.APIInfo())
	ch, err := api.ChainNotify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := <-ch
	if len(first) != 1 || first[0].Type != lotus.HCCurrent {
		t.Fatalf("first notification %+v", first)
	}
	var last *lotus.TipSet
	for i := 0; i < 3; i++ {
		ch := <-ch
		if ch[0].Type != lotus.HCApply {
			t.Fatalf("notification %+v", ch)
		}
		if last != nil && (ch[0].Val.Height != last.Height+1 || !ch[0].Val.Blocks[0].Parents[0].Equals(last.Cids[0])) {
			t.Fatalf("tipset %d does not follow %d", ch[0].Val.Height, last.Height)
		}
		last = ch[0].Val
	}
	ts, err := api.ChainGetTipSetByHeight(ctx, last.Height-1, last.Key())
	if err != nil || ts.Height != last.Height-1 || !ts.Cids[0].Equals(last.Blocks[0].Parents[0]) {
		t.Fatalf("by height %+v %v", ts, err)
	}
	if _, err := api.ChainGetTipSetByHeight(ctx, last.Height+1000, last.Key()); err == nil {
		t.Fatal("tipset above the start point")
	}
	// Ticket randomness = DrawRandomness over the block's VRF proof, and
	// the digest variant agrees.
	ent := []byte{1, 2, 3}
	r, err := api.StateGetRandomnessFromTickets(ctx, rand.TagSealRandomness, ts.Height, ent, last.Key())
	if err != nil {
		t.Fatal(err)
	}
	if r != rand.DrawRandomness(ts.Blocks[0].Ticket.VRFProof, rand.TagSealRandomness, int64(ts.Height), ent) {
		t.Fatal("ticket randomness does not match the block ticket")
	}
	d, err := api.StateGetRandomnessDigestFromBeacon(ctx, ts.Height, last.Key())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := api.StateGetRandomnessFromBeacon(ctx, 6, ts.Height, ent, last.Key())
	if b != rand.DrawRandomnessFromDigest(d, 6, int64(ts.Height), ent) {
		t.Fatal("beacon randomness and digest disagree")
	}
	if _, err := api.StateGetRandomnessFromTickets(ctx, 5, last.Height+1, ent, last.Key()); err == nil {
		t.Fatal("randomness from the future")
	}
	// Lookups.
	if _, err := api.StateLookupID(ctx, mustAddr(t, "f1xcbgdhkgkwht3hrrnui3jdopeejsoatkzmoltqy"), types.EmptyTSK); !lotus.IsActorNotFound(err) {
		t.Fatalf("unknown actor: %v", err)
	}
	owner := mustAddr(t, n.Accounts()["sp1-owner"])
	id, err := api.StateLookupID(ctx, owner, types.EmptyTSK)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := api.StateAccountKey(ctx, id, types.EmptyTSK); err != nil || k != owner {
		t.Fatalf("account key %v %v", k, err)
	}
	if bal, err := api.WalletBalance(ctx, owner); err != nil || bal.Cmp(types.FromFil(100000)) != 0 {
		t.Fatalf("balance %v %v", bal, err)
	}
	if nv, err := api.StateNetworkVersion(ctx, types.EmptyTSK); err != nil || nv != devnet.NetworkVersion {
		t.Fatalf("nv %v %v", nv, err)
	}
	if _, err := api.WalletSign(ctx, owner, []byte("x")); err == nil || !strings.Contains(err.Error(), "no wallet keys") {
		t.Fatalf("wallet sign: %v", err)
	}
	_ = dir
}

func mustAddr(t testing.TB, s string) address.Address {
	t.Helper()
	a, err := address.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPermissions(t *testing.T) {
	n, clk, dir := startNode(t, 1)
	ctx := context.Background()
	k := loadKey(t, dir, "faucet")
	to := mustAddr(t, n.Accounts()["sp1-owner"])
	msg := &types.Message{To: to, From: k.addr, Value: types.FromFil(1), GasLimit: 1e6, GasFeeCap: types.NewInt(1000), GasPremium: types.NewInt(100)}
	sm, err := sigs.SignMessage(k.kind, k.priv, msg)
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.SplitN(n.APIInfo(), ":", 2)[1]
	read, _ := n.Token(rpc.PermRead)
	for name, info := range map[string]string{"anonymous": addr, "read token": read + ":" + addr} {
		if _, err := client(t, info).MpoolPush(ctx, sm); err == nil {
			t.Fatalf("%s pushed a message", name)
		}
		if _, err := client(t, info).ChainHead(ctx); err != nil {
			t.Fatalf("%s cannot read: %v", name, err)
		}
	}
	if _, err := client(t, "bogus.token.x:"+addr).ChainHead(ctx); !errors.Is(err, lotus.ErrUnauthorized) {
		t.Fatalf("bad token: %v", err)
	}
	write, _ := n.Token(rpc.PermWrite)
	api := client(t, write+":"+addr)
	clk.pause() // keep the message in the mpool for the checks below
	c, err := api.MpoolPush(ctx, sm)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := api.MpoolPush(ctx, sm); err != nil || !again.Equals(c) {
		t.Fatalf("pushing the same message again: %v %v", again, err)
	}
	if nonce, err := api.MpoolGetNonce(ctx, k.addr); err != nil || nonce != 1 {
		t.Fatalf("nonce %d %v", nonce, err)
	}
	clk.resume()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ml, err := api.StateWaitMsg(wctx, c, 2, lotus.LookbackNoLimit, false)
	if err != nil || ml.Receipt.ExitCode != 0 {
		t.Fatalf("wait %+v %v", ml, err)
	}
	if bal, _ := api.WalletBalance(ctx, to); bal.Cmp(types.FromFil(100001)) != 0 {
		t.Fatalf("receiver balance %s", bal)
	}
}

func BenchmarkExecuteSignedSends(b *testing.B) {
	dir := b.TempDir()
	if err := devnet.Init(context.Background(), dir, devnet.DefaultGenesis(0)); err != nil {
		b.Fatal(err)
	}
	n, err := devnet.New(devnet.Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	k := loadKey(b, dir, "faucet")
	to := mustAddr(b, "f1xcbgdhkgkwht3hrrnui3jdopeejsoatkzmoltqy")
	sms := make([]*types.SignedMessage, b.N)
	for i := range sms {
		msg := &types.Message{To: to, From: k.addr, Nonce: uint64(i), Value: types.NewInt(1), GasLimit: 1e6, GasFeeCap: types.NewInt(1000), GasPremium: types.NewInt(100)}
		if sms[i], err = sigs.SignMessage(k.kind, k.priv, msg); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i, sm := range sms {
		if _, err := n.Push(ctx, sm); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 {
			if err := n.Step(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	for n.Executed() < b.N {
		if err := n.Step(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
}

func BenchmarkChainHead50Clients(b *testing.B) {
	n, _, _ := startNodeEvery(b, 1, time.Second) // the default block time
	clients := make([]*lotus.Client, 50)
	for i := range clients {
		clients[i] = client(b, n.APIInfo())
	}
	var next atomic.Int64
	b.SetParallelism((50 + 1) / 2) // × GOMAXPROCS(2) ≈ 50 goroutines
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		c := clients[int(next.Add(1)-1)%len(clients)]
		for pb.Next() {
			if _, err := c.ChainHead(context.Background()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
	// Server and clients share the process: CPU per call covers both ends.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/call")
}

// cpuTime is the process's user+system CPU time, a load-independent cost
// measure on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestReplaceByFee(t *testing.T) {
	n, clk, dir := startNode(t, 1)
	ctx := context.Background()
	api := client(t, n.APIInfo())
	k := loadKey(t, dir, "faucet")
	to := mustAddr(t, n.Accounts()["sp1-owner"])
	sign := func(premium int64) *types.SignedMessage {
		msg := &types.Message{To: to, From: k.addr, Value: types.FromFil(1), GasLimit: 1e6, GasFeeCap: types.NewInt(10_000), GasPremium: types.NewInt(premium)}
		sm, err := sigs.SignMessage(k.kind, k.priv, msg)
		if err != nil {
			t.Fatal(err)
		}
		return sm
	}
	clk.pause()
	a, err := api.MpoolPush(ctx, sign(100))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.MpoolPush(ctx, sign(110)); err == nil || !strings.Contains(err.Error(), "replace by fee") {
		t.Fatalf("under-priced replacement: %v", err)
	}
	b, err := api.MpoolPush(ctx, sign(111))
	if err != nil {
		t.Fatal(err)
	}
	clk.resume()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ml, err := api.StateWaitMsg(wctx, a, 0, lotus.LookbackNoLimit, true)
	if err != nil || !ml.Message.Equals(b) || ml.Receipt.ExitCode != 0 {
		t.Fatalf("wait for the replaced message: %+v %v (replacement %s)", ml, err, b)
	}
	if l, err := api.StateSearchMsg(ctx, types.EmptyTSK, a, lotus.LookbackNoLimit, false); err != nil || l != nil {
		t.Fatalf("replaced message found without allowReplaced: %+v %v", l, err)
	}
	if bal, _ := api.WalletBalance(ctx, to); bal.Cmp(types.FromFil(100001)) != 0 {
		t.Fatalf("replacement executed %s times?", bal)
	}
}

func TestGenesisExternalKeys(t *testing.T) {
	dir := t.TempDir()
	priv, err := sigs.GenerateKey(types.SigTypeBLS, nil)
	if err != nil {
		t.Fatal(err)
	}
	ki, _ := sigs.NewKeyInfo(types.SigTypeBLS, priv)
	kf := filepath.Join(t.TempDir(), "worker.key")
	os.WriteFile(kf, []byte(ki.HexLotus()), 0o600)
	workerAddr, _ := ki.Address()
	ownerAddr := "f1xcbgdhkgkwht3hrrnui3jdopeejsoatkzmoltqy"
	g := &devnet.Genesis{
		Accounts: []devnet.AccountSpec{{Name: "own", Address: ownerAddr, Balance: "5"}, {Name: "wrk", KeyFile: kf, Balance: "7"}},
		Miners:   []devnet.MinerSpec{{Name: "m", Owner: "own", Worker: "wrk", SectorSize: "8MiB"}},
	}
	if err := devnet.Init(context.Background(), dir, g); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"own", "wrk"} {
		if _, err := os.Stat(devnet.OwnerKeyPath(dir, name)); !os.IsNotExist(err) {
			t.Fatalf("init wrote a key for externally keyed account %s: %v", name, err)
		}
	}
	n, err := devnet.New(devnet.Config{Dir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	api := client(t, n.APIInfo())
	mi, err := api.StateMinerInfo(context.Background(), mustAddr(t, n.Miners()["m"]), types.EmptyTSK)
	if err != nil || mi.SectorSize != 8<<20 {
		t.Fatalf("miner %+v %v", mi, err)
	}
	if k, err := api.StateAccountKey(context.Background(), mi.Worker, types.EmptyTSK); err != nil || k != workerAddr {
		t.Fatalf("worker key %v %v", k, err)
	}
	if bal, err := api.WalletBalance(context.Background(), mustAddr(t, ownerAddr)); err != nil || bal.Cmp(types.FromFil(5)) != 0 {
		t.Fatalf("owner balance %v %v", bal, err)
	}
}
