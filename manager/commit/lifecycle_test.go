package commit

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

var (
	lcNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	lcIDs = []store.SectorID{{Miner: 1000, Number: 1}, {Miner: 1000, Number: 2}, {Miner: 1000, Number: 3}, {Miner: 1000, Number: 4}}
)

// ready returns prechecks that pass for ids.
func ready(ids ...store.SectorID) []MemberCheck {
	out := make([]MemberCheck, len(ids))
	for i, id := range ids {
		out[i] = MemberCheck{ID: id, Check: Check{Verdict: Ready}, ProofType: 3}
	}
	return out
}

// with returns cs with member i judged v.
func with(cs []MemberCheck, i int, v Verdict, reason string) []MemberCheck {
	out := append([]MemberCheck(nil), cs...)
	out[i].Check = Check{Verdict: v, Reason: reason}
	return out
}

func okBuild() *BuildFacts {
	return &BuildFacts{GasLimit: 1_000_000, Fee: FeeDecision{OK: true}, Size: 1000, Limit: 65536}
}

// facts is a batch of the four lcIDs in state s, with the answers an
// earlier step of the same pass would have gathered.
func facts(s State, kind store.BatchKind) Facts {
	f := Facts{State: s, Kind: kind, Members: lcIDs, From: "f1sender", Nonce: 7, Now: lcNow, Head: 1000, Confidence: 5}
	f.Sign.RetryBackoff = 10 * time.Minute
	switch s {
	case StateOpen:
		f.Close = CloseInput{Policy: BatchPolicy{Size: 8, MaxWait: time.Hour}, Members: 4, Opened: lcNow.Add(-time.Minute), Now: lcNow, Head: 1000, Slack: 60}
	case StateClosed, StateReserved:
		f.Precheck, f.Build = ready(lcIDs...), okBuild()
	case StatePrepared, StateSigned:
		f.Sign.Have = true
	case StatePushed:
		f.Chain = &ChainFacts{Found: true, Height: 990, Exit: types.Ok, CID: "bafyours"}
	}
	return f
}

