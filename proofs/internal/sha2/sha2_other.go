//go:build !amd64 || purego

package sha2

import "unsafe"

// haveAsm reports that this build contains no assembly.
const haveAsm = false

// useSHANI is false where there is no assembly. It is a variable so that
// the tests that toggle it compile everywhere.
var useSHANI = false

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
