package address

import (
	"bytes"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	cbg "github.com/whyrusleeping/cbor-gen"
	"golang.org/x/crypto/blake2b"
)

// Protocol is the first byte of an address's binary form; it says how the
// payload is to be interpreted.
type Protocol = byte

// The five address protocols defined by the Filecoin spec.
const (
	// ID addresses carry a LEB128-encoded actor id (f0…).
	ID Protocol = 0
	// SECP256K1 addresses carry blake2b-160 of a 65-byte uncompressed public key (f1…).
	SECP256K1 Protocol = 1
	// Actor addresses carry blake2b-160 of actor creation data (f2…).
	Actor Protocol = 2
	// BLS addresses carry a 48-byte compressed BLS12-381 G1 public key (f3…).
	BLS Protocol = 3
	// Delegated addresses carry a namespace actor id and a sub-address (f4…).
	Delegated Protocol = 4
)

// Size limits, identical to go-address so that both accept the same set.
const (
	// PayloadHashLength is the digest size for protocol 1 and 2 payloads.
	PayloadHashLength = 20
	// ChecksumHashLength is the size of the blake2b checksum in the string form.
	ChecksumHashLength = 4
	// BlsPublicKeyBytes is the size of a compressed BLS G1 public key.
	BlsPublicKeyBytes = 48
	// MaxSubaddressLen is the largest sub-address a delegated address may carry.
	MaxSubaddressLen = 54
	// MaxAddressBytesLength bounds the binary form (1 + 9-byte namespace + 54).
	MaxAddressBytesLength = 64
	// MaxInt64StringLength bounds decimal ids and namespaces in string form.
	MaxInt64StringLength = 19
	// MaxAddressStringLength bounds the string form accepted by Parse: the
	// longest f4 address, "f4" + 19-digit namespace + "f" + 93 base32
	// characters for a 54-byte sub-address plus checksum (as go-address).
	MaxAddressStringLength = 115
	// maxUvarint63Len is the longest canonical varint of a value ≤ 2^63-1.
	maxUvarint63Len = 9
)

// Network selects the string prefix of an address.
type Network byte

// Networks and their string prefixes.
const (
	// Mainnet addresses are printed with an "f" prefix.
	Mainnet Network = 'f'
	// Testnet addresses (calibnet, devnets) are printed with a "t" prefix.
	Testnet Network = 't'
)

// String returns the one-letter prefix, "f" or "t".
func (n Network) String() string { return string(rune(n)) }

// CurrentNetwork is the prefix used by Address.String and MarshalJSON. It
// defaults to Testnet because Sealant's own devnet and calibnet both use "t".
// Set it once at start-up (before goroutines format addresses) when talking to
// mainnet; it is not synchronised.
var CurrentNetwork = Testnet

// UndefAddressString is the string form of the empty (undefined) address, as
// printed by go-address.
const UndefAddressString = "<empty>"

// Sentinel errors. Every decoding failure wraps exactly one of these, so
// callers can use errors.Is.
var (
	ErrUnknownNetwork  = errors.New("address: unknown network")
	ErrUnknownProtocol = errors.New("address: unknown protocol")
	ErrInvalidPayload  = errors.New("address: invalid payload")
	ErrInvalidLength   = errors.New("address: invalid length")
	ErrInvalidChecksum = errors.New("address: invalid checksum")
	ErrInvalidEncoding = errors.New("address: invalid encoding")
	ErrEmpty           = errors.New("address: empty address")
	ErrNotID           = errors.New("address: not an ID address")
)

// Address is a Filecoin address. The zero value is the undefined address
// (Undef). Address is comparable and may be used as a map key; two addresses
// are equal iff their binary forms are equal (the network prefix is not part
// of an address).
type Address struct{ str string }

// Undef is the undefined (empty) address.
var Undef = Address{}

// encoding is the lower-case RFC 4648 base32 alphabet without padding used
// by every Filecoin address string.
var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewIDAddress returns the ID address for actor id. Ids above 2^63-1 cannot
// be represented on chain; NewIDAddress still encodes them, but FromBytes and
// Parse reject the result, so callers should validate ids from untrusted input.
func NewIDAddress(id uint64) Address {
	var buf [1 + binary.MaxVarintLen64]byte
	buf[0] = ID
	n := binary.PutUvarint(buf[1:], id)
	return Address{string(buf[:1+n])}
}

