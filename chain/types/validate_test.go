package types

import (
	"errors"
	"testing"

	"github.com/sealant/sealant/chain/address"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Message)
		ok   bool
	}{
		{"vector", func(*Message) {}, true},
		{"version", func(m *Message) { m.Version = 1 }, false},
		{"empty to", func(m *Message) { m.To = address.Undef }, false},
		{"empty from", func(m *Message) { m.From = address.Undef }, false},
		{"negative value", func(m *Message) { m.Value = NewInt(-1) }, false},
		{"value = supply", func(m *Message) { m.Value = FromFil(2_000_000_000) }, true},
		{"value > supply", func(m *Message) { m.Value = FromFil(2_000_000_000).Add(NewInt(1)) }, false},
		{"zero gas", func(m *Message) { m.GasLimit = 0 }, false},
		{"gas = block limit", func(m *Message) { m.GasLimit = BlockGasLimit }, true},
		{"gas > block limit", func(m *Message) { m.GasLimit = BlockGasLimit + 1 }, false},
		{"premium > cap", func(m *Message) { m.GasPremium = NewInt(235) }, false},
		{"negative cap", func(m *Message) { m.GasFeeCap = NewInt(-1); m.GasPremium = NewInt(-2) }, false},
		{"negative premium", func(m *Message) { m.GasPremium = NewInt(-1) }, false},
		{"nil amounts", func(m *Message) { m.Value, m.GasFeeCap, m.GasPremium = BigInt{}, BigInt{}, BigInt{} }, true},
		{"params too large", func(m *Message) { m.Params = make([]byte, MaxMessageSize) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := vectorMessage()
			tc.edit(m)
			err := m.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrMessage) {
				t.Fatalf("%v does not wrap ErrMessage", err)
			}
		})
	}
}

func TestValidateLimit(t *testing.T) {
	m := vectorMessage()
	m.Params = make([]byte, 100<<10) // a batch of devnet proofs
	if err := m.Validate(); !errors.Is(err, ErrMessage) {
		t.Fatalf("100 KiB params passed the mainnet limit: %v", err)
	}
	if err := m.ValidateLimit(32 << 20); err != nil {
		t.Fatalf("devnet limit: %v", err)
	}
	if err := m.ValidateLimit(100 << 10); !errors.Is(err, ErrMessage) {
		t.Fatalf("limit not applied to the signed size: %v", err)
	}
}