func batchReturn(t *testing.T, ok uint64, fails ...miner.FailCode) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (&miner.BatchReturn{SuccessCount: ok, FailCodes: fails}).MarshalCBOR(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type planCase struct {
	name string
	f    Facts
	rule string
	next State
	// acts lists the action kinds; check inspects the rest.
	acts  []ActionKind
	check func(t *testing.T, d Decision)
}

// planCases is one case (at least) per row of the table; see
// TestPlanCoversTable.
func planCases(t *testing.T) []planCase {
	mod := func(s State, kind store.BatchKind, fn func(*Facts)) Facts {
		f := facts(s, kind)
		fn(&f)
		return f
	}
	pc, prc := store.BatchPreCommit, store.BatchProveCommit
	cs := []planCase{
		// Open.
		{name: "open full", f: mod(StateOpen, pc, func(f *Facts) { f.Close.Members = 8 }),
			rule: "due (full, max wait or a member's deadline)", next: StateClosed, acts: []ActionKind{ActClose},
			check: reason("full (8/8 sectors)")},
		{name: "open max wait", f: mod(StateOpen, pc, func(f *Facts) { f.Close.Opened = lcNow.Add(-2 * time.Hour) }),
			rule: "due (full, max wait or a member's deadline)", next: StateClosed, acts: []ActionKind{ActClose},
			check: reason("max wait 1h0m0s reached (4/8 sectors)")},
		{name: "open deadline", f: mod(StateOpen, pc, func(f *Facts) { f.Close.Deadline = 1050 }),
			rule: "due (full, max wait or a member's deadline)", next: StateClosed, acts: []ActionKind{ActClose}},
		{name: "open not due", f: facts(StateOpen, pc), rule: "not due", next: StateOpen},
		{name: "open empty", f: mod(StateOpen, pc, func(f *Facts) { f.Close.Members, f.Members = 0, nil }), rule: "not due", next: StateOpen},

		// Closed.
		{name: "closed needs precheck", f: mod(StateClosed, pc, func(f *Facts) { f.Precheck, f.Build = nil, nil }),
			rule: "precheck", next: StateClosed, acts: []ActionKind{ActPrecheck}},
		{name: "closed empty (dissolve)", f: mod(StateClosed, pc, func(f *Facts) { f.Members, f.Precheck = nil, nil }),
			rule: "no members", next: StateFailed, acts: []ActionKind{ActRelease}, check: reason("empty batch")},
		{name: "closed member waits", f: mod(StateClosed, prc, func(f *Facts) {
			f.Precheck = with(with(f.Precheck, 0, Bad, "ticket expired"), 2, Wait, "too early to prove")
		}), rule: "a member must wait", next: StateClosed, acts: []ActionKind{ActWait},
			check: reason("sector f01000/3: too early to prove")},
		{name: "closed: sector aborted while in the batch", f: mod(StateClosed, pc, func(f *Facts) {
			f.Precheck = with(f.Precheck, 1, Drop, "sector is no longer active")
		}), rule: "precheck removes members", next: StateFailed, acts: []ActionKind{ActRelease},
			check: func(t *testing.T, d Decision) {
				a := d.Actions[0]
				if len(a.Fail) != 0 || !reflect.DeepEqual(a.Groups, [][]store.SectorID{{lcIDs[0], lcIDs[2], lcIDs[3]}}) {
					t.Fatalf("release %v", a)
				}
			}},
		{name: "closed: bad and done members", f: mod(StateClosed, pc, func(f *Facts) {
			f.Precheck = with(with(f.Precheck, 0, Bad, "number taken"), 3, Done, "already pre-committed")
		}), rule: "precheck removes members", next: StateFailed, acts: []ActionKind{ActMarkExternal, ActRelease},
			check: func(t *testing.T, d Decision) {
				if got := d.Actions[0].Sectors; !reflect.DeepEqual(got, []store.SectorID{lcIDs[3]}) {
					t.Fatalf("external %v", got)
				}
				a := d.Actions[1]
				if a.Fail[lcIDs[0]] != "precommit precheck: number taken" || len(a.Fail) != 1 ||
					!reflect.DeepEqual(a.Groups, [][]store.SectorID{{lcIDs[1], lcIDs[2]}}) {
					t.Fatalf("release %v", a)
				}
			}},
		{name: "closed: several proof types", f: mod(StateClosed, prc, func(f *Facts) { f.Precheck[1].ProofType, f.Precheck[3].ProofType = 8, 8 }),
			rule: "several seal proof types (ProveCommit)", next: StateFailed, acts: []ActionKind{ActRelease},
			check: groups([][]store.SectorID{{lcIDs[0], lcIDs[2]}, {lcIDs[1], lcIDs[3]}})},
		{name: "closed: several proof types in a PreCommit batch are fine", f: mod(StateClosed, pc, func(f *Facts) { f.Precheck[1].ProofType = 8 }),
			rule: "ready", next: StatePrepared, acts: []ActionKind{ActStoreMessage}},
		{name: "closed: too many NI sectors", f: mod(StateClosed, prc, func(f *Facts) {
			f.Members = nil
			for i := range 70 {
				f.Members = append(f.Members, store.SectorID{Miner: 1000, Number: uint64(i)})
			}
			f.Precheck = ready(f.Members...)
			for i := range f.Precheck {
				f.Precheck[i].NI = true
			}
		}), rule: "more NI sectors than one message takes", next: StateFailed, acts: []ActionKind{ActRelease},
			check: func(t *testing.T, d Decision) {
				if g := d.Actions[0].Groups; len(g) != 2 || len(g[0]) != 65 || len(g[1]) != 5 {
					t.Fatalf("groups of %d", len(g))
				}
			}},
		{name: "closed needs build", f: mod(StateClosed, pc, func(f *Facts) { f.Build = nil }),
			rule: "build and estimate", next: StateClosed, acts: []ActionKind{ActBuild}},
		{name: "closed: estimation fails for the node", f: mod(StateClosed, pc, func(f *Facts) {
			f.Build = &BuildFacts{EstimateErr: "connection refused"}
		}), rule: "gas estimation failed, not for a sector", next: StateClosed, acts: []ActionKind{ActWait},
			check: reason("gas estimation failed: connection refused")},
		{name: "closed: estimation fails for the sender's funds", f: mod(StateClosed, pc, func(f *Facts) {
			f.Build = &BuildFacts{EstimateErr: "exit 6", EstimateExit: types.SysErrInsufficientFunds, EstimateExitOK: true}
		}), rule: "gas estimation failed, not for a sector", next: StateClosed, acts: []ActionKind{ActWait}},
		{name: "closed: estimation predicts a poisoned sector: bisect", f: mod(StateClosed, pc, func(f *Facts) {
			f.Build = &BuildFacts{EstimateErr: "exit 16", EstimateExit: types.ErrIllegalArgument, EstimateExitOK: true}
		}), rule: "unsendable as built (estimation predicts a sector failure, gas or size too big)", next: StateFailed,
			acts: []ActionKind{ActRelease}, check: groups([][]store.SectorID{lcIDs[:2], lcIDs[2:]})},
		{name: "closed: estimation blames the only sector", f: mod(StateClosed, pc, func(f *Facts) {
			f.Members, f.Precheck = lcIDs[:1], ready(lcIDs[0])
			f.Build = &BuildFacts{EstimateErr: "exit 16", EstimateExit: types.ErrIllegalArgument, EstimateExitOK: true}
		}), rule: "unsendable as built (estimation predicts a sector failure, gas or size too big)", next: StateFailed,
			acts: []ActionKind{ActRelease}, check: func(t *testing.T, d Decision) {
				if r := d.Actions[0].Fail[lcIDs[0]]; !strings.Contains(r, "failed alone") {
					t.Fatalf("fail %q", r)
				}
			}},
		{name: "closed: gas above the block limit", f: mod(StateClosed, pc, func(f *Facts) { f.Build.GasLimit = types.BlockGasLimit + 1 }),
			rule: "unsendable as built (estimation predicts a sector failure, gas or size too big)", next: StateFailed,
			acts: []ActionKind{ActRelease}, check: groups([][]store.SectorID{lcIDs[:2], lcIDs[2:]})},
		{name: "closed: one sector too big for a message", f: mod(StateClosed, prc, func(f *Facts) {
			f.Members, f.Precheck = lcIDs[:1], ready(lcIDs[0])
			f.Build.Size = 70000
		}), rule: "unsendable as built (estimation predicts a sector failure, gas or size too big)", next: StateFailed,
			acts: []ActionKind{ActRelease}, check: func(t *testing.T, d Decision) {
				if r := d.Actions[0].Fail[lcIDs[0]]; !strings.Contains(r, "does not fit one message") {
					t.Fatalf("fail %q", r)
				}
			}},
		{name: "closed: fee cap exceeded", f: mod(StateClosed, pc, func(f *Facts) {
			f.Build.Fee = FeeDecision{Reason: "fee above cap: …"}
			f.Build.Size = 70000 // a held batch is not split for its size
		}), rule: "fee above cap", next: StateClosed, acts: []ActionKind{ActWait}, check: reason("fee above cap: …")},
		{name: "closed ready", f: facts(StateClosed, pc), rule: "ready", next: StatePrepared, acts: []ActionKind{ActStoreMessage}},

		// Reserved: a crash between the nonce and the bytes.
		{name: "reserved: resume with a precheck", f: mod(StateReserved, pc, func(f *Facts) { f.Precheck, f.Build = nil, nil }),
			rule: "precheck", next: StateReserved, acts: []ActionKind{ActPrecheck}},
		{name: "reserved empty", f: mod(StateReserved, pc, func(f *Facts) { f.Members, f.Precheck = nil, nil }),
			rule: "no members", next: StateFailed, acts: []ActionKind{ActRelease}},
		{name: "reserved empty, nonce held", f: mod(StateReserved, pc, func(f *Facts) { f.Members, f.Precheck, f.ReleaseRefused = nil, nil, true }),
			rule: "no members, nonce cannot be given back", next: StateReserved, acts: []ActionKind{ActWait}},
		{name: "reserved member waits", f: mod(StateReserved, pc, func(f *Facts) { f.Precheck = with(f.Precheck, 0, Wait, "ticket not below head") }),
			rule: "a member must wait", next: StateReserved, acts: []ActionKind{ActWait}},
		{name: "reserved: precheck removes a member", f: mod(StateReserved, pc, func(f *Facts) { f.Precheck = with(f.Precheck, 0, Bad, "x") }),
			rule: "precheck removes members", next: StateFailed, acts: []ActionKind{ActRelease}},
		{name: "reserved: removal refused (nonce gap): send as it is", f: mod(StateReserved, pc, func(f *Facts) {
			f.Precheck, f.ReleaseRefused, f.Build = with(f.Precheck, 0, Bad, "x"), true, nil
		}), rule: "build and estimate", next: StateReserved, acts: []ActionKind{ActBuild}},
		{name: "reserved: several proof types are sent as they are", f: mod(StateReserved, prc, func(f *Facts) { f.Precheck[1].ProofType = 8 }),
			rule: "ready", next: StatePrepared, acts: []ActionKind{ActStoreMessage}},
		{name: "reserved: estimation fails", f: mod(StateReserved, pc, func(f *Facts) { f.Build = &BuildFacts{EstimateErr: "timeout"} }),
			rule: "gas estimation failed, not for a sector", next: StateReserved, acts: []ActionKind{ActWait}},
		{name: "reserved: split", f: mod(StateReserved, pc, func(f *Facts) { f.Build.Size = 70000 }),
			rule: "unsendable as built (estimation predicts a sector failure, gas or size too big)", next: StateFailed, acts: []ActionKind{ActRelease}},
		{name: "reserved: split refused (nonce gap)", f: mod(StateReserved, pc, func(f *Facts) { f.Build.Size, f.ReleaseRefused = 70000, true }),
			rule: "unsendable as built, nonce cannot be given back", next: StateReserved, acts: []ActionKind{ActWait},
			check: reason("cannot split without leaving a nonce gap: message of 70000 bytes above the 65536-byte limit")},
		{name: "reserved: fee cap", f: mod(StateReserved, pc, func(f *Facts) { f.Build.Fee.OK = false }),
			rule: "fee above cap", next: StateReserved, acts: []ActionKind{ActWait}},
		{name: "reserved ready", f: facts(StateReserved, pc), rule: "ready", next: StatePrepared, acts: []ActionKind{ActStoreMessage}},

		// Prepared and Signed: the signature.
		{name: "prepared, signature held", f: facts(StatePrepared, pc), rule: "signature held", next: StateSigned, acts: []ActionKind{ActRecordSigned}},
		{name: "signed after a restart: look first", f: mod(StateSigned, pc, func(f *Facts) { f.Sign.Have = false }),
			rule: "signed before a restart, look on chain first", next: StateSigned, acts: []ActionKind{ActLookup}},
		{name: "signed after a restart: already on chain", f: mod(StateSigned, pc, func(f *Facts) {
			f.Sign.Have, f.Chain = false, &ChainFacts{Found: true, Height: 999}
		}), rule: "found on chain after a restart", next: StatePushed, acts: []ActionKind{ActRecordPushed}},
		{name: "signed after a restart, not on chain: sign again", f: mod(StateSigned, pc, func(f *Facts) {
			f.Sign.Have, f.Chain = false, &ChainFacts{}
		}), rule: "sign", next: StateSigned, acts: []ActionKind{ActSign}},
		{name: "signed: non-deterministic signer", f: mod(StateSigned, pc, func(f *Facts) { f.Sign.AltCID = true }),
			rule: "re-signature differs from the recorded one", next: StateSigned, acts: []ActionKind{ActNoteAltCID}},
	}
	// The signing rows serve Prepared, Signed and a Pushed message due for
	// a re-push alike.
	for _, s := range []State{StatePrepared, StateSigned, StatePushed} {
		base := func(fn func(*Facts)) Facts {
			return mod(s, pc, func(f *Facts) {
				f.Sign = SignFacts{RetryBackoff: 10 * time.Minute}
				if s == StateSigned {
					f.Chain = &ChainFacts{} // looked: not on chain
				}
				if s == StatePushed {
					f.Chain, f.RepushDue = &ChainFacts{}, true
				}
				fn(f)
			})
		}
		cs = append(cs,
			planCase{name: s.String() + ": sign", f: base(func(*Facts) {}), rule: "sign", next: s, acts: []ActionKind{ActSign}},
			planCase{name: s.String() + ": signing in flight", f: base(func(f *Facts) { f.Sign.InFlight = true }),
				rule: "signing in flight", next: s, acts: []ActionKind{ActWait}, check: waitsForSigner("waiting for the signer")},
			planCase{name: s.String() + ": signer refused, within backoff", f: base(func(f *Facts) {
				f.Sign.Failed, f.Sign.Refused, f.Sign.FailedAt, f.Sign.Err = true, true, lcNow.Add(-time.Minute), "policy: fee too high"
			}), rule: "signer refused, within backoff", next: s, acts: []ActionKind{ActWait}, check: reason("sign: policy: fee too high")},
			planCase{name: s.String() + ": signer refused, backoff over: ask again", f: base(func(f *Facts) {
				f.Sign.Failed, f.Sign.Refused, f.Sign.FailedAt, f.Sign.Err = true, true, lcNow.Add(-time.Hour), "policy"
			}), rule: "sign", next: s, acts: []ActionKind{ActSign}},
			planCase{name: s.String() + ": signer unavailable", f: base(func(f *Facts) {
				f.Sign.Failed, f.Sign.FailedAt, f.Sign.Err = true, lcNow, "no signer connected"
			}), rule: "signer unavailable", next: s, acts: []ActionKind{ActClearSign, ActWait}, check: func(t *testing.T, d Decision) {
				if w := d.Actions[1]; !w.WaitingForSigner || w.Reason != "sign: no signer connected" {
					t.Fatalf("wait %v", w)
				}
			}},
			planCase{name: s.String() + ": no signer configured", f: base(func(f *Facts) { f.Sign.NoSigner = "no signer configured for signing route \"lotus-wallet\"" }),
				rule: "no signer configured", next: s, acts: []ActionKind{ActWait}, check: waitsForSigner("no signer configured for signing route \"lotus-wallet\"")},
		)
	}
	// The push rows serve Signed and a Pushed message due for a re-push.
	for _, s := range []State{StateSigned, StatePushed} {
		base := func(fn func(*Facts)) Facts {
			return mod(s, pc, func(f *Facts) {
				f.Sign = SignFacts{Have: true}
				if s == StatePushed {
					f.Chain, f.RepushDue = &ChainFacts{}, true
				}
				fn(f)
			})
		}
		push := func(o PushOutcome, err string) func(*Facts) {
			return func(f *Facts) { f.Push = &PushFacts{Outcome: o, Err: err} }
		}
		cs = append(cs,
			planCase{name: s.String() + ": push", f: base(func(*Facts) {}), rule: "push", next: s, acts: []ActionKind{ActPush}},
			planCase{name: s.String() + ": pushed", f: base(push(PushKnown, "")), rule: "pushed (or already in the mpool)", next: StatePushed,
				acts: []ActionKind{ActRecordPushed}},
			planCase{name: s.String() + ": already in the mpool", f: base(push(PushKnown, "already in mpool")), rule: "pushed (or already in the mpool)",
				next: StatePushed, acts: []ActionKind{ActRecordPushed}},
			planCase{name: s.String() + ": nonce consumed by another message", f: base(func(f *Facts) {
				push(PushNonceTooLow, "nonce too low")(f)
				f.Chain = &ChainFacts{} // looked again after the push: not ours
			}),
				rule: "nonce consumed by another message", next: StateFailed, acts: []ActionKind{ActAbandon}, check: func(t *testing.T, d Decision) {
					a := d.Actions[0]
					if a.Reason != "nonce 7 of f1sender was consumed by another message" || !reflect.DeepEqual(a.Groups, [][]store.SectorID{lcIDs}) {
						t.Fatalf("abandon %v", a)
					}
				}},
			planCase{name: s.String() + ": node says too big", f: base(push(PushTooBig, "message too big")), rule: "node says too big",
				next: StateFailed, acts: []ActionKind{ActAbandon}, check: groups([][]store.SectorID{lcIDs[:2], lcIDs[2:]})},
			planCase{name: s.String() + ": node says one sector is too big", f: base(func(f *Facts) {
				push(PushTooBig, "message too big")(f)
				f.Members = lcIDs[:1]
			}), rule: "push refused", next: s, acts: []ActionKind{ActWait}, check: reason("mpool push: message too big")},
			planCase{name: s.String() + ": push refused", f: base(push(PushRetry, "insufficient funds")), rule: "push refused", next: s,
				acts: []ActionKind{ActWait}, check: reason("mpool push: insufficient funds")},
		)
	}
	cs = append(cs,
		// Nonce too low: whose message spent it?
		planCase{name: "signed: nonce too low: look", f: mod(StateSigned, pc, func(f *Facts) {
			f.Push = &PushFacts{Outcome: PushNonceTooLow, Err: "nonce too low"}
		}), rule: "nonce too low, look on chain", next: StateSigned, acts: []ActionKind{ActLookup}},
		planCase{name: "signed: nonce too low: a replacement of ours is on chain", f: mod(StateSigned, pc, func(f *Facts) {
			f.Push = &PushFacts{Outcome: PushNonceTooLow, Err: "nonce too low"}
			f.Chain = &ChainFacts{Found: true, Height: 999, CID: "bafyreplacement"}
		}), rule: "nonce too low, ours (or a replacement) on chain", next: StatePushed, acts: []ActionKind{ActRecordPushed}},
		planCase{name: "pushed: re-push says nonce too low: look again", f: mod(StatePushed, pc, func(f *Facts) {
			f.Push, f.Chain, f.RepushDue, f.Sign.Have = &PushFacts{Outcome: PushNonceTooLow}, nil, true, true
		}), rule: "look for the message", next: StatePushed, acts: []ActionKind{ActLookup}},
		planCase{name: "pushed: re-push says nonce too low, ours is on chain", f: mod(StatePushed, pc, func(f *Facts) {
			f.Push, f.RepushDue, f.Sign.Have = &PushFacts{Outcome: PushNonceTooLow}, true, true
			f.Chain.Height = 999
		}), rule: "on chain, not yet Confidence deep", next: StatePushed, acts: []ActionKind{ActWait}},

		// Pushed: following the message.
		planCase{name: "pushed: look", f: mod(StatePushed, pc, func(f *Facts) { f.Chain = nil }), rule: "look for the message", next: StatePushed,
			acts: []ActionKind{ActLookup}},
		planCase{name: "pushed: not on chain yet", f: mod(StatePushed, pc, func(f *Facts) { f.Chain = &ChainFacts{} }),
			rule: "not on chain, re-push not due", next: StatePushed},
		planCase{name: "pushed: not deep enough", f: mod(StatePushed, pc, func(f *Facts) { f.Chain.Height = 998 }),
			rule: "on chain, not yet Confidence deep", next: StatePushed, acts: []ActionKind{ActWait}, check: reason("")},
		planCase{name: "pushed: PreCommit landed", f: facts(StatePushed, pc), rule: "landed", next: StateLanded, acts: []ActionKind{ActLand},
			check: func(t *testing.T, d Decision) {
				if a := d.Actions[0]; a.Exit != types.Ok || len(a.Fail) != 0 || len(a.Groups) != 0 {
					t.Fatalf("land %v", a)
				}
			}},
		planCase{name: "pushed: replaced message landed", f: mod(StatePushed, pc, func(f *Facts) { f.Chain.CID = "bafygasbumped" }),
			rule: "landed", next: StateLanded, acts: []ActionKind{ActLand}},
		planCase{name: "pushed: ProveCommit landed, one sector did not activate", f: mod(StatePushed, prc, func(f *Facts) {
			f.Chain.Return = batchReturn(t, 3, miner.FailCode{Idx: 2, Code: types.ErrIllegalArgument})
		}), rule: "landed", next: StateLanded, acts: []ActionKind{ActLand}, check: func(t *testing.T, d Decision) {
			a := d.Actions[0]
			if len(a.Fail) != 1 || !strings.Contains(a.Fail[lcIDs[2]], "did not activate in message bafyours: exit") || a.Reason != "" {
				t.Fatalf("land %v %v", a, a.Fail)
			}
		}},
		planCase{name: "pushed: ProveCommit landed, undecodable return", f: mod(StatePushed, prc, func(f *Facts) { f.Chain.Return = []byte{0xff} }),
			rule: "landed", next: StateLanded, acts: []ActionKind{ActLand}, check: func(t *testing.T, d Decision) {
				if a := d.Actions[0]; len(a.Fail) != 0 || !strings.HasPrefix(a.Reason, "undecodable ProveCommitSectors3 return") {
					t.Fatalf("land %v", a)
				}
			}},
		planCase{name: "pushed: failed on chain, find culprits", f: mod(StatePushed, pc, func(f *Facts) { f.Chain.Exit = types.ErrIllegalArgument }),
			rule: "failed on chain, find culprits", next: StatePushed, acts: []ActionKind{ActCulprits}},
		planCase{name: "pushed: failed on chain, no culprit found: bisect", f: mod(StatePushed, pc, func(f *Facts) {
			f.Chain.Exit, f.Culprits = types.ErrIllegalArgument, map[store.SectorID]string{}
		}), rule: "failed on chain, isolate", next: StateFailed, acts: []ActionKind{ActLand},
			check: groups([][]store.SectorID{lcIDs[:2], lcIDs[2:]})},
		planCase{name: "pushed: failed on chain, culprit found", f: mod(StatePushed, pc, func(f *Facts) {
			f.Chain.Exit, f.Culprits = types.ErrIllegalArgument, map[store.SectorID]string{lcIDs[1]: "ticket expired"}
		}), rule: "failed on chain, isolate", next: StateFailed, acts: []ActionKind{ActLand}, check: func(t *testing.T, d Decision) {
			a := d.Actions[0]
			if len(a.Fail) != 1 || a.Fail[lcIDs[1]] == "" || !reflect.DeepEqual(a.Groups, [][]store.SectorID{{lcIDs[0], lcIDs[2], lcIDs[3]}}) {
				t.Fatalf("land %v", a)
			}
		}},
		planCase{name: "pushed: failed for the sender (funds): retry later", f: mod(StatePushed, pc, func(f *Facts) {
			f.Chain.Exit, f.Culprits = types.SysErrInsufficientFunds, map[store.SectorID]string{}
		}), rule: "failed on chain, isolate", next: StateFailed, acts: []ActionKind{ActLand}, check: func(t *testing.T, d Decision) {
			if a := d.Actions[0]; len(a.Retry) != 4 || len(a.Groups) != 0 || len(a.Fail) != 0 {
				t.Fatalf("land %v", a)
			}
		}},

		// Terminal.
		planCase{name: "landed", f: facts(StateLanded, pc), rule: "terminal", next: StateLanded},
		planCase{name: "failed", f: facts(StateFailed, pc), rule: "terminal", next: StateFailed},
	)
	return cs
}

func reason(want string) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		if got := d.Actions[len(d.Actions)-1].Reason; got != want {
			t.Fatalf("reason %q, want %q", got, want)
		}
	}
}

