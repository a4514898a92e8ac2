package signer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
)

func TestInitAndConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	made, err := Init(dir)
	if err != nil || len(made) != 2 {
		t.Fatalf("init: %v %v", made, err)
	}
	// Init never overwrites.
	_ = os.WriteFile(filepath.Join(dir, PolicyFileName), []byte("edited"), 0o600)
	if made, err := Init(dir); err != nil || len(made) != 0 {
		t.Fatalf("second init: %v %v", made, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, PolicyFileName)); string(b) != "edited" {
		t.Fatal("init overwrote the policy")
	}
	for _, d := range []string{KeysDirName, StateDirName} {
		st, err := os.Stat(filepath.Join(dir, d))
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v %v", d, st.Mode(), err)
		}
	}
	c, err := LoadConfig(filepath.Join(dir, ConfigFileName))
	if err != nil {
		t.Fatal(err)
	}
	if c.Path(c.Keystore) != filepath.Join(dir, "keys") || c.Path("/abs") != "/abs" {
		t.Fatalf("paths: %s", c.Path(c.Keystore))
	}
	if _, err := c.Endpoints(); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("endpoints without token file: %v", err)
	}
	_ = os.WriteFile(filepath.Join(dir, "manager.token"), []byte("tok\n"), 0o600)
	eps, err := c.Endpoints()
	if err != nil || len(eps) != 1 || eps[0].Token != "tok" || !strings.HasPrefix(eps[0].URL, "wss://") {
		t.Fatalf("endpoints %+v %v", eps, err)
	}

	bad := []struct{ name, text, want string }{
		{"unknown key", "keystore='k'\nstate_dir='s'\naudit_log='a'\npolicy='p'\nkeystor='x'\n", "unknown key"},
		{"missing policy", "keystore='k'\nstate_dir='s'\naudit_log='a'\n", "policy is required"},
	}
	for _, tc := range bad {
		p := filepath.Join(t.TempDir(), "c.toml")
		_ = os.WriteFile(p, []byte(tc.text), 0o600)
		if _, err := LoadConfig(p); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	p := filepath.Join(t.TempDir(), "c.toml")
	_ = os.WriteFile(p, []byte("keystore='k'\nstate_dir='s'\naudit_log='a'\npolicy='p'\n[[managers]]\nurl='http://x'\ntoken_file='t'\n"), 0o600)
	c, _ = LoadConfig(p)
	if _, err := c.Endpoints(); !errors.Is(err, ErrConfig) {
		t.Fatalf("http url accepted: %v", err)
	}
}

func TestConfigOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	if _, err := Init(dir); err != nil {
		t.Fatal(err)
	}
	c, _ := LoadConfig(filepath.Join(dir, ConfigFileName))
	if _, _, err := c.Open([]byte("pw-long-enough"), nil); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("open with no keys: %v", err)
	}
	ks, _ := OpenKeystore(c.Path(c.Keystore))
	ks.KDF = testKDF
	for _, ki := range testKeys(t) {
		if _, err := ks.Import(ki, []byte("pw-long-enough")); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := c.Open([]byte("nope"), nil); !errors.Is(err, ErrBadPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	s, closeFn, err := c.Open([]byte("pw-long-enough"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Addresses()) != 2 {
		t.Fatalf("addresses %v", s.Addresses())
	}
	if err := closeFn(); err != nil {
		t.Fatal(err)
	}
	if s.wallet.Has(keyAddr(t, testKeys(t)[0])) {
		t.Fatal("keys still in memory after close")
	}
}

func TestAuditAppendOnly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.jsonl")
	for i := 0; i < 2; i++ {
		a, err := OpenAudit(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Write(AuditEntry{Time: time.Unix(int64(i), 0).UTC(), Event: EventSign, Decision: DecisionRefused, Reason: "r"}); err != nil {
			t.Fatal(err)
		}
		a.Close()
	}
	b, _ := os.ReadFile(p)
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Fatalf("%d lines after reopening, want 2 (append-only)", n)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode().Perm())
	}
}

