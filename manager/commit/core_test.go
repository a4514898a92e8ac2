package commit

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

func sid(n uint64) store.SectorID { return store.SectorID{Miner: 1000, Number: n} }

func sids(ns ...uint64) []store.SectorID {
	out := make([]store.SectorID, len(ns))
	for i, n := range ns {
		out[i] = sid(n)
	}
	return out
}

func sealed(b byte) cid.Cid {
	var r [32]byte
	r[0], r[31] = b, 0x0f
	return miner.SealedCID(r)
}

func TestPolicyFor(t *testing.T) {
	tn := store.Tenant{Batching: store.Batching{PreCommitBatchSize: 8, PreCommitMaxWait: time.Hour,
		ProveCommitMode: store.ProvePerSector, ProveCommitBatchSize: 16, ProveCommitMaxWait: 2 * time.Hour}}
	for _, tc := range []struct {
		name string
		mode store.ProveMode
		kind store.BatchKind
		want BatchPolicy
	}{
		{"precommit", store.ProvePerSector, store.BatchPreCommit, BatchPolicy{8, time.Hour}},
		{"prove per sector ignores size", store.ProvePerSector, store.BatchProveCommit, BatchPolicy{1, 0}},
		{"prove batched", store.ProveAggregate, store.BatchProveCommit, BatchPolicy{16, 2 * time.Hour}},
		{"empty mode is per sector", "", store.BatchProveCommit, BatchPolicy{1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := tn
			tn.Batching.ProveCommitMode = tc.mode
			if got := PolicyFor(tn, tc.kind); got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := PolicyFor(store.Tenant{}, store.BatchPreCommit); got.Size != 1 {
		t.Fatalf("zero batch size must mean 1, got %d", got.Size)
	}
}

func TestShouldClose(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pol := BatchPolicy{Size: 4, MaxWait: time.Hour}
	for _, tc := range []struct {
		name     string
		in       CloseInput
		want     bool
		contains string
	}{
		{"empty never", CloseInput{Policy: pol, Members: 0, Opened: t0, Now: t0.Add(48 * time.Hour)}, false, ""},
		{"filling", CloseInput{Policy: pol, Members: 3, Opened: t0, Now: t0.Add(59 * time.Minute)}, false, ""},
		{"full", CloseInput{Policy: pol, Members: 4, Opened: t0, Now: t0}, true, "full (4/4"},
		{"overfull", CloseInput{Policy: pol, Members: 9, Opened: t0, Now: t0}, true, "full"},
		{"max wait exactly", CloseInput{Policy: pol, Members: 1, Opened: t0, Now: t0.Add(time.Hour)}, true, "max wait"},
		{"zero wait sends at once", CloseInput{Policy: BatchPolicy{Size: 4}, Members: 1, Opened: t0, Now: t0}, true, "max wait"},
		{"deadline inside slack", CloseInput{Policy: pol, Members: 1, Opened: t0, Now: t0, Head: 1000, Deadline: 1100, Slack: 100}, true, "deadline"},
		{"deadline outside slack", CloseInput{Policy: pol, Members: 1, Opened: t0, Now: t0, Head: 1000, Deadline: 1101, Slack: 100}, false, ""},
		{"unknown deadline", CloseInput{Policy: pol, Members: 1, Opened: t0, Now: t0, Head: 1000, Slack: 100}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := ShouldClose(tc.in)
			if got != tc.want || !strings.Contains(why, tc.contains) {
				t.Fatalf("got (%v, %q), want (%v, …%q…)", got, why, tc.want, tc.contains)
			}
		})
	}
}

func TestCheckPreCommit(t *testing.T) {
	p := MainnetParams()
	const head = 10_000
	base := SectorFacts{ID: sid(1), Active: true, HasTicket: true, TicketEpoch: head - 900, CommR: sealed(1)}
	mod := func(f func(*SectorFacts)) SectorFacts { s := base; f(&s); return s }
	for _, tc := range []struct {
		name string
		f    SectorFacts
		want Verdict
	}{
		{"ready", base, Ready},
		{"aborted", mod(func(s *SectorFacts) { s.Active = false }), Drop},
		{"no comm_r", mod(func(s *SectorFacts) { s.CommR = cid.Undef }), Drop},
		{"no ticket", mod(func(s *SectorFacts) { s.HasTicket = false }), Drop},
		{"ticket at lookback edge", mod(func(s *SectorFacts) { s.TicketEpoch = head - p.MaxPreCommitRandomnessLookback }), Ready},
		{"ticket expired", mod(func(s *SectorFacts) { s.TicketEpoch = head - p.MaxPreCommitRandomnessLookback - 1 }), Bad},
		{"ticket from the future", mod(func(s *SectorFacts) { s.TicketEpoch = head }), Wait},
		{"number taken", mod(func(s *SectorFacts) { s.Allocated = true }), Bad},
		{"already pre-committed by us", mod(func(s *SectorFacts) {
			s.Allocated, s.PreCommit = true, &OnChainPreCommit{SealedCID: sealed(1), Epoch: head - 5}
		}), Done},
		{"pre-committed with other comm_r", mod(func(s *SectorFacts) {
			s.Allocated, s.PreCommit = true, &OnChainPreCommit{SealedCID: sealed(2), Epoch: head - 5}
		}), Bad},
		{"already proven", mod(func(s *SectorFacts) { s.Allocated, s.Proven = true, true }), Done},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckPreCommit(p, head, tc.f)
			if got.Verdict != tc.want {
				t.Fatalf("verdict %v (%s), want %v", got.Verdict, got.Reason, tc.want)
			}
			if got.Verdict != Ready && got.Reason == "" {
				t.Fatal("a non-ready verdict needs a reason")
			}
		})
	}
}

