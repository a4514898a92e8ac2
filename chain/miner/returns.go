package miner

import (
	"io"

	"github.com/sealant/sealant/chain/types"
)

// FailCode reports why the batch element at Idx failed (array(2)).
type FailCode struct {
	Idx  uint64
	Code types.ExitCode
}

// BatchReturn is the return value of ProveCommitSectors3 (34),
// ProveCommitSectorsNI (36) and other batch methods: how many elements
// succeeded and the failures, by index (array(2)).
type BatchReturn struct {
	SuccessCount uint64
	FailCodes    []FailCode
}

// MarshalCBOR writes [SuccessCount, [[Idx, Code]…]].
func (b *BatchReturn) MarshalCBOR(w io.Writer) error {
	e := newEnc(w)
	e.array(2)
	e.uint(b.SuccessCount)
	e.array(len(b.FailCodes))
	for _, f := range b.FailCodes {
		e.array(2)
		e.uint(f.Idx)
		e.int(int64(f.Code))
	}
	return e.err
}

// UnmarshalCBOR reads [SuccessCount, [[Idx, Code]…]].
func (b *BatchReturn) UnmarshalCBOR(r io.Reader) error {
	d := newDec(r, "BatchReturn")
	var out BatchReturn
	d.array(2, "")
	out.SuccessCount = d.uint("SuccessCount")
	out.FailCodes = list(d, "FailCodes", func(f *FailCode) {
		d.array(2, "FailCode")
		f.Idx = d.uint("Idx")
		f.Code = types.ExitCode(d.int("Code"))
	})
	if d.err == nil {
		*b = out
	}
	return d.err
}

// DecodeBatchReturn decodes a receipt's Return bytes for methods 34 and 36.
func DecodeBatchReturn(data []byte) (*BatchReturn, error) {
	var b BatchReturn
	if err := decodeExact(data, &b); err != nil {
		return nil, err
	}
	return &b, nil
}
