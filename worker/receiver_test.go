package worker

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/delivery"
	"github.com/sealant/sealant/proofs/commp"
)

// receiverChain answers the receiver's on-chain lookups from the fake
// manager's records: the sector is active with the CommR it precommitted.
type receiverChain struct{ f *fakeManager }

func (c receiverChain) StateSectorGetInfo(_ context.Context, _ address.Address, n uint64, _ types.TipSetKey) (*lotus.SectorOnChainInfo, error) {
	s, err := c.f.sector(api.SectorID{Miner: c.f.miner, Number: n})
	if err != nil {
		return nil, err
	}
	sealed, err := commp.ParseSealedCID(s.precommit.CommR)
	if err != nil {
		return nil, err
	}
	return &lotus.SectorOnChainInfo{SectorNumber: n, SealProof: c.f.proof, SealedCID: commp.SealedCID(sealed),
		Activation: 300, Expiration: 1_000_000}, nil
}

func (c receiverChain) StateSectorPreCommitInfo(context.Context, address.Address, uint64, types.TipSetKey) (*lotus.SectorPreCommitOnChainInfo, error) {
	return nil, nil
}

// TestDeliverToReceiver delivers a sealed 2KiB sector to a real
// delivery.Receiver (architecture 2) through the delivery package's HTTP
// client: the receiver verifies the files against the metadata and the
// chain and accepts them, and only then does the worker drop its copy.
func TestDeliverToReceiver(t *testing.T) {
	f := newFakeManager(t, 1)
	cfg, root := testConfig(t, f.URL, 1, "")
	secret := []byte("0123456789abcdef0123456789abcdef")
	rcv, err := delivery.NewReceiver(delivery.ReceiverConfig{Root: filepath.Join(root, "rcv"), Store: filepath.Join(root, "sp-store"),
		Secret: secret, Chain: receiverChain{f}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go rcv.Run(ctx)
	srv := httptest.NewServer(rcv.Handler())
	defer srv.Close()
	tok, err := delivery.IssueProviderToken(secret, "provider-1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.target = api.DeliveryTarget{Architecture: api.ArchSPProves, ReceiverURL: srv.URL, Token: tok}
	f.onTarget = func(id api.SectorID) error {
		s, err := f.sector(id)
		if err != nil {
			return err
		}
		f.mu.Lock()
		md := api.SectorMetadata{ID: id, ProofType: f.proof, CommR: s.precommit.CommR, CommD: s.precommit.CommD,
			CommC: s.precommit.CommC, CommRLast: s.precommit.CommRLast, Ticket: *s.ticket,
			Seed:             api.Seed{Epoch: 250},
			PreCommitMessage: "bafy2bzaceprecommit", ProveCommitMessage: "bafy2bzaceprovecommit",
			Expiration: 1_000_000, Files: s.finalized.Files}
		for i := range md.Seed.Seed {
			md.Seed.Seed[i] = byte(id.Number*13 + uint64(i))
		}
		f.mu.Unlock()
		ep, err := delivery.EndpointOf(f.target)
		if err != nil {
			return err
		}
		_, err = delivery.NewClient().PushMetadata(context.Background(), ep, md)
		return err
	}
	// The verdict reaches the worker through the manager, which asks the
	// receiver (the real manager's DeliveryStatus does the same).
	f.verdict = func(id api.SectorID) (api.DeliveryState, error) {
		ep, err := delivery.EndpointOf(f.target)
		if err != nil {
			return "", err
		}
		st, err := delivery.NewClient().Status(context.Background(), ep, id)
		return st.State, err
	}
	client := &delivery.Client{RejectedError: ErrDeliveryRejected, PollInterval: 20 * time.Millisecond, RetryDelay: 20 * time.Millisecond}
	w, _, _ := runWorker(t, cfg, Options{Transferer: client})
	select {
	case <-f.finished:
	case <-time.After(90 * time.Second):
		t.Fatalf("not delivered: %+v", w.List())
	}
	st, err := rcv.SectorStatus(api.SectorID{Miner: 1000, Number: 1})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(st.State) != "accepted" {
		t.Errorf("receiver state %+v", st)
	}
	if _, err := os.Stat(filepath.Join(root, "sp-store", "sealed", "s-t01000-1")); err != nil {
		t.Errorf("SP store lacks the sealed file: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := os.Stat(filepath.Join(root, "persist", "sealed", "s-t01000-1"))
		if w.List()[0].State == "Empty" && os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker copy not dropped after acceptance: %v %+v", err, w.List())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