func TestCheckProveCommit(t *testing.T) {
	p := DevnetParams()
	const pcEpoch = 5_000
	base := SectorFacts{ID: sid(1), Active: true, HasProof: true, CommR: sealed(1),
		PreCommit: &OnChainPreCommit{SealedCID: sealed(1), Epoch: pcEpoch}}
	mod := func(f func(*SectorFacts)) SectorFacts { s := base; f(&s); return s }
	for _, tc := range []struct {
		name string
		head types.ChainEpoch
		f    SectorFacts
		want Verdict
	}{
		{"ready right after delay", pcEpoch + p.PreCommitChallengeDelay + 1, base, Ready},
		{"at delay is too early", pcEpoch + p.PreCommitChallengeDelay, base, Wait},
		{"last epoch of window", pcEpoch + p.MaxProveCommitDuration, base, Ready},
		{"window closed", pcEpoch + p.MaxProveCommitDuration + 1, base, Bad},
		{"no proof", pcEpoch + 100, mod(func(s *SectorFacts) { s.HasProof = false }), Drop},
		{"aborted", pcEpoch + 100, mod(func(s *SectorFacts) { s.Active = false }), Drop},
		{"pre-commit gone", pcEpoch + 100, mod(func(s *SectorFacts) { s.PreCommit = nil }), Bad},
		{"proven already", pcEpoch + 100, mod(func(s *SectorFacts) { s.PreCommit, s.Proven = nil, true }), Done},
		{"comm_r differs", pcEpoch + 100, mod(func(s *SectorFacts) { s.CommR = sealed(3) }), Bad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckProveCommit(p, tc.head, tc.f)
			if got.Verdict != tc.want {
				t.Fatalf("verdict %v (%s), want %v", got.Verdict, got.Reason, tc.want)
			}
		})
	}
}

