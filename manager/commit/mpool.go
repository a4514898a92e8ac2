package commit

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/sealant/sealant/chain/types"
)

// Reading the node's answers: MpoolPush and gas-estimation errors. Pure,
// part of the decision core (see core.go).

// PushOutcome classifies an MpoolPush error.
type PushOutcome int

// Push outcomes.
const (
	// PushRetry: nothing is known to have happened (or the node rejected
	// the message for a reason that may pass: funds, fee, busy); push the
	// same bytes again later.
	PushRetry PushOutcome = iota
	// PushKnown: the mpool already has this very message: treat it as
	// pushed and follow it on chain. (A different message at our nonce is
	// PushRetry: see ClassifyPushError.)
	PushKnown
	// PushNonceTooLow: the chain already used the nonce; find out whether
	// by our message (then follow it) or by another (then rebuild).
	PushNonceTooLow
	// PushTooBig: the message exceeds the mpool size limit; split.
	PushTooBig
)

// ClassifyPushError reads an MpoolPush error. Lotus reports mpool
// rejections only as text (chain/messagepool/messagepool.go error values),
// so this matches their stable phrases.
func ClassifyPushError(err error) PushOutcome {
	if err == nil {
		return PushKnown
	}
	s := strings.ToLower(err.Error())
	switch {
	case strings.Contains(s, "nonce too low"):
		return PushNonceTooLow
	case strings.Contains(s, "already in mpool"):
		return PushKnown
	case strings.Contains(s, "with nonce already exists"), strings.Contains(s, "replace by fee has too low"):
		// Another message holds our nonce in the mpool (a WindowPoSt from
		// the same sender, an operator's send). It is not ours to follow:
		// retry the push; once that message lands the push fails with
		// "nonce too low" and nonceUsed rebuilds the batch with a new nonce
		// (or follows ours, if a replacement of it is what landed).
		return PushRetry
	case strings.Contains(s, "too big"), strings.Contains(s, "too large"):
		return PushTooBig
	}
	return PushRetry
}

var exitRE = regexp.MustCompile(`exit(?: code)?[ :=[]*(?:[A-Za-z]+\()?(\d+)\)?`)

// EstimateExit extracts the exit code from a gas-estimation error ("message
// execution failed: exit 16", "exit ErrIllegalArgument(16)"): estimation
// executes the message, so such an error predicts the on-chain failure
// without spending gas. ok is false when the error carries no exit code
// (node or transport trouble).
func EstimateExit(err error) (types.ExitCode, bool) {
	if err == nil {
		return 0, false
	}
	m := exitRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, false
	}
	n, perr := strconv.ParseInt(m[1], 10, 64)
	if perr != nil || n == 0 {
		return 0, false
	}
	return types.ExitCode(n), true
}
