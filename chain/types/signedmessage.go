package types

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
	cbg "github.com/whyrusleeping/cbor-gen"
)

// SignedMessage is a message with its sender's signature, the form pushed to
// the message pool. CBOR: [Message, Signature].
type SignedMessage struct {
	Message   Message
	Signature Signature
}

// MarshalCBOR writes the 2-element tuple.
func (sm *SignedMessage) MarshalCBOR(w io.Writer) error {
	cw := cbg.NewCborWriter(w)
	if sm == nil {
		_, err := cw.Write(cbg.CborNull)
		return err
	}
	if err := cw.WriteMajorTypeHeader(cbg.MajArray, 2); err != nil {
		return err
	}
	if err := sm.Message.MarshalCBOR(cw); err != nil {
		return err
	}
	return sm.Signature.MarshalCBOR(cw)
}

// UnmarshalCBOR reads the 2-element tuple.
func (sm *SignedMessage) UnmarshalCBOR(r io.Reader) error {
	cr := cbg.NewCborReader(r)
	if _, err := CborReadArrayHeader(cr, 2); err != nil {
		return fmt.Errorf("types: signed message: %w", err)
	}
	var out SignedMessage
	if err := out.Message.UnmarshalCBOR(cr); err != nil {
		return err
	}
	if err := out.Signature.UnmarshalCBOR(cr); err != nil {
		return fmt.Errorf("%w: %w: %w", ErrCBOR, ErrSignature, err)
	}
	*sm = out
	return nil
}

// Serialize returns the CBOR bytes.
func (sm *SignedMessage) Serialize() ([]byte, error) { return EncodeBytes(sm) }

// Cid returns the CID under which the chain knows this message: for a
// BLS signature the unsigned message CID (BLS signatures are aggregated per
// block, so the signed wrapper is never stored), otherwise the CID of the
// SignedMessage CBOR. Use this CID with StateWaitMsg. cid.Undef if the
// message cannot be encoded.
func (sm *SignedMessage) Cid() cid.Cid {
	if sm.Signature.Type == SigTypeBLS {
		return sm.Message.Cid()
	}
	data, err := sm.Serialize()
	if err != nil {
		return cid.Undef
	}
	return CidOf(data)
}

// DecodeSignedMessage decodes CBOR bytes holding exactly one signed message.
func DecodeSignedMessage(data []byte) (*SignedMessage, error) {
	var sm SignedMessage
	if err := DecodeExact(data, &sm); err != nil {
		return nil, err
	}
	return &sm, nil
}

// MarshalJSON writes {"Message":…,"Signature":…,"CID":…} as Lotus does.
func (sm SignedMessage) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Message   *Message
		Signature Signature
		CID       *cid.Cid `json:"CID,omitempty"`
	}{&sm.Message, sm.Signature, cidPtr(sm.Cid())})
}

// UnmarshalJSON reads the Lotus form; "CID" is ignored.
func (sm *SignedMessage) UnmarshalJSON(b []byte) error {
	var in struct {
		Message   Message
		Signature Signature
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("types: signed message json: %w", err)
	}
	sm.Message, sm.Signature = in.Message, in.Signature
	return nil
}
