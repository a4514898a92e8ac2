package miner

import (
	"errors"
	"fmt"

	"github.com/sealant/sealant/chain/bitfield"
	"github.com/sealant/sealant/chain/types"
)

// ErrParams is wrapped by DecodeParams errors for bytes that do not decode
// as the method's params.
var ErrParams = errors.New("miner: invalid params")

// ErrUnknownMethod is returned by DecodeParams for methods it has no params
// type for.
var ErrUnknownMethod = errors.New("miner: no params decoder for method")

// Params is implemented by every params type in this package.
type Params interface {
	types.CborMarshaler
	types.CborUnmarshaler
}

// NewParams returns a fresh, empty params value for method, or
// ErrUnknownMethod.
func NewParams(method types.MethodNum) (Params, error) {
	switch method {
	case MethodSubmitWindowedPoSt:
		return &SubmitWindowedPoStParams{}, nil
	case MethodPreCommitSector:
		return &PreCommitSectorParams{}, nil
	case MethodProveCommitSector:
		return &ProveCommitSectorParams{}, nil
	case MethodDeclareFaultsRecovered:
		return &DeclareFaultsRecoveredParams{}, nil
	case MethodWithdrawBalance:
		return &WithdrawBalanceParams{}, nil
	case MethodPreCommitSectorBatch:
		return &PreCommitSectorBatchParams{}, nil
	case MethodProveCommitAggregate:
		return &ProveCommitAggregateParams{}, nil
	case MethodPreCommitSectorBatch2:
		return &PreCommitSectorBatchParams2{}, nil
	case MethodProveCommitSectors3:
		return &ProveCommitSectors3Params{}, nil
	case MethodProveCommitSectorsNI:
		return &ProveCommitSectorsNIParams{}, nil
	default:
		return nil, fmt.Errorf("%w %d (%s)", ErrUnknownMethod, method, methodLabel(method))
	}
}

func methodLabel(m types.MethodNum) string {
	if n := MethodName(m); n != "" {
		return n
	}
	return "unknown"
}

// DecodeParams decodes the Params bytes of a miner-actor message into the
// matching *…Params type (methods 5, 6, 7, 11, 16, 25, 26, 28, 34, 36). The
// input must hold exactly one value. Errors wrap ErrParams or
// ErrUnknownMethod.
func DecodeParams(method types.MethodNum, data []byte) (any, error) {
	p, err := NewParams(method)
	if err != nil {
		return nil, err
	}
	if err := types.DecodeExact(data, p); err != nil {
		return nil, fmt.Errorf("%w: method %d (%s): %w", ErrParams, method, MethodName(method), err)
	}
	if err := checkBitfields(p); err != nil {
		return nil, fmt.Errorf("%w: method %d (%s): %w", ErrParams, method, MethodName(method), err)
	}
	return p, nil
}

// checkBitfields applies the consensus RLE+ rules go-bitfield's lazy
// decoder leaves for later (see chain/bitfield).
func checkBitfields(p Params) error {
	var fields []bitfield.BitField
	switch pp := p.(type) {
	case *SubmitWindowedPoStParams:
		for _, part := range pp.Partitions {
			fields = append(fields, part.Skipped)
		}
	case *DeclareFaultsRecoveredParams:
		for _, r := range pp.Recoveries {
			fields = append(fields, r.Sectors)
		}
	case *ProveCommitAggregateParams:
		fields = append(fields, pp.SectorNumbers)
	}
	for _, f := range fields {
		if err := bitfield.Check(f); err != nil {
			return err
		}
	}
	return nil
}

// EncodeParams returns the CBOR bytes of p, ready for Message.Params.
func EncodeParams(p Params) ([]byte, error) { return types.EncodeBytes(p) }

// Interface guards.
var (
	_ Params = (*SubmitWindowedPoStParams)(nil)
	_ Params = (*PreCommitSectorParams)(nil)
	_ Params = (*ProveCommitSectorParams)(nil)
	_ Params = (*DeclareFaultsRecoveredParams)(nil)
	_ Params = (*WithdrawBalanceParams)(nil)
	_ Params = (*PreCommitSectorBatchParams)(nil)
	_ Params = (*ProveCommitAggregateParams)(nil)
	_ Params = (*PreCommitSectorBatchParams2)(nil)
	_ Params = (*ProveCommitSectors3Params)(nil)
	_ Params = (*ProveCommitSectorsNIParams)(nil)
	_ Params = (*SectorPreCommitInfo)(nil)
)
