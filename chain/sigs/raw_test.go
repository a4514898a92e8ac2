package sigs

import (
	"encoding/base64"
	"testing"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/internal/chaintest"
)

type vectorFile struct {
	LotusCLI []struct {
		Type         string `json:"type"`
		Address      string `json:"address"`
		HexLotus     string `json:"hex_lotus"`
		MessageHex   string `json:"message_hex"`
		SignatureHex string `json:"signature_hex"`
	} `json:"lotus_cli"`
	LotusBLSTest struct {
		Address    string   `json:"address"`
		MessageHex string   `json:"message_hex"`
		Valid      string   `json:"valid"`
		Invalid    []string `json:"invalid"`
	} `json:"lotus_bls_test"`
	SerializationVectors []struct {
		From          string `json:"from"`
		CID           string `json:"cid"`
		CIDHex        string `json:"cid_hex"`
		PrivateKeyB64 string `json:"private_key_b64"`
		SignatureB64  string `json:"signature_b64"`
	} `json:"serialization_vectors"`
	SpecAddress struct {
		SecpPubkey string `json:"secp_pubkey"`
		Address    string `json:"address"`
	} `json:"spec_address"`
	Message struct {
		CBOR   string `json:"cbor"`
		CID    string `json:"cid"`
		CIDHex string `json:"cid_hex"`
	} `json:"message"`
}

func loadVectors(t testing.TB) vectorFile {
	t.Helper()
	return chaintest.LoadJSON[vectorFile](t, "testdata/vectors.json")
}

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return b
}

func mustAddr(t testing.TB, s string) address.Address {
	t.Helper()
	a, err := address.Parse(s)
	if err != nil {
		t.Fatalf("address %q: %v", s, err)
	}
	return a
}