// NewSecp256k1Address returns the f1 address of a 65-byte uncompressed SEC1
// secp256k1 public key (0x04 || X || Y).
func NewSecp256k1Address(pubkey []byte) (Address, error) {
	if len(pubkey) != 65 || pubkey[0] != 0x04 {
		return Undef, fmt.Errorf("%w: secp256k1 public key must be 65 bytes uncompressed, got %d bytes", ErrInvalidPayload, len(pubkey))
	}
	return newAddress(SECP256K1, hash20(pubkey))
}

// NewActorAddress returns the f2 address derived from actor creation data.
func NewActorAddress(data []byte) (Address, error) {
	return newAddress(Actor, hash20(data))
}

// NewBLSAddress returns the f3 address of a 48-byte compressed BLS public key.
// The key is not checked to be a valid curve point (neither does go-address).
func NewBLSAddress(pubkey []byte) (Address, error) {
	return newAddress(BLS, pubkey)
}

// NewDelegatedAddress returns the f4 address for namespace ns (an actor id,
// e.g. 10 for the EAM) and sub-address sub (at most MaxSubaddressLen bytes).
func NewDelegatedAddress(ns uint64, sub []byte) (Address, error) {
	if ns > 1<<63-1 {
		return Undef, fmt.Errorf("%w: namespace %d exceeds 2^63-1", ErrInvalidPayload, ns)
	}
	if len(sub) > MaxSubaddressLen {
		return Undef, fmt.Errorf("%w: sub-address is %d bytes, max %d", ErrInvalidLength, len(sub), MaxSubaddressLen)
	}
	payload := binary.AppendUvarint(make([]byte, 0, maxUvarint63Len+len(sub)), ns)
	return newAddress(Delegated, append(payload, sub...))
}

// FromBytes decodes the binary form (protocol byte || payload). It rejects
// the empty input; use Undef for "no address".
func FromBytes(b []byte) (Address, error) {
	if len(b) == 0 {
		return Undef, ErrEmpty
	}
	return newAddress(b[0], b[1:])
}

// newAddress validates payload for protocol and builds the address.
func newAddress(p Protocol, payload []byte) (Address, error) {
	switch p {
	case ID:
		if _, err := readUvarint63(payload, true); err != nil {
			return Undef, err
		}
	case SECP256K1, Actor:
		if len(payload) != PayloadHashLength {
			return Undef, fmt.Errorf("%w: protocol %d payload is %d bytes, want %d", ErrInvalidPayload, p, len(payload), PayloadHashLength)
		}
	case BLS:
		if len(payload) != BlsPublicKeyBytes {
			return Undef, fmt.Errorf("%w: bls payload is %d bytes, want %d", ErrInvalidPayload, len(payload), BlsPublicKeyBytes)
		}
	case Delegated:
		n, err := uvarint63Len(payload)
		if err != nil {
			return Undef, err
		}
		if len(payload)-n > MaxSubaddressLen {
			return Undef, fmt.Errorf("%w: sub-address is %d bytes, max %d", ErrInvalidLength, len(payload)-n, MaxSubaddressLen)
		}
	default:
		return Undef, fmt.Errorf("%w: %d", ErrUnknownProtocol, p)
	}
	buf := make([]byte, 1+len(payload))
	buf[0] = p
	copy(buf[1:], payload)
	return Address{string(buf)}, nil
}

// uvarint63Len returns the length of the canonical varint (≤ 2^63-1) at the
// start of b.
func uvarint63Len(b []byte) (int, error) {
	for i := 0; i < len(b) && i < maxUvarint63Len; i++ {
		if b[i]&0x80 != 0 {
			continue
		}
		// A last byte of zero (other than a lone 0x00) means the value could
		// have been written with fewer bytes: reject, as go-varint does.
		if i > 0 && b[i] == 0 {
			return 0, fmt.Errorf("%w: varint not minimally encoded", ErrInvalidPayload)
		}
		// The 9th byte may only carry 7 more bits (63 in total).
		return i + 1, nil
	}
	if len(b) == 0 {
		return 0, fmt.Errorf("%w: missing varint", ErrInvalidPayload)
	}
	return 0, fmt.Errorf("%w: varint overflows 63 bits or is truncated", ErrInvalidPayload)
}

// readUvarint63 decodes the canonical varint in b; if exact, b must hold
// nothing else.
func readUvarint63(b []byte, exact bool) (uint64, error) {
	n, err := uvarint63Len(b)
	if err != nil {
		return 0, err
	}
	if exact && n != len(b) {
		return 0, fmt.Errorf("%w: %d trailing bytes after varint", ErrInvalidPayload, len(b)-n)
	}
	v, _ := binary.Uvarint(b[:n])
	return v, nil
}

