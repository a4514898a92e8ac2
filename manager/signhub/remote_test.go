package signhub

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/rpc"
)

// fakeRemote is a Remote signing with its keys.
type fakeRemote struct {
	keys map[address.Address]key
	done chan struct{}
}

func (r *fakeRemote) Call(_ context.Context, method string, result any, params ...any) error {
	req := params[0].(api.SignRequest)
	m, err := types.DecodeMessage(req.Message)
	if err != nil {
		return err
	}
	k, ok := r.keys[m.From]
	if !ok {
		return &rpc.Error{Code: api.CodeSignRefused, Message: "no key"}
	}
	s, err := sigs.Sign(k.kind, k.priv, m.Cid().Bytes())
	*result.(*api.SignResponse) = api.SignResponse{Signature: api.SignatureJSON{Type: int(s.Type), Data: s.Data}}
	return err
}
func (r *fakeRemote) Done() <-chan struct{} { return r.done }
func (r *fakeRemote) RemoteAddr() string    { return "remote:1" }

// TestRemoteSigners: an attached Remote is routed to for the addresses it
// was attached with, SetAddresses changes them at once, both kinds of
// signer are listed with their kind, and a closed Remote is forgotten.
func TestRemoteSigners(t *testing.T) {
	e := newEnv(t, Config{WaitTimeout: 50 * time.Millisecond})
	bls, secp := newKey(t, types.SigTypeBLS, 1), newKey(t, types.SigTypeSecp256k1, 2)
	r := &fakeRemote{keys: map[address.Address]key{bls.addr: bls, secp.addr: secp}, done: make(chan struct{})}
	e.hub.AttachRemote("acme", r, SignerInfo{Kind: api.SignerKindVenusWallet, Name: "wallet"}, []address.Address{bls.addr, address.NewIDAddress(5)})
	ctx := context.Background()
	if _, err := e.hub.Sign(ctx, "acme", bls.addr, testMsg(bls.addr, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.hub.Sign(ctx, "acme", secp.addr, testMsg(secp.addr, 0)); !errors.Is(err, ErrNoSigner) {
		t.Fatalf("address not attached: %v", err)
	}
	if !e.hub.SetAddresses("acme", r, []address.Address{secp.addr}) || e.hub.SetAddresses("other", r, nil) {
		t.Fatal("SetAddresses: wrong tenant answers")
	}
	if _, err := e.hub.Sign(ctx, "acme", secp.addr, testMsg(secp.addr, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.hub.Sign(ctx, "acme", bls.addr, testMsg(bls.addr, 1)); !errors.Is(err, ErrNoSigner) {
		t.Fatalf("address removed: %v", err)
	}
	// A sealant signer of the same tenant, and the admin listing.
	c, _, err := (&fakeSigner{keys: []key{bls}}).dial(t, e, token(t, rpc.RoleSigner, "acme"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	all := e.hub.AllSigners("")
	if len(all) != 2 {
		t.Fatalf("signers: %+v", all)
	}
	kinds := map[string][]string{}
	for _, s := range all {
		kinds[s.Kind] = s.Addresses
	}
	if len(kinds[api.SignerKindVenusWallet]) != 1 || kinds[api.SignerKindVenusWallet][0] != secp.addr.String() ||
		len(kinds[api.SignerKindSealant]) != 1 || kinds[api.SignerKindSealant][0] != bls.addr.String() {
		t.Fatalf("signers by kind: %v", kinds)
	}
	if got := e.hub.AllSigners("nobody"); got == nil || len(got) != 0 {
		t.Fatalf("AllSigners of an unknown tenant = %#v, want empty", got)
	}
	close(r.done)
	eventually(t, "the remote is forgotten", func() bool { return len(e.hub.Signers("acme")) == 1 })
}
