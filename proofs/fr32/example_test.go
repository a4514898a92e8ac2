package fr32_test

import (
	"bytes"
	"fmt"
	"io"

	"github.com/sealant/sealant/proofs/fr32"
)

func ExampleNewPadReader() {
	raw := bytes.Repeat([]byte{0xff}, 127)
	padded, _ := io.ReadAll(fr32.NewPadReader(bytes.NewReader(raw)))
	// Each 32-byte element keeps 254 data bits: its top byte is 0x3f.
	fmt.Println(len(padded), padded[31], padded[63], padded[95], padded[127])
	// Output: 128 63 63 63 63
}

func ExamplePaddedPieceSize_Validate() {
	for _, s := range []fr32.PaddedPieceSize{2048, 3000} {
		fmt.Println(s, s.Unpadded(), s.Validate())
	}
	// Output:
	// 2048 2032 <nil>
	// 3000 2977 fr32: invalid piece size: padded size 3000 is not a power of two
}
