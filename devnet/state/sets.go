package state

import "sort"

// Sector-number sets are sorted, duplicate-free []uint64: small, JSON
// friendly and deterministic.

func setHas(s []uint64, v uint64) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i] >= v })
	return i < len(s) && s[i] == v
}

func setAdd(s []uint64, vs ...uint64) []uint64 {
	for _, v := range vs {
		i := sort.Search(len(s), func(i int) bool { return s[i] >= v })
		if i < len(s) && s[i] == v {
			continue
		}
		s = append(s, 0)
		copy(s[i+1:], s[i:])
		s[i] = v
	}
	return s
}

func setRemove(s []uint64, vs ...uint64) []uint64 {
	out := s[:0:0]
	for _, v := range s {
		if !setHas(vs, v) {
			out = append(out, v)
		}
	}
	return out
}

func setFrom(vs []uint64) []uint64 {
	out := append([]uint64(nil), vs...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	w := 0
	for i, v := range out {
		if i == 0 || v != out[w-1] {
			out[w] = v
			w++
		}
	}
	return out[:w]
}

func setIntersect(a, b []uint64) []uint64 {
	var out []uint64
	for _, v := range a {
		if setHas(b, v) {
			out = append(out, v)
		}
	}
	return out
}

func setMinus(a, b []uint64) []uint64 { return setRemove(append([]uint64(nil), a...), setFrom(b)...) }
