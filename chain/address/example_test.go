package address_test

import (
	"fmt"

	"github.com/sealant/sealant/chain/address"
)

func ExampleParse() {
	a, err := address.Parse("f01234")
	if err != nil {
		panic(err)
	}
	id, _ := address.IDOf(a)
	fmt.Println(a.Protocol(), id, address.Format(a, address.Mainnet), address.Format(a, address.Testnet))
	_, err = address.Parse("f1xpbyy4tkdx5si2bgo37dubc2xwv6fum5tk57mid")
	fmt.Println(err)
	// Output:
	// 0 1234 f01234 t01234
	// address: invalid encoding
}
