package lotus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
)

var (
	docCid1 = cid.MustParse("bafy2bzacea3wsdh6y3a36tb3skempjoxqpuyompjbmfeyf34fi3uy6uue42v4")
	docCid2 = cid.MustParse("bafy2bzacebp3shtrn43k7g3unredz7fxn4gj533d3o43tqn2p2ipxxhrvchve")
	docTSK  = types.NewTipSetKey(docCid1, docCid2)
	docAddr = address.NewIDAddress(1234)
	docMsg  = []byte("byte array") // the documented "Ynl0ZSBhcnJheQ=="
)

func newTestClient(t testing.TB, url string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{APIInfo: "eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2ln:" + url}
	cfg.Retry = RetryPolicy{Attempts: 3, MinBackoff: 1, MaxBackoff: 2}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const testToken = "eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2ln"

// TestMethodsAgainstDocumentedExamples calls every wrapped method against
// a node that answers with the response Lotus documents for it, and
// checks that the request we send equals the documented input (exactly,
// or in shape where the documentation uses placeholder values our types
// would not produce, such as Message.Version 42).
func TestMethodsAgainstDocumentedExamples(t *testing.T) {
	ex := loadExamples(t)
	ctx := context.Background()
	pci := SectorPreCommitInfo{
		SealProof: 8, SectorNumber: 9, SealedCID: docCid1, SealRandEpoch: 10101,
		DealIDs: []miner.DealID{5432}, Expiration: 10101, UnsealedCid: &docCid1,
	}
	msg := &types.Message{
		To: docAddr, From: docAddr, Nonce: 42, Value: types.Zero(), GasLimit: 9,
		GasFeeCap: types.Zero(), GasPremium: types.Zero(), Method: 1, Params: docMsg,
	}
	sm := &types.SignedMessage{Message: *msg, Signature: types.Signature{Type: types.SigTypeBLS, Data: docMsg}}
	spec := &MessageSendSpec{MaxFee: types.Zero(), MsgUuid: uuid.MustParse("07070707-0707-0707-0707-070707070707"), MaximizeFeeCap: true}
	rnd := bytes.Repeat([]byte{7}, 32)

	cases := []struct {
		method string
		call   func(c *Client) (any, error)
		exact  bool            // params must equal the documented ones
		result json.RawMessage // overrides the documented result
		check  func(t *testing.T, got any)
	}{
		{"ChainHead", func(c *Client) (any, error) { return c.ChainHead(ctx) }, true, nil, func(t *testing.T, got any) {
			ts := got.(*TipSet)
			if ts.Height != 4863283 || len(ts.Blocks) != 1 || ts.Blocks[0].Miner != address.NewIDAddress(1938223) ||
				len(ts.Blocks[0].Ticket.VRFProof) != 96 || ts.Blocks[0].ParentBaseFee.String() != "20592036" ||
				ts.Blocks[0].BlockSig.Type != types.SigTypeBLS || len(ts.Blocks[0].BeaconEntries) != 2 {
				t.Errorf("tipset decoded wrongly: %+v", ts)
			}
			if ts.Key().Cids()[0].String() != "bafy2bzacedo7hjsumaajt6sbor42qycvjyk6goqe4oi4o4ddsjxkdeqrqf42c" {
				t.Errorf("key = %v", ts.Key())
			}
		}},
		{"ChainGetTipSet", func(c *Client) (any, error) { return c.ChainGetTipSet(ctx, docTSK) }, true, nil, nil},
		{"ChainGetTipSetByHeight", func(c *Client) (any, error) { return c.ChainGetTipSetByHeight(ctx, 10101, docTSK) }, true, nil, nil},
		{"Version", func(c *Client) (any, error) { return c.Version(ctx) }, true, nil, func(t *testing.T, got any) {
			if v := got.(Version); v.APIVersion != 131840 || v.BlockDelay != 42 {
				t.Errorf("version = %+v", v)
			}
		}},
		{"StateNetworkVersion", func(c *Client) (any, error) { return c.StateNetworkVersion(ctx, docTSK) }, true, nil, func(t *testing.T, got any) {
			if got.(NetworkVersion) != 29 {
				t.Errorf("nv = %v", got)
			}
		}},
		{"StateMinerInfo", func(c *Client) (any, error) { return c.StateMinerInfo(ctx, docAddr, docTSK) }, true, nil, func(t *testing.T, got any) {
			mi := got.(*MinerInfo)
			if mi.Worker != docAddr || mi.SectorSize != 34359738368 || len(mi.ControlAddresses) != 1 ||
				mi.WindowPoStProofType != 8 || mi.PeerId == nil || string(mi.Multiaddrs[0]) != "byte array" ||
				mi.BeneficiaryTerm.Expiration != 10101 || !mi.PendingBeneficiaryTerm.ApprovedByNominee {
				t.Errorf("miner info = %+v", mi)
			}
		}},
		{"StateLookupID", func(c *Client) (any, error) { return c.StateLookupID(ctx, docAddr, docTSK) }, true, nil, nil},
		{"StateAccountKey", func(c *Client) (any, error) { return c.StateAccountKey(ctx, docAddr, docTSK) }, true, nil, func(t *testing.T, got any) {
			if got.(address.Address) != docAddr {
				t.Errorf("got %v", got)
			}
		}},
		{"StateGetRandomnessFromTickets", func(c *Client) (any, error) {
			return c.StateGetRandomnessFromTickets(ctx, rand.TagElectionProofProduction, 10101, docMsg, docTSK)
		}, true, mustJSON(t, rnd), func(t *testing.T, got any) {
			if r := got.(rand.Randomness); !bytes.Equal(r[:], rnd) {
				t.Errorf("got %x", r)
			}
		}},
		{"StateGetRandomnessFromBeacon", func(c *Client) (any, error) {
			return c.StateGetRandomnessFromBeacon(ctx, rand.TagElectionProofProduction, 10101, docMsg, docTSK)
		}, true, mustJSON(t, rnd), nil},
		{"StateGetRandomnessDigestFromTickets", func(c *Client) (any, error) {
			return c.StateGetRandomnessDigestFromTickets(ctx, 10101, docTSK)
		}, true, mustJSON(t, rnd), nil},
		{"StateGetRandomnessDigestFromBeacon", func(c *Client) (any, error) {
			return c.StateGetRandomnessDigestFromBeacon(ctx, 10101, docTSK)
		}, true, mustJSON(t, rnd), nil},
		{"StateSectorPreCommitInfo", func(c *Client) (any, error) { return c.StateSectorPreCommitInfo(ctx, docAddr, 9, docTSK) }, true, nil, func(t *testing.T, got any) {
			p := got.(*SectorPreCommitOnChainInfo)
			if p.PreCommitEpoch != 10101 || p.Info.SealedCID != docCid1 || p.Info.UnsealedCid == nil || p.Info.DealIDs[0] != 5432 || !p.PreCommitDeposit.IsZero() {
				t.Errorf("precommit = %+v", p)
			}
		}},
		{"StateSectorGetInfo", func(c *Client) (any, error) { return c.StateSectorGetInfo(ctx, docAddr, 9, docTSK) }, true, nil, func(t *testing.T, got any) {
			if s := got.(*SectorOnChainInfo); s.SectorNumber != 9 || s.SealProof != 8 || s.SectorKeyCID == nil || s.PowerBaseEpoch != 10101 {
				t.Errorf("sector = %+v", s)
			}
		}},
		{"StateMinerSectorAllocated", func(c *Client) (any, error) { return c.StateMinerSectorAllocated(ctx, docAddr, 9, docTSK) }, true, nil, func(t *testing.T, got any) {
			if !got.(bool) {
				t.Error("want true")
			}
		}},
		{"StateMinerPreCommitDepositForPower", func(c *Client) (any, error) {
			return c.StateMinerPreCommitDepositForPower(ctx, docAddr, pci, docTSK)
		}, true, json.RawMessage(`"1100000000000000000"`), func(t *testing.T, got any) {
			if v := got.(types.BigInt); v.String() != "1100000000000000000" {
				t.Errorf("got %v", v)
			}
		}},
		{"StateMinerInitialPledgeForSector", func(c *Client) (any, error) {
			return c.StateMinerInitialPledgeForSector(ctx, 10101, 34359738368, 42, docTSK)
		}, true, nil, nil},
		{"StateMinerAvailableBalance", func(c *Client) (any, error) { return c.StateMinerAvailableBalance(ctx, docAddr, docTSK) }, true, nil, nil},
		{"StateMinerProvingDeadline", func(c *Client) (any, error) { return c.StateMinerProvingDeadline(ctx, docAddr, docTSK) }, true, nil, func(t *testing.T, got any) {
			if d := got.(*DeadlineInfo); d.Index != 42 || d.WPoStProvingPeriod != 10101 || d.FaultDeclarationCutoff != 10101 {
				t.Errorf("deadline = %+v", d)
			}
		}},
		{"StateMinerPartitions", func(c *Client) (any, error) { return c.StateMinerPartitions(ctx, docAddr, 42, docTSK) }, true, nil, func(t *testing.T, got any) {
			ps := got.([]Partition)
			if len(ps) != 1 || ps[0].LiveSectors.Count() != 1 {
				t.Fatalf("partitions = %+v", ps)
			}
			if s, err := ps[0].ActiveSectors.Slice(10); err != nil || !reflect.DeepEqual(s, []uint64{5}) {
				t.Errorf("active = %v, %v", s, err)
			}
		}},
		{"MpoolGetNonce", func(c *Client) (any, error) { return c.MpoolGetNonce(ctx, docAddr) }, true, nil, func(t *testing.T, got any) {
			if got.(uint64) != 42 {
				t.Errorf("nonce = %v", got)
			}
		}},
		{"MpoolPush", func(c *Client) (any, error) { return c.MpoolPush(ctx, sm) }, false, nil, func(t *testing.T, got any) {
			if got.(cid.Cid) != docCid1 {
				t.Errorf("cid = %v", got)
			}
		}},
		{"GasEstimateMessageGas", func(c *Client) (any, error) { return c.GasEstimateMessageGas(ctx, msg, spec, docTSK) }, false, nil, func(t *testing.T, got any) {
			if m := got.(*types.Message); m.GasLimit != 9 || m.Nonce != 42 || m.To != docAddr {
				t.Errorf("message = %+v", m)
			}
		}},
		{"StateWaitMsg", func(c *Client) (any, error) { return c.StateWaitMsg(ctx, docCid1, 42, 10101, true) }, true, nil, func(t *testing.T, got any) {
			ml := got.(*types.MsgLookup)
			if ml.Height != 10101 || ml.Receipt.GasUsed != 9 || !ml.Receipt.ExitCode.IsSuccess() || string(ml.Receipt.Return) != "byte array" || ml.TipSet != docTSK {
				t.Errorf("lookup = %+v", ml)
			}
		}},
		{"StateSearchMsg", func(c *Client) (any, error) { return c.StateSearchMsg(ctx, docTSK, docCid1, 10101, true) }, true, nil, nil},
		{"WalletBalance", func(c *Client) (any, error) { return c.WalletBalance(ctx, docAddr) }, true, nil, nil},
		{"WalletSign", func(c *Client) (any, error) { return c.WalletSign(ctx, docAddr, docMsg) }, true, nil, func(t *testing.T, got any) {
			if s := got.(*types.Signature); s.Type != types.SigTypeBLS || string(s.Data) != "byte array" {
				t.Errorf("signature = %+v", s)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			e, ok := ex[tc.method]
			if !ok {
				t.Fatalf("no documented example for %s", tc.method)
			}
			result := e.Result
			if tc.result != nil {
				result = tc.result
			}
			node := &fakeNode{t: t, token: testToken, handle: func(r rpcReq) (any, *RPCError) {
				return json.RawMessage(result), nil
			}}
			srv := httptest.NewServer(node)
			defer srv.Close()
			c := newTestClient(t, srv.URL, nil)
			got, err := tc.call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			req := node.last()
			if req.Method != "Filecoin."+tc.method {
				t.Errorf("method = %s", req.Method)
			}
			want := jsonValue(t, e.Params)
			if want == nil {
				want = []any{} // documented "Inputs: null" means no params
			}
			ours := jsonValue(t, req.Params)
			if tc.exact && !reflect.DeepEqual(ours, want) {
				t.Errorf("params differ from the documented input:\n ours %s\n doc  %s", req.Params, e.Params)
			}
			if !tc.exact && !reflect.DeepEqual(shape(ours), shape(want)) {
				t.Errorf("params shape differs from the documented input:\n ours %s\n doc  %s", req.Params, e.Params)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func mustJSON(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNullResults: Lotus answers null for "not found" in some methods,
// which must come back as nil without error, and null where a value is
// mandatory, which is a bad response.
func TestNullResults(t *testing.T) {
	node := &fakeNode{t: t, handle: func(rpcReq) (any, *RPCError) { return nil, nil }}
	srv := httptest.NewServer(node)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	ctx := context.Background()
	if p, err := c.StateSectorPreCommitInfo(ctx, docAddr, 1, types.EmptyTSK); p != nil || err != nil {
		t.Errorf("StateSectorPreCommitInfo = %v, %v; want nil, nil", p, err)
	}
	if s, err := c.StateSectorGetInfo(ctx, docAddr, 1, types.EmptyTSK); s != nil || err != nil {
		t.Errorf("StateSectorGetInfo = %v, %v", s, err)
	}
	if m, err := c.StateSearchMsg(ctx, types.EmptyTSK, docCid1, LookbackNoLimit, true); m != nil || err != nil {
		t.Errorf("StateSearchMsg = %v, %v", m, err)
	}
	// An empty TipSetKey is sent as [] (Lotus: "current head").
	if got := string(node.last().Params); got != `[[],{"/":"`+docCid1.String()+`"},-1,true]` {
		t.Errorf("params = %s", got)
	}
	if _, err := c.ChainHead(ctx); !errors.Is(err, ErrBadResponse) {
		t.Errorf("ChainHead(null) err = %v, want ErrBadResponse", err)
	}
	if _, err := c.StateWaitMsg(ctx, docCid1, 5, LookbackNoLimit, true); !errors.Is(err, ErrBadResponse) {
		t.Errorf("StateWaitMsg(null) err = %v", err)
	}
}

// TestRandomnessLength: the documented placeholder result ("Bw==", one
// byte) is not valid randomness and must be refused.
func TestRandomnessLength(t *testing.T) {
	ex := loadExamples(t)["StateGetRandomnessFromTickets"]
	node := &fakeNode{t: t, handle: func(rpcReq) (any, *RPCError) { return ex.Result, nil }}
	srv := httptest.NewServer(node)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	_, err := c.StateGetRandomnessFromTickets(context.Background(), rand.TagSealRandomness, 1, nil, types.EmptyTSK)
	if !errors.Is(err, ErrBadResponse) {
		t.Fatalf("err = %v, want ErrBadResponse", err)
	}
	// nil entropy is sent as "" (empty bytes), not null.
	var params []json.RawMessage
	_ = json.Unmarshal(node.last().Params, &params)
	if string(params[2]) != `""` {
		t.Errorf("entropy param = %s", params[2])
	}
}
