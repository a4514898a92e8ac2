package api

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Hex32 is a 32-byte value (ticket, seed, commitment) encoded as 64 hex digits.
type Hex32 [32]byte

// MarshalJSON encodes h as a hex string.
func (h Hex32) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h[:])) }

// UnmarshalJSON decodes exactly 64 hex digits.
func (h *Hex32) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("api: 32-byte hex value: %w", err)
	}
	raw, err := hex.DecodeString(s)
	if err != nil || len(raw) != 32 {
		return fmt.Errorf("api: %q is not 32 bytes of hex", s)
	}
	copy(h[:], raw)
	return nil
}

// String is the hex form.
func (h Hex32) String() string { return hex.EncodeToString(h[:]) }

// HexBytes is a byte string encoded as hex.
type HexBytes []byte

// MarshalJSON encodes b as a hex string.
func (b HexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(b)) }

// UnmarshalJSON decodes a hex string.
func (b *HexBytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("api: hex value: %w", err)
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("api: hex value: %w", err)
	}
	*b = raw
	return nil
}

// SectorID names a sector: miner actor id and sector number.
type SectorID struct {
	Miner  uint64 `json:"miner"`
	Number uint64 `json:"number"`
}

// String is the lotus file name form, "s-t01000-5".
func (id SectorID) String() string { return fmt.Sprintf("s-t0%d-%d", id.Miner, id.Number) }

// ParseSectorID parses "MINER:N", "t0MINER:N", "f0MINER:N" or "s-t0MINER-N".
func ParseSectorID(s string) (SectorID, error) {
	var m, n string
	switch {
	case strings.HasPrefix(s, "s-t0") || strings.HasPrefix(s, "s-f0"):
		rest := s[4:]
		i := strings.LastIndexByte(rest, '-')
		if i < 0 {
			return SectorID{}, fmt.Errorf("api: bad sector id %q", s)
		}
		m, n = rest[:i], rest[i+1:]
	default:
		i := strings.IndexByte(s, ':')
		if i < 0 {
			return SectorID{}, fmt.Errorf("api: bad sector id %q: want MINER:NUMBER", s)
		}
		m, n = s[:i], s[i+1:]
		if len(m) > 2 && (m[0] == 't' || m[0] == 'f') && m[1] == '0' {
			m = m[2:]
		}
	}
	miner, err := strconv.ParseUint(m, 10, 63)
	if err != nil {
		return SectorID{}, fmt.Errorf("api: bad miner in sector id %q", s)
	}
	num, err := strconv.ParseUint(n, 10, 63)
	if err != nil {
		return SectorID{}, fmt.Errorf("api: bad sector number in sector id %q", s)
	}
	return SectorID{Miner: miner, Number: num}, nil
}