func waitsForSigner(want string) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		if a := d.Actions[0]; !a.WaitingForSigner || a.Reason != want {
			t.Fatalf("wait %v, want %q for the signer", a, want)
		}
	}
}

func groups(want [][]store.SectorID) func(*testing.T, Decision) {
	return func(t *testing.T, d Decision) {
		t.Helper()
		if got := d.Actions[len(d.Actions)-1].Groups; !reflect.DeepEqual(got, want) {
			t.Fatalf("groups %v, want %v", got, want)
		}
	}
}

func kindsOf(as []Action) []ActionKind {
	var out []ActionKind
	for _, a := range as {
		out = append(out, a.Kind)
	}
	return out
}

// TestPlan steps every case and checks the matched row, the next state and
// the actions; a gathering action must come last.
func TestPlan(t *testing.T) {
	for _, c := range planCases(t) {
		t.Run(c.name, func(t *testing.T) {
			d := Plan(c.f)
			if d.Rule != c.rule || d.Next != c.next || !reflect.DeepEqual(kindsOf(d.Actions), c.acts) {
				t.Fatalf("Plan = rule %q → %s %v, want rule %q → %s %v", d.Rule, d.Next, d.Actions, c.rule, c.next, c.acts)
			}
			for i, a := range d.Actions {
				if a.Kind.Gathers() && i != len(d.Actions)-1 {
					t.Fatalf("gathering action %s is not last in %v", a.Kind, d.Actions)
				}
			}
			if c.check != nil {
				c.check(t, d)
			}
			// Deterministic: the same facts give the same decision.
			if again := Plan(c.f); !reflect.DeepEqual(again, d) {
				t.Fatalf("Plan is not deterministic: %v then %v", d, again)
			}
		})
	}
}

