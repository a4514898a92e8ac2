package address

import (
	"errors"
	"fmt"
	"math"
	"strings"

	goaddr "github.com/filecoin-project/go-address"
)

// Address is a Filecoin actor address (go-address). The zero value is Undef;
// it is comparable and may be a map key.
type Address = goaddr.Address

// Protocol is the first byte of an address's binary form.
type Protocol = goaddr.Protocol

// The five address protocols.
const (
	ID        = goaddr.ID        // f0: LEB128 actor id
	SECP256K1 = goaddr.SECP256K1 // f1: blake2b-160 of a 65-byte secp256k1 key
	Actor     = goaddr.Actor     // f2: blake2b-160 of actor creation data
	BLS       = goaddr.BLS       // f3: 48-byte compressed BLS12-381 G1 key
	Delegated = goaddr.Delegated // f4: namespace actor id + sub-address
)

// Size limits (go-address's).
const (
	PayloadHashLength      = goaddr.PayloadHashLength
	ChecksumHashLength     = goaddr.ChecksumHashLength
	BlsPublicKeyBytes      = goaddr.BlsPublicKeyBytes
	MaxSubaddressLen       = goaddr.MaxSubaddressLen
	MaxInt64StringLength   = goaddr.MaxInt64StringLength
	MaxAddressStringLength = goaddr.MaxAddressStringLength
	// MaxAddressBytesLength bounds the binary form (1 + 9-byte namespace + 54),
	// the limit go-address's UnmarshalCBOR applies.
	MaxAddressBytesLength = 64
)

// UndefAddressString is how the undefined address prints ("<empty>", as Lotus).
const UndefAddressString = "<empty>"

// Undef is the undefined (empty) address.
var Undef = goaddr.Undef

// Sentinel errors. go-address's own sentinels are re-exported, so errors.Is
// works on errors from either package.
var (
	ErrUnknownNetwork  = goaddr.ErrUnknownNetwork
	ErrUnknownProtocol = goaddr.ErrUnknownProtocol
	ErrInvalidPayload  = goaddr.ErrInvalidPayload
	ErrInvalidLength   = goaddr.ErrInvalidLength
	ErrInvalidChecksum = goaddr.ErrInvalidChecksum
	ErrInvalidEncoding = goaddr.ErrInvalidEncoding
	ErrEmpty           = errors.New("address: empty address")
	ErrNotID           = errors.New("address: not an ID address")
)

// Network is the one-letter prefix of an address string.
type Network byte

// Networks and their prefixes.
const (
	Mainnet Network = 'f' // mainnet prints "f…"
	Testnet Network = 't' // calibnet and devnets print "t…"
)

// String returns the prefix, "f" or "t".
func (n Network) String() string { return string(rune(n)) }

func init() {
	// Sealant talks to its own devnet and calibnet by default; see doc.go.
	goaddr.CurrentNetwork = goaddr.Testnet
}

// CurrentNetwork returns the prefix Address.String and JSON use now.
func CurrentNetwork() Network {
	if goaddr.CurrentNetwork == goaddr.Mainnet {
		return Mainnet
	}
	return Testnet
}

// SetNetwork sets the prefix Address.String and JSON use (go-address's
// process-wide CurrentNetwork) and returns the previous one. Call it at
// start-up, before goroutines format addresses: it is not synchronised.
func SetNetwork(n Network) (previous Network) {
	previous = CurrentNetwork()
	if n == Mainnet {
		goaddr.CurrentNetwork = goaddr.Mainnet
	} else {
		goaddr.CurrentNetwork = goaddr.Testnet
	}
	return previous
}

// NewIDAddress returns the ID address for actor id. Ids above 2^63-1 cannot
// be on chain: for them it returns Undef, which no encoder accepts, so
// callers should validate ids from untrusted input (IDAddress does).
func NewIDAddress(id uint64) Address {
	a, err := goaddr.NewIDAddress(id)
	if err != nil {
		return Undef
	}
	return a
}

// IDAddress returns the ID address for actor id, or an error above 2^63-1.
func IDAddress(id uint64) (Address, error) {
	if id > math.MaxInt64 {
		return Undef, fmt.Errorf("%w: id %d exceeds 2^63-1", ErrInvalidPayload, id)
	}
	return goaddr.NewIDAddress(id)
}

// NewSecp256k1Address returns the f1 address of a 65-byte uncompressed SEC1
// secp256k1 public key. Stricter than go-address, which hashes any bytes:
// a compressed key would name an actor no signature can ever control.
func NewSecp256k1Address(pubkey []byte) (Address, error) {
	if len(pubkey) != 65 || pubkey[0] != 0x04 {
		return Undef, fmt.Errorf("%w: secp256k1 public key must be 65 bytes uncompressed, got %d bytes", ErrInvalidPayload, len(pubkey))
	}
	return goaddr.NewSecp256k1Address(pubkey)
}

