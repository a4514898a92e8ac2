package sha2

import "fmt"

// NodeSize is the size in bytes of a tree node and of a node hash.
const NodeSize = 32

// HashPair sets *dst to H(a, b): SHA-256 of the 64 bytes a‖b with the two
// most significant bits of dst[31] cleared. dst may be a or b.
func HashPair(dst, a, b *[NodeSize]byte) {
	if useSHANI {
		hashPairSHANI(dst, a, b)
		return
	}
	hashPairGeneric(dst, a, b)
}

// HashPairs hashes one tree level: for every i, dst[32i:32i+32] is set to H
// of the pair src[64i:64i+64]. len(src) must be 2·len(dst) and a multiple
// of 64; other lengths are a programming error and panic.
//
// dst may start at the same address as src (in-place reduction of a level
// into the front of its own buffer: node i is written only after pair i was
// read); any other overlap gives unspecified results.
func HashPairs(dst, src []byte) {
	if len(src)%(2*NodeSize) != 0 || len(src) != 2*len(dst) {
		panic(fmt.Sprintf("sha2: HashPairs of %d source bytes into %d: need 64n into 32n", len(src), len(dst)))
	}
	n := len(dst) / NodeSize
	if n == 0 {
		return
	}
	if useSHANI {
		hashPairsSHANI(&dst[0], &src[0], n)
		return
	}
	hashPairsGeneric(dst, src)
}

// Geometry of an SDR label message (Filecoin PoRep spec, "create_label"):
// a 64-byte prefix replica_id ‖ u32_be(layer) ‖ u64_be(node) ‖ zeros, then
// LabelBlocks parent blocks of NodeSize bytes.
const (
	// LabelPrefixSize is the size of the per-node first block of a label.
	LabelPrefixSize = 64
	// LabelBlocks is the number of parent blocks hashed into a label.
	LabelBlocks = 37
	// labelWholeBlocks is the number of whole 64-byte blocks of parent data
	// in a label message; the 37th parent block shares the last block with
	// the padding.
	labelWholeBlocks = 18
)

// Label sets *dst to the SDR label hash: SHA-256 of the 1,248-byte message
// prefix ‖ B[0] ‖ … ‖ B[36] with the two most significant bits of dst[31]
// cleared, where B[i] is the 32-byte block parents[32·(i mod n):] and
// n = len(parents)/32.
//
// parents holds the unique parent labels, which SDR repeats cyclically to
// fill 37 blocks (6 for layer 1, 14 for the others), so the caller need
// not build the replicated message. n must be even and at most 36, so that
// no 64-byte SHA-256 block straddles the wrap, or exactly 37 (blocks passed
// in full); other lengths are a programming error and panic. dst is
// written after all input is read, so it may overlap the input.
//
// The hash is 20 compressions in one dependency chain; LabelFrom takes the
// first of them off the chain when labels are computed in node order.
func Label(dst *[NodeSize]byte, prefix *[LabelPrefixSize]byte, parents []byte) {
	n := checkLabelParents(parents)
	if useSHANI {
		labelSHANI(dst, prefix, &parents[0], n)
		return
	}
	labelGeneric(dst, prefix, parents)
}

// Midstate is the SHA-256 chaining value of a label message after its
// 64-byte prefix block. Its word order is internal to this package.
type Midstate struct{ w [8]uint32 }

// PrefixMidstate sets *m to the chaining value after the prefix block.
func PrefixMidstate(m *Midstate, prefix *[LabelPrefixSize]byte) {
	prefixMidstate(m, prefix)
}

// LabelFrom is Label for the message whose prefix block has already been
// compressed into *mid, and it also sets *nextMid to PrefixMidstate(next).
//
// Why: the prefix block depends only on the replica ID, layer and node
// index, not on any label, whereas every later block of a label depends on
// the previous node's label (parent 0 is node-1). Compressing the next
// node's prefix in a second lane alongside this label's first parent
// block fills the SHA unit's idle issue slots, so the dependency chain per
// label is 19 compressions instead of 20.
//
// parents is as for Label and panics likewise. nextMid may be mid (it is
// written after mid is read); dst is written last.
func LabelFrom(dst *[NodeSize]byte, mid *Midstate, parents []byte, next *[LabelPrefixSize]byte, nextMid *Midstate) {
	n := checkLabelParents(parents)
	if useSHANI {
		labelFromSHANI(dst, mid, &parents[0], n, next, nextMid)
		return
	}
	labelFromGeneric(dst, mid, parents, next, nextMid)
}

