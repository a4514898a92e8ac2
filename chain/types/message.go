package types

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"
	cbg "github.com/whyrusleeping/cbor-gen"

	"github.com/sealant/sealant/chain/address"
)

// ChainEpoch is a chain height (30 s per epoch on mainnet; go-state-types abi).
type ChainEpoch = abi.ChainEpoch

// ActorID is the numeric id behind an f0 address (go-state-types abi).
type ActorID = abi.ActorID

// MethodNum selects an actor method (go-state-types abi).
type MethodNum = abi.MethodNum

// MessageVersion is the only message version the chain accepts.
const MessageVersion = 0

// ErrMessage is wrapped by message validation errors.
var ErrMessage = errors.New("types: invalid message")

// Message is an unsigned chain message (lotus chain/types.Message). Its CBOR
// form is a 10-element array in field order; its CID is CidOf(that CBOR).
type Message struct {
	Version    uint64
	To         address.Address
	From       address.Address
	Nonce      uint64
	Value      TokenAmount
	GasLimit   int64
	GasFeeCap  TokenAmount
	GasPremium TokenAmount
	Method     MethodNum
	// Params is the CBOR-encoded method parameters; nil when there are none.
	Params []byte
}

// MarshalCBOR writes the tuple encoding. To and From must be defined.
func (m *Message) MarshalCBOR(w io.Writer) error {
	cw := cbg.NewCborWriter(w)
	if m == nil {
		_, err := cw.Write(cbg.CborNull)
		return err
	}
	if len(m.Params) > MaxParamsLen {
		return fmt.Errorf("%w: params of %d bytes exceed %d", ErrMessage, len(m.Params), MaxParamsLen)
	}
	// go-address refuses Undef too, but with an error of its own; callers
	// test for address.ErrEmpty.
	if m.To.Empty() {
		return fmt.Errorf("types: message To: %w", address.ErrEmpty)
	}
	if m.From.Empty() {
		return fmt.Errorf("types: message From: %w", address.ErrEmpty)
	}
	if err := cw.WriteMajorTypeHeader(cbg.MajArray, 10); err != nil {
		return err
	}
	if err := cw.WriteMajorTypeHeader(cbg.MajUnsignedInt, m.Version); err != nil {
		return err
	}
	if err := m.To.MarshalCBOR(cw); err != nil {
		return fmt.Errorf("types: message To: %w", err)
	}
	if err := m.From.MarshalCBOR(cw); err != nil {
		return fmt.Errorf("types: message From: %w", err)
	}
	if err := cw.WriteMajorTypeHeader(cbg.MajUnsignedInt, m.Nonce); err != nil {
		return err
	}
	if err := m.Value.MarshalCBOR(cw); err != nil {
		return fmt.Errorf("types: message Value: %w", err)
	}
	if err := CborWriteInt64(cw, m.GasLimit); err != nil {
		return err
	}
	if err := m.GasFeeCap.MarshalCBOR(cw); err != nil {
		return fmt.Errorf("types: message GasFeeCap: %w", err)
	}
	if err := m.GasPremium.MarshalCBOR(cw); err != nil {
		return fmt.Errorf("types: message GasPremium: %w", err)
	}
	if err := cw.WriteMajorTypeHeader(cbg.MajUnsignedInt, uint64(m.Method)); err != nil {
		return err
	}
	return CborWriteBytes(cw, m.Params)
}

