package signer

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/bitfield"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
)

func TestParsePolicyErrors(t *testing.T) {
	base := strings.Replace(testPolicyTOML, `max_fee_per_day = "1"`, "", 1)
	tests := []struct {
		name, text, want string
	}{
		{"missing cap", base, "max_fee_per_day is required"},
		{"unknown key", testPolicyTOML + "\nmax_fee_per_dya = \"1\"\n", "unknown keys"},
		{"no miners", strings.Replace(testPolicyTOML, `miners = ["t01000"]`, `miners = []`, 1), "miners is empty"},
		{"miner not id", strings.Replace(testPolicyTOML, `"t01000"`, `"t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq"`, 1), "not an ID address"},
		{"unchecked method", "methods = [16, 3]\n" + testPolicyTOML, "method 3"},
		{"bad range", strings.Replace(testPolicyTOML, `"100-199"`, `"199-100"`, 1), "sector range"},
		{"no ranges", strings.Replace(testPolicyTOML, `numbers = ["100-199"]`, ``, 1), "sectors.numbers is empty"},
		{"bad amount", strings.Replace(testPolicyTOML, `max_value_per_message = "2"`, `max_value_per_message = "two"`, 1), "max_value_per_message"},
		{"bad seal proof", testPolicyTOML + "seal_proofs = [99]\n", "seal proof 99"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePolicy([]byte(tc.text))
			if !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrPolicy containing %q", err, tc.want)
			}
		})
	}
	if _, err := ParsePolicy([]byte(PolicyTemplate)); err != nil {
		t.Fatalf("the init template must parse: %v", err)
	}
}

