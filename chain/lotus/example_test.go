package lotus_test

import (
	"fmt"

	"github.com/sealant/sealant/chain/lotus"
)

func ExampleParseAPIInfo() {
	info, err := lotus.ParseAPIInfo("eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2ln:/ip4/10.0.0.5/tcp/1234/http")
	if err != nil {
		panic(err)
	}
	fmt.Println(info.HTTPURL())
	fmt.Println(info.WSURL())
	fmt.Println(info.Token != "")
	// Output:
	// http://10.0.0.5:1234/rpc/v1
	// ws://10.0.0.5:1234/rpc/v1
	// true
}
