//go:build !amd64

package sdr

// prefetchParents is a no-op where no assembly hint is provided; labelling
// stays correct, only memory latency is exposed.
func prefetchParents(cur, prev *byte, ps *[14]uint32) {}

// prefetchParentsStride is a no-op here too.
func prefetchParentsStride(cur, prev *byte, ps *[14]uint32, stride uint64) {}
