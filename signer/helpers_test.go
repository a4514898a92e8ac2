package signer

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/internal/testenv"
)

// testKDF keeps argon2id cheap in tests; the format and code path are the
// same as with DefaultKDF.
var testKDF = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

const testMiner = "t01000"

// testPolicyTOML allows sectors 100-199 of t01000, 2 FIL per message,
// 10 FIL per day, 0.1 FIL fee per message, 1 FIL fee per day.
const testPolicyTOML = `
miners = ["t01000"]
max_value_per_message = "2"
max_value_per_day = "10"
max_gas_fee_cap = "0.000000001"
max_gas_premium = "0.0000000005"
max_fee_per_message = "0.1"
max_fee_per_day = "1"
[sectors]
numbers = ["100-199"]
max_per_message = 32
`

func mustPolicy(t testing.TB, text string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testKeys returns a secp256k1 and a BLS key from a deterministic stream.
func testKeys(t testing.TB) []sigs.KeyInfo {
	t.Helper()
	var out []sigs.KeyInfo
	for i, kind := range []types.SigType{types.SigTypeSecp256k1, types.SigTypeBLS} {
		seed := bytes.Repeat([]byte{byte(0x40 + i)}, 64)
		priv, err := sigs.GenerateKey(kind, bytes.NewReader(seed))
		if err != nil {
			t.Fatal(err)
		}
		ki, err := sigs.NewKeyInfo(kind, priv)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ki)
	}
	return out
}

func keyAddr(t testing.TB, ki sigs.KeyInfo) address.Address {
	t.Helper()
	a, err := ki.Address()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// fixture is a Signer over a temporary state dir and audit log.
type fixture struct {
	s     *Signer
	keys  []sigs.KeyInfo
	dir   string
	audit string
	logs  *testenv.Buffer
	now   time.Time
}

func newFixture(t testing.TB, policy string) *fixture {
	t.Helper()
	f := &fixture{keys: testKeys(t), dir: t.TempDir(), logs: &testenv.Buffer{},
		now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	w, err := NewWallet(f.keys...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	st, err := OpenState(filepath.Join(f.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	f.audit = filepath.Join(f.dir, "audit.jsonl")
	au, err := OpenAudit(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { au.Close() })
	f.s, err = New(Options{Name: "test", Wallet: w, Policy: mustPolicy(t, policy), State: st, Audit: au,
		Logger: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) auditEntries(t testing.TB) []AuditEntry {
	t.Helper()
	data, err := os.ReadFile(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	var out []AuditEntry
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var e AuditEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// msgOpts builds test messages.
type msgOpts struct {
	to         string
	from       address.Address
	method     types.MethodNum
	value      types.BigInt
	gasLimit   int64
	feeCap     types.BigInt
	premium    types.BigInt
	nonce      uint64
	params     []byte
	rawParams  bool
	sectors    []uint64
	expiration int64 // days after the ticket
}

func atto(n int64) types.BigInt { return types.NewInt(n) }

func defaultMsg(from address.Address) msgOpts {
	return msgOpts{to: testMiner, from: from, method: miner.MethodPreCommitSectorBatch2,
		value: types.FromFil(1), gasLimit: 50_000_000, feeCap: atto(500_000_000),
		premium: atto(100_000), sectors: []uint64{100, 101}, expiration: 540}
}

func precommitParams(t testing.TB, sectors []uint64, expDays int64) []byte {
	t.Helper()
	var p miner.PreCommitSectorBatchParams2
	for _, n := range sectors {
		var commR [32]byte
		commR[0], commR[31] = byte(n), 0xaa
		p.Sectors = append(p.Sectors, miner.SectorPreCommitInfo{
			SealProof: miner.RegisteredSealProofStackedDrg32GiBV1_1, SectorNumber: miner.SectorNumber(n),
			SealedCID: miner.SealedCID(commR), SealRandEpoch: 100_000,
			Expiration: types.ChainEpoch(100_000 + expDays*EpochsPerDay)})
	}
	b, err := miner.EncodeParams(&p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func provecommitParams(t testing.TB, sectors []uint64) []byte {
	t.Helper()
	var p miner.ProveCommitSectors3Params
	for _, n := range sectors {
		p.SectorActivations = append(p.SectorActivations, miner.SectorActivationManifest{SectorNumber: miner.SectorNumber(n)})
		p.SectorProofs = append(p.SectorProofs, []byte{0xde, 0xad, byte(n)})
	}
	p.RequireActivationSuccess = true
	b, err := miner.EncodeParams(&p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (o msgOpts) build(t testing.TB) *types.Message {
	t.Helper()
	to, err := address.Parse(o.to)
	if err != nil {
		t.Fatal(err)
	}
	params := o.params
	if !o.rawParams && params == nil {
		switch o.method {
		case miner.MethodPreCommitSectorBatch2:
			params = precommitParams(t, o.sectors, o.expiration)
		case miner.MethodProveCommitSectors3:
			params = provecommitParams(t, o.sectors)
		}
	}
	return &types.Message{To: to, From: o.from, Nonce: o.nonce, Value: o.value, GasLimit: o.gasLimit,
		GasFeeCap: o.feeCap, GasPremium: o.premium, Method: o.method, Params: params}
}

func signRequest(t testing.TB, m *types.Message, id string) api.SignRequest {
	t.Helper()
	data, err := m.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return api.SignRequest{ID: id, Tenant: "acme", From: m.From.String(), Message: data, Cid: m.Cid().String()}
}

// secretForms returns every textual form a private key could leak in.
func secretForms(kis []sigs.KeyInfo) []string {
	var out []string
	for _, ki := range kis {
		k := ki.PrivateKey
		out = append(out,
			hex.EncodeToString(k), strings.ToUpper(hex.EncodeToString(k)),
			base64.StdEncoding.EncodeToString(k), base64.RawStdEncoding.EncodeToString(k),
			base64.URLEncoding.EncodeToString(k), base64.RawURLEncoding.EncodeToString(k),
			ki.HexLotus())
		// A key in JSON byte-array form would show its first bytes as
		// numbers; too short to search reliably, so it is covered by the
		// hex and base64 forms of the whole key only.
	}
	return out
}

func assertNoSecrets(t testing.TB, where, text string, kis []sigs.KeyInfo) {
	t.Helper()
	for _, s := range secretForms(kis) {
		if strings.Contains(text, s) {
			t.Fatalf("%s contains key material (%d chars matched)", where, len(s))
		}
	}
}

func readFileString(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}
