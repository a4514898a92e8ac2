package walletgw

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/signhub"
)

// answer builds a Gateway.ResponseWalletEvent request as venus-wallet
// sends it.
func answer(id int, resp ResponseEvent) []byte {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": MethodResponseWalletEvent, "params": []any{resp}})
	return b
}

// proofAnswer reports whether f is the wallet's answer to last, a
// verifyaddress request, and returns that request and the answer's
// JSON-RPC id.
func proofAnswer(f recordedFrame, last RequestEvent) (WalletSignRequest, int, bool) {
	var req WalletSignRequest
	if f.From != "wallet" || last.Method != EventWalletSign || json.Unmarshal(last.Payload, &req) != nil || req.Meta.Type != MetaVerifyAddress {
		return req, 0, false
	}
	var call struct {
		ID     int             `json:"id"`
		Method string          `json:"method"`
		Params []ResponseEvent `json:"params"`
	}
	if json.Unmarshal(f.Frame, &call) != nil || call.Method != MethodResponseWalletEvent || len(call.Params) != 1 || call.Params[0].ID != last.ID {
		return req, 0, false
	}
	return req, call.ID, true
}

// flippedSignature is the wallet's recorded signature answer with one bit
// changed.
func flippedSignature(t *testing.T, _ WalletSignRequest, f recordedFrame) []byte {
	var call struct {
		Params []ResponseEvent `json:"params"`
	}
	if err := json.Unmarshal(f.Frame, &call); err != nil {
		t.Fatal(err)
	}
	var sj api.SignatureJSON
	if err := json.Unmarshal(call.Params[0].Payload, &sj); err != nil {
		t.Fatal(err)
	}
	sj.Data[len(sj.Data)/2] ^= 0x01
	b, _ := json.Marshal(sj)
	return b
}

