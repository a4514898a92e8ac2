package sdr

import (
	"fmt"
	"testing"
)

func BenchmarkTmpPF(b *testing.B) {
	lb := newLabelBench(b)
	for _, dist := range []uint64{4, 8, 16, 32} {
		b.Run(fmt.Sprintf("d=%d", dist), func(b *testing.B) {
			rid := [32]byte{7}
			l := newLabeler(&rid, 2)
			defer cpuTimer(b)()
			for i := range b.N {
				w := uint64(i % benchWindow)
				node := lb.first + w
				prefetchParents(&lb.cur[0], &lb.prev[0], &lb.parents[(w+dist)%benchWindow])
				l.label(lb.cur[node*32:], node, &lb.parents[w], lb.cur, lb.prev, true)
			}
		})
	}
	b.Run("nomem", func(b *testing.B) {
		rid := [32]byte{7}
		l := newLabeler(&rid, 2)
		defer cpuTimer(b)()
		for i := range b.N {
			w := uint64(i % 64)
			node := lb.first + w
			l.label(lb.cur[node*32:], node, &lb.parents[w], lb.cur, lb.prev, true)
		}
	})
}
