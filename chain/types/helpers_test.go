package types

import (
	"bytes"
	"io"

	cbg "github.com/whyrusleeping/cbor-gen"
)

func newTestReader(b []byte) *cbg.CborReader    { return cbg.NewCborReader(bytes.NewReader(b)) }
func newTestWriter(w io.Writer) *cbg.CborWriter { return cbg.NewCborWriter(w) }
