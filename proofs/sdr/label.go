package sdr

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/internal/sha2"
)

// Label message layout (spec §6): a 64-byte prefix
// replica_id ‖ u32_be(layer) ‖ u64_be(node) ‖ 20 zero bytes, then 37 parent
// blocks of 32 bytes (the 6 or 14 parent labels repeated cyclically), 1,248
// bytes in all; SHA-256 pads that to 20 compressions.
const (
	// LabelParentBlocks is the number of 32-byte parent blocks hashed per label.
	LabelParentBlocks = 37
	prefixLen         = 64
	labelMsgLen       = prefixLen + LabelParentBlocks*abi.NodeSize
)

// LabelFromBlocks computes a label from its hashed parent blocks: blocks must
// be empty (node 0, which has no parents) or hold exactly 37 blocks (node > 0,
// as in a C1 labeling proof). layer is 1-based.
func LabelFromBlocks(replicaID *[32]byte, layer uint32, node uint64, blocks [][32]byte) ([32]byte, error) {
	if len(blocks) != 0 && len(blocks) != LabelParentBlocks {
		return [32]byte{}, fmt.Errorf("sdr: label of node %d: %d parent blocks, want 0 or %d", node, len(blocks), LabelParentBlocks)
	}
	var prefix [prefixLen]byte
	putPrefix(&prefix, replicaID, layer, node)
	h := sha256.New()
	h.Write(prefix[:])
	for i := range blocks {
		h.Write(blocks[i][:])
	}
	var out [32]byte
	h.Sum(out[:0])
	out[31] &= 0x3f
	return out, nil
}

// ParentBlocks returns the 37 blocks hashed into the label of node in layer
// (1-based): parents are the node's 14 graph parents, cur the labels of layer
// `layer` (at least up to node) and prev those of layer-1 (ignored for layer
// 1). Node 0 has no blocks. This is the content of a C1 labeling proof.
func ParentBlocks(layer uint32, node uint64, parents []uint32, cur, prev []byte) ([][32]byte, error) {
	if node == 0 {
		return nil, nil
	}
	n := abi.BaseDegree
	if layer > 1 {
		n = abi.Degree
	}
	if len(parents) < n {
		return nil, fmt.Errorf("sdr: node %d: %d parents, want %d", node, len(parents), n)
	}
	uniq := make([][32]byte, n)
	for k := range n {
		src := cur
		if k >= abi.BaseDegree {
			src = prev
		}
		off := uint64(parents[k]) * abi.NodeSize
		if off+abi.NodeSize > uint64(len(src)) {
			return nil, fmt.Errorf("%w: parent %d of node %d outside layer data", ErrNodeRange, parents[k], node)
		}
		copy(uniq[k][:], src[off:])
	}
	out := make([][32]byte, LabelParentBlocks)
	for i := range out {
		out[i] = uniq[i%n]
	}
	return out, nil
}

// LabelNode computes the label of node in layer (1-based) from the layer
// data it depends on: cur holds the labels of the same layer (only entries
// before node are read), prev those of the previous layer (unused for layer
// 1) and parents the node's 14 graph parents (Graph.Parents). It is the slow,
// allocation-tolerant form meant for verification and tests; PC1 uses an
// equivalent streaming labeler.
func LabelNode(replicaID *[32]byte, layer uint32, node uint64, parents []uint32, cur, prev []byte) ([32]byte, error) {
	if layer == 0 {
		return [32]byte{}, fmt.Errorf("sdr: layer 0: layers are numbered from 1")
	}
	blocks, err := ParentBlocks(layer, node, parents, cur, prev)
	if err != nil {
		return [32]byte{}, err
	}
	return LabelFromBlocks(replicaID, layer, node, blocks)
}

func putPrefix(p *[prefixLen]byte, replicaID *[32]byte, layer uint32, node uint64) {
	copy(p[0:32], replicaID[:])
	binary.BigEndian.PutUint32(p[32:36], layer)
	binary.BigEndian.PutUint64(p[36:44], node)
	clear(p[44:])
}

// labeler is the allocation-free hot path of PC1. It keeps the 64-byte
// prefix of the next node and the SHA-256 chaining value after it (the
// prefix does not depend on any label, so sha2.LabelFrom compresses it off
// the critical path while hashing the previous label), and the node's
// unique parent labels gathered contiguously: sha2.LabelFrom repeats them
// cyclically to the 37 hashed blocks itself, so the 1,248-byte message is
// never built.
type labeler struct {
	prefix  [prefixLen]byte // prefix of node midNode
	mid     sha2.Midstate   // chaining value after prefix, if midOK
	midNode uint64
	midOK   bool
	uniq    [abi.Degree * abi.NodeSize]byte
}

