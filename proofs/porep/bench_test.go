package porep

import (
	"context"
	"encoding/json"
	"testing"
)

func BenchmarkVerifyC1_2KiB(b *testing.B) {
	dir, rec, g := sealGolden(b)
	out, err := C1(context.Background(), dir, hex32(b, g.Seed))
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(out)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		o, err := ParseC1(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := VerifyC1(o, &VerifyOptions{Miner: &rec.Miner, Sector: &rec.Sector}); err != nil {
			b.Fatal(err)
		}
	}
}
