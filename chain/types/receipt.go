package types

import (
	"fmt"
	"io"

	"github.com/ipfs/go-cid"
	cbg "github.com/whyrusleeping/cbor-gen"
)

// MessageReceipt is the result of executing a message. CBOR is the tuple
// [ExitCode, Return, GasUsed, EventsRoot] (actors v10+, 4 fields); the
// pre-FEVM 3-field form is accepted on decode and re-encoded as it came.
type MessageReceipt struct {
	ExitCode ExitCode
	Return   []byte
	GasUsed  int64
	// EventsRoot is the root of the actor events AMT, or cid.Undef (JSON
	// null) when the message emitted none.
	EventsRoot *cid.Cid `json:"EventsRoot"`

	// v0 records that the receipt was decoded from the 3-field form.
	v0 bool
}

// MarshalCBOR writes the tuple.
func (r *MessageReceipt) MarshalCBOR(w io.Writer) error {
	cw := cbg.NewCborWriter(w)
	n := uint64(4)
	if r.v0 {
		n = 3
	}
	if err := cw.WriteMajorTypeHeader(cbg.MajArray, n); err != nil {
		return err
	}
	if err := CborWriteInt64(cw, int64(r.ExitCode)); err != nil {
		return err
	}
	if err := CborWriteBytes(cw, r.Return); err != nil {
		return err
	}
	if err := CborWriteInt64(cw, r.GasUsed); err != nil {
		return err
	}
	if r.v0 {
		return nil
	}
	var root cid.Cid
	if r.EventsRoot != nil {
		root = *r.EventsRoot
	}
	return CborWriteOptionalCid(cw, root)
}

// UnmarshalCBOR reads the 3- or 4-field tuple.
func (r *MessageReceipt) UnmarshalCBOR(rd io.Reader) error {
	cr := cbg.NewCborReader(rd)
	n, err := CborReadArrayHeader(cr, -1)
	if err != nil {
		return fmt.Errorf("types: receipt: %w", err)
	}
	if n != 3 && n != 4 {
		return fmt.Errorf("%w: receipt has %d fields, want 3 or 4", ErrCBOR, n)
	}
	var out MessageReceipt
	code, err := CborReadInt64(cr)
	if err != nil {
		return fmt.Errorf("types: receipt ExitCode: %w", err)
	}
	out.ExitCode = ExitCode(code)
	if out.Return, err = CborReadBytes(cr, MaxParamsLen); err != nil {
		return fmt.Errorf("types: receipt Return: %w", err)
	}
	if out.GasUsed, err = CborReadInt64(cr); err != nil {
		return fmt.Errorf("types: receipt GasUsed: %w", err)
	}
	if n == 3 {
		out.v0 = true
	} else {
		root, err := CborReadOptionalCid(cr)
		if err != nil {
			return fmt.Errorf("types: receipt EventsRoot: %w", err)
		}
		if root.Defined() {
			out.EventsRoot = &root
		}
	}
	*r = out
	return nil
}

// MsgLookup is the result of StateSearchMsg / StateWaitMsg.
type MsgLookup struct {
	// Message is the CID the message executed under (may differ from the
	// one searched for if a replacement was allowed).
	Message cid.Cid
	Receipt MessageReceipt
	// ReturnDec is the node's JSON decoding of Receipt.Return, if any.
	ReturnDec any
	TipSet    TipSetKey
	Height    ChainEpoch
}