func newLabeler(replicaID *[32]byte, layer uint32) *labeler {
	l := &labeler{}
	putPrefix(&l.prefix, replicaID, layer, 0)
	return l
}

// label computes the label of node (> 0) into dst. parents are the node's
// parents (6 used for layer 1, 14 otherwise); cur and prev are the current
// and previous layers' label arrays; exp selects whether expander parents are
// hashed (every layer but the first).
func (l *labeler) label(dst []byte, node uint64, parents *[abi.Degree]uint32, cur, prev []byte, exp bool) {
	// Fixed-size array copies compile to inline vector moves; the parent
	// offsets are bounds-checked by the slice-to-array conversions.
	u := &l.uniq
	for k := range abi.BaseDegree {
		off := uint64(parents[k]) * abi.NodeSize
		*(*[32]byte)(u[k*32:]) = *(*[32]byte)(cur[off:])
	}
	n := abi.BaseDegree
	if exp {
		for k := abi.BaseDegree; k < abi.Degree; k++ {
			off := uint64(parents[k]) * abi.NodeSize
			*(*[32]byte)(u[k*32:]) = *(*[32]byte)(prev[off:])
		}
		n = abi.Degree
	}
	// Every block after the prefix is parent data and parent 0 is node-1
	// (V1_1 graphs), so 19 of the 20 compressions form one dependency
	// chain through the previous label. The prefix block of node+1 runs
	// alongside this label's first parent block; it is recomputed here
	// only when nodes are not labelled in order (first node of a layer,
	// benchmarks).
	if !l.midOK || l.midNode != node {
		binary.BigEndian.PutUint64(l.prefix[36:44], node)
		sha2.PrefixMidstate(&l.mid, &l.prefix)
	}
	binary.BigEndian.PutUint64(l.prefix[36:44], node+1)
	sha2.LabelFrom((*[32]byte)(dst), &l.mid, u[:n*abi.NodeSize], &l.prefix, &l.mid)
	l.midNode, l.midOK = node+1, true
}

// labelZero computes the label of node 0, which has no parents: the hash of
// the 64-byte prefix alone, i.e. the node hash of its two halves.
func (l *labeler) labelZero(dst []byte) {
	p := l.prefix
	binary.BigEndian.PutUint64(p[36:44], 0)
	sha2.HashPair((*[32]byte)(dst), (*[32]byte)(p[:32]), (*[32]byte)(p[32:]))
}

// prefetchDistance is how many nodes ahead parent labels are prefetched. A
// label takes ~0.8 µs and a miss ~0.1–0.2 µs, so a few nodes suffice.
const prefetchDistance = 8

// labelLayer computes all labels of one layer into cur, reading parents from
// src and, for layers after the first, expander labels from prev. It checks
// stop every 65536 nodes so a cancelled context ends the layer early.
func labelLayer(replicaID *[32]byte, layer uint32, src ParentSource, cur, prev []byte, stop func() error) error {
	nodes := uint64(len(cur)) / abi.NodeSize
	l := newLabeler(replicaID, layer)
	l.labelZero(cur[0:abi.NodeSize])
	if nodes < 2 {
		return nil
	}
	exp := layer > 1
	var prevBase *byte
	if exp {
		prevBase = &prev[0]
	}
	it, err := src.Iter(1)
	if err != nil {
		return err
	}
	defer it.Close()

	// ring holds the parents of the next prefetchDistance nodes; node n's
	// entry is ring[n%prefetchDistance].
	var ring [prefetchDistance][abi.Degree]uint32
	fetched := uint64(1) // next node whose parents go into the ring
	fill := func() error {
		slot := &ring[fetched%prefetchDistance]
		if err := it.Next(slot); err != nil {
			return fmt.Errorf("sdr: parents of node %d: %w", fetched, err)
		}
		prefetchParents(&cur[0], prevBase, slot)
		fetched++
		return nil
	}
	for fetched < nodes && fetched <= prefetchDistance {
		if err := fill(); err != nil {
			return err
		}
	}
	var ps [abi.Degree]uint32
	for node := uint64(1); node < nodes; node++ {
		if node&0xffff == 0 && stop != nil {
			if err := stop(); err != nil {
				return err
			}
		}
		ps = ring[node%prefetchDistance]
		// A parent source other than a verified cache could hand us
		// anything; DRG parents must already be labelled and expander
		// parents inside the layer. Cheap next to the hash.
		for k, p := range ps {
			if (k < abi.BaseDegree && uint64(p) >= node) || uint64(p) >= nodes {
				return fmt.Errorf("%w: parent %d of node %d is %d", ErrNodeRange, k, node, p)
			}
		}
		if fetched < nodes {
			if err := fill(); err != nil {
				return err
			}
		}
		l.label(cur[node*abi.NodeSize:], node, &ps, cur, prev, exp)
	}
	return nil
}
