package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/types"
)

// runChainCLI runs the CLI in-process with the given stdin.
func runChainCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	err := root.Execute()
	return out.String(), err
}

func chainTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Vectors from spec/chain.md §2.4 (lotus chain/types/message_test.go).
const (
	vecMsgJSON    = `{"Version":0,"To":"f04","From":"f00","Nonce":34,"Value":"0","GasLimit":123,"GasFeeCap":"234","GasPremium":"234","Method":6,"Params":"aGFp"}`
	vecMsgCBOR    = "8a00420004420000182240187b4200ea4200ea0643686169"
	vecMsgCID     = "bafy2bzaced5rdpz57e64sc7mdwjn3blicglhpialnrph2dlbufhf6iha63dmc"
	vecSignedCBOR = "828a00420004420000182240187b4200ea4200ea06436861694100"
	vecSignedCID  = "bafy2bzacea5ainifngxj3rygaw2hppnyz2cw72x5pysqty2x6dxmjs5qg2uus"
)

func TestAddrInspectCLI(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"f01234", `{"protocol":0,"network":"f","payload":"d209","bytes":"00d209","id":1234}`},
		{"t00", `{"protocol":0,"network":"t","payload":"00","bytes":"0000","id":0}`},
		{"t15ihq5ibzwki2b4ep2f46avlkrqzhpqgtga7pdrq", `{"protocol":1,"network":"t","payload":"ea0f0ea039b291a0f08fd179e0556a8c3277c0d3","bytes":"01ea0f0ea039b291a0f08fd179e0556a8c3277c0d3"}`},
		{"f432f77777777x32lpna", `{"protocol":4,"network":"f","payload":"20ffffffffff","bytes":"0420ffffffffff","namespace":32,"subaddress":"ffffffffff"}`},
	}
	for _, tc := range tests {
		out, err := runChainCLI(t, "", "chain", "addr", "inspect", "--json", tc.addr)
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		if strings.TrimSpace(out) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.addr, out, tc.want)
		}
	}
	// Human output, and --json does not leak into the next run.
	out, err := runChainCLI(t, "", "chain", "addr", "inspect", "f01234")
	if err != nil || !strings.Contains(out, "id:       1234") || strings.HasPrefix(out, "{") {
		t.Fatalf("text output %q %v", out, err)
	}
}

func TestAddrInspectCLIErrors(t *testing.T) {
	tests := []struct {
		addr string
		want error
	}{
		{"f1xpbyy4tkdx5si2bgo37dubc2xwv6fum5tk57mid", address.ErrInvalidEncoding},
		{"f1xpbyy4tkdx5si2bgo37dubc2xwv6fum5tk57mqa", address.ErrInvalidChecksum},
		{"x01", address.ErrUnknownNetwork},
		{"f9", address.ErrInvalidLength},
		{"f001", address.ErrInvalidPayload},
	}
	for _, tc := range tests {
		_, err := runChainCLI(t, "", "chain", "addr", "inspect", "--json", tc.addr)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.addr) {
			t.Errorf("%s: %v, want %v", tc.addr, err, tc.want)
		}
	}
	if _, err := runChainCLI(t, "", "chain", "addr", "inspect"); err == nil {
		t.Error("missing argument accepted")
	}
}