// otherKeySignature is a valid signature over the requested digest by
// another key of the signer's type.
func otherKeySignature(t *testing.T, req WalletSignRequest, _ recordedFrame) []byte {
	kind := types.SigTypeBLS
	if req.Signer.Protocol() == address.SECP256K1 {
		kind = types.SigTypeSecp256k1
	}
	priv, err := sigs.GenerateKey(kind, bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sigs.Sign(kind, priv, req.ToSign)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(api.SignatureJSON{Type: int(s.Type), Data: s.Data})
	return b
}

// TestBadWalletProofs: a wallet whose verifyaddress answer does not
// verify — a corrupted signature, or a valid signature over the right
// digest by another key of the same type — is disconnected, listed
// nowhere, and nothing is signed by it: the message that was waiting for
// the wallet's reconnection fails with ErrNoSigner instead.
func TestBadWalletProofs(t *testing.T) {
	for _, tc := range []struct {
		name string
		// conn and proof pick the answer to forge (proof: 0-based among
		// that connection's verifyaddress answers); the replay stops
		// right after it.
		conn, proof int
		forge       func(t *testing.T, req WalletSignRequest, f recordedFrame) []byte
	}{
		{"corrupted BLS signature on reconnect", 2, 0, flippedSignature},
		{"corrupted secp256k1 signature on reconnect", 2, 1, flippedSignature},
		{"another BLS key's signature on reconnect", 2, 0, otherKeySignature},
		{"another secp256k1 key's signature on reconnect", 2, 1, otherKeySignature},
		{"corrupted signature on AddNewAddress", 1, 0, flippedSignature},
		{"another key's signature on AddNewAddress", 1, 1, otherKeySignature},
		{"an answer that is not a signature", 2, 0, func(*testing.T, WalletSignRequest, recordedFrame) []byte { return []byte(`"yes"`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReplayer(t, time.Second)
			seen, altered := 0, false
			r.alter = func(_ int, f recordedFrame, last RequestEvent) []byte {
				req, id, ok := proofAnswer(f, last)
				if !ok || f.Conn != tc.conn {
					return nil
				}
				if seen++; seen-1 != tc.proof {
					return nil
				}
				altered = true
				return answer(id, ResponseEvent{ID: last.ID, Payload: tc.forge(t, req, f)})
			}
			for i := 0; !altered; i++ {
				if i == len(r.frames) {
					t.Fatal("the recording has no such proof")
				}
				if err := r.play(i, i+1); err != nil {
					t.Fatalf("replay before the forged proof: %v", err)
				}
			}
			w := r.conns[tc.conn]
			if err := w.waitClosed(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			if tc.conn == 2 && w.sawChainSign() {
				t.Fatal("the gateway sent a chain message to a wallet that did not prove its keys")
			}
			waitNoSigner(t, r.e.hub, r.h.Tenant)
			// The message cut on connection 1 waits for the wallet to
			// come back; a wallet that fails its proofs never gets it.
			waited := 0
			for c, sc := range r.signs {
				if !r.cut(c) {
					continue
				}
				waited++
				<-sc.done
				if !errors.Is(sc.err, signhub.ErrNoSigner) {
					t.Errorf("message %s: %v, want ErrNoSigner (nothing signed by the bad wallet)", c, sc.err)
				}
			}
			if tc.conn == 2 && waited != 1 {
				t.Fatalf("%d messages waited for the reconnection, want 1", waited)
			}
		})
	}
}

// waitNoSigner waits until the hub lists no signer for tenant.
func waitNoSigner(t *testing.T, h *signhub.Hub, tenant string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.Signers(tenant)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("signers still listed: %+v", h.Signers(tenant))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBadWalletAnswers: a proven wallet holding a sign request that
// floods the gateway with answers to events it was never sent, answers
// with an oversized payload, or sends an oversized message is
// disconnected; its later (valid, recorded) answer is not taken and the
// request fails with ErrNoSigner rather than being signed by it.
func TestBadWalletAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		send func(w *wsWallet, ev RequestEvent)
	}{
		{"flood of unsolicited answers", func(w *wsWallet, _ RequestEvent) {
			for i := range DefaultMaxUnsolicited + 8 {
				_ = w.send(answer(1000+i, ResponseEvent{ID: uuid.New(), Payload: []byte(`{}`)}))
			}
		}},
		{"oversized answer", func(w *wsWallet, ev RequestEvent) {
			_ = w.send(answer(1000, ResponseEvent{ID: ev.ID, Payload: bytes.Repeat([]byte{'x'}, DefaultMaxPayload+1)}))
		}},
		{"oversized error text", func(w *wsWallet, ev RequestEvent) {
			_ = w.send(answer(1000, ResponseEvent{ID: ev.ID, Error: strings.Repeat("x", DefaultMaxPayload+1)}))
		}},
		{"oversized message", func(w *wsWallet, ev RequestEvent) {
			_ = w.send(answer(1000, ResponseEvent{ID: ev.ID, Payload: bytes.Repeat([]byte{'x'}, DefaultMaxRequestSize)}))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReplayer(t, time.Second)
			// Replay until the gateway sends the first chain message.
			first := r.index(0, func(f recordedFrame) bool {
				ev, ok := channelEvent(f.Frame)
				_, sign := chainSign(ev)
				return ok && sign
			})
			if err := r.play(0, first+1); err != nil {
				t.Fatal(err)
			}
			ev, _ := channelEvent(r.frames[first].Frame)
			w := r.conns[r.frames[first].Conn]
			tc.send(w, ev)
			if err := w.waitClosed(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			// The recorded, valid answer comes too late: the connection is gone.
			if err := w.send(r.frames[first+1].Frame); err == nil {
				t.Fatal("the gateway still reads a disconnected wallet")
			}
			waitNoSigner(t, r.e.hub, r.h.Tenant)
			for c, sc := range r.signs {
				<-sc.done
				if !errors.Is(sc.err, signhub.ErrNoSigner) {
					t.Errorf("message %s: %v, want ErrNoSigner", c, sc.err)
				}
			}
		})
	}
}