func hash20(data []byte) []byte {
	h, _ := blake2b.New(PayloadHashLength, nil) // cannot fail: size in range, no key
	h.Write(data)
	return h.Sum(nil)
}

// Checksum returns blake2b-32 of data, the checksum used in the string form
// (data = protocol byte || payload).
func Checksum(data []byte) []byte {
	h, _ := blake2b.New(ChecksumHashLength, nil) // cannot fail: size in range, no key
	h.Write(data)
	return h.Sum(nil)
}

// Protocol returns the address protocol (0–4); for Undef it returns 0xff.
func (a Address) Protocol() Protocol {
	if len(a.str) == 0 {
		return 0xff
	}
	return a.str[0]
}

// Payload returns a copy of the payload (binary form without protocol byte).
func (a Address) Payload() []byte {
	if len(a.str) == 0 {
		return nil
	}
	return []byte(a.str[1:])
}

// Bytes returns a copy of the binary form; nil for Undef.
func (a Address) Bytes() []byte {
	if len(a.str) == 0 {
		return nil
	}
	return []byte(a.str)
}

// Empty reports whether a is the undefined address.
func (a Address) Empty() bool { return len(a.str) == 0 }

// ID returns the actor id of an ID address; ErrNotID for other protocols.
func (a Address) ID() (uint64, error) {
	if a.Protocol() != ID {
		return 0, ErrNotID
	}
	return readUvarint63([]byte(a.str[1:]), true)
}

// String formats a with the CurrentNetwork prefix; Undef prints "<empty>".
func (a Address) String() string { return a.Format(CurrentNetwork) }

// Format formats a with the given network prefix.
func (a Address) Format(n Network) string {
	if len(a.str) == 0 {
		return UndefAddressString
	}
	p := a.str[0]
	payload := []byte(a.str[1:])
	var sb strings.Builder
	sb.Grow(2 + encoding.EncodedLen(len(payload)+ChecksumHashLength) + MaxInt64StringLength)
	sb.WriteByte(byte(n))
	sb.WriteByte('0' + p)
	switch p {
	case ID:
		id, _ := readUvarint63(payload, true) // validated on construction
		sb.WriteString(strconv.FormatUint(id, 10))
		return sb.String()
	case Delegated:
		ns, _ := readUvarint63(payload, false) // validated on construction
		k, _ := uvarint63Len(payload)
		sb.WriteString(strconv.FormatUint(ns, 10))
		sb.WriteByte('f')
		payload = payload[k:]
	}
	cs := Checksum([]byte(a.str))
	sb.WriteString(encoding.EncodeToString(append(payload[:len(payload):len(payload)], cs...)))
	return sb.String()
}

// Parse decodes the string form. It accepts both network prefixes and is
// strict: the base32 text must be canonical, the checksum must match,
// payload lengths must be exact, and decimal ids/namespaces must be
// canonical (no leading zeros — go-address tolerates these, but then the
// string would not round-trip, so two strings would name one actor).
func Parse(s string) (Address, error) {
	if len(s) == 0 {
		return Undef, ErrEmpty
	}
	if len(s) < 3 || len(s) > MaxAddressStringLength {
		return Undef, fmt.Errorf("%w: string of %d characters", ErrInvalidLength, len(s))
	}
	if s[0] != byte(Mainnet) && s[0] != byte(Testnet) {
		return Undef, fmt.Errorf("%w: prefix %q", ErrUnknownNetwork, s[0])
	}
	if s[1] < '0' || s[1] > '4' {
		return Undef, fmt.Errorf("%w: %q", ErrUnknownProtocol, s[1])
	}
	p := s[1] - '0'
	raw := s[2:]
	switch p {
	case ID:
		id, err := parseDecimal63(raw)
		if err != nil {
			return Undef, err
		}
		return NewIDAddress(id), nil
	case Delegated:
		nsRaw, subRaw, ok := strings.Cut(raw, "f")
		if !ok {
			return Undef, fmt.Errorf("%w: delegated address lacks the 'f' namespace separator", ErrInvalidPayload)
		}
		ns, err := parseDecimal63(nsRaw)
		if err != nil {
			return Undef, err
		}
		data, err := decodeBase32(subRaw)
		if err != nil {
			return Undef, err
		}
		sub, cs := data[:len(data)-ChecksumHashLength], data[len(data)-ChecksumHashLength:]
		a, err := NewDelegatedAddress(ns, sub)
		if err != nil {
			return Undef, err
		}
		if !bytes.Equal(Checksum([]byte(a.str)), cs) {
			return Undef, ErrInvalidChecksum
		}
		return a, nil
	}
	data, err := decodeBase32(raw)
	if err != nil {
		return Undef, err
	}
	payload, cs := data[:len(data)-ChecksumHashLength], data[len(data)-ChecksumHashLength:]
	a, err := newAddress(p, payload)
	if err != nil {
		return Undef, err
	}
	if !bytes.Equal(Checksum([]byte(a.str)), cs) {
		return Undef, ErrInvalidChecksum
	}
	return a, nil
}