func TestMsgCidCLI(t *testing.T) {
	signedJSON := `{"Message":` + vecMsgJSON + `,"Signature":{"Type":0,"Data":null}}`
	tests := []struct {
		name, input, cid, cbor string
	}{
		{"message json", vecMsgJSON, vecMsgCID, vecMsgCBOR},
		{"message json with CID field", strings.TrimSuffix(vecMsgJSON, "}") + `,"CID":{"/":"ignored"}}`, vecMsgCID, vecMsgCBOR},
		{"signed json", signedJSON, vecSignedCID, vecSignedCBOR},
		{"message hex", vecMsgCBOR + "\n", vecMsgCID, vecMsgCBOR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := chainTemp(t, "msg.json", []byte(tc.input))
			out, err := runChainCLI(t, "", "chain", "msg", "cid", "--json", path)
			if err != nil {
				t.Fatal(err)
			}
			var got msgCidOutput
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%s: %v", out, err)
			}
			if got.CID != tc.cid || got.CBOR != tc.cbor {
				t.Fatalf("got %+v", got)
			}
			// Same through stdin.
			out, err = runChainCLI(t, tc.input, "chain", "msg", "cid", "--json", "-")
			if err != nil || !strings.Contains(out, tc.cid) {
				t.Fatalf("stdin: %s %v", out, err)
			}
		})
	}
	// secp-signed: the CID is that of the signed CBOR; BLS: the unsigned one.
	for _, sig := range []struct {
		typ      int
		unsigned bool
	}{{1, false}, {2, true}} {
		in := `{"Message":` + vecMsgJSON + `,"Signature":{"Type":` + string(rune('0'+sig.typ)) + `,"Data":"AQID"}}`
		out, err := runChainCLI(t, in, "chain", "msg", "cid", "--json", "-")
		if err != nil {
			t.Fatal(err)
		}
		var got msgCidOutput
		_ = json.Unmarshal([]byte(out), &got)
		raw, _ := hex.DecodeString(got.CBOR)
		want := types.CidOf(raw).String()
		if sig.unsigned {
			want = vecMsgCID
		}
		if got.CID != want || !strings.HasPrefix(got.CBOR, "828a") {
			t.Errorf("sig type %d: %+v", sig.typ, got)
		}
	}
	out, err := runChainCLI(t, vecMsgJSON, "chain", "msg", "cid", "-")
	if err != nil || !strings.Contains(out, "cid:  "+vecMsgCID) {
		t.Fatalf("text output %q %v", out, err)
	}
}

func TestMsgCidCLIErrors(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"empty", "", "empty"},
		{"bad json", `{"Version":`, "json"},
		{"typo field", strings.Replace(vecMsgJSON, `"GasLimit"`, `"GasLimt"`, 1), `unknown message field "GasLimt"`},
		{"missing to", `{"From":"f00"}`, `lacks "To"`},
		{"bad address", strings.Replace(vecMsgJSON, `"f04"`, `"f0x"`, 1), "address"},
		{"bad value", strings.Replace(vecMsgJSON, `"Value":"0"`, `"Value":"1.5"`, 1), "big integer"},
		{"bad params base64", strings.Replace(vecMsgJSON, `"aGFp"`, `"!!"`, 1), "base64"},
		{"cbor wrong type", "a0", "want 0x8a"},
		{"cbor trailing", vecMsgCBOR + "00", "trailing"},
		{"signed type 0 cbor", vecSignedCBOR, "signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runChainCLI(t, tc.input, "chain", "msg", "cid", "--json", "-")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if _, err := runChainCLI(t, "", "chain", "msg", "cid", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file accepted")
	}
	// cid does not take a hex argument (only decode does).
	if _, err := runChainCLI(t, "", "chain", "msg", "cid", vecMsgCBOR); err == nil {
		t.Error("hex argument accepted by cid")
	}
}

