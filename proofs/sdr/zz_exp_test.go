package sdr

import "testing"

func BenchmarkZZLabelHot(b *testing.B) {
	rid := [32]byte{7}
	l := newLabeler(&rid, 2)
	cur := make([]byte, 1<<16)
	prev := make([]byte, 1<<16)
	var ps [14]uint32
	for k := range ps {
		ps[k] = uint32(k * 37 % 2048)
	}
	b.ResetTimer()
	defer cpuTimer(b)()
	for i := range b.N {
		l.label(cur[(i%1024)*32:], uint64(i), &ps, cur, prev, true)
	}
}

func BenchmarkZZLabelNoPrefetch(b *testing.B) {
	lb := newLabelBench(b)
	rid := [32]byte{7}
	l := newLabeler(&rid, 2)
	b.ResetTimer()
	defer cpuTimer(b)()
	for i := range b.N {
		w := uint64(i % benchWindow)
		node := lb.first + w
		l.label(lb.cur[node*32:], node, &lb.parents[w], lb.cur, lb.prev, true)
	}
}

func BenchmarkZZLabelPrefetch32(b *testing.B) {
	lb := newLabelBench(b)
	rid := [32]byte{7}
	l := newLabeler(&rid, 2)
	b.ResetTimer()
	defer cpuTimer(b)()
	for i := range b.N {
		w := uint64(i % benchWindow)
		node := lb.first + w
		prefetchParents(&lb.cur[0], &lb.prev[0], &lb.parents[(w+32)%benchWindow])
		l.label(lb.cur[node*32:], node, &lb.parents[w], lb.cur, lb.prev, true)
	}
}
