package address

import (
	"bytes"
	"errors"
	"testing"

	goaddr "github.com/filecoin-project/go-address"
)

// TestStricterThanGoAddress pins the checks this package adds over
// go-address: each input below is accepted by go-address and refused here.
func TestStricterThanGoAddress(t *testing.T) {
	uncompressed := append([]byte{0x04}, bytes.Repeat([]byte{1}, 64)...)
	tests := []struct {
		name    string
		library func() error
		strict  func() error
		want    error
	}{
		{"leading zero id", res(goaddr.NewFromString("t001")), res(Parse("t001")), ErrInvalidPayload},
		{"leading zero namespace", res(goaddr.NewFromString("f4032f77777777x32lpna")), res(Parse("f4032f77777777x32lpna")), ErrInvalidPayload},
		{"empty string", res(goaddr.NewFromString("")), res(Parse("")), ErrEmpty},
		{"<empty> string", res(goaddr.NewFromString("<empty>")), res(Parse("<empty>")), ErrEmpty},
		{"empty bytes", res(goaddr.NewFromBytes(nil)), res(FromBytes(nil)), ErrEmpty},
		{"compressed secp key", res(goaddr.NewSecp256k1Address(uncompressed[:33])), res(NewSecp256k1Address(uncompressed[:33])), ErrInvalidPayload},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.library(); err != nil {
				t.Fatalf("go-address now refuses it (%v): the adapter may be redundant", err)
			}
			if err := tc.strict(); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := NewSecp256k1Address(uncompressed); err != nil {
		t.Fatalf("uncompressed key refused: %v", err)
	}
}

// res defers the error of a constructor call.
func res(_ Address, err error) func() error { return func() error { return err } }

func TestSetNetwork(t *testing.T) {
	a := NewIDAddress(7)
	if CurrentNetwork() != Testnet || a.String() != "t07" {
		t.Fatalf("default network %v prints %s, want t07", CurrentNetwork(), a)
	}
	prev := SetNetwork(Mainnet)
	if prev != Testnet || a.String() != "f07" || Format(a, Testnet) != "t07" {
		t.Fatalf("after SetNetwork(Mainnet): prev %v, %s, %s", prev, a, Format(a, Testnet))
	}
	SetNetwork(prev)
	if NewIDAddress(1<<63) != Undef {
		t.Fatal("NewIDAddress(2^63) is not Undef")
	}
	if _, err := IDAddress(1 << 63); !errors.Is(err, ErrInvalidPayload) {
		t.Fatalf("IDAddress(2^63): %v", err)
	}
}
