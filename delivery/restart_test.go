package delivery

import (
	"context"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/sealant/sealant/api"
)

// A receiver restarted mid-transfer continues from its persisted record:
// the committed chunk (and the whole-file hash state) survive, and the
// new process receives exactly the missing bytes.
func TestReceiverRestartResumes(t *testing.T) {
	root, store := t.TempDir(), t.TempDir()
	chain := newFakeChain()
	start := func() (*Receiver, *httptest.Server, context.CancelFunc) {
		r, err := NewReceiver(ReceiverConfig{Root: root, Store: store, Secret: testSecret, Chain: chain})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go r.Run(ctx)
		return r, httptest.NewServer(r.Handler()), cancel
	}
	s := newTestSector(t, 401)
	_, rec := sealed(t)
	chain.prove(s.id.Number, rec.CommR)
	tok := providerToken(t, "acme")
	c := testClient()
	c.ChunkSize = 512

	_, srv, cancel := start()
	ep := Endpoint{URL: srv.URL, Token: tok}
	if _, err := c.PushMetadata(context.Background(), ep, s.md); err != nil {
		t.Fatal(err)
	}
	sealedFile := s.files[0]
	f, err := os.Open(sealedFile.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got api.ReceiverFile
	if _, err := c.putChunk(context.Background(), ep, s.id, sealedFile.Name, f, 0, 512, nil, &got); err != nil || got.Received != 512 {
		t.Fatalf("first chunk: %+v %v", got, err)
	}
	srv.Close()
	cancel()

	r2, srv2, cancel2 := start()
	defer srv2.Close()
	defer cancel2()
	target := api.DeliveryTarget{ReceiverURL: srv2.URL, Token: tok}
	if err := c.Transfer(context.Background(), target, s.id, s.files); err != nil {
		t.Fatal(err)
	}
	if sent, want := r2.BytesReceived(), totalSize(s.files)-512; sent != want {
		t.Errorf("restarted receiver got %d bytes, want the %d missing", sent, want)
	}
	st, err := r2.SectorStatus(s.id)
	if err != nil || st.State != api.DeliveryAccepted {
		t.Fatalf("status %+v %v", st, err)
	}
}