func TestExpiration(t *testing.T) {
	p := MainnetParams()
	const head = 4_000_000
	lower := func(ticket types.ChainEpoch) types.ChainEpoch {
		return ticket + p.MaxPreCommitRandomnessLookback + p.MaxProveCommitDuration + p.MinSectorExpiration
	}
	for _, tc := range []struct {
		name   string
		ticket types.ChainEpoch
		days   int
		want   types.ChainEpoch
	}{
		{"540 days", head - 900, 540, head + 540*EpochsInDay},
		{"too short is raised to the minimum", head - 900, 10, lower(head - 900)},
		{"too long is cut to max extension", head - 900, 5000, head + p.MaxSectorExpirationExtension},
		{"zero days means the longest", head - 900, 0, head + p.MaxSectorExpirationExtension},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Expiration(p, head, tc.ticket, tc.days)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
			// The actor's rules hold for any landing epoch while the ticket is valid.
			for _, curr := range []types.ChainEpoch{head, tc.ticket + p.MaxPreCommitRandomnessLookback} {
				act := curr + p.MaxProveCommitDuration
				if got-act < p.MinSectorExpiration || got > curr+p.MaxSectorExpirationExtension {
					t.Fatalf("expiration %d violates actor bounds when landing at %d", got, curr)
				}
			}
		})
	}
	bad := p
	bad.MaxSectorExpirationExtension = p.MinSectorExpiration
	if _, err := Expiration(bad, head, head-900, 540); !errors.Is(err, ErrPolicy) {
		t.Fatalf("impossible bounds: err %v, want ErrPolicy", err)
	}
}

