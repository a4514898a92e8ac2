package manager

import (
	"net/url"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/commp"
)

// FuzzCheckPiece feeds arbitrary tenant input to the piece validation: it
// must never panic, and whatever it accepts must be safe to hand a worker.
func FuzzCheckPiece(f *testing.F) {
	var comm [32]byte
	comm[1] = 9
	f.Add(commp.PieceCID(comm).String(), uint64(1024), uint64(0), "https://data.example/p")
	f.Add(commp.SealedCID(comm).String(), uint64(128), uint64(127), "http://h/x")
	f.Add("baga", uint64(3), uint64(1<<63), "file:///etc/passwd")
	f.Add("", uint64(0), uint64(0), "")
	f.Fuzz(func(t *testing.T, cidStr string, size, payload uint64, src string) {
		p := api.PieceSubmission{PieceCID: cidStr, Size: size, PayloadSize: payload, SourceURL: src}
		if err := checkPiece(&p, 2048); err != nil {
			return
		}
		if p.Size < 128 || p.Size > 2048 || p.Size&(p.Size-1) != 0 {
			t.Fatalf("accepted size %d", p.Size)
		}
		if p.PayloadSize == 0 || p.PayloadSize > p.Size/128*127 {
			t.Fatalf("accepted payload %d for size %d", p.PayloadSize, p.Size)
		}
		u, err := url.Parse(p.SourceURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			t.Fatalf("accepted source %q", p.SourceURL)
		}
		if _, err := commp.ParsePieceCID(p.PieceCID); err != nil {
			t.Fatalf("accepted piece cid %q: %v", p.PieceCID, err)
		}
	})
}
