package types_test

import (
	"encoding/hex"
	"fmt"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/types"
)

// Build a message, get the bytes its sender signs, and wrap the signature.
func ExampleMessage() {
	m := &types.Message{
		To:         address.NewIDAddress(4),
		From:       address.NewIDAddress(0),
		Nonce:      34,
		Value:      types.Zero(),
		GasLimit:   123,
		GasFeeCap:  types.NewInt(234),
		GasPremium: types.NewInt(234),
		Method:     6,
		Params:     []byte("hai"),
	}
	data, _ := m.Serialize()
	toSign, _ := m.SigningBytes()
	fmt.Println(hex.EncodeToString(data))
	fmt.Println(m.Cid())
	fmt.Println(len(toSign))

	// A BLS-signed message keeps the unsigned CID.
	sm := &types.SignedMessage{Message: *m, Signature: types.Signature{Type: types.SigTypeBLS, Data: make([]byte, 96)}}
	fmt.Println(sm.Cid() == m.Cid())
	// Output:
	// 8a00420004420000182240187b4200ea4200ea0643686169
	// bafy2bzaced5rdpz57e64sc7mdwjn3blicglhpialnrph2dlbufhf6iha63dmc
	// 38
	// true
}
