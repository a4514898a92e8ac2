package types

import (
	"fmt"
	"math/big"
)

// Chain limits a message must respect to be accepted by the message pool
// (lotus chain/types/message.go ValidForBlockInclusion, messagepool).
const (
	// BlockGasLimit is the most gas one block, hence one message, may use.
	BlockGasLimit = 10_000_000_000
	// MaxMessageSize is the mpool limit on a SignedMessage's CBOR size.
	MaxMessageSize = 64 << 10
)

// totalFilecoin is 2e9 FIL in attoFIL, the cap on any Value.
var totalFilecoin = new(big.Int).Mul(big.NewInt(2_000_000_000), attoPerFIL)

// Validate checks the static rules a node applies before accepting a
// message (spec/chain.md §2.5): version 0, defined addresses, 0 ≤ Value ≤
// 2e9 FIL, 0 < GasLimit ≤ BlockGasLimit, 0 ≤ GasPremium ≤ GasFeeCap, and an
// encoding that fits the mpool size limit (leaving room for a signature).
// It does not check balances, nonces or the current base fee.
func (m *Message) Validate() error { return m.ValidateLimit(MaxMessageSize) }

// ValidateLimit is Validate with another signed-size limit. Sealant's devnet
// raises the mpool limit because its devnet proofs (compact vanilla proofs,
// ~18 KiB per 2KiB sector) replace 192-byte SNARKs; everything else uses
// Validate.
func (m *Message) ValidateLimit(maxSize int) error {
	switch {
	case m.Version != MessageVersion:
		return fmt.Errorf("%w: version %d", ErrMessage, m.Version)
	case m.To.Empty():
		return fmt.Errorf("%w: To is empty", ErrMessage)
	case m.From.Empty():
		return fmt.Errorf("%w: From is empty", ErrMessage)
	case m.Value.Sign() < 0:
		return fmt.Errorf("%w: negative Value %s", ErrMessage, m.Value)
	case m.Value.big().Cmp(totalFilecoin) > 0:
		return fmt.Errorf("%w: Value %s exceeds total supply", ErrMessage, m.Value)
	case m.GasLimit <= 0:
		return fmt.Errorf("%w: GasLimit %d must be positive", ErrMessage, m.GasLimit)
	case m.GasLimit > BlockGasLimit:
		return fmt.Errorf("%w: GasLimit %d exceeds block gas limit %d", ErrMessage, m.GasLimit, BlockGasLimit)
	case m.GasFeeCap.Sign() < 0:
		return fmt.Errorf("%w: negative GasFeeCap %s", ErrMessage, m.GasFeeCap)
	case m.GasPremium.Sign() < 0:
		return fmt.Errorf("%w: negative GasPremium %s", ErrMessage, m.GasPremium)
	case m.GasPremium.Cmp(m.GasFeeCap) > 0:
		return fmt.Errorf("%w: GasPremium %s exceeds GasFeeCap %s", ErrMessage, m.GasPremium, m.GasFeeCap)
	}
	data, err := m.Serialize()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMessage, err)
	}
	// A signed message adds 1 (array header) + up to 3+SignatureMaxLength bytes.
	if len(data)+4+SignatureMaxLength > maxSize {
		return fmt.Errorf("%w: %d bytes encoded, too large for the %d-byte mpool limit once signed", ErrMessage, len(data), maxSize)
	}
	return nil
}