// TestPlanCoversTable: every row of the table is the answer to at least
// one case, so no row is dead or untested.
func TestPlanCoversTable(t *testing.T) {
	hit := map[string]bool{}
	for _, c := range planCases(t) {
		hit[fmt.Sprintf("%s|%s", c.f.State, Plan(c.f).Rule)] = true
	}
	for _, r := range table {
		if !hit[fmt.Sprintf("%s|%s", r.From, r.Name)] {
			t.Errorf("row %s × %q has no case", r.From, r.Name)
		}
	}
	for _, s := range States() {
		if !s.Terminal() && !hit[s.String()+"|"+lastRow(s).Name] {
			t.Errorf("state %s: its catch-all row is untested", s)
		}
	}
}

func lastRow(s State) rule {
	var last rule
	for _, r := range table {
		if r.From == s {
			last = r
		}
	}
	return last
}

// TestStateOf derives every state from what the store records.
func TestStateOf(t *testing.T) {
	exit := func(c int64) *int64 { return &c }
	for _, c := range []struct {
		b    store.Batch
		want State
	}{
		{store.Batch{State: store.BatchOpen}, StateOpen},
		{store.Batch{State: store.BatchClosed}, StateClosed},
		{store.Batch{State: store.BatchClosed, Message: &store.Message{State: store.MsgPending}}, StateReserved},
		{store.Batch{State: store.BatchClosed, Message: &store.Message{State: store.MsgPending, Unsigned: []byte{1}}}, StatePrepared},
		{store.Batch{State: store.BatchClosed, Message: &store.Message{State: store.MsgSigned, Unsigned: []byte{1}}}, StateSigned},
		{store.Batch{State: store.BatchSent, Message: &store.Message{State: store.MsgPushed, Unsigned: []byte{1}}}, StatePushed},
		{store.Batch{State: store.BatchLanded, Message: &store.Message{State: store.MsgLanded, ExitCode: exit(0)}}, StateLanded},
		{store.Batch{State: store.BatchFailed, Message: &store.Message{State: store.MsgLanded, ExitCode: exit(16)}}, StateFailed},
		{store.Batch{State: store.BatchFailed}, StateFailed},
		{store.Batch{State: store.BatchSent, Message: &store.Message{State: store.MsgLanded, ExitCode: exit(16)}}, StateFailed},
		{store.Batch{State: store.BatchSent, Message: &store.Message{State: store.MsgFailed}}, StateFailed},
	} {
		if got := StateOf(c.b); got != c.want {
			t.Errorf("StateOf(%s, %+v) = %s, want %s", c.b.State, c.b.Message, got, c.want)
		}
	}
}

// BenchmarkPlan measures one planning step (a pushed batch that landed).
func BenchmarkPlan(b *testing.B) {
	f := facts(StatePushed, store.BatchPreCommit)
	b.ReportAllocs()
	for b.Loop() {
		Plan(f)
	}
}
