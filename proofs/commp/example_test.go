package commp_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/sealant/sealant/proofs/commp"
)

func ExampleFromReader() {
	payload := bytes.Repeat([]byte{0xcc}, 509)
	res, err := commp.FromReader(context.Background(), bytes.NewReader(payload), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(commp.PieceCID(res.Commitment), res.PayloadSize, res.PieceSize)
	// Output: baga6ea4seaqdzbeaexq6gpbqh2tlnbz5mm5neap2kejsketkogzd6x2dx7dzkii 509 1024
}

func ExampleComputeCommD() {
	// A 2 KiB sector holding one 1 KiB zero piece: the rest is zero-filled,
	// so CommD is the 2 KiB zero commitment.
	z1k, _ := commp.ZeroCommitment(1024)
	commD, err := commp.ComputeCommD(2048, []commp.PieceInfo{{Size: 1024, Commitment: z1k}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(commp.PieceCID(commD))
	// Output: baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy
}

func ExampleParsePieceCID() {
	_, err := commp.ParsePieceCID("bagboea4b5abcbnym7z3pgc64fk5wwsk3nsmz62jamgaa3pekzelmm3fv5q6g6zji")
	fmt.Println(err)
	// Output: commp: wrong cid codec: codec 0xf102, want 0xf101
}
