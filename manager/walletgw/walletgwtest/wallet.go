// Package walletgwtest is a stand-in for venus-wallet in Sealant's tests:
// the wallet side of the venus-gateway wallet protocol (package
// manager/walletgw) with keys held in memory. It checks what a real
// venus-wallet checks (a verifyaddress request must sign
// sha256(Extra ‖ its SignBytes); a chain message's sender must be the
// signer and its CID the bytes to sign) and signs, or refuses with the
// text Refuse returns. The real program is exercised by walletgw's
// recorded-session and interop tests.
package walletgwtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/manager/walletgw"
	"github.com/sealant/sealant/rpc"
)

// Key is a key the wallet holds.
type Key struct {
	Type types.SigType
	Priv []byte
	Addr address.Address
}

// NewKey derives a key of type typ from seed (deterministic, for tests).
func NewKey(typ types.SigType, seed byte) (Key, error) {
	priv, err := sigs.GenerateKey(typ, bytes.NewReader(bytes.Repeat([]byte{seed}, 64)))
	if err != nil {
		return Key{}, err
	}
	a, err := sigs.AddressOf(typ, priv)
	if err != nil {
		return Key{}, err
	}
	return Key{Type: typ, Priv: priv, Addr: a}, nil
}

// Wallet is one connected stand-in wallet.
type Wallet struct {
	// Refuse, if set, is asked before a chain message is signed; a
	// non-empty answer is sent as the wallet's error (its sign filter).
	Refuse func(m *types.Message) string

	c         *rpc.Client
	sub       *rpc.Subscription
	signBytes []byte
	ready     chan struct{}
	done      chan struct{}

	mu      sync.Mutex
	keys    map[address.Address]Key
	channel uuid.UUID
	signed  atomic.Int64
	asked   atomic.Int64
}

// Connect dials the gateway at url (ws://…/rpc/v1) with token, opens the
// event channel and serves it until the connection ends. It returns once
// the gateway sent InitConnect (the keys are proven) or failed.
func Connect(ctx context.Context, url, token string, keys ...Key) (*Wallet, error) {
	w := &Wallet{keys: map[address.Address]Key{}, ready: make(chan struct{}), done: make(chan struct{}), signBytes: make([]byte, 32)}
	for _, k := range keys {
		w.keys[k.Addr] = k
	}
	_, _ = rand.Read(w.signBytes)
	hdr := http.Header{}
	hdr.Set(walletgw.NamespaceHeader, walletgw.Namespace)
	c, err := rpc.Dial(ctx, url, rpc.WithToken(token), rpc.WithHeader(hdr))
	if err != nil {
		return nil, err
	}
	sub, err := c.Subscribe(ctx, walletgw.MethodListenWalletEvent, walletgw.RegisterPolicy{SignBytes: w.signBytes})
	if err != nil {
		c.Close()
		return nil, err
	}
	w.c, w.sub = c, sub
	go w.serve()
	select {
	case <-w.ready:
		return w, nil
	case <-w.done:
		c.Close()
		return nil, errors.New("walletgwtest: the gateway ended the event channel before InitConnect")
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
}

func (w *Wallet) serve() {
	defer close(w.done)
	for {
		var ev walletgw.RequestEvent
		if err := w.sub.Next(context.Background(), &ev); err != nil {
			return
		}
		switch ev.Method {
		case walletgw.EventInitConnect:
			var cc walletgw.ConnectedCompleted
			if json.Unmarshal(ev.Payload, &cc) == nil {
				w.mu.Lock()
				w.channel = cc.ChannelId
				w.mu.Unlock()
				close(w.ready)
			}
		case walletgw.EventWalletList:
			w.mu.Lock()
			list := make([]string, 0, len(w.keys))
			for a := range w.keys {
				list = append(list, a.String())
			}
			w.mu.Unlock()
			w.answer(ev.ID, list, nil)
		case walletgw.EventWalletSign:
			go func() {
				sig, err := w.sign(ev.Payload)
				w.answer(ev.ID, sig, err)
			}()
		}
	}
}

func (w *Wallet) sign(payload []byte) (*api.SignatureJSON, error) {
	var req walletgw.WalletSignRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	w.mu.Lock()
	k, ok := w.keys[req.Signer]
	w.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("key not found: %s", req.Signer)
	}
	switch req.Meta.Type {
	case walletgw.MetaVerifyAddress:
		h := walletgw.ProofDigest(req.Meta.Extra, w.signBytes)
		if !bytes.Equal(h, req.ToSign) {
			return nil, errors.New("sign data not match")
		}
	case walletgw.MetaChainMessage:
		w.asked.Add(1)
		m, err := types.DecodeMessage(req.Meta.Extra)
		if err != nil {
			return nil, err
		}
		if m.From != req.Signer {
			return nil, fmt.Errorf("signer(%s) is not msg sender(%s)", req.Signer, m.From)
		}
		if !bytes.Equal(m.Cid().Bytes(), req.ToSign) {
			return nil, errors.New("to-sign bytes are not the message CID")
		}
		if w.Refuse != nil {
			if why := w.Refuse(m); why != "" {
				return nil, errors.New(why)
			}
		}
	default:
		return nil, fmt.Errorf("unsupported msgtype:%s", req.Meta.Type)
	}
	s, err := sigs.Sign(k.Type, k.Priv, req.ToSign)
	if err != nil {
		return nil, err
	}
	if req.Meta.Type == walletgw.MetaChainMessage {
		w.signed.Add(1)
	}
	return &api.SignatureJSON{Type: int(s.Type), Data: s.Data}, nil
}

func (w *Wallet) answer(id uuid.UUID, v any, err error) {
	resp := walletgw.ResponseEvent{ID: id}
	if err != nil {
		resp.Error = err.Error()
	} else {
		resp.Payload, _ = json.Marshal(v)
	}
	_ = w.c.Call(context.Background(), walletgw.MethodResponseWalletEvent, nil, resp)
}

// Channel is the channel id InitConnect gave.
func (w *Wallet) Channel() uuid.UUID {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.channel
}

// AddKey adds k to the wallet and announces it (Gateway.AddNewAddress),
// as venus-wallet does when a key is created while it runs.
func (w *Wallet) AddKey(ctx context.Context, k Key) error {
	w.mu.Lock()
	w.keys[k.Addr] = k
	w.mu.Unlock()
	return w.c.Call(ctx, walletgw.MethodAddNewAddress, nil, w.Channel(), []string{k.Addr.String()})
}

// RemoveKey drops a key and withdraws it (Gateway.RemoveAddress).
func (w *Wallet) RemoveKey(ctx context.Context, a address.Address) error {
	w.mu.Lock()
	delete(w.keys, a)
	w.mu.Unlock()
	return w.c.Call(ctx, walletgw.MethodRemoveAddress, nil, w.Channel(), []string{a.String()})
}

// Call calls a gateway method on the wallet's connection.
func (w *Wallet) Call(ctx context.Context, method string, result any, params ...any) error {
	return w.c.Call(ctx, method, result, params...)
}

// Signed counts chain messages signed; Asked counts those the gateway
// sent (signed or refused).
func (w *Wallet) Signed() int { return int(w.signed.Load()) }

// Asked counts the chain messages the gateway asked this wallet to sign.
func (w *Wallet) Asked() int { return int(w.asked.Load()) }

// Done is closed when the event channel ended.
func (w *Wallet) Done() <-chan struct{} { return w.done }

// Close disconnects.
func (w *Wallet) Close() { w.c.Close() }