// NewActorAddress returns the f2 address derived from actor creation data.
func NewActorAddress(data []byte) (Address, error) { return goaddr.NewActorAddress(data) }

// NewBLSAddress returns the f3 address of a 48-byte compressed BLS public key
// (not checked to be a curve point, as in go-address).
func NewBLSAddress(pubkey []byte) (Address, error) {
	a, err := goaddr.NewBLSAddress(pubkey)
	return a, payloadErr(err)
}

// NewDelegatedAddress returns the f4 address for namespace ns and sub-address
// sub (at most MaxSubaddressLen bytes).
func NewDelegatedAddress(ns uint64, sub []byte) (Address, error) {
	if ns > math.MaxInt64 {
		return Undef, fmt.Errorf("%w: namespace %d exceeds 2^63-1", ErrInvalidPayload, ns)
	}
	return goaddr.NewDelegatedAddress(ns, sub)
}

// FromBytes decodes the binary form (protocol byte || payload). Stricter
// than go-address, it rejects the empty input (ErrEmpty) instead of
// returning Undef; use Undef for "no address".
func FromBytes(b []byte) (Address, error) {
	if len(b) == 0 {
		return Undef, ErrEmpty
	}
	if len(b) == 1 {
		if b[0] > Delegated {
			return Undef, fmt.Errorf("%w: %d", ErrUnknownProtocol, b[0])
		}
		return Undef, fmt.Errorf("%w: protocol %d without payload", ErrInvalidPayload, b[0])
	}
	a, err := goaddr.NewFromBytes(b)
	return a, payloadErr(err)
}

// payloadErr also classifies go-address's length errors as payload errors:
// a payload of the wrong length for its protocol is an invalid payload.
func payloadErr(err error) error {
	if err == nil || !errors.Is(err, ErrInvalidLength) || errors.Is(err, ErrInvalidPayload) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrInvalidPayload, err)
}

// IDOf returns the actor id of an ID address; ErrNotID for other protocols.
func IDOf(a Address) (uint64, error) {
	if a.Protocol() != ID {
		return 0, ErrNotID
	}
	return goaddr.IDFromAddress(a)
}

// Format prints a with network prefix n, whatever CurrentNetwork is.
func Format(a Address, n Network) string {
	s := a.String()
	if a.Empty() || len(s) == 0 {
		return s
	}
	return string(rune(n)) + s[1:]
}

// Parse decodes the string form; both prefixes are accepted, as in
// go-address. Stricter than go-address: "" and "<empty>" are ErrEmpty (not
// Undef), and decimal ids and f4 namespaces must be canonical — no sign, no
// leading zeros, at most 19 digits — so that each actor has one string.
func Parse(s string) (Address, error) {
	if s == "" || s == UndefAddressString {
		return Undef, ErrEmpty
	}
	if len(s) >= 3 && len(s) <= MaxAddressStringLength {
		switch s[1] {
		case '0':
			if err := checkDecimal(s[2:]); err != nil {
				return Undef, err
			}
		case '4':
			if ns, _, ok := strings.Cut(s[2:], "f"); ok {
				if err := checkDecimal(ns); err != nil {
					return Undef, err
				}
			}
		}
	}
	a, err := goaddr.NewFromString(s)
	if err != nil {
		if !isSentinel(err) {
			// The stdlib base32 decoder's own errors (bad characters).
			err = fmt.Errorf("%w: %w", ErrInvalidEncoding, err)
		}
		return Undef, fmt.Errorf("address: %w", err)
	}
	return a, nil
}

// checkDecimal checks a canonical decimal of at most 19 digits.
func checkDecimal(s string) error {
	if len(s) == 0 || len(s) > MaxInt64StringLength {
		return fmt.Errorf("%w: decimal of %d digits", ErrInvalidLength, len(s))
	}
	if len(s) > 1 && s[0] == '0' {
		return fmt.Errorf("%w: decimal %q has leading zeros", ErrInvalidPayload, s)
	}
	return nil
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrUnknownNetwork, ErrUnknownProtocol, ErrInvalidPayload, ErrInvalidLength, ErrInvalidChecksum, ErrInvalidEncoding} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// NetworkOf returns the network prefix of an address string without fully
// validating it.
func NetworkOf(s string) (Network, error) {
	if len(s) == 0 || (s[0] != byte(Mainnet) && s[0] != byte(Testnet)) {
		return 0, ErrUnknownNetwork
	}
	return Network(s[0]), nil
}
