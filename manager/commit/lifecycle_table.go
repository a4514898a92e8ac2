package commit

import (
	"fmt"

	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// rule is one row of the batch transition table: in state From, when the
// condition holds, do the actions; the batch then reaches To (zero: it
// stays in From). Rows are tried in order; each state's last row matches
// anything.
type rule struct {
	From State
	Name string
	To   State
	When func(*Facts) bool
	Do   func(*Facts) []Action
}

func (r rule) next(from State) State {
	if r.To == 0 {
		return from
	}
	return r.To
}

// Rows shared by several states are built by these helpers, so the table
// lists every (state, condition) pair explicitly.

func always(*Facts) bool { return true }

func nothing(*Facts) []Action { return nil }

func wait(reason string) []Action { return []Action{{Kind: ActWait, Reason: reason}} }

func do(k ActionKind) func(*Facts) []Action {
	return func(*Facts) []Action { return []Action{{Kind: k}} }
}

// table is the batch lifecycle. docs/batch-states.md is generated from it.
var table = func() []rule {
	var t []rule
	t = append(t,
		rule{From: StateOpen, Name: "due (full, max wait or a member's deadline)", To: StateClosed,
			When: func(f *Facts) bool { ok, _ := ShouldClose(f.Close); return ok },
			Do: func(f *Facts) []Action {
				_, why := ShouldClose(f.Close)
				return []Action{{Kind: ActClose, Reason: why}}
			}},
		rule{From: StateOpen, Name: "not due", When: always, Do: nothing},
	)
	for _, s := range []State{StateClosed, StateReserved} {
		t = append(t, unsentRules(s)...)
	}
	t = append(t, signRules(StatePrepared, always)...)
	t = append(t, rule{From: StatePrepared, Name: "signature held", To: StateSigned, When: always, Do: do(ActRecordSigned)})
	t = append(t,
		rule{From: StateSigned, Name: "signed before a restart, look on chain first",
			When: func(f *Facts) bool { return !f.Sign.Have && f.Chain == nil }, Do: do(ActLookup)},
		rule{From: StateSigned, Name: "found on chain after a restart", To: StatePushed,
			When: func(f *Facts) bool { return !f.Sign.Have && f.Chain.Found },
			Do: func(*Facts) []Action {
				return []Action{{Kind: ActRecordPushed, Reason: "signed message found on chain after restart"}}
			}},
	)
	t = append(t, signRules(StateSigned, always)...)
	t = append(t, rule{From: StateSigned, Name: "re-signature differs from the recorded one",
		When: func(f *Facts) bool { return f.Sign.AltCID }, Do: do(ActNoteAltCID)})
	t = append(t, pushRules(StateSigned, always, true)...)
	t = append(t,
		rule{From: StatePushed, Name: "look for the message", When: func(f *Facts) bool { return f.Chain == nil }, Do: do(ActLookup)},
		rule{From: StatePushed, Name: "not on chain, re-push not due", When: func(f *Facts) bool { return !f.Chain.Found && !f.RepushDue }, Do: nothing},
	)
	repush := func(f *Facts) bool { return !f.Chain.Found }
	t = append(t, signRules(StatePushed, repush)...)
	t = append(t, pushRules(StatePushed, repush, false)...)
	t = append(t,
		rule{From: StatePushed, Name: "on chain, not yet Confidence deep",
			When: func(f *Facts) bool { return f.Head-f.Chain.Height < f.Confidence },
			Do:   func(*Facts) []Action { return wait("") }},
		rule{From: StatePushed, Name: "landed", To: StateLanded,
			When: func(f *Facts) bool { return f.Chain.Exit.IsSuccess() }, Do: planLanded},
		rule{From: StatePushed, Name: "failed on chain, find culprits",
			When: func(f *Facts) bool { return f.Culprits == nil }, Do: do(ActCulprits)},
		rule{From: StatePushed, Name: "failed on chain, isolate", To: StateFailed, When: always,
			Do: func(f *Facts) []Action {
				plan := PlanFailure(f.Kind, f.Members, f.Chain.Exit, "message "+f.Chain.CID, f.Culprits)
				return []Action{{Kind: ActLand, Exit: f.Chain.Exit, Fail: plan.Fail, Retry: plan.Retry, Groups: plan.Groups,
					Reason: fmt.Sprintf("batch failed on chain; isolating: %d groups, %d retry, %d failed", len(plan.Groups), len(plan.Retry), len(plan.Fail))}}
			}},
	)
	return t
}()

// unsentRules are the rows of a batch whose message is not stored yet:
// Closed (no nonce) and Reserved (a nonce, no bytes).
func unsentRules(s State) []rule {
	released := func(f *Facts) bool { return !f.ReleaseRefused }
	rs := []rule{
		{From: s, Name: "no members", To: StateFailed,
			When: func(f *Facts) bool { return len(f.Members) == 0 && released(f) },
			Do:   func(*Facts) []Action { return []Action{{Kind: ActRelease, Reason: "empty batch"}} }},
	}
	if s == StateReserved {
		// Only a reserved nonce can make a release leave a gap.
		rs = append(rs, rule{From: s, Name: "no members, nonce cannot be given back",
			When: func(f *Facts) bool { return len(f.Members) == 0 },
			Do:   func(*Facts) []Action { return wait("empty batch holds a nonce that is not its sender's highest") }})
	}
	rs = append(rs, []rule{
		{From: s, Name: "precheck", When: func(f *Facts) bool { return f.Precheck == nil }, Do: do(ActPrecheck)},
		{From: s, Name: "a member must wait",
			When: func(f *Facts) bool { _, ok := firstWait(f.Precheck); return ok },
			Do: func(f *Facts) []Action {
				c, _ := firstWait(f.Precheck)
				return wait(fmt.Sprintf("sector %s: %s", c.ID, c.Check.Reason))
			}},
		{From: s, Name: "precheck removes members", To: StateFailed,
			When: func(f *Facts) bool { return released(f) && len(keepers(f.Precheck)) < len(f.Precheck) },
			Do:   planPrecheckRemoval},
	}...)
	if s == StateClosed {
		// Only a batch without a nonce can be regrouped freely.
		rs = append(rs,
			rule{From: s, Name: "several seal proof types (ProveCommit)", To: StateFailed,
				When: func(f *Facts) bool { return f.Kind == store.BatchProveCommit && len(proofGroups(f.Precheck)) > 1 },
				Do: func(f *Facts) []Action {
					return []Action{{Kind: ActRelease, Reason: "sectors of several seal proof types", Groups: proofGroups(f.Precheck)}}
				}},
			rule{From: s, Name: "more NI sectors than one message takes", To: StateFailed,
				When: func(f *Facts) bool {
					return f.Kind == store.BatchProveCommit && len(f.Precheck) > rand.MaxAggregatedSectorsNI && f.Precheck[0].NI
				},
				Do: func(f *Facts) []Action {
					var groups [][]store.SectorID
					for ids := memberIDs(f.Precheck); len(ids) > 0; ids = ids[min(len(ids), rand.MaxAggregatedSectorsNI):] {
						groups = append(groups, ids[:min(len(ids), rand.MaxAggregatedSectorsNI)])
					}
					return []Action{{Kind: ActRelease, Reason: "more NI sectors than one ProveCommitSectorsNI takes", Groups: groups}}
				}})
	}
	rs = append(rs,
		rule{From: s, Name: "build and estimate", When: func(f *Facts) bool { return f.Build == nil }, Do: do(ActBuild)},
		rule{From: s, Name: "gas estimation failed, not for a sector",
			When: func(f *Facts) bool {
				return f.Build.EstimateErr != "" && (!f.Build.EstimateExitOK || !SectorSpecific(f.Build.EstimateExit))
			},
			Do: func(f *Facts) []Action { return wait("gas estimation failed: " + f.Build.EstimateErr) }},
	)
	if s == StateReserved {
		rs = append(rs, rule{From: s, Name: "unsendable as built, nonce cannot be given back",
			When: func(f *Facts) bool { _, ok := unsendable(f); return ok && !released(f) },
			Do: func(f *Facts) []Action {
				u, _ := unsendable(f)
				return wait("cannot split without leaving a nonce gap: " + u.why)
			}})
	}
	rs = append(rs,
		rule{From: s, Name: "unsendable as built (estimation predicts a sector failure, gas or size too big)", To: StateFailed,
			When: func(f *Facts) bool { _, ok := unsendable(f); return ok },
			Do: func(f *Facts) []Action {
				u, _ := unsendable(f)
				return []Action{{Kind: ActRelease, Reason: "split before sending: " + u.why, Fail: u.plan.Fail, Groups: u.plan.Groups}}
			}},
		rule{From: s, Name: "fee above cap",
			When: func(f *Facts) bool { return !f.Build.Fee.OK },
			Do:   func(f *Facts) []Action { return wait(f.Build.Fee.Reason) }},
		rule{From: s, Name: "ready", To: StatePrepared, When: always, Do: do(ActStoreMessage)},
	)
	return rs
}

// signRules are the rows that get the message signed, in state s when
// cond holds (a pushed message only needs a signature to be re-pushed).
func signRules(s State, cond func(*Facts) bool) []rule {
	return []rule{
		{From: s, Name: "signing in flight",
			When: func(f *Facts) bool { return cond(f) && !f.Sign.Have && f.Sign.InFlight },
			Do: func(*Facts) []Action {
				return []Action{{Kind: ActWait, Reason: "waiting for the signer", WaitingForSigner: true}}
			}},
		{From: s, Name: "signer refused, within backoff",
			When: func(f *Facts) bool {
				return cond(f) && !f.Sign.Have && f.Sign.Failed && f.Sign.Refused && f.Now.Before(f.Sign.FailedAt.Add(f.Sign.RetryBackoff))
			},
			Do: func(f *Facts) []Action { return wait("sign: " + f.Sign.Err) }},
		{From: s, Name: "signer unavailable",
			When: func(f *Facts) bool { return cond(f) && !f.Sign.Have && f.Sign.Failed && !f.Sign.Refused },
			Do: func(f *Facts) []Action {
				return []Action{{Kind: ActClearSign, Reason: "sign: " + f.Sign.Err, WaitingForSigner: true},
					{Kind: ActWait, Reason: "sign: " + f.Sign.Err, WaitingForSigner: true}}
			}},
		{From: s, Name: "no signer configured",
			When: func(f *Facts) bool { return cond(f) && !f.Sign.Have && f.Sign.NoSigner != "" },
			Do: func(f *Facts) []Action {
				return []Action{{Kind: ActWait, Reason: f.Sign.NoSigner, WaitingForSigner: true}}
			}},
		{From: s, Name: "sign", When: func(f *Facts) bool { return cond(f) && !f.Sign.Have }, Do: do(ActSign)},
	}
}

// pushRules are the rows that push a signed message and read the node's
// answer, in state s when cond holds. "Nonce too low" makes the runner
// search the chain again (the earlier answer is stale); a pushed message's
// own rows read that answer, so lookRows adds the rows that do it for a
// message not recorded as pushed.
func pushRules(s State, cond func(*Facts) bool, lookRows bool) []rule {
	pushed := func(f *Facts) bool { return cond(f) && f.Push != nil }
	tooLow := func(f *Facts) bool { return pushed(f) && f.Push.Outcome == PushNonceTooLow }
	rs := []rule{
		{From: s, Name: "push", When: func(f *Facts) bool { return cond(f) && f.Push == nil }, Do: do(ActPush)},
		{From: s, Name: "pushed (or already in the mpool)", To: StatePushed,
			When: func(f *Facts) bool { return pushed(f) && f.Push.Outcome == PushKnown },
			Do: func(f *Facts) []Action {
				return []Action{{Kind: ActRecordPushed, Reason: f.Push.Err}}
			}},
	}
	if lookRows {
		rs = append(rs,
			rule{From: s, Name: "nonce too low, look on chain", When: func(f *Facts) bool { return tooLow(f) && f.Chain == nil }, Do: do(ActLookup)},
			rule{From: s, Name: "nonce too low, ours (or a replacement) on chain", To: StatePushed,
				When: func(f *Facts) bool { return tooLow(f) && f.Chain.Found },
				Do:   func(*Facts) []Action { return []Action{{Kind: ActRecordPushed, Reason: "nonce spent by our message"}} }})
	}
	return append(rs,
		rule{From: s, Name: "nonce consumed by another message", To: StateFailed, When: tooLow,
			Do: func(f *Facts) []Action {
				return []Action{{Kind: ActAbandon, Reason: fmt.Sprintf("nonce %d of %s was consumed by another message", f.Nonce, f.From),
					Groups: [][]store.SectorID{append([]store.SectorID(nil), f.Members...)}}}
			}},
		rule{From: s, Name: "node says too big", To: StateFailed,
			When: func(f *Facts) bool { return pushed(f) && f.Push.Outcome == PushTooBig && len(f.Members) > 1 },
			Do: func(f *Facts) []Action {
				return []Action{{Kind: ActAbandon, Reason: "mpool: " + f.Push.Err, Groups: Halves(f.Members)}}
			}},
		rule{From: s, Name: "push refused", When: pushed,
			Do: func(f *Facts) []Action { return wait("mpool push: " + f.Push.Err) }})
}

// planPrecheckRemoval gives the batch up without the sectors the precheck
// removed: bad ones fail for good, ones the chain already has are
// remembered, dropped ones just leave, and the rest is regrouped.
func planPrecheckRemoval(f *Facts) []Action {
	var acts []Action
	var done []store.SectorID
	fail := map[store.SectorID]string{}
	for _, c := range f.Precheck {
		switch c.Check.Verdict {
		case Done:
			done = append(done, c.ID)
		case Bad:
			fail[c.ID] = fmt.Sprintf("%s precheck: %s", f.Kind, c.Check.Reason)
		}
	}
	if len(done) > 0 {
		acts = append(acts, Action{Kind: ActMarkExternal, Sectors: done})
	}
	return append(acts, Action{Kind: ActRelease, Reason: "precheck removed sectors", Fail: fail,
		Groups: [][]store.SectorID{memberIDs(keepers(f.Precheck))}})
}

// planLanded records a successful receipt; a ProveCommitSectors3's
// BatchReturn names the sectors that did not activate, which fail.
func planLanded(f *Facts) []Action {
	a := Action{Kind: ActLand, Exit: f.Chain.Exit}
	if f.Kind != store.BatchProveCommit {
		return []Action{a}
	}
	ret, err := miner.DecodeBatchReturn(f.Chain.Return)
	if err != nil {
		a.Reason = "undecodable ProveCommitSectors3 return; sectors are checked on chain by the poll: " + err.Error()
		return []Action{a}
	}
	failed, err := ProveFailures(f.Members, ret)
	if err != nil {
		a.Reason = "inconsistent batch return: " + err.Error()
	}
	for id, code := range failed {
		if a.Fail == nil {
			a.Fail = map[store.SectorID]string{}
		}
		a.Fail[id] = fmt.Sprintf("%s: sector did not activate in message %s: exit %s", f.Kind, f.Chain.CID, code)
	}
	return []Action{a}
}

func firstWait(cs []MemberCheck) (MemberCheck, bool) {
	for _, c := range cs {
		if c.Check.Verdict == Wait {
			return c, true
		}
	}
	return MemberCheck{}, false
}

// keepers are the members the precheck found ready, or all of them once a
// release was refused (the batch is sent as it is and the chain's answer
// drives the split).
func keepers(cs []MemberCheck) []MemberCheck {
	var out []MemberCheck
	for _, c := range cs {
		if c.Check.Verdict == Ready {
			out = append(out, c)
		}
	}
	return out
}

func proofGroups(cs []MemberCheck) [][]store.SectorID {
	proof := make(map[store.SectorID]int64, len(cs))
	for _, c := range cs {
		proof[c.ID] = c.ProofType
	}
	return GroupByProof(memberIDs(cs), func(id store.SectorID) int64 { return proof[id] })
}

// unsent is why a built message cannot go as it is, and how to split it.
type unsent struct {
	why  string
	plan FailurePlan
}

// unsendable reports whether the built message cannot be sent: gas
// estimation predicts a sector-specific failure (which PlanFailure splits
// or fails, never merely retries), the gas limit is above
// the block's, or (with an acceptable fee) the message is too big. A
// too-big single sector fails alone.
func unsendable(f *Facts) (unsent, bool) {
	b := f.Build
	if b == nil {
		return unsent{}, false
	}
	ids := memberIDs(f.Precheck)
	tooBig := func(why string) (unsent, bool) {
		if len(ids) == 1 {
			return unsent{why, FailurePlan{Fail: map[store.SectorID]string{ids[0]: fmt.Sprintf("%s: does not fit one message: %s", f.Kind, why)}}}, true
		}
		return unsent{why, FailurePlan{Groups: Halves(ids)}}, true
	}
	switch {
	case b.EstimateErr != "" && b.EstimateExitOK && SectorSpecific(b.EstimateExit):
		return unsent{b.EstimateErr, PlanFailure(f.Kind, ids, b.EstimateExit, b.EstimateErr, nil)}, true
	case b.EstimateErr != "":
		return unsent{}, false
	case b.GasLimit > types.BlockGasLimit:
		return tooBig(fmt.Sprintf("gas limit %d above the block gas limit", b.GasLimit))
	case b.Fee.OK && b.Size > b.Limit:
		return tooBig(fmt.Sprintf("message of %d bytes above the %d-byte limit", b.Size, b.Limit))
	}
	return unsent{}, false
}
