package sdr

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/blake2b"

	"github.com/sealant/sealant/proofs/abi"
)

// Sentinel errors of this package.
var (
	// ErrBadProof reports a proof id the SDR code cannot build a graph for.
	ErrBadProof = errors.New("sdr: unsupported seal proof")
	// ErrNodeRange reports a node index outside the graph.
	ErrNodeRange = errors.New("sdr: node out of range")
)

// Domain-separation tags of derive_porep_domain_seed (storage-proofs-core
// crypto/mod.rs).
const (
	drsampleDST = "Filecoin_DRSample"
	feistelDST  = "Filecoin_Feistel"
)

// Graph is the stacked SDR graph of one registered seal proof: a BucketGraph
// DRG of degree 6 over the current layer plus a degree-8 Feistel expander
// over the previous layer (spec §5). It is immutable and safe for concurrent
// use.
type Graph struct {
	proof  abi.RegisteredSealProof
	nodes  uint64
	legacy bool

	drgSeed [28]byte
	// Feistel parameters: three round keys and the half-width masks of the
	// smallest power-of-four domain covering nodes·8 (feistel.rs precompute).
	keys      [4]uint64
	domain    uint64
	halfBits  uint
	rightMask uint64
	leftMask  uint64

	// rounds memoises the Feistel round function: it only depends on the
	// right half (< 2^halfBits ≤ 2^17) and the round, so 3·2^halfBits values
	// (≤ 1.5 MiB) replace the ~48 BLAKE2b calls each node's expander parents
	// would otherwise cost. Built on first bulk use (see Warm).
	roundsOnce sync.Once
	rounds     atomic.Pointer[[3][]uint32]
}

// NewGraph builds the SDR graph of proof.
func NewGraph(proof abi.RegisteredSealProof) (*Graph, error) {
	if !proof.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrBadProof, int64(proof))
	}
	porepID := proof.PoRepID()
	g := &Graph{proof: proof, nodes: proof.Nodes(), legacy: proof.IsLegacy()}

	drg := domainSeed(drsampleDST, &porepID)
	copy(g.drgSeed[:], drg[:28])
	fk := domainSeed(feistelDST, &porepID)
	for i := range g.keys {
		g.keys[i] = binary.LittleEndian.Uint64(fk[8*i:])
	}

	g.domain = g.nodes * abi.ExpansionDegree
	pow4, log4 := uint64(4), uint(1)
	for pow4 < g.domain {
		pow4 *= 4
		log4++
	}
	g.halfBits = log4
	g.rightMask = 1<<log4 - 1
	g.leftMask = g.rightMask << log4
	return g, nil
}