func TestCollateral(t *testing.T) {
	n := types.NewInt
	for _, tc := range []struct {
		name              string
		need, avail, want types.TokenAmount
		use               bool
	}{
		{"full value by default", n(100), n(70), n(100), false},
		{"shortfall from balance", n(100), n(70), n(30), true},
		{"balance covers all", n(100), n(170), n(0), true},
		{"nothing needed", n(0), n(0), n(0), true},
		{"negative need is zero", n(-5), n(0), n(0), false},
		{"negative balance ignored", n(100), n(-10), n(100), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Collateral(tc.need, tc.avail, tc.use); got.Cmp(tc.want) != 0 {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	got := ProveCollateral([]types.TokenAmount{n(100), n(100), n(100)}, []types.TokenAmount{n(30), n(150), n(0)})
	if got.Cmp(n(170)) != 0 { // 70 + 0 + 100
		t.Fatalf("prove collateral %s, want 170", got)
	}
}

func TestCapFee(t *testing.T) {
	n := types.NewInt
	for _, tc := range []struct {
		name                     string
		limit                    int64
		feeCap, premium, max, bf types.TokenAmount
		wantOK                   bool
		wantCap, wantPrem        types.TokenAmount
	}{
		{"no cap", 1000, n(500), n(100), n(0), n(200), true, n(500), n(100)},
		{"cap not binding", 1000, n(500), n(100), n(1_000_000), n(200), true, n(500), n(100)},
		{"cap lowers fee cap", 1000, n(500), n(100), n(300_000), n(200), true, n(300), n(100)},
		{"premium follows fee cap", 1000, n(500), n(400), n(300_000), n(200), true, n(300), n(300)},
		{"cap below base fee refuses", 1000, n(500), n(100), n(150_000), n(200), false, n(150), n(100)},
		{"unknown base fee not checked", 1000, n(500), n(100), n(150_000), n(0), true, n(150), n(100)},
		{"bad gas limit", 0, n(500), n(100), n(0), n(0), false, n(0), n(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := CapFee(tc.limit, tc.feeCap, tc.premium, tc.max, tc.bf)
			if d.OK != tc.wantOK {
				t.Fatalf("ok %v (%s), want %v", d.OK, d.Reason, tc.wantOK)
			}
			if !d.OK && d.Reason == "" {
				t.Fatal("refusal needs a reason")
			}
			if tc.limit > 0 && (d.GasFeeCap.Cmp(tc.wantCap) != 0 || d.GasPremium.Cmp(tc.wantPrem) != 0) {
				t.Fatalf("fee cap %s premium %s, want %s %s", d.GasFeeCap, d.GasPremium, tc.wantCap, tc.wantPrem)
			}
			if d.OK && tc.max.Sign() > 0 && d.GasFeeCap.Mul(n(tc.limit)).Cmp(tc.max) > 0 {
				t.Fatal("max fee exceeded")
			}
		})
	}
	if !strings.Contains(CapFee(1000, n(500), n(1), n(150_000), n(200)).Reason, "fee above cap") {
		t.Fatal("refusal reason must say fee above cap")
	}
}

func TestMaxFee(t *testing.T) {
	for _, tc := range []struct {
		in      string
		sectors int
		want    int64
		err     bool
	}{
		{"", 5, 0, false},
		{"  ", 5, 0, false},
		{"1000", 5, 5000, false},
		{"1000", 0, 1000, false},
		{"-1", 1, 0, true},
		{"1.5", 1, 0, true},
		{"abc", 1, 0, true},
	} {
		got, err := MaxFee(tc.in, tc.sectors)
		if (err != nil) != tc.err {
			t.Fatalf("MaxFee(%q): err %v, want error %v", tc.in, err, tc.err)
		}
		if err == nil && got.Cmp(types.NewInt(tc.want)) != 0 {
			t.Fatalf("MaxFee(%q, %d) = %s, want %d", tc.in, tc.sectors, got, tc.want)
		}
		if err != nil && !errors.Is(err, ErrPolicy) {
			t.Fatalf("MaxFee(%q) err %v does not wrap ErrPolicy", tc.in, err)
		}
	}
}

func TestPlanFailure(t *testing.T) {
	pc := store.BatchPreCommit
	for _, tc := range []struct {
		name       string
		members    []store.SectorID
		exit       types.ExitCode
		bad        map[store.SectorID]string
		wantGroups [][]store.SectorID
		wantRetry  []store.SectorID
		wantFail   []store.SectorID
	}{
		{"precheck culprit: rest goes on, culprit fails", sids(1, 2, 3, 4), types.ErrIllegalArgument,
			map[store.SectorID]string{sid(3): "ticket expired"}, [][]store.SectorID{sids(1, 2, 4)}, nil, sids(3)},
		{"no culprit known: bisect", sids(1, 2, 3, 4, 5), types.ErrIllegalArgument, nil,
			[][]store.SectorID{sids(1, 2, 3), sids(4, 5)}, nil, nil},
		{"alone: failed with the code", sids(7), types.ErrIllegalArgument, nil, nil, nil, sids(7)},
		{"actor-specific code alone", sids(7), types.ExitCode(1002), nil, nil, nil, sids(7)},
		{"insufficient funds: retry all", sids(1, 2), types.ErrInsufficientFunds, nil, nil, sids(1, 2), nil},
		{"sender funds: retry alone too", sids(1), types.SysErrInsufficientFunds, nil, nil, sids(1), nil},
		{"forbidden (sender not control, too early): retry", sids(1, 2), types.ErrForbidden, nil, nil, sids(1, 2), nil},
		{"serialization is our bug, not the sector's", sids(1), types.ErrSerialization, nil, nil, sids(1), nil},
		{"out of gas: halves", sids(1, 2, 3), types.SysErrOutOfGas, nil, [][]store.SectorID{sids(1, 2), sids(3)}, nil, nil},
		{"out of gas alone: retry", sids(1), types.SysErrOutOfGas, nil, nil, sids(1), nil},
		{"all bad", sids(1, 2), types.ErrIllegalArgument,
			map[store.SectorID]string{sid(1): "x", sid(2): "y"}, nil, nil, sids(1, 2)},
		{"bad outside members ignored", sids(1, 2), types.ErrIllegalArgument,
			map[store.SectorID]string{sid(9): "x"}, [][]store.SectorID{sids(1), sids(2)}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanFailure(pc, tc.members, tc.exit, "msg", tc.bad)
			if !reflect.DeepEqual(got.Groups, tc.wantGroups) {
				t.Fatalf("groups %v, want %v", got.Groups, tc.wantGroups)
			}
			if !reflect.DeepEqual(got.Retry, tc.wantRetry) {
				t.Fatalf("retry %v, want %v", got.Retry, tc.wantRetry)
			}
			if len(got.Fail) != len(tc.wantFail) {
				t.Fatalf("fail %v, want %v", got.Fail, tc.wantFail)
			}
			for _, id := range tc.wantFail {
				r, ok := got.Fail[id]
				if !ok || !strings.Contains(r, tc.exit.String()) {
					t.Fatalf("sector %s: fail reason %q must carry exit %s", id, r, tc.exit)
				}
			}
			// Every member is accounted for exactly once.
			seen := map[store.SectorID]int{}
			for _, g := range got.Groups {
				for _, id := range g {
					seen[id]++
				}
			}
			for _, id := range got.Retry {
				seen[id]++
			}
			for id := range got.Fail {
				seen[id]++
			}
			for _, id := range tc.members {
				if seen[id] != 1 {
					t.Fatalf("sector %s accounted %d times", id, seen[id])
				}
			}
		})
	}
}

// TestBisectionIsolates checks the property PlanFailure promises: applying
// it repeatedly to failing groups isolates any set of poisoned sectors, every
// good sector ends up in a group that succeeds, and the number of messages
// stays within 2·k·log2(n)+1.
func TestBisectionIsolates(t *testing.T) {
	for _, tc := range []struct {
		n      int
		poison []uint64
	}{
		{1, []uint64{0}}, {2, []uint64{1}}, {8, []uint64{5}}, {33, []uint64{0, 32}}, {100, []uint64{7, 8, 9}}, {256, []uint64{128}},
	} {
		t.Run(fmt.Sprintf("n%d_k%d", tc.n, len(tc.poison)), func(t *testing.T) {
			bad := map[store.SectorID]bool{}
			for _, p := range tc.poison {
				bad[sid(p)] = true
			}
			var all []store.SectorID
			for i := range tc.n {
				all = append(all, sid(uint64(i)))
			}
			queue := [][]store.SectorID{all}
			landed, failed, msgs := map[store.SectorID]bool{}, map[store.SectorID]bool{}, 0
			for len(queue) > 0 {
				g := queue[0]
				queue = queue[1:]
				msgs++
				poisoned := false
				for _, id := range g {
					poisoned = poisoned || bad[id]
				}
				if !poisoned {
					for _, id := range g {
						landed[id] = true
					}
					continue
				}
				plan := PlanFailure(store.BatchPreCommit, g, types.ErrIllegalArgument, "", nil)
				queue = append(queue, plan.Groups...)
				for id := range plan.Fail {
					failed[id] = true
				}
			}
			if len(failed) != len(tc.poison) || len(landed) != tc.n-len(tc.poison) {
				t.Fatalf("landed %d failed %d", len(landed), len(failed))
			}
			for id := range failed {
				if !bad[id] {
					t.Fatalf("good sector %s failed", id)
				}
			}
			limit := 1
			for m := 1; m < tc.n; m *= 2 {
				limit += 2 * len(tc.poison)
			}
			if msgs > limit {
				t.Fatalf("%d messages, bound %d", msgs, limit)
			}
		})
	}
}

func TestProveFailures(t *testing.T) {
	m := sids(4, 5, 6)
	got, err := ProveFailures(m, &miner.BatchReturn{SuccessCount: 2, FailCodes: []miner.FailCode{{Idx: 1, Code: types.ErrIllegalArgument}}})
	if err != nil || len(got) != 1 || got[sid(5)] != types.ErrIllegalArgument {
		t.Fatalf("got %v, %v", got, err)
	}
	if got, err := ProveFailures(m, &miner.BatchReturn{SuccessCount: 3}); err != nil || len(got) != 0 {
		t.Fatalf("all ok: %v, %v", got, err)
	}
	if _, err := ProveFailures(m, &miner.BatchReturn{SuccessCount: 2, FailCodes: []miner.FailCode{{Idx: 3, Code: 16}}}); !errors.Is(err, ErrReceipt) {
		t.Fatalf("index out of range: %v", err)
	}
	if _, err := ProveFailures(m, &miner.BatchReturn{SuccessCount: 3, FailCodes: []miner.FailCode{{Idx: 0, Code: 16}}}); !errors.Is(err, ErrReceipt) {
		t.Fatalf("count mismatch: %v", err)
	}
	if got, err := ProveFailures(m, nil); err != nil || len(got) != 0 {
		t.Fatalf("nil return: %v %v", got, err)
	}
}

func TestHalves(t *testing.T) {
	for n := range 10 {
		var ids []store.SectorID
		for i := range n {
			ids = append(ids, sid(uint64(i)))
		}
		h := Halves(ids)
		total := 0
		for _, g := range h {
			total += len(g)
		}
		if total != n || (n >= 2 && (len(h) != 2 || len(h[0]) == 0 || len(h[1]) == 0 || len(h[0])-len(h[1]) > 1)) {
			t.Fatalf("n=%d: halves %v", n, h)
		}
	}
}

func TestClassifyPushError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want PushOutcome
	}{
		{nil, PushKnown},
		{errors.New("mpool: message nonce too low"), PushNonceTooLow},
		{errors.New("minimum expected nonce is 7: message nonce too low"), PushNonceTooLow},
		{errors.New("message from f1x with nonce 3 already in mpool: validation failure"), PushKnown},
		{errors.New("message with nonce already exists"), PushRetry},
		{errors.New("mpool: replace by fee has too low GasPremium"), PushRetry},
		{errors.New("mpool: message too big: 70000 bytes"), PushTooBig},
		{errors.New("not enough funds including pending messages"), PushRetry},
		{fmt.Errorf("lotus: call outcome unknown: reset"), PushRetry},
	} {
		if got := ClassifyPushError(tc.err); got != tc.want {
			t.Fatalf("%v: got %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestEstimateExit(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want types.ExitCode
		ok   bool
	}{
		{"estimating gas used: message execution failed: exit 16", 16, true},
		{"message execution failed (exit=[16], revert reason=[...])", 16, true},
		{"estimating gas used: message execution failed: exit ErrIllegalArgument(16)", 16, true},
		{"exit code 1002: notification failed", 1002, true},
		{"exit SysErrOutOfGas(7)", 7, true},
		{"connection refused", 0, false},
		{"exit 0", 0, false},
		{"", 0, false},
	} {
		got, ok := EstimateExit(errors.New(tc.msg))
		if got != tc.want || ok != tc.ok {
			t.Fatalf("%q: got (%d, %v), want (%d, %v)", tc.msg, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := EstimateExit(nil); ok {
		t.Fatal("nil error has no exit code")
	}
}

func TestParamsValidate(t *testing.T) {
	for _, p := range []Params{MainnetParams(), DevnetParams()} {
		if err := p.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	bad := MainnetParams()
	bad.MaxProveCommitDuration = bad.PreCommitChallengeDelay
	if err := bad.Validate(); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad params: %v", err)
	}
}

func FuzzEstimateExit(f *testing.F) {
	for _, s := range []string{"exit 16", "exit ErrIllegalArgument(16)", "exit code 99999999999999999999999", "exit(", "exit =7)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := EstimateExit(errors.New(s))
		if ok && code <= 0 {
			t.Fatalf("%q: ok with code %d", s, code)
		}
		_ = ClassifyPushError(errors.New(s))
	})
}

func TestGroupByProof(t *testing.T) {
	types := map[store.SectorID]int64{sid(1): 5, sid(2): 8, sid(3): 5, sid(4): 13, sid(5): 8}
	got := GroupByProof(sids(1, 2, 3, 4, 5), func(id store.SectorID) int64 { return types[id] })
	want := [][]store.SectorID{sids(1, 3), sids(2, 5), sids(4)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := GroupByProof(sids(1, 3), func(id store.SectorID) int64 { return types[id] }); len(got) != 1 {
		t.Fatalf("one type: %v", got)
	}
}
