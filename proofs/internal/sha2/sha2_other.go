//go:build !amd64 || purego

package sha2

import "unsafe"

// haveAsm reports that this build contains no assembly.
const haveAsm = false

// useSHANI is false where there is no assembly. It is a variable so that
// the tests that toggle it compile everywhere.
var useSHANI = false

// cpuHasSHANI is false where there is no assembly.
const cpuHasSHANI = false

// hashPairSHANI and hashPairsSHANI stand in for the assembly so that
// sha2.go compiles unchanged; they are reached only if a test sets
// useSHANI.
func hashPairSHANI(dst, a, b *[NodeSize]byte) { hashPairGeneric(dst, a, b) }

func hashPairsSHANI(dst, src *byte, n int) {
	hashPairsGeneric(unsafe.Slice(dst, n*NodeSize), unsafe.Slice(src, 2*n*NodeSize))
}

func labelSHANI(dst *[NodeSize]byte, prefix *[LabelPrefixSize]byte, parents *byte, n int) {
	labelGeneric(dst, prefix, unsafe.Slice(parents, n*NodeSize))
}

func labelFromSHANI(dst *[NodeSize]byte, mid *Midstate, parents *byte, n int, next *[LabelPrefixSize]byte, nextMid *Midstate) {
	labelFromGeneric(dst, mid, unsafe.Slice(parents, n*NodeSize), next, nextMid)
}

func label2SHANI(dst0, dst1 *[NodeSize]byte, prefix0, prefix1 *[LabelPrefixSize]byte, parents0, parents1 *byte, u, last int) {
	var d0, d1 [NodeSize]byte
	labelGeneric(&d0, prefix0, unsafe.Slice(parents0, labelParentLen(u, last)))
	labelGeneric(&d1, prefix1, unsafe.Slice(parents1, labelParentLen(u, last)))
	*dst0, *dst1 = d0, d1
}

func label4SHANI(a *label4Args, u, last int) {
	for i := range 4 {
		var d [NodeSize]byte
		labelGeneric(&d, a.prefix[i], unsafe.Slice(a.parents[i], labelParentLen(u, last)))
		*a.dst[i] = d
	}
}

// labelParentLen recovers the parent byte count from label2SHANI's u and
// last: n = 2u unique blocks, or 37 when u is 18 and last is block 36.
func labelParentLen(u, last int) int {
	if u == labelWholeBlocks && last == NodeSize*(LabelBlocks-1) {
		return LabelBlocks * NodeSize
	}
	return 2 * u * NodeSize
}

// rnds2Probe has no SHA-NI to probe here.
func rnds2Probe(n, chains int) {}