// checkLabelParents returns the number of parent blocks in parents and
// panics unless it is one Label accepts.
func checkLabelParents(parents []byte) int {
	n := len(parents) / NodeSize
	if len(parents)%NodeSize != 0 || !(n == LabelBlocks || (n > 0 && n%2 == 0 && n < LabelBlocks)) {
		panic(fmt.Sprintf("sha2: label with %d parent bytes: need 32n bytes, n even ≤ 36 or n = 37", len(parents)))
	}
	return n
}

// Label2 computes two labels of the same layer at once: *dst0 = Label of
// (prefix0, parents0) and *dst1 = Label of (prefix1, parents1). parents0
// and parents1 must have the same length, one that Label accepts; other
// lengths panic.
//
// Why: each label is one chain of 20 dependent compressions, so hashing one
// leaves the SHA unit idle for most of each instruction's latency. Batch
// PC1 labels the same node of several sectors, which do not depend on each
// other; interleaving two of them fills those slots (about 1.4× the
// throughput of Label on the CPUs measured, see the package benchmarks).
// dst0 and dst1 are written after all input is read.
func Label2(dst0, dst1 *[NodeSize]byte, prefix0, prefix1 *[LabelPrefixSize]byte, parents0, parents1 []byte) {
	n := checkLabelParents(parents0)
	if len(parents1) != len(parents0) {
		panic(fmt.Sprintf("sha2: Label2 with %d and %d parent bytes: lanes must match", len(parents0), len(parents1)))
	}
	if useSHANI {
		// The message's parent part is u distinct 64-byte blocks repeated
		// (n is even, or 37 passed in full), then parent block 36 % n with
		// the padding.
		u := n / 2
		if n == LabelBlocks {
			u = labelWholeBlocks
		}
		label2SHANI(dst0, dst1, prefix0, prefix1, &parents0[0], &parents1[0], u, NodeSize*((LabelBlocks-1)%n))
		return
	}
	var d0, d1 [NodeSize]byte
	labelGeneric(&d0, prefix0, parents0)
	labelGeneric(&d1, prefix1, parents1)
	*dst0, *dst1 = d0, d1
}

// Label4MaxParents is the most unique parents per lane Label4 hashes as
// four interleaved lanes: 14, an SDR layer after the first.
const Label4MaxParents = 2 * label4MaxUnique

// label4MaxUnique bounds label4SHANI's frame (see gen.go).
const label4MaxUnique = 7

// label4Args is label4SHANI's operands, in the layout its assembly reads.
type label4Args struct {
	dst     [4]*[NodeSize]byte
	prefix  [4]*[LabelPrefixSize]byte
	parents [4]*byte
}

// Label4 computes four labels of the same layer at once, *dst[i] = Label
// of (prefix[i], parents[i]). Every parents[i] must have the same length,
// an even count of at most Label4MaxParents parents; other lengths panic.
//
// Why: on CPUs whose SHA256RNDS2 issues faster than two dependency chains
// can feed it (AMD Zen, measured by BenchmarkRNDS2), four chains keep the
// SHA unit busier than Label2's two. The message schedules of each lane's
// distinct blocks are computed first, all lanes together, then the 20
// compressions of the four lanes run from them. dst is written after all
// input is read.
func Label4(dst [4]*[NodeSize]byte, prefix [4]*[LabelPrefixSize]byte, parents [4][]byte) {
	n := checkLabelParents(parents[0])
	if n > Label4MaxParents {
		panic(fmt.Sprintf("sha2: Label4 with %d parents per lane: at most %d", n, Label4MaxParents))
	}
	for i := 1; i < 4; i++ {
		if len(parents[i]) != len(parents[0]) {
			panic(fmt.Sprintf("sha2: Label4 with %d and %d parent bytes: lanes must match", len(parents[0]), len(parents[i])))
		}
	}
	if useSHANI {
		a := label4Args{dst: dst, prefix: prefix}
		for i := range 4 {
			a.parents[i] = &parents[i][0]
		}
		label4SHANI(&a, n/2, NodeSize*((LabelBlocks-1)%n))
		return
	}
	var d [4][NodeSize]byte
	for i := range 4 {
		labelGeneric(&d[i], prefix[i], parents[i])
	}
	for i := range 4 {
		*dst[i] = d[i]
	}
}

// HasSHANI reports whether the SHA-NI assembly is in use (false on other
// CPUs, other architectures and purego builds).
func HasSHANI() bool { return useSHANI }

// SetSHANI turns the SHA-NI assembly off (or back on where the CPU has it)
// and returns the previous setting. It exists so that tests and benchmarks
// outside this package can run the portable fallback on any machine; it
// must not be called while hashing is in progress.
func SetSHANI(on bool) (was bool) {
	was = useSHANI
	useSHANI = on && haveAsm && cpuHasSHANI
	return was
}
