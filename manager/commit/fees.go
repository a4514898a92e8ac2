package commit

import (
	"fmt"
	"strings"

	"github.com/sealant/sealant/chain/types"
)

// Fee capping: pure, part of the decision core (see core.go).

// FeeDecision is the outcome of CapFee.
type FeeDecision struct {
	GasFeeCap, GasPremium types.TokenAmount
	// OK is false when the cap does not allow a fee cap at or above the
	// current base fee: the message would sit in the mpool, so it is not
	// sent and Reason says why.
	OK     bool
	Reason string
}

// CapFee bounds an estimated message's fee by maxFee (attoFIL for the
// whole message; zero or negative: no cap): GasFeeCap ≤ maxFee / GasLimit and
// GasPremium ≤ GasFeeCap, as Lotus's capGasFee does. It refuses (OK false)
// when that capped GasFeeCap is below baseFee (zero baseFee: unknown, not
// checked), because such a message cannot be included until the base fee
// drops.
func CapFee(gasLimit int64, feeCap, premium, maxFee, baseFee types.TokenAmount) FeeDecision {
	d := FeeDecision{GasFeeCap: feeCap, GasPremium: premium, OK: true}
	if gasLimit <= 0 {
		return FeeDecision{Reason: fmt.Sprintf("gas limit %d not positive", gasLimit)}
	}
	if maxFee.Sign() > 0 {
		limit := maxFee.Div(types.NewInt(gasLimit))
		if d.GasFeeCap.Cmp(limit) > 0 {
			d.GasFeeCap = limit
		}
	}
	if d.GasPremium.Cmp(d.GasFeeCap) > 0 {
		d.GasPremium = d.GasFeeCap
	}
	if baseFee.Sign() > 0 && d.GasFeeCap.Cmp(baseFee) < 0 {
		return FeeDecision{GasFeeCap: d.GasFeeCap, GasPremium: d.GasPremium,
			Reason: fmt.Sprintf("fee above cap: max fee %s attoFIL over gas limit %d allows fee cap %s, below base fee %s; waiting for the base fee to drop",
				maxFee, gasLimit, d.GasFeeCap, baseFee)}
	}
	return d
}

// MaxFee is a tenant's fee cap for one message: the per-sector cap (a
// decimal attoFIL string, "" for none) times the number of sectors.
func MaxFee(perSector string, sectors int) (types.TokenAmount, error) {
	if strings.TrimSpace(perSector) == "" {
		return types.Zero(), nil
	}
	v, err := types.ParseBigInt(strings.TrimSpace(perSector))
	if err != nil || v.Sign() < 0 {
		return types.Zero(), fmt.Errorf("commit: fee cap %q is not a non-negative attoFIL amount: %w", perSector, ErrPolicy)
	}
	return v.Mul(types.NewInt(int64(max(1, sectors)))), nil
}