// domainSeed is derive_porep_domain_seed: SHA-256(tag ‖ porep_id).
func domainSeed(tag string, porepID *[32]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(tag))
	h.Write(porepID[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Proof is the seal proof the graph belongs to.
func (g *Graph) Proof() abi.RegisteredSealProof { return g.proof }

// Nodes is the number of nodes per layer.
func (g *Graph) Nodes() uint64 { return g.nodes }

// DRGSeed is the 28-byte ChaCha8 seed prefix of the DRG.
func (g *Graph) DRGSeed() [28]byte { return g.drgSeed }

// FeistelKeys are the four keys derived for the expander; only the first
// three are used (three Feistel rounds).
func (g *Graph) FeistelKeys() [4]uint64 { return g.keys }

// BaseParents writes the 6 DRG parents of node to dst[:6] (spec §5.2). For
// V1_1 and later parent 0 is node-1; legacy V1 graphs put it last. Nodes 0
// and 1 have all-zero parents. node must be < Nodes().
func (g *Graph) BaseParents(node uint32, dst []uint32) {
	dst = dst[:abi.BaseDegree]
	if node < 2 {
		clear(dst)
		return
	}
	var seed [32]byte
	copy(seed[:28], g.drgSeed[:])
	binary.LittleEndian.PutUint32(seed[28:], node)
	var rng chacha8
	rng.seed(&seed)

	const mPrime = abi.BaseDegree - 1
	meta := uint64(node) * mPrime
	// Rust computes ceil(log2(meta)) through f64; meta ≤ 2^54 so this is the
	// exact integer equivalent.
	nBuckets := uint64(bits.Len64(meta - 1))

	first := 1
	if g.legacy {
		first = 0
	}
	for k := range mPrime {
		bucket := rng.nextU64()%nBuckets + 1
		largest := min(meta, uint64(1)<<bucket)
		smallest := max(2, largest>>1)
		dist := smallest + rng.nextU64()%(largest-smallest+1)
		p := uint32((meta - dist) / mPrime)
		if p == node {
			p = node - 1
		}
		dst[first+k] = p
	}
	if g.legacy {
		dst[mPrime] = node - 1
	} else {
		dst[0] = node - 1
	}
}

// Warm precomputes the Feistel round table (3·2^halfBits BLAKE2b calls:
// ~0.4 M for 32GiB, tens of milliseconds) so later ExpParents calls are
// table lookups. Bulk users (parent cache generation, parent iterators)
// call it; a verifier needing a handful of parents need not. Safe for
// concurrent use.
func (g *Graph) Warm() {
	g.roundsOnce.Do(func() {
		var t [3][]uint32
		for k := range t {
			t[k] = make([]uint32, g.rightMask+1)
			for r := range t[k] {
				t[k][r] = uint32(feistelRound(uint64(r), g.keys[k]) & g.rightMask)
			}
		}
		g.rounds.Store(&t)
	})
}

// ExpParents writes the 8 expander parents of node to dst[:8] (spec §5.3):
// exp_parent(node, i) = permute(node·8 + i) / 8, a node of the previous layer.
func (g *Graph) ExpParents(node uint32, dst []uint32) {
	dst = dst[:abi.ExpansionDegree]
	tab := g.rounds.Load()
	for i := range dst {
		t := g.permute(uint64(node)*abi.ExpansionDegree+uint64(i), tab)
		if g.legacy {
			// API 1.0.0 truncated the permuted index to u32 before dividing.
			dst[i] = uint32(t) / abi.ExpansionDegree
		} else {
			dst[i] = uint32(t / abi.ExpansionDegree)
		}
	}
}

// Parents writes all 14 parents of node to dst[:14]: 6 DRG parents (indices
// into the current layer) then 8 expander parents (previous layer).
func (g *Graph) Parents(node uint32, dst []uint32) {
	dst = dst[:abi.Degree]
	g.BaseParents(node, dst[:abi.BaseDegree])
	g.ExpParents(node, dst[abi.BaseDegree:])
}

// permute is the cycle-walking Feistel permutation of [0, domain); tab is
// the round table or nil.
func (g *Graph) permute(x uint64, tab *[3][]uint32) uint64 {
	u := g.encode(x, tab)
	for u >= g.domain {
		u = g.encode(u, tab)
	}
	return u
}

// encode runs three Feistel rounds over the two halves of x.
func (g *Graph) encode(x uint64, tab *[3][]uint32) uint64 {
	l := (x & g.leftMask) >> g.halfBits
	r := x & g.rightMask
	if tab != nil {
		for k := range tab {
			l, r = r, l^uint64(tab[k][r])
		}
	} else {
		for _, key := range g.keys[:3] {
			l, r = r, l^feistelRound(r, key)&g.rightMask
		}
	}
	return l<<g.halfBits | r
}

// feistelRound is the first 8 bytes (big-endian) of unkeyed BLAKE2b-512 over
// u64_be(right) ‖ u64_be(key).
func feistelRound(right, key uint64) uint64 {
	var in [16]byte
	binary.BigEndian.PutUint64(in[0:], right)
	binary.BigEndian.PutUint64(in[8:], key)
	sum := blake2b.Sum512(in[:])
	return binary.BigEndian.Uint64(sum[:8])
}
