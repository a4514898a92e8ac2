package types

import (
	"bytes"
	"testing"

	gsbig "github.com/filecoin-project/go-state-types/big"
)

// TestBigIntMatchesGoStateTypes cross-checks BigInt's CBOR and JSON forms
// with go-state-types big.Int (abi.TokenAmount): the two convert freely
// (same underlying struct), and must encode alike.
func TestBigIntMatchesGoStateTypes(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "255", "256", "-65536", "1000000000000000000", "-340282366920938463463374607431768211457"} {
		ours, err := ParseBigInt(s)
		if err != nil {
			t.Fatal(err)
		}
		lib := gsbig.MustFromString(s)
		var a, b bytes.Buffer
		if err := ours.MarshalCBOR(&a); err != nil {
			t.Fatal(err)
		}
		if err := lib.MarshalCBOR(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: cbor %x, go-state-types %x", s, a.Bytes(), b.Bytes())
		}
		ja, _ := ours.MarshalJSON()
		jb, _ := lib.MarshalJSON()
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: json %s, go-state-types %s", s, ja, jb)
		}
		if back := BigInt(lib); back.Cmp(ours) != 0 || gsbig.Int(ours).String() != s {
			t.Errorf("%s: conversion lost the value", s)
		}
	}
}

// TestBigIntStricterThanGoStateTypes pins why BigInt keeps its own decoder:
// go-state-types accepts these encodings, which would re-encode to other
// bytes and so change the CID of a decoded message.
func TestBigIntStricterThanGoStateTypes(t *testing.T) {
	for _, raw := range [][]byte{{0x00}, {0x01}, {0x00, 0x00, 0x01}, {0x01, 0x00, 0x05}} {
		if _, err := gsbig.FromBytes(raw); err != nil {
			t.Fatalf("%x: go-state-types now refuses it (%v): the strict decoder may be redundant", raw, err)
		}
		if _, err := BigFromBytes(raw); err == nil {
			t.Errorf("%x: accepted", raw)
		}
	}
}
