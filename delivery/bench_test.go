package delivery

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/abi"
)

// BenchmarkTransferPath measures the transfer path alone — metadata push,
// chunked upload with the prefix SHA-256 on both ends, commits, an
// accept-all verification — of an 8 MiB sector over loopback, for a few
// chunk sizes and commit policies. `sealant bench transfer` does the same
// at 512 MiB with the machine's ceilings beside it.
func BenchmarkTransferPath(b *testing.B) {
	dir := b.TempDir()
	files, md, err := benchSector(context.Background(), dir, api.SectorID{Miner: testMiner, Number: 1}, abi.StackedDrg8MiBV1_1)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name        string
		chunk       int64
		commitBytes int64
	}{
		{"chunk=1MiB/commit=default", 1 << 20, 0},
		{"chunk=4MiB/commit=default", 4 << 20, 0},
		{"chunk=4MiB/commit=every-chunk", 4 << 20, 1},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			r, err := NewReceiver(ReceiverConfig{Root: filepath.Join(b.TempDir(), "root"), Store: b.TempDir(), Secret: testSecret,
				CommitBytes: bc.commitBytes,
				Verify:      func(context.Context, VerifyInput) api.VerifyResult { return api.VerifyResult{OK: true} }})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go r.Run(ctx)
			srv := httptest.NewServer(r.Handler())
			defer srv.Close()
			tok := providerToken(b, "bench")
			c := &Client{ChunkSize: bc.chunk, PollInterval: time.Millisecond}
			target := api.DeliveryTarget{ReceiverURL: srv.URL, Token: tok}
			ep := Endpoint{URL: srv.URL, Token: tok}
			b.SetBytes(totalSize(files))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				// A new sector each time: the file names carry its id.
				m := md
				m.ID.Number = uint64(100 + i)
				fs := make([]api.LocalFile, len(files))
				for j, f := range files {
					fs[j] = f
					fs[j].Name = strings.Replace(f.Name, md.ID.String(), m.ID.String(), 1)
				}
				m.Files = SectorFiles(fs)
				if _, err := c.PushMetadata(ctx, ep, m); err != nil {
					b.Fatal(err)
				}
				if err := c.Transfer(ctx, target, m.ID, fs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
