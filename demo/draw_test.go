package demo

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/address"
)

// TestDrawSaysWhatItWaitsFor: without redraw an unchanged status is not
// printed again, and the wait note (what the run waits for once sealing is
// done) is its own line.
func TestDrawSaysWhatItWaitsFor(t *testing.T) {
	var out bytes.Buffer
	m := address.NewIDAddress(1001)
	c := &cluster{cfg: Config{Sectors: 1, Progress: &out}, tenants: []*tenant{{Name: "sp2", Miner: m, Architecture: api.ArchProviderProves}}}
	o := newObserver(c, nil)
	o.sectors["sp2"][0] = &sectorView{proven: true, delivered: true, verified: true}
	start := o.lastVerified
	for range 5 {
		o.draw(start)
	}
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Fatalf("5 draws of an unchanged status printed %d lines:\n%s", n, out.String())
	}
	o.note = "waiting for sp2's WindowPoSt: its sectors are in deadline 3, which opens at epoch 120 (now 100, about 6s)"
	o.draw(start)
	o.draw(start)
	if got := out.String(); strings.Count(got, "deadline 3") != 1 || strings.Count(got, "\n") != 2 {
		t.Fatalf("after the note (only the new line is printed):\n%s", got)
	}
	o.note = "waiting for sp2's WindowPoSt: its sectors are in deadline 3, which opens at epoch 120 (now 110, about 3s)"
	o.draw(start)
	if got := out.String(); strings.Count(got, "sp2 t01001") != 1 || !strings.Contains(got, "now 110") {
		t.Fatalf("a changed note reprinted the unchanged status:\n%s", got)
	}
}