// UnmarshalCBOR reads the tuple encoding; it requires exactly 10 fields and
// Version 0.
func (m *Message) UnmarshalCBOR(r io.Reader) error {
	cr := cbg.NewCborReader(r)
	var out Message
	if _, err := CborReadArrayHeader(cr, 10); err != nil {
		return fmt.Errorf("types: message: %w", err)
	}
	var err error
	if out.Version, err = CborReadUint64(cr); err != nil {
		return fmt.Errorf("types: message Version: %w", err)
	}
	if out.Version != MessageVersion {
		return fmt.Errorf("%w: %w: version %d", ErrCBOR, ErrMessage, out.Version)
	}
	if err := out.To.UnmarshalCBOR(cr); err != nil {
		return fmt.Errorf("%w: message To: %w", ErrCBOR, err)
	}
	if err := out.From.UnmarshalCBOR(cr); err != nil {
		return fmt.Errorf("%w: message From: %w", ErrCBOR, err)
	}
	if out.Nonce, err = CborReadUint64(cr); err != nil {
		return fmt.Errorf("types: message Nonce: %w", err)
	}
	if err := out.Value.UnmarshalCBOR(cr); err != nil {
		return fmt.Errorf("types: message Value: %w", err)
	}
	if out.GasLimit, err = CborReadInt64(cr); err != nil {
		return fmt.Errorf("types: message GasLimit: %w", err)
	}
	if err := out.GasFeeCap.UnmarshalCBOR(cr); err != nil {
		return fmt.Errorf("types: message GasFeeCap: %w", err)
	}
	if err := out.GasPremium.UnmarshalCBOR(cr); err != nil {
		return fmt.Errorf("types: message GasPremium: %w", err)
	}
	method, err := CborReadUint64(cr)
	if err != nil {
		return fmt.Errorf("types: message Method: %w", err)
	}
	out.Method = MethodNum(method)
	if out.Params, err = CborReadBytes(cr, MaxParamsLen); err != nil {
		return fmt.Errorf("types: message Params: %w", err)
	}
	*m = out
	return nil
}

// Serialize returns the CBOR bytes.
func (m *Message) Serialize() ([]byte, error) { return EncodeBytes(m) }

// Cid returns the message CID. It returns cid.Undef if the message cannot
// be encoded (e.g. undefined To/From); use ComputeCid to see why, and
// SigningBytes when signing.
func (m *Message) Cid() cid.Cid {
	c, _ := m.ComputeCid()
	return c
}

// ComputeCid returns the message CID or the encoding error.
func (m *Message) ComputeCid() (cid.Cid, error) {
	data, err := m.Serialize()
	if err != nil {
		return cid.Undef, err
	}
	return CidOf(data), nil
}

// SigningBytes returns what a sender's key signs for this message: the 38
// raw bytes of its CID (secp256k1 and BLS senders; spec/chain.md §3.1). It
// fails rather than returning empty bytes for an unencodable message.
func (m *Message) SigningBytes() ([]byte, error) {
	c, err := m.ComputeCid()
	if err != nil {
		return nil, err
	}
	return c.Bytes(), nil
}

// DecodeMessage decodes CBOR bytes holding exactly one message.
func DecodeMessage(data []byte) (*Message, error) {
	var m Message
	if err := DecodeExact(data, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// RequiredFunds returns GasFeeCap×GasLimit + Value, the balance the sender
// must hold for the message to be accepted.
func (m *Message) RequiredFunds() TokenAmount {
	return m.GasFeeCap.Mul(NewInt(m.GasLimit)).Add(m.Value)
}

// messageJSON mirrors the Lotus JSON field names and order.
type messageJSON struct {
	Version    uint64
	To         address.Address
	From       address.Address
	Nonce      uint64
	Value      TokenAmount
	GasLimit   int64
	GasFeeCap  TokenAmount
	GasPremium TokenAmount
	Method     MethodNum
	Params     []byte
}

// MarshalJSON writes the Lotus form, including the output-only "CID" field.
func (m Message) MarshalJSON() ([]byte, error) {
	c := m.Cid()
	return json.Marshal(struct {
		messageJSON
		CID *cid.Cid `json:"CID,omitempty"`
	}{messageJSON(m), cidPtr(c)})
}

// UnmarshalJSON reads the Lotus form; a "CID" field is ignored, as in Lotus.
func (m *Message) UnmarshalJSON(b []byte) error {
	var mj messageJSON
	if err := json.Unmarshal(b, &mj); err != nil {
		return fmt.Errorf("types: message json: %w", err)
	}
	*m = Message(mj)
	return nil
}

func cidPtr(c cid.Cid) *cid.Cid {
	if !c.Defined() {
		return nil
	}
	return &c
}
