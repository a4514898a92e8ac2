package signer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/rpc"
)

// TestSignFloodLimitedAndAudited: a manager (here a hostile one) sends
// 3,000 sign requests at once over one connection. Requests beyond the
// connection's rate are refused without evaluation, and every request —
// evaluated, rate-limited or refused by the transport for overload — is
// accounted for in the audit log.
func TestSignFloodLimitedAndAudited(t *testing.T) {
	t.Run("rate limited", func(t *testing.T) { testSignFlood(t, RateLimit{PerSecond: 10, Burst: 20}) })
	// Without a rate limit the transport's in-flight limit refuses most of
	// the flood; those refusals are audited too.
	t.Run("overload", func(t *testing.T) { testSignFlood(t, RateLimit{PerSecond: -1, Burst: 1}) })
}

func testSignFlood(t *testing.T, rate RateLimit) {
	const flood = 3000
	f := newFixture(t, testPolicyTOML)
	f.s.rate = rate

	secret := []byte("0123456789abcdef0123456789abcdef-test")
	srv, err := rpc.NewServer(rpc.ServerConfig{Secret: secret, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	peers := make(chan *rpc.Peer, 1)
	srv.Register(api.MethodSignerHello, rpc.PermSign, rpc.Func1(func(ctx context.Context, _ api.SignerHello) (api.SignerWelcome, error) {
		p, _ := rpc.PeerFrom(ctx)
		select {
		case peers <- p:
		default:
		}
		return api.SignerWelcome{Tenant: "acme", Miner: 1000}, nil
	}))
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); ts.Close() })
	tok, err := rpc.IssueToken(secret, rpc.Claims{Allow: rpc.AllowList(rpc.PermSign), Role: rpc.RoleSigner, Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	m := &managerFixture{url: "ws" + strings.TrimPrefix(ts.URL, "http"), token: tok}
	stop := startRunner(t, f.s, m)
	p := <-peers
	eventually(t, "connect audited", func() bool {
		for _, e := range f.auditEntries(t) {
			if e.Event == EventConnect {
				return true
			}
		}
		return false
	})

	req := signRequest(t, defaultMsg(keyAddr(t, f.keys[0])).build(t), "flood")
	var mu sync.Mutex
	outcome := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < flood; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var resp api.SignResponse
			err := p.Call(context.Background(), api.MethodSignerSign, &resp, req)
			k := "signed"
			var re *rpc.Error
			switch {
			case errors.As(err, &re) && re.Code == rpc.CodeOverloaded:
				k = "overloaded"
			case err != nil && strings.Contains(err.Error(), "rate limit"):
				k = "rate-limited"
			case err != nil:
				k = "other: " + err.Error()
			}
			mu.Lock()
			outcome[k]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stop() // flushes the aggregated refusals
	t.Logf("%d requests in %v: %v", flood, elapsed, outcome)
	if max := 20 + int(10*elapsed.Seconds()) + 2; rate.PerSecond > 0 && outcome["signed"] > max {
		t.Errorf("%d requests evaluated and signed, want at most %d (rate 10/s, burst 20)", outcome["signed"], max)
	}

	audited := 0
	for _, e := range f.auditEntries(t) {
		if e.Event != EventSign {
			continue
		}
		n := max(e.Count, 1)
		audited += n
		if e.Count > 0 && (e.Decision != DecisionRefused || e.Manager == "") {
			t.Errorf("aggregated entry %+v", e)
		}
	}
	if audited != flood {
		t.Errorf("audit accounts for %d sign requests, want all %d (%v)", audited, flood, outcome)
	}
}

// TestAuditRotates: the audit log is rotated at its size cap and only
// Keep old files are kept, so a flood cannot fill the disk.
func TestAuditRotates(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "audit.jsonl")
	a, err := OpenAuditRotating(p, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := 0; i < 200; i++ {
		if err := a.Write(AuditEntry{Time: time.Unix(int64(i), 0).UTC(), Event: EventSign, Decision: DecisionRefused, Reason: fmt.Sprint("r", i)}); err != nil {
			t.Fatal(err)
		}
	}
	names, _ := filepath.Glob(p + "*")
	if len(names) != 3 {
		t.Fatalf("files %v, want the log and 2 rotated", names)
	}
	for _, n := range names {
		st, err := os.Stat(n)
		if err != nil || st.Size() > 1000 || st.Size() == 0 {
			t.Errorf("%s: %v %v", n, st.Size(), err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", n, st.Mode())
		}
	}
	last, _ := os.ReadFile(p)
	if !strings.Contains(string(last), `"r199"`) {
		t.Errorf("newest entry not in the current file")
	}
	// Reopening continues the current file's size count.
	a.Close()
	a, err = OpenAuditRotating(p, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if a.size == 0 {
		t.Error("reopened log starts at size 0")
	}
}