// TestEvaluateTable checks each rule with one message that breaks only it.
func TestEvaluateTable(t *testing.T) {
	keys := testKeys(t)
	from := keyAddr(t, keys[0])
	w, _ := NewWallet(keys...)
	defer w.Close()
	p := mustPolicy(t, testPolicyTOML)
	other, _ := address.Parse("t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq")
	recov := func(sectors ...uint64) []byte {
		bf, _ := bitfield.NewFromSet(sectors)
		b, err := miner.EncodeParams(&miner.DeclareFaultsRecoveredParams{Recoveries: []miner.RecoveryDeclaration{{Deadline: 3, Partition: 0, Sectors: bf}}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name   string
		mod    func(*msgOpts)
		req    func(*api.SignRequest)
		want   string // "" = allowed
		detail string
	}{
		{name: "precommit allowed", mod: func(*msgOpts) {}},
		{name: "provecommit allowed", mod: func(o *msgOpts) { o.method = miner.MethodProveCommitSectors3; o.value = types.FromFil(2) }},
		{name: "recoveries allowed", mod: func(o *msgOpts) {
			o.method, o.value, o.params = miner.MethodDeclareFaultsRecovered, types.Zero(), recov(150, 151)
		}},
		{name: "wrong miner", mod: func(o *msgOpts) { o.to = "t01001" }, want: "recipient t01001 is not an allowed miner"},
		{name: "wrong method", mod: func(o *msgOpts) { o.method, o.rawParams = miner.MethodWithdrawBalance, true }, want: "method 16 (WithdrawBalance) is not allowed"},
		{name: "value over cap", mod: func(o *msgOpts) { o.value = types.FromFil(3) }, want: "exceeds per-message cap 2 FIL"},
		{name: "fee cap over", mod: func(o *msgOpts) { o.feeCap = atto(2_000_000_000) }, want: "gas fee cap 2000000000 attoFIL exceeds"},
		{name: "premium over", mod: func(o *msgOpts) { o.premium, o.feeCap = atto(600_000_000), atto(900_000_000) }, want: "gas premium"},
		{name: "max fee over", mod: func(o *msgOpts) { o.gasLimit = 300_000_000 }, want: "per-message cap 0.1 FIL"},
		{name: "unknown from", mod: func(o *msgOpts) { o.from = other }, want: "is not one of this signer's keys"},
		{name: "sector outside range", mod: func(o *msgOpts) { o.sectors = []uint64{100, 200} }, want: "sector 200 is outside the tenant's range"},
		{name: "duplicate sector", mod: func(o *msgOpts) { o.sectors = []uint64{100, 100} }, want: "appears twice"},
		{name: "expiration short", mod: func(o *msgOpts) { o.expiration = 100 }, want: "expiration"},
		{name: "expiration long", mod: func(o *msgOpts) { o.expiration = 1400 }, want: "expiration"},
		{name: "empty batch", mod: func(o *msgOpts) { o.sectors = nil }, want: "precommit batch is empty"},
		{name: "too many sectors", mod: func(o *msgOpts) {
			o.sectors = nil
			for i := uint64(100); i < 140; i++ {
				o.sectors = append(o.sectors, i)
			}
		}, want: "40 sectors in one message, cap 32"},
		{name: "garbage params", mod: func(o *msgOpts) { o.params = []byte{0x83, 0x01} }, want: "params do not decode"},
		{name: "recovery outside range", mod: func(o *msgOpts) {
			o.method, o.value, o.params = miner.MethodDeclareFaultsRecovered, types.Zero(), recov(150, 5000)
		}, want: "sector 5000 is outside"},
		{name: "cid mismatch", mod: func(*msgOpts) {}, req: func(r *api.SignRequest) {
			r.Cid = "bafy2bzaced5rdpz57e64sc7mdwjn3blicglhpialnrph2dlbufhf6iha63dmc"
		}, want: "cid mismatch"},
		{name: "from mismatch", mod: func(*msgOpts) {}, req: func(r *api.SignRequest) { r.From = other.String() }, want: "sender mismatch"},
		{name: "malformed cbor", mod: func(*msgOpts) {}, req: func(r *api.SignRequest) { r.Message = r.Message[:len(r.Message)-3] }, want: "malformed message cbor"},
		{name: "claimed sectors differ", mod: func(*msgOpts) {}, req: func(r *api.SignRequest) { r.Sectors = []uint64{100, 102} }, want: "sector mismatch"},
		{name: "claimed sectors equal", mod: func(*msgOpts) {}, req: func(r *api.SignRequest) { r.Sectors = []uint64{101, 100} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultMsg(from)
			tc.mod(&o)
			req := signRequest(t, o.build(t), "r")
			if tc.req != nil {
				tc.req(&req)
			}
			d := p.Evaluate(Request{Message: req.Message, Cid: req.Cid, From: req.From, Sectors: req.Sectors}, w, nil)
			if tc.want == "" {
				if !d.Allowed {
					t.Fatalf("refused: %s", d.Reason)
				}
				return
			}
			if d.Allowed || !strings.Contains(d.Reason, tc.want) {
				t.Fatalf("allowed=%v reason %q, want refusal containing %q", d.Allowed, d.Reason, tc.want)
			}
			if strings.Contains(d.Reason, "\n") {
				t.Fatalf("reason spans lines: %q", d.Reason)
			}
		})
	}
}

func TestNIPoRepSealerMustBeMiner(t *testing.T) {
	keys := testKeys(t)
	from := keyAddr(t, keys[0])
	p := mustPolicy(t, "methods = [36]\n"+testPolicyTOML)
	build := func(sealer types.ActorID) []byte {
		b, err := miner.EncodeParams(&miner.ProveCommitSectorsNIParams{
			Sectors: []miner.SectorNIActivationInfo{{SealingNumber: 1, SealerID: sealer, SealedCID: miner.SealedCID([32]byte{1}),
				SectorNumber: 120, SealRandEpoch: 100, Expiration: 100 + 300*EpochsPerDay}},
			AggregateProof: []byte{1, 2}, SealProofType: miner.RegisteredSealProofStackedDrg32GiBV1_2_Feat_NiPoRep,
			AggregateProofType: miner.RegisteredAggregationProofSnarkPackV2, ProvingDeadline: 3})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		sealer types.ActorID
		ok     bool
	}{{1000, true}, {1001, false}} {
		o := defaultMsg(from)
		o.method, o.params = miner.MethodProveCommitSectorsNI, build(tc.sealer)
		req := signRequest(t, o.build(t), "r")
		d := p.Evaluate(Request{Message: req.Message, Cid: req.Cid}, nil, nil)
		if d.Allowed != tc.ok {
			t.Fatalf("sealer %d: allowed=%v (%s)", tc.sealer, d.Allowed, d.Reason)
		}
	}
}

// genOutside builds one request that breaks the policy, choosing the kind
// of violation from r. It returns the request and the kind.
func genOutside(t testing.TB, r *rand.Rand, from, stranger address.Address) (api.SignRequest, string) {
	o := defaultMsg(from)
	o.nonce = r.Uint64N(1 << 40)
	n := 100 + r.Uint64N(90)
	o.sectors = []uint64{n, n + 1 + r.Uint64N(8)}
	if r.IntN(2) == 0 {
		o.method = miner.MethodProveCommitSectors3
	}
	kinds := []string{"miner", "method", "value", "feecap", "premium", "maxfee", "cid", "from", "cbor", "sector", "expiration", "claimed"}
	kind := kinds[r.IntN(len(kinds))]
	var mutateReq func(*api.SignRequest)
	switch kind {
	case "miner":
		o.to = address.NewIDAddress(1001 + r.Uint64N(1e6)).String()
	case "method":
		o.method = []types.MethodNum{0, 2, 3, 9, 16, 23, 25, 26, 30}[r.IntN(9)]
		o.rawParams = true
		o.params = nil
	case "value":
		o.value = types.FromFil(2).Add(types.NewIntUnsigned(1 + r.Uint64N(1e18)))
	case "feecap":
		o.feeCap = types.NewIntUnsigned(1_000_000_001 + r.Uint64N(1e12))
		o.premium = atto(1)
	case "premium":
		o.premium = types.NewIntUnsigned(500_000_001 + r.Uint64N(400_000_000))
		o.feeCap = atto(999_999_999)
	case "maxfee":
		o.feeCap = atto(1_000_000_000)
		o.gasLimit = 100_000_001 + int64(r.Uint64N(1e9))
	case "cid":
		mutateReq = func(q *api.SignRequest) {
			other := o
			other.nonce++
			q.Cid = other.build(t).Cid().String()
		}
	case "from":
		o.from = stranger
	case "cbor":
		mutateReq = func(q *api.SignRequest) {
			b := append([]byte(nil), q.Message...)
			switch r.IntN(3) {
			case 0:
				b = b[:r.IntN(len(b))]
			case 1:
				b[0] = 0x8b // 11-element array
			default:
				b = append(b, 0x00) // trailing byte
			}
			q.Message = b
		}
	case "sector":
		o.sectors = []uint64{n, 200 + r.Uint64N(1e9)}
	case "expiration":
		if r.IntN(2) == 0 {
			o.expiration = r.Int64N(180)
		} else {
			o.expiration = 1280 + r.Int64N(1000)
		}
		o.method = miner.MethodPreCommitSectorBatch2
	case "claimed":
		mutateReq = func(q *api.SignRequest) { q.Sectors = []uint64{n} }
	}
	req := signRequest(t, o.build(t), "gen")
	if mutateReq != nil {
		mutateReq(&req)
	}
	return req, kind
}

// TestThousandOutsidePolicy is the figure: 1,000 generated
// requests outside policy are all refused and none is signed, while
// requests inside policy are signed and verify with the chain layer.
func TestThousandOutsidePolicy(t *testing.T) {
	f := newFixture(t, testPolicyTOML)
	from := keyAddr(t, f.keys[0])
	stranger, _ := address.Parse("t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq")
	r := rand.New(rand.NewPCG(1, 2))
	byKind := map[string]int{}
	var outputs strings.Builder
	for i := 0; i < 1000; i++ {
		req, kind := genOutside(t, r, from, stranger)
		byKind[kind]++
		resp, err := f.s.Sign(context.Background(), Conn{Manager: "test"}, req)
		var ref *Refusal
		if !errors.As(err, &ref) {
			t.Fatalf("request %d (%s): err = %v, want a refusal", i, kind, err)
		}
		if resp.Signature.Data != nil {
			t.Fatalf("request %d (%s): refused but a signature was returned", i, kind)
		}
		outputs.WriteString(err.Error())
	}
	t.Logf("violations generated: %v", byKind)
	if len(byKind) != 12 {
		t.Fatalf("only %d violation kinds generated", len(byKind))
	}
	entries := f.auditEntries(t)
	if len(entries) != 1000 {
		t.Fatalf("%d audit entries, want 1000", len(entries))
	}
	for _, e := range entries {
		if e.Decision != DecisionRefused || e.Reason == "" {
			t.Fatalf("audit entry %+v: want a refusal with a reason", e)
		}
	}
	if u := f.s.state.Usage(f.now); !u.Value.IsZero() || !u.Fee.IsZero() {
		t.Fatalf("refusals were counted: %+v", u)
	}

	// Inside policy: signed, and the chain layer verifies the result.
	for i, ki := range f.keys {
		o := defaultMsg(keyAddr(t, ki))
		o.nonce = uint64(i)
		o.value = types.FromFil(1)
		m := o.build(t)
		req := signRequest(t, m, "ok")
		req.Sectors = []uint64{100, 101}
		resp, err := f.s.Sign(context.Background(), Conn{Manager: "test"}, req)
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		sm := &types.SignedMessage{Message: *m, Signature: types.Signature{Type: types.SigType(resp.Signature.Type), Data: resp.Signature.Data}}
		if err := sigs.VerifyMessage(sm); err != nil {
			t.Fatalf("key %d: signature does not verify: %v", i, err)
		}
	}
	data := outputs.String() + f.logs.String()
	assertNoSecrets(t, "refusals and logs", data, f.keys)
}

func TestDailyCapsSurviveRestart(t *testing.T) {
	f := newFixture(t, testPolicyTOML)
	from := keyAddr(t, f.keys[0])
	sign := func(s *Signer, nonce uint64) error {
		o := defaultMsg(from)
		o.nonce, o.value = nonce, types.FromFil(2)
		_, err := s.Sign(context.Background(), Conn{}, signRequest(t, o.build(t), "d"))
		return err
	}
	for i := uint64(0); i < 5; i++ { // 5 × 2 FIL = the 10 FIL daily cap
		if err := sign(f.s, i); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	// Restart: a new Signer over the same state directory.
	st, err := OpenState(f.dir + "/state")
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := New(Options{Wallet: f.s.wallet, Policy: f.s.policy, State: st, Logger: f.s.log, Now: func() time.Time { return f.now }})
	err = sign(s2, 5)
	var ref *Refusal
	if !errors.As(err, &ref) || !strings.Contains(ref.Reason, "daily cap 10 FIL") {
		t.Fatalf("after restart: %v, want the daily value cap", err)
	}
	// The same message as before is re-signed, not counted again.
	if err := sign(s2, 4); err != nil {
		t.Fatalf("re-sign of an already signed message: %v", err)
	}
	// Next UTC day: counters reset.
	f.now = f.now.Add(24 * time.Hour)
	s2.now = func() time.Time { return f.now }
	if err := sign(s2, 6); err != nil {
		t.Fatalf("next day: %v", err)
	}
}

func TestResignIsIdempotent(t *testing.T) {
	f := newFixture(t, testPolicyTOML)
	o := defaultMsg(keyAddr(t, f.keys[1])) // BLS
	req := signRequest(t, o.build(t), "x")
	a, err := f.s.Sign(context.Background(), Conn{}, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.s.Sign(context.Background(), Conn{}, req)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.Signature.Data) != string(b.Signature.Data) {
		t.Fatal("re-signing gave a different signature")
	}
	if u := f.s.state.Usage(f.now); u.Value.Cmp(types.FromFil(1)) != 0 {
		t.Fatalf("value counted %s, want 1 FIL once", u.Value.FIL())
	}
	es := f.auditEntries(t)
	if len(es) != 2 || es[0].Decision != DecisionSigned || es[1].Decision != DecisionResigned {
		t.Fatalf("audit decisions: %+v", es)
	}
}

func TestTenantMismatchRefused(t *testing.T) {
	f := newFixture(t, testPolicyTOML)
	req := signRequest(t, defaultMsg(keyAddr(t, f.keys[0])).build(t), "x")
	req.Tenant = "other"
	_, err := f.s.Sign(context.Background(), Conn{Tenant: "acme"}, req)
	var ref *Refusal
	if !errors.As(err, &ref) || !strings.Contains(ref.Reason, "tenant") {
		t.Fatalf("err = %v", err)
	}
}

func TestFormatRanges(t *testing.T) {
	for _, tc := range []struct {
		in   []uint64
		want string
	}{
		{nil, ""}, {[]uint64{7}, "7"}, {[]uint64{4, 1, 2, 3, 7}, "1-4,7"}, {[]uint64{5, 5, 6}, "5-6"},
	} {
		if got := formatRanges(tc.in); got != tc.want {
			t.Errorf("formatRanges(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzEvaluate(f *testing.F) {
	keys := testKeys(f)
	from := keyAddr(f, keys[0])
	p := mustPolicy(f, testPolicyTOML)
	w, _ := NewWallet(keys...)
	f.Add([]byte(signRequest(f, defaultMsg(from).build(f), "x").Message))
	o := defaultMsg(from)
	o.method = miner.MethodProveCommitSectors3
	f.Add([]byte(signRequest(f, o.build(f), "x").Message))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := types.DecodeMessage(data)
		claimed := ""
		if err == nil {
			claimed = m.Cid().String()
		}
		d := p.Evaluate(Request{Message: data, Cid: claimed}, w, nil)
		if err != nil && d.Allowed {
			t.Fatal("undecodable message allowed")
		}
		if d.Allowed && (m.To.String() != testMiner || !w.Has(m.From)) {
			t.Fatalf("allowed a message to %s from %s", m.To, m.From)
		}
		if !d.Allowed && d.Reason == "" {
			t.Fatal("refusal without reason")
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(testPolicyTOML))
	f.Add([]byte(PolicyTemplate))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err == nil && (len(p.miners) == 0 || p.maxFeeDay.Nil()) {
			t.Fatal("accepted a policy without miners or caps")
		}
	})
}

func BenchmarkEvaluate(b *testing.B) {
	keys := testKeys(b)
	from := keyAddr(b, keys[0])
	p := mustPolicy(b, testPolicyTOML)
	w, _ := NewWallet(keys...)
	o := defaultMsg(from)
	o.sectors = nil
	for i := uint64(100); i < 132; i++ {
		o.sectors = append(o.sectors, i)
	}
	req := signRequest(b, o.build(b), "b")
	r := Request{Message: req.Message, Cid: req.Cid}
	b.SetBytes(int64(len(req.Message)))
	b.ReportAllocs()
	for b.Loop() {
		if d := p.Evaluate(r, w, nil); !d.Allowed {
			b.Fatal(d.Reason)
		}
	}
}

// TestDefaultMethodsAllowNI: a policy listing no methods signs an NI-PoRep
// commit (method 36) for its miner under the same caps, and refuses it for
// another miner or above the fee cap.
func TestDefaultMethodsAllowNI(t *testing.T) {
	keys := testKeys(t)
	from := keyAddr(t, keys[0])
	p := mustPolicy(t, testPolicyTOML)
	params, err := miner.EncodeParams(&miner.ProveCommitSectorsNIParams{
		Sectors: []miner.SectorNIActivationInfo{{SealingNumber: 120, SealerID: 1000, SealedCID: miner.SealedCID([32]byte{1}),
			SectorNumber: 120, SealRandEpoch: 100, Expiration: 100 + 300*EpochsPerDay}},
		AggregateProof: []byte{1, 2}, SealProofType: miner.RegisteredSealProofStackedDrg2KiBV1_2_Feat_NiPoRep,
		AggregateProofType: miner.RegisteredAggregationProofSnarkPackV2, ProvingDeadline: 3})
	if err != nil {
		t.Fatal(err)
	}
	eval := func(mut func(o *msgOpts)) Decision {
		o := defaultMsg(from)
		o.method, o.params = miner.MethodProveCommitSectorsNI, params
		if mut != nil {
			mut(&o)
		}
		req := signRequest(t, o.build(t), "r")
		return p.Evaluate(Request{Message: req.Message, Cid: req.Cid}, nil, nil)
	}
	if d := eval(nil); !d.Allowed {
		t.Fatalf("NI commit refused by the default policy: %s", d.Reason)
	}
	if d := eval(func(o *msgOpts) { o.to = "f01001" }); d.Allowed {
		t.Fatal("NI commit for another miner allowed")
	}
	if d := eval(func(o *msgOpts) { o.feeCap = atto(2_000_000_000) }); d.Allowed {
		t.Fatal("NI commit above the fee cap allowed")
	}
}
