package commit

import (
	"fmt"

	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// Poison isolation: how a failed batch is split. Pure, part of the
// decision core (see core.go).

// SectorSpecific reports whether an exit code can be caused by one bad
// sector in a batch: an illegal argument (bad commitment, proof, number or
// expiration), a missing pre-commit, an illegal state, a failed assertion, or
// an actor-specific code. Everything else — the sender cannot pay, ran out of
// gas, is not a control address (forbidden, also "too early"), a
// serialization error (ours), an unhandled method — says nothing about the
// sectors, so they are retried after a pause instead of being split or
// failed: a misconfiguration must not abort every sector one by one.
func SectorSpecific(code types.ExitCode) bool {
	switch code {
	case types.ErrIllegalArgument, types.ErrNotFound, types.ErrIllegalState, types.ErrAssertionFailed:
		return true
	}
	return code >= types.FirstActorSpecificExitCode
}

// FailurePlan says what to do after a batch's message failed.
type FailurePlan struct {
	// Groups each become a batch of their own, sent at once.
	Groups [][]store.SectorID
	// Retry sectors rejoin batching after a pause (transient failure).
	Retry []store.SectorID
	// Fail are sectors failed for good, with the reason.
	Fail map[store.SectorID]string
}

// PlanFailure isolates the poison in a failed batch (curio#1510: one bad
// sector must not sink the others). members are the batch's sectors, exit
// the receipt's code, and bad the sectors a fresh precheck found certainly
// bad (with the reason).
//
//   - bad sectors are failed for good without another attempt — the precheck
//     is conclusive (ticket expired, number taken, pre-commit gone), so a
//     solo retry would only burn gas — and the rest is re-sent as one batch;
//   - out of gas with several sectors halves the batch;
//   - a code that is not SectorSpecific retries everyone after a pause;
//   - otherwise a single sector failed alone: it is failed with the code;
//   - otherwise the batch is bisected: each half is sent as its own batch,
//     and a half that fails is bisected again, so a poisoned sector ends up
//     alone (≤ 2·log2(n) extra messages) while every good sector lands.
func PlanFailure(kind store.BatchKind, members []store.SectorID, exit types.ExitCode, why string, bad map[store.SectorID]string) FailurePlan {
	plan := FailurePlan{Fail: map[store.SectorID]string{}}
	var rest []store.SectorID
	for _, id := range members {
		if r, ok := bad[id]; ok {
			plan.Fail[id] = fmt.Sprintf("%s failed (%s): %s", kind, exit, r)
			continue
		}
		rest = append(rest, id)
	}
	switch {
	case len(rest) == 0:
	case len(plan.Fail) > 0:
		plan.Groups = [][]store.SectorID{rest}
	case exit == types.SysErrOutOfGas && len(rest) > 1:
		plan.Groups = Halves(rest)
	case !SectorSpecific(exit):
		plan.Retry = rest
	case len(rest) == 1:
		msg := fmt.Sprintf("%s failed alone: exit %s", kind, exit)
		if why != "" {
			msg += ": " + why
		}
		plan.Fail[rest[0]] = msg
	default:
		plan.Groups = Halves(rest)
	}
	return plan
}

// Halves splits ids into two non-empty halves (the first gets the extra
// one); fewer than two ids come back as one group.
func Halves(ids []store.SectorID) [][]store.SectorID {
	if len(ids) < 2 {
		return [][]store.SectorID{ids}
	}
	h := (len(ids) + 1) / 2
	return [][]store.SectorID{append([]store.SectorID(nil), ids[:h]...), append([]store.SectorID(nil), ids[h:]...)}
}

// GroupByProof splits sectors by seal proof type, keeping their order and
// the order of first appearance. ProveCommitSectors3 requires every sector
// of a call to share one seal proof type (a tenant may change its type while
// older sectors are still in flight).
func GroupByProof(ids []store.SectorID, proof func(store.SectorID) int64) [][]store.SectorID {
	var order []int64
	groups := map[int64][]store.SectorID{}
	for _, id := range ids {
		k := proof(id)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], id)
	}
	out := make([][]store.SectorID, 0, len(order))
	for _, k := range order {
		out = append(out, groups[k])
	}
	return out
}

// ProveFailures maps a landed ProveCommitSectors3's BatchReturn to the
// member sectors that did not activate. members must be in message order.
func ProveFailures(members []store.SectorID, ret *miner.BatchReturn) (map[store.SectorID]types.ExitCode, error) {
	out := map[store.SectorID]types.ExitCode{}
	if ret == nil {
		return out, nil
	}
	for _, fc := range ret.FailCodes {
		if fc.Idx >= uint64(len(members)) {
			return nil, fmt.Errorf("commit: batch return fail index %d out of %d sectors: %w", fc.Idx, len(members), ErrReceipt)
		}
		out[members[fc.Idx]] = fc.Code
	}
	if ret.SuccessCount+uint64(len(out)) != uint64(len(members)) {
		return out, fmt.Errorf("commit: batch return counts %d ok + %d failed for %d sectors: %w", ret.SuccessCount, len(out), len(members), ErrReceipt)
	}
	return out, nil
}