// pcs3Message builds a ProveCommitSectors3 message carrying the spec's
// single-sector params vector.
func pcs3Message(t *testing.T) []byte {
	t.Helper()
	params, _ := hex.DecodeString("86818201808144deadbeef40f6f5f4")
	m := types.Message{
		To: address.NewIDAddress(1000), From: address.NewIDAddress(1001), Nonce: 5,
		Value: types.Zero(), GasLimit: 1000000, GasFeeCap: types.NewInt(100), GasPremium: types.NewInt(10),
		Method: 34, Params: params,
	}
	b, err := m.Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMsgDecodeCLI(t *testing.T) {
	pcs3 := pcs3Message(t)
	signed := types.SignedMessage{Signature: types.Signature{Type: types.SigTypeSecp256k1, Data: bytes.Repeat([]byte{7}, 65)}}
	_ = types.DecodeExact(pcs3, &signed.Message)
	signedCBOR, _ := signed.Serialize()

	t.Run("vector hex arg", func(t *testing.T) {
		out, err := runChainCLI(t, "", "chain", "msg", "decode", "--json", "--network", "f", vecMsgCBOR)
		if err != nil {
			t.Fatal(err)
		}
		// Method 6 is a miner method number; "hai" is not valid params, so
		// the decode error is reported, not fatal.
		want := `{"Version":0,"To":"f04","From":"f00","Nonce":34,"Value":"0","GasLimit":123,"GasFeeCap":"234","GasPremium":"234","Method":6,"Params":"aGFp","CID":{"/":"` + vecMsgCID + `"},"ParamsDecodedAs":"miner.PreCommitSector","ParamsDecodeError":`
		if !strings.HasPrefix(out, want) {
			t.Fatalf("got  %s\nwant %s…", out, want)
		}
		if address.CurrentNetwork() != address.Testnet {
			t.Fatal("--network leaked into address.CurrentNetwork")
		}
	})
	t.Run("pcs3 raw cbor file", func(t *testing.T) {
		path := chainTemp(t, "msg.cbor", pcs3)
		out, err := runChainCLI(t, "", "chain", "msg", "decode", "--json", path)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			To              string
			Method          int
			ParamsDecodedAs string
			ParamsDecoded   struct {
				SectorActivations        []struct{ SectorNumber uint64 }
				SectorProofs             []string
				AggregateProofType       *int
				RequireActivationSuccess bool
			}
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if got.To != "t01000" || got.Method != 34 || got.ParamsDecodedAs != "miner.ProveCommitSectors3" ||
			len(got.ParamsDecoded.SectorActivations) != 1 || got.ParamsDecoded.SectorProofs[0] != "3q2+7w==" ||
			got.ParamsDecoded.AggregateProofType != nil || !got.ParamsDecoded.RequireActivationSuccess {
			t.Fatalf("decoded %s", out)
		}
	})
	t.Run("signed hex file", func(t *testing.T) {
		path := chainTemp(t, "signed.hex", []byte(hex.EncodeToString(signedCBOR)+"\n"))
		out, err := runChainCLI(t, "", "chain", "msg", "decode", "--json", path)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Message   struct{ ParamsDecoded map[string]any }
			Signature struct{ Type int }
			CID       map[string]string
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if got.Signature.Type != 1 || got.CID["/"] != types.CidOf(signedCBOR).String() || got.Message.ParamsDecoded == nil {
			t.Fatalf("decoded %s", out)
		}
	})
	t.Run("json stdin round trip", func(t *testing.T) {
		out, err := runChainCLI(t, vecMsgJSON, "chain", "msg", "decode", "-")
		if err != nil || !strings.Contains(out, "\n  \"Version\": 0,") {
			t.Fatalf("indented output %q %v", out, err)
		}
	})
	t.Run("non-miner method", func(t *testing.T) {
		m := types.Message{To: address.NewIDAddress(1), From: address.NewIDAddress(2), Value: types.Zero(), GasFeeCap: types.Zero(), GasPremium: types.Zero(), Method: 0}
		b, _ := m.Serialize()
		out, err := runChainCLI(t, "", "chain", "msg", "decode", "--json", hex.EncodeToString(b))
		if err != nil || strings.Contains(out, "ParamsDecoded") || !strings.Contains(out, `"Params":null`) {
			t.Fatalf("%s %v", out, err)
		}
	})
}

func TestMsgDecodeCLIErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"odd hex", []string{"8a0"}, "neither a hex string nor a readable file"},
		{"not hex not file", []string{"zz"}, "neither a hex string nor a readable file"},
		{"truncated", []string{vecMsgCBOR[:20]}, "decoding message cbor"},
		{"version 1", []string{"8a01" + vecMsgCBOR[4:]}, "version"},
		{"bad network", []string{"--network", "x", vecMsgCBOR}, "bad --network"},
		{"map", []string{"a0"}, "want 0x8a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runChainCLI(t, "", append([]string{"chain", "msg", "decode", "--json"}, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
