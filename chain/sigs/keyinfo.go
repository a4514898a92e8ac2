package sigs

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/types"
)

// KeyType names a key kind in Lotus's KeyInfo JSON.
type KeyType string

// Key types of Lotus types.KeyInfo (chain/types/keystore.go). Only
// secp256k1 and bls keys can sign here; the others parse so that a
// keystore listing can be read, and are rejected by [KeyInfo.SigType].
const (
	KTSecp256k1       KeyType = "secp256k1"
	KTBLS             KeyType = "bls"
	KTDelegated       KeyType = "delegated"
	KTSecp256k1Ledger KeyType = "secp256k1-ledger"
)

// ErrBadKeyInfo is returned for KeyInfo input that is neither hex-lotus
// nor json-lotus, or whose fields are malformed.
var ErrBadKeyInfo = errors.New("sigs: malformed key info")

// KeyInfo is a private key in Lotus's export format:
//
//	{"Type":"secp256k1"|"bls","PrivateKey":"<base64 std>"}
//
// `lotus wallet export` prints it hex-encoded ("hex-lotus"); `--format
// json-lotus` prints the JSON. Its String and Format methods redact the key
// so that logging a KeyInfo by mistake does not leak it.
type KeyInfo struct {
	Type       KeyType
	PrivateKey []byte
}

type keyInfoJSON struct {
	Type       json.RawMessage `json:"Type"`
	PrivateKey []byte          `json:"PrivateKey"`
}

// MarshalJSON produces the json-lotus form with the field order Lotus
// writes, so hex-lotus output is byte-identical to `lotus wallet export`.
func (ki KeyInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type       KeyType
		PrivateKey []byte
	}{ki.Type, ki.PrivateKey})
}

// UnmarshalJSON accepts the json-lotus form. Type may also be the
// deprecated integer form (1 secp256k1, 2 bls, 3 delegated) that old Lotus
// versions wrote.
func (ki *KeyInfo) UnmarshalJSON(b []byte) error {
	var raw keyInfoJSON
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("sigs: key info: %v: %w", err, ErrBadKeyInfo)
	}
	var kt KeyType
	switch t := bytes.TrimSpace(raw.Type); {
	case len(t) == 0 || string(t) == "null":
		return fmt.Errorf("sigs: key info has no Type: %w", ErrBadKeyInfo)
	case t[0] == '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return fmt.Errorf("sigs: key info Type: %v: %w", err, ErrBadKeyInfo)
		}
		kt = KeyType(s)
	default:
		n, err := strconv.Atoi(string(t))
		if err != nil {
			return fmt.Errorf("sigs: key info Type %s: %w", t, ErrBadKeyInfo)
		}
		switch n {
		case 1:
			kt = KTSecp256k1
		case 2:
			kt = KTBLS
		case 3:
			kt = KTDelegated
		default:
			return fmt.Errorf("sigs: key info Type %d: %w", n, ErrBadKeyInfo)
		}
	}
	if len(raw.PrivateKey) == 0 {
		return fmt.Errorf("sigs: key info has no PrivateKey: %w", ErrBadKeyInfo)
	}
	ki.Type, ki.PrivateKey = kt, raw.PrivateKey
	return nil
}

// ParseKeyInfo reads a key in either Lotus export format: hex-lotus (the
// default of `lotus wallet export`) or json-lotus. Surrounding whitespace
// (a trailing newline from a file) is ignored.
func ParseKeyInfo(data []byte) (KeyInfo, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return KeyInfo{}, fmt.Errorf("sigs: empty key info: %w", ErrBadKeyInfo)
	}
	if data[0] != '{' {
		dec := make([]byte, hex.DecodedLen(len(data)))
		n, err := hex.Decode(dec, data)
		if err != nil {
			return KeyInfo{}, fmt.Errorf("sigs: key info is neither JSON nor hex: %v: %w", err, ErrBadKeyInfo)
		}
		defer clear(dec)
		data = dec[:n]
	}
	var ki KeyInfo
	if err := json.Unmarshal(data, &ki); err != nil {
		if errors.Is(err, ErrBadKeyInfo) {
			return KeyInfo{}, err
		}
		return KeyInfo{}, fmt.Errorf("sigs: key info: %v: %w", err, ErrBadKeyInfo)
	}
	return ki, nil
}

// HexLotus returns the hex-lotus export form: lower-case hex of the
// json-lotus bytes.
func (ki KeyInfo) HexLotus() string {
	b, _ := ki.MarshalJSON() // cannot fail: a string and a byte slice
	defer clear(b)
	return hex.EncodeToString(b)
}

// String redacts the private key.
func (ki KeyInfo) String() string {
	return "KeyInfo{Type:" + string(ki.Type) + " PrivateKey:<redacted>}"
}

// GoString redacts the private key under %#v as well.
func (ki KeyInfo) GoString() string { return ki.String() }

// SigType returns the signature type a key of this type produces, or
// ErrUnsupportedType for key types this package cannot sign with
// (delegated keys sign Ethereum transactions, ledger keys live off-host).
func (ki KeyInfo) SigType() (types.SigType, error) {
	switch ki.Type {
	case KTSecp256k1:
		return types.SigTypeSecp256k1, nil
	case KTBLS:
		return types.SigTypeBLS, nil
	default:
		return 0, fmt.Errorf("sigs: key type %q: %w", ki.Type, ErrUnsupportedType)
	}
}

// Address returns the f1/f3 address of the key.
func (ki KeyInfo) Address() (address.Address, error) {
	kind, err := ki.SigType()
	if err != nil {
		return address.Undef, err
	}
	return AddressOf(kind, ki.PrivateKey)
}

// NewKeyInfo wraps a private key of the given signature type for export.
func NewKeyInfo(kind types.SigType, priv []byte) (KeyInfo, error) {
	var kt KeyType
	switch kind {
	case types.SigTypeSecp256k1:
		kt = KTSecp256k1
	case types.SigTypeBLS:
		kt = KTBLS
	default:
		return KeyInfo{}, fmt.Errorf("sigs: key info for %v: %w", kind, ErrUnsupportedType)
	}
	// Validate now so an exported file is always importable.
	if _, err := PublicKey(kind, priv); err != nil {
		return KeyInfo{}, err
	}
	return KeyInfo{Type: kt, PrivateKey: bytes.Clone(priv)}, nil
}
