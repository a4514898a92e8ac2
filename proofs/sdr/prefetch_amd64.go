//go:build amd64

package sdr

// prefetchParents asks the CPU to start loading the parent labels of a node
// a few nodes ahead of the one being hashed. Parent reads are effectively
// random over two N·32-byte layers, so without it every label waits on up
// to 13 cache (and TLB) misses; a prefetch hint never faults, so a parent
// index past the data is harmless. prev may be nil (layer 1).
//
//go:noescape
func prefetchParents(cur, prev *byte, ps *[14]uint32)

// prefetchParentsStride is prefetchParents for layers of stride bytes per
// node (a batch's interleaved lanes, see laneGroup).
//
//go:noescape
func prefetchParentsStride(cur, prev *byte, ps *[14]uint32, stride uint64)