func TestStateCorruptFailsClosed(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, stateFileName), []byte("{not json"), 0o600)
	if _, err := OpenState(dir); err == nil {
		t.Fatal("a corrupt state file silently reset the daily caps")
	}
}

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}
	var got []time.Duration
	d := time.Duration(0)
	for i := 0; i < 5; i++ {
		d = b.next(d)
		got = append(got, d)
	}
	want := []time.Duration{10, 20, 40, 50, 50}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("schedule %v", got)
		}
	}
	for i := 0; i < 100; i++ {
		if j := jitter(time.Second); j < 800*time.Millisecond || j > 1200*time.Millisecond {
			t.Fatalf("jitter %v outside ±20%%", j)
		}
	}
}

func TestRunnerStopsOnRejectedHello(t *testing.T) {
	// A manager that rejects the hello (here: bad token) is retried with
	// backoff, and Status reports why.
	m := newManager(t, signhubConfig())
	f := newFixture(t, testPolicyTOML)
	r := NewRunner(f.s, Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond, Reset: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx, []Endpoint{{URL: m.url, Token: "not-a-token"}})
	}()
	eventually(t, "two failed attempts", func() bool {
		st := r.Status()
		return len(st) == 1 && st[0].Attempts >= 2 && st[0].LastError != ""
	})
	cancel()
	<-done
	if st := r.Status(); st[0].Connected || !strings.Contains(st[0].LastError, "unauthenticated") {
		t.Fatalf("status %+v", st)
	}
}

// TestPolicyExtras covers the rules the main table does not.
func TestPolicyExtras(t *testing.T) {
	keys := testKeys(t)
	from := keyAddr(t, keys[0])
	blsFrom := keyAddr(t, keys[1])
	market, _ := address.Parse("f05")
	other, _ := address.Parse("f099")
	pc := func(notify address.Address, agg bool) []byte {
		p := miner.ProveCommitSectors3Params{SectorActivations: []miner.SectorActivationManifest{{SectorNumber: 150,
			Pieces: []miner.PieceActivationManifest{{CID: miner.UnsealedCID([32]byte{7}), Size: 1 << 35,
				Notify: []miner.DataActivationNotification{{Address: notify, Payload: []byte{1}}}}}}}}
		if agg {
			p.AggregateProof = []byte{1}
			t := miner.RegisteredAggregationProofSnarkPackV2
			p.AggregateProofType = &t
			p.SectorProofs = [][]byte{{1}} // both given: invalid
		} else {
			p.SectorProofs = [][]byte{{1}}
		}
		b, err := miner.EncodeParams(&p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withdraw := func(fil uint64) []byte {
		b, _ := miner.EncodeParams(&miner.WithdrawBalanceParams{AmountRequested: miner.TokenAmount(types.FromFil(fil))})
		return b
	}
	tests := []struct {
		name   string
		policy string
		mod    func(*msgOpts)
		want   string
	}{
		{"senders restricts", `senders = ["` + blsFrom.String() + `"]` + "\n" + testPolicyTOML, func(*msgOpts) {}, "not in the policy's senders"},
		{"notify market ok", testPolicyTOML, func(o *msgOpts) { o.method, o.params = 34, pc(market, false) }, ""},
		{"notify other actor", testPolicyTOML, func(o *msgOpts) { o.method, o.params = 34, pc(other, false) }, "not an allowed actor"},
		{"both proof kinds", testPolicyTOML, func(o *msgOpts) { o.method, o.params = 34, pc(market, true) }, "exactly one of"},
		{"withdraw counts as value", "methods = [16]\n" + testPolicyTOML, func(o *msgOpts) {
			o.method, o.params, o.value = 16, withdraw(3), types.Zero()
		}, "exceeds per-message cap"},
		{"small withdraw ok", "methods = [16]\n" + testPolicyTOML, func(o *msgOpts) {
			o.method, o.params, o.value = 16, withdraw(1), types.Zero()
		}, ""},
		{"seal proof not allowed", strings.Replace(testPolicyTOML, "[sectors]", "[sectors]\nseal_proofs = [13]", 1), func(*msgOpts) {}, "seal proof 8 is not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPolicy(t, tc.policy)
			o := defaultMsg(from)
			tc.mod(&o)
			req := signRequest(t, o.build(t), "x")
			d := p.Evaluate(Request{Message: req.Message, Cid: req.Cid}, nil, nil)
			if tc.want == "" {
				if !d.Allowed {
					t.Fatalf("refused: %s", d.Reason)
				}
				return
			}
			if d.Allowed || !strings.Contains(d.Reason, tc.want) {
				t.Fatalf("allowed=%v %q, want %q", d.Allowed, d.Reason, tc.want)
			}
		})
	}
}
