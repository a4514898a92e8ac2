package types

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/ipfs/go-cid"
)

// TipSetKey identifies a tipset by its block CIDs. The zero value (EmptyTSK)
// means "the current head" in Lotus API calls. TipSetKey is comparable, so
// it can be a map key.
type TipSetKey struct {
	// value is the concatenation of the CIDs' binary forms (as Lotus), which
	// keeps the key comparable and cheap to copy.
	value string
}

// EmptyTSK is the empty tipset key, "current head" in API calls.
var EmptyTSK = TipSetKey{}

// NewTipSetKey builds a key from block CIDs, in the given order.
func NewTipSetKey(cids ...cid.Cid) TipSetKey {
	var b bytes.Buffer
	for _, c := range cids {
		b.Write(c.Bytes())
	}
	return TipSetKey{b.String()}
}

// Cids returns the block CIDs.
func (k TipSetKey) Cids() []cid.Cid {
	var out []cid.Cid
	rest := []byte(k.value)
	for len(rest) > 0 {
		n, c, err := cid.CidFromBytes(rest)
		if err != nil {
			// Unreachable: value only ever holds bytes produced by Cid.Bytes.
			return out
		}
		out = append(out, c)
		rest = rest[n:]
	}
	return out
}

// IsEmpty reports whether k is the empty key.
func (k TipSetKey) IsEmpty() bool { return k.value == "" }

// String formats the key as {cid,cid}.
func (k TipSetKey) String() string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range k.Cids() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.String())
	}
	b.WriteByte('}')
	return b.String()
}

// MarshalJSON writes a JSON array of {"/":cid}; the empty key is [].
func (k TipSetKey) MarshalJSON() ([]byte, error) {
	cids := k.Cids()
	if cids == nil {
		cids = []cid.Cid{}
	}
	return json.Marshal(cids)
}

// UnmarshalJSON reads an array of CIDs; null and [] give EmptyTSK.
func (k *TipSetKey) UnmarshalJSON(b []byte) error {
	var cids []cid.Cid
	if err := json.Unmarshal(b, &cids); err != nil {
		return fmt.Errorf("types: tipset key json: %w", err)
	}
	for i, c := range cids {
		if !c.Defined() {
			return fmt.Errorf("types: tipset key json: cid %d undefined", i)
		}
	}
	*k = NewTipSetKey(cids...)
	return nil
}
