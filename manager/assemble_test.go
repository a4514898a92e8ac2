package manager

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/commit"
	"github.com/sealant/sealant/rpc"
)

// TestCommitConfigKnobs: the pipeline knobs Assemble chooses on a real
// network and on Sealant's devnet (see Assemble for why each value).
func TestCommitConfigKnobs(t *testing.T) {
	cases := []struct {
		name                    string
		network                 string
		devnet                  bool
		delay                   int64
		wantMsg, wantNI         int
		wantConfidence          types.ChainEpoch
		wantBackoff, wantRepush time.Duration
		wantDelay, wantSlack    types.ChainEpoch
	}{
		{"mainnet", "mainnet", false, 0, types.MaxMessageSize, 0, 0, 0, 0, commit.MainnetParams().PreCommitChallengeDelay, commit.MainnetParams().Slack},
		{"devnet", "devnet", true, 10, types.MaxMessageSize, DevnetNIMessageBytes, 1, 5 * time.Second, 30 * time.Second, 10, commit.DevnetParams().Slack},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		cfg.Chain.Network, cfg.Chain.Devnet, cfg.Chain.PreCommitChallengeDelay = c.network, c.devnet, c.delay
		policy, err := cfg.Policy()
		if err != nil {
			t.Fatal(err)
		}
		pc := commitConfig(cfg, policy)
		if pc.MaxMessageBytes != c.wantMsg || pc.MaxNIMessageBytes != c.wantNI || pc.Confidence != c.wantConfidence ||
			pc.RetryBackoff != c.wantBackoff || pc.RepushAfter != c.wantRepush ||
			pc.Params.PreCommitChallengeDelay != c.wantDelay || pc.Params.Slack != c.wantSlack ||
			pc.Params.MaxProveCommitDuration != types.ChainEpoch(policy.MaxProveCommitDuration) {
			t.Errorf("%s: %+v", c.name, pc)
		}
		if err := pc.Params.Validate(); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// countingRegistrar is an extra component registering one method.
type countingRegistrar struct{ n int }

func (r *countingRegistrar) RegisterRPC(srv *rpc.Server) {
	r.n++
	srv.Register("Test.Extra", rpc.PermRead, rpc.Func0(func(context.Context) (string, error) { return "extra", nil }))
}

// TestAssembleWithoutChain: with no chain the manager serves its APIs but
// runs no pipeline and no WindowPoSt; extra registrars are served; Run
// returns when its context ends; Close releases everything.
func TestAssembleWithoutChain(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Delivery.StorePath = t.TempDir()
	if err := cfg.Provision(""); err != nil {
		t.Fatal(err)
	}
	extra := &countingRegistrar{}
	a, err := Assemble(context.Background(), AssembleOptions{Config: cfg, Logger: slog.New(slog.DiscardHandler),
		Registrars: []RPCRegistrar{extra}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Pipeline != nil || a.WindowPoSt != nil || extra.n != 1 {
		t.Fatalf("pipeline %v, wdpost %v, registrar called %d times", a.Pipeline, a.WindowPoSt, extra.n)
	}
	hs := httptest.NewServer(a.Handler)
	defer hs.Close()
	tok, err := a.Service.IssueToken(adminCtx(), api.TokenRequest{Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := rpc.Dial(context.Background(), hs.URL+RPCPath, rpc.WithToken(tok.Token), rpc.WithErrorRegistry(Errors))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got string
	if err := c.Call(context.Background(), "Test.Extra", &got); err != nil || got != "extra" {
		t.Fatalf("extra method: %q, %v", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := a.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
