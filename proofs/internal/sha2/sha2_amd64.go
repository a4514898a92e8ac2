//go:build amd64 && !purego

package sha2

import (
	"os"

	"golang.org/x/sys/cpu"
)

//go:generate go run gen.go -out sha2_amd64.s

// haveAsm reports that this build contains the SHA-NI assembly.
const haveAsm = true

// useSHANI selects the assembly. Besides the SHA extensions it needs
// SSSE3 (PSHUFB), SSE4.1 and AVX (the VEX forms used for loads and
// shuffles), which x/sys/cpu reports only when the OS saves the vector
// registers. Tests clear it to exercise the portable code, and
// SEALANT_NO_SHANI=1 in the environment turns it off for a whole process.
var useSHANI = cpuHasSHANI && os.Getenv("SEALANT_NO_SHANI") != "1"

// cpuHasSHANI records what the CPU offers, so SetSHANI can restore it.
var cpuHasSHANI = cpu.X86.HasAVX && cpu.X86.HasSSSE3 && cpu.X86.HasSSE41 && hasSHA()

// hasSHA reports CPUID.(EAX=7,ECX=0):EBX bit 29, the SHA extensions.
// golang.org/x/sys/cpu (v0.50.0) reads that leaf but exports no SHA flag
// for x86, hence this one query of its own.
func hasSHA() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, ebx, _, _ := cpuid(7, 0)
	return ebx&(1<<29) != 0
}

// cpuid executes CPUID with EAX=leaf, ECX=sub.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// hashPairSHANI sets *dst to H(*a, *b).
//
//go:noescape
func hashPairSHANI(dst, a, b *[NodeSize]byte)

// hashPairsSHANI hashes the n 64-byte pairs at src into the n nodes at dst.
//
//go:noescape
func hashPairsSHANI(dst, src *byte, n int)

// labelSHANI is Label on the n parent blocks at parents; n is checked by
// the caller.
//
//go:noescape
func labelSHANI(dst *[NodeSize]byte, prefix *[LabelPrefixSize]byte, parents *byte, n int)

// labelFromSHANI is LabelFrom on the n parent blocks at parents.
//
//go:noescape
func labelFromSHANI(dst *[NodeSize]byte, mid *Midstate, parents *byte, n int, next *[LabelPrefixSize]byte, nextMid *Midstate)

// label2SHANI is Label2 on u distinct 64-byte parent blocks per lane, the
// last one's parent block at byte offset last.
//
//go:noescape
func label2SHANI(dst0, dst1 *[NodeSize]byte, prefix0, prefix1 *[LabelPrefixSize]byte, parents0, parents1 *byte, u, last int)

// rnds2Probe runs n rounds of 8 SHA256RNDS2 on each of chains (1–4)
// independent chains; BenchmarkRNDS2 only.
//
//go:noescape
func rnds2Probe(n, chains int)

// label4SHANI is Label4 on u (1 to label4MaxUnique) distinct 64-byte
// parent blocks per lane, the last one's parent block at byte offset last.
//
//go:noescape
func label4SHANI(a *label4Args, u, last int)