// parseDecimal63 parses a canonical decimal ≤ 2^63-1.
func parseDecimal63(s string) (uint64, error) {
	if len(s) == 0 || len(s) > MaxInt64StringLength {
		return 0, fmt.Errorf("%w: decimal of %d digits", ErrInvalidLength, len(s))
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%w: decimal %q has leading zeros", ErrInvalidPayload, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: %q is not a decimal number", ErrInvalidPayload, s)
		}
	}
	v, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%w: %q exceeds 2^63-1", ErrInvalidPayload, s)
	}
	return v, nil
}

// decodeBase32 decodes canonical unpadded lower-case base32 holding at least
// a checksum.
func decodeBase32(s string) ([]byte, error) {
	data, err := encoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEncoding, err)
	}
	// The stdlib decoder ignores the unused low bits of the last character;
	// re-encoding catches strings that differ only there.
	if encoding.EncodeToString(data) != s {
		return nil, fmt.Errorf("%w: non-canonical base32", ErrInvalidEncoding)
	}
	if len(data) < ChecksumHashLength {
		return nil, fmt.Errorf("%w: %d bytes decoded, shorter than the checksum", ErrInvalidLength, len(data))
	}
	return data, nil
}

// MarshalCBOR writes a as a CBOR byte string. The undefined address cannot
// be encoded (it never appears on chain); a nil *Address encodes as null.
func (a *Address) MarshalCBOR(w io.Writer) error {
	if a == nil {
		_, err := w.Write(cbg.CborNull)
		return err
	}
	if a.Empty() {
		return fmt.Errorf("%w: cannot marshal undefined address to cbor", ErrEmpty)
	}
	cw := cbg.NewCborWriter(w)
	if err := cw.WriteMajorTypeHeader(cbg.MajByteString, uint64(len(a.str))); err != nil {
		return err
	}
	_, err := cw.WriteString(a.str)
	return err
}

// UnmarshalCBOR reads a CBOR byte string holding a valid, non-empty address.
func (a *Address) UnmarshalCBOR(r io.Reader) error {
	cr := cbg.NewCborReader(r)
	maj, n, err := cr.ReadHeader()
	if err != nil {
		return fmt.Errorf("address: reading cbor header: %w", err)
	}
	if maj != cbg.MajByteString {
		return fmt.Errorf("%w: cbor major type %d, want byte string", ErrInvalidEncoding, maj)
	}
	if n == 0 {
		return ErrEmpty
	}
	if n > MaxAddressBytesLength {
		return fmt.Errorf("%w: %d bytes in cbor", ErrInvalidLength, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(cr, buf); err != nil {
		return fmt.Errorf("address: reading cbor bytes: %w", unexpectedEOF(err))
	}
	na, err := FromBytes(buf)
	if err != nil {
		return err
	}
	*a = na
	return nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// MarshalJSON writes the string form with the CurrentNetwork prefix. Undef
// is written as "<empty>", like Lotus.
func (a Address) MarshalJSON() ([]byte, error) {
	return json.Marshal(a.String())
}

// UnmarshalJSON parses the string form; "" and "<empty>" yield Undef (Lotus
// uses these for optional addresses).
func (a *Address) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("address: json: %w", err)
	}
	if s == "" || s == UndefAddressString {
		*a = Undef
		return nil
	}
	na, err := Parse(s)
	if err != nil {
		return err
	}
	*a = na
	return nil
}

// MarshalText implements encoding.TextMarshaler (used for map keys and flags).
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Address) UnmarshalText(b []byte) error {
	na, err := Parse(string(b))
	if err != nil {
		return err
	}
	*a = na
	return nil
}

// NetworkOf returns the network prefix of an address string without fully
// validating it.
func NetworkOf(s string) (Network, error) {
	if len(s) == 0 || (s[0] != byte(Mainnet) && s[0] != byte(Testnet)) {
		return 0, ErrUnknownNetwork
	}
	return Network(s[0]), nil
}
