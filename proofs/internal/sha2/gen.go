//go:build ignore

// gen writes sha2_amd64.s, the SHA-NI implementation of the Filecoin node
// hash. The rounds are emitted by a program rather than by hand because the
// two-way interleaved body is 600 lines of register bookkeeping in which a
// single swapped operand still assembles; here each step is written once
// and the tests check the result bit for bit against crypto/sha256.
//
// Usage: go generate (see sha2_amd64.go), or
//
//	go run gen.go -out sha2_amd64.s
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
)

// Round constants (FIPS 180-4 §4.2.2).
var k = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// Initial hash value (FIPS 180-4 §5.3.3).
var iv = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

func rotr(x uint32, n uint) uint32 { return x>>n | x<<(32-n) }

// padWK returns W[t]+K[t] for the second block of every 64-byte message:
// 0x80 then zeros then the bit length 512. The block does not depend on the
// message, so neither does its schedule.
func padWK() [64]uint32 {
	var w [64]uint32
	w[0] = 0x80000000
	w[15] = 512
	for t := 16; t < 64; t++ {
		s0 := rotr(w[t-15], 7) ^ rotr(w[t-15], 18) ^ w[t-15]>>3
		s1 := rotr(w[t-2], 17) ^ rotr(w[t-2], 19) ^ w[t-2]>>10
		w[t] = w[t-16] + s0 + w[t-7] + s1
	}
	for t := range w {
		w[t] += k[t]
	}
	return w
}

type gen struct{ bytes.Buffer }

func (g *gen) p(format string, args ...any) { fmt.Fprintf(g, "\t"+format+"\n", args...) }
func (g *gen) label(l string)               { fmt.Fprintf(g, "%s:\n", l) }
func (g *gen) comment(c string)             { fmt.Fprintf(g, "\n\t// %s\n", c) }

// lane is the register assignment of one message being hashed. SHA256RNDS2
// keeps the eight working variables in two registers, s0 = {A,B,E,F} and
// s1 = {C,D,G,H} (A in the top dword); m holds the 16-word message
// schedule window, four words per register; wk receives W+K for a group of
// four rounds.
type lane struct {
	s0, s1 string
	m      [4]string
	wk     string
	tmp    string
}

// Lanes 0 and 1 use disjoint registers so that their rounds, which are
// each one long dependency chain, overlap in the pipeline. X0 is the
// implicit W+K operand of SHA256RNDS2 and is shared.
var lanes = [2]lane{
	{s0: "X1", s1: "X2", m: [4]string{"X3", "X4", "X5", "X6"}, wk: "X7", tmp: "X15"},
	{s0: "X8", s1: "X9", m: [4]string{"X10", "X11", "X12", "X13"}, wk: "X14", tmp: "X15"},
}

// firstBlock emits the 64 rounds of the message block for the given lanes,
// starting from the IV. src[i] holds the four 16-byte memory operands of
// lane i's message (four rather than one base so that HashPair's a and b
// need not be contiguous).
func (g *gen) firstBlock(ls []lane, src [][4]string) {
	for _, l := range ls {
		g.p("VMOVDQU iv<>+0(SB), %s", l.s0)
		g.p("VMOVDQU iv<>+16(SB), %s", l.s1)
	}
	g.rounds(ls, src)
	g.comment("feed-forward of the first block: add the IV")
	for _, l := range ls {
		g.p("VPADDD iv<>+0(SB), %s, %s", l.s0, l.s0)
		g.p("VPADDD iv<>+16(SB), %s, %s", l.s1, l.s1)
	}
}

// rawPrefix marks a message operand that already holds four message words
// in register order (a constant), so it is loaded without the byte swap.
const rawPrefix = "raw:"

// rounds emits the 64 rounds and message schedule of one block per lane on
// the chaining value in s0, s1, without the feed-forward. src[i] holds the
// four 16-byte memory operands of lane i's block, big-endian message bytes
// unless marked with rawPrefix.
func (g *gen) rounds(ls []lane, src [][4]string) { g.roundsStore(ls, src, "") }

// padBlock emits the 64 rounds of the constant padding block. Its W+K come
// precomputed from padwk<>, already split into the two-round halves that
// SHA256RNDS2 consumes, so the block costs the rounds and nothing else.
// The chaining value is saved in m[0], m[1] (free now) for the
// feed-forward.
func (g *gen) padBlock(ls []lane) {
	g.comment("second block: constant padding, precomputed W+K")
	for _, l := range ls {
		g.p("VMOVDQA %s, %s", l.s0, l.m[0])
		g.p("VMOVDQA %s, %s", l.s1, l.m[1])
	}
	for grp := 0; grp < 16; grp++ {
		g.p("VMOVDQU padwk<>+%d(SB), X0", 32*grp)
		for _, l := range ls {
			g.p("SHA256RNDS2 X0, %s, %s", l.s0, l.s1)
		}
		g.p("VMOVDQU padwk<>+%d(SB), X0", 32*grp+16)
		for _, l := range ls {
			g.p("SHA256RNDS2 X0, %s, %s", l.s1, l.s0)
		}
	}
	for _, l := range ls {
		g.p("VPADDD %s, %s, %s", l.m[0], l.s0, l.s0)
		g.p("VPADDD %s, %s, %s", l.m[1], l.s1, l.s1)
	}
}

// chainBlock emits one compression of lane l on its current chaining value,
// with the feed-forward. The chaining value is saved in lane 1's state
// registers, which only the two-lane code uses.
func (g *gen) chainBlock(l lane, src [4]string) {
	g.p("VMOVDQA %s, X8", l.s0)
	g.p("VMOVDQA %s, X9", l.s1)
	g.rounds([]lane{l}, [][4]string{src})
	g.p("VPADDD X8, %s, %s", l.s0, l.s0)
	g.p("VPADDD X9, %s, %s", l.s1, l.s1)
}

// wkLaneBytes is one lane's share of label2SHANI's frame: the W+K of up
// to 18 distinct parent blocks, 512 bytes each (two rounds per 16 bytes).
const wkLaneBytes = 18 * 512

// wk emits W+K of rounds 4·grp to 4·grp+3 into wk: for the first four
// groups it first loads message words from src (byte-swapped unless marked
// rawPrefix) into m[grp]; later groups find them in m, which schedule
// keeps up to date.
func (g *gen) wk(grp int, src [4]string, m [4]string, wk string) {
	if grp < 4 {
		if op, ok := strings.CutPrefix(src[grp], rawPrefix); ok {
			g.p("VMOVDQU %s, %s", op, m[grp])
		} else {
			g.p("VMOVDQU %s, %s", src[grp], m[grp])
			g.p("VPSHUFB flip<>+0(SB), %s, %s", m[grp], m[grp])
		}
	}
	g.p("VPADDD k256<>+%d(SB), %s, %s", 16*grp, m[grp%4], wk)
}

// schedule emits the message-schedule step after group grp: SHA256MSG1
// and SHA256MSG2 turn the 16-word window in m into the next four words.
func (g *gen) schedule(grp int, m [4]string, tmp string) {
	if grp >= 3 && grp <= 14 {
		cur, prev, next := m[grp%4], m[(grp+3)%4], m[(grp+1)%4]
		g.p("VPALIGNR $4, %s, %s, %s", prev, cur, tmp)
		g.p("VPADDD %s, %s, %s", tmp, next, next)
		g.p("SHA256MSG2 %s, %s", cur, next)
	}
	if grp >= 1 && grp <= 12 {
		g.p("SHA256MSG1 %s, %s", m[grp%4], m[(grp+3)%4])
	}
}

// roundsStore is rounds for the lanes with each W+K group also stored at
// dst: lane i's two-round halves at 32·group + {0, 16} + i·wkLaneBytes.
// No store is emitted when dst is "".
func (g *gen) roundsStore(ls []lane, src [][4]string, dst string) {
	for grp := 0; grp < 16; grp++ {
		g.comment(fmt.Sprintf("rounds %d-%d", 4*grp, 4*grp+3))
		for i, l := range ls {
			g.wk(grp, src[i], l.m, l.wk)
		}
		for i, l := range ls {
			g.p("VMOVDQA %s, X0", l.wk)
			g.p("SHA256RNDS2 X0, %s, %s", l.s0, l.s1)
			if dst != "" {
				g.p("VMOVDQU %s, %d(%s)", l.wk, i*wkLaneBytes+32*grp, dst)
			}
		}
		for i, l := range ls {
			g.p("PSHUFD $0x0e, %s, X0", l.wk)
			g.p("SHA256RNDS2 X0, %s, %s", l.s1, l.s0)
			if dst != "" {
				g.p("VMOVDQU X0, %d(%s)", i*wkLaneBytes+32*grp+16, dst)
			}
		}
		for _, l := range ls {
			g.schedule(grp, l.m, l.tmp)
		}
	}
}

// chainBlock2Store emits one compression of both lanes with the
// feed-forward, computing the schedule inline (and keeping it at dst, see
// roundsStore). The chaining values are saved in lane 1's... no: in each
// lane's wk-free slots would clash, so they go below the schedules, at
// 2·wkLaneBytes(SP).
func (g *gen) chainBlock2Store(src [2][4]string, dst string) {
	for i, l := range lanes {
		g.p("VMOVDQU %s, %d(SP)", l.s0, 2*wkLaneBytes+32*i)
		g.p("VMOVDQU %s, %d(SP)", l.s1, 2*wkLaneBytes+32*i+16)
	}
	g.roundsStore(lanes[:2], src[:], dst)
	for i, l := range lanes {
		g.p("VPADDD %d(SP), %s, %s", 2*wkLaneBytes+32*i, l.s0, l.s0)
		g.p("VPADDD %d(SP), %s, %s", 2*wkLaneBytes+32*i+16, l.s1, l.s1)
	}
}

// wkBlock2 emits one compression of both lanes from the W+K halves kept
// by roundsStore at off0(base) and off1(base), with the feed-forward: loads
// and SHA256RNDS2 only.
func (g *gen) wkBlock2(base string, off0, off1 int) {
	offs := []int{off0, off1}
	for _, l := range lanes {
		g.p("VMOVDQA %s, %s", l.s0, l.m[0])
		g.p("VMOVDQA %s, %s", l.s1, l.m[1])
	}
	for grp := 0; grp < 16; grp++ {
		for i, l := range lanes {
			g.p("VMOVDQU %d(%s), X0", offs[i]+32*grp, base)
			g.p("SHA256RNDS2 X0, %s, %s", l.s0, l.s1)
		}
		for i, l := range lanes {
			g.p("VMOVDQU %d(%s), X0", offs[i]+32*grp+16, base)
			g.p("SHA256RNDS2 X0, %s, %s", l.s1, l.s0)
		}
	}
	for _, l := range lanes {
		g.p("VPADDD %s, %s, %s", l.m[0], l.s0, l.s0)
		g.p("VPADDD %s, %s, %s", l.m[1], l.s1, l.s1)
	}
}

// Four-lane labels (label4SHANI). With four independent chains the
// schedule no longer fits beside the state in sixteen registers, so the
// work is split in two phases: first the message schedules of every
// distinct block of every lane (no SHA256RNDS2, plenty of parallelism
// across blocks), kept in the frame as W+K halves; then the 20
// compressions of all four lanes, which are loads and SHA256RNDS2 only.

// label4MaxUnique is the most distinct parent blocks a label4SHANI lane
// may have: 7, for the 14 parents of SDR layers after the first.
const label4MaxUnique = 7

// wk4Slots is the schedules kept per lane: the prefix block, the distinct
// parent blocks and the last block.
const wk4Slots = label4MaxUnique + 2

// wk4LaneBytes is one lane's share of label4SHANI's frame.
const wk4LaneBytes = wk4Slots * 512

// label4Save is the frame offset of the saved chaining values (32 bytes a
// lane) that each compression's feed-forward adds back.
const label4Save = 4 * wk4LaneBytes

// schedLane is the register assignment of one message schedule in the
// first phase of label4SHANI.
type schedLane struct {
	m   [4]string
	wk  string
	tmp string
}

var schedLanes = [2]schedLane{
	{m: [4]string{"X1", "X2", "X3", "X4"}, wk: "X5", tmp: "X6"},
	{m: [4]string{"X7", "X8", "X9", "X10"}, wk: "X11", tmp: "X12"},
}

// schedStore emits the message schedule of one block per lane and stores
// its W+K as the two-round halves SHA256RNDS2 consumes: lane i's group g
// at off[i] + 32·g + {0, 16} from register base[i]. src is as for rounds.
func (g *gen) schedStore(ls []schedLane, src [][4]string, base []string, off []int) {
	for grp := 0; grp < 16; grp++ {
		for i, l := range ls {
			g.wk(grp, src[i], l.m, l.wk)
			g.p("VMOVDQU %s, %d(%s)", l.wk, off[i]+32*grp, base[i])
			g.p("VPSHUFD $0x0e, %s, X0", l.wk)
			g.p("VMOVDQU X0, %d(%s)", off[i]+32*grp+16, base[i])
		}
		for _, l := range ls {
			g.schedule(grp, l.m, l.tmp)
		}
	}
}

// state4 is the chaining value registers of the four lanes in the second
// phase of label4SHANI.
var state4 = [4]lane{
	{s0: "X1", s1: "X2", m: [4]string{"X9", "X10", "X11", "X12"}},
	{s0: "X3", s1: "X4", m: [4]string{"X9", "X10", "X11", "X12"}},
	{s0: "X5", s1: "X6", m: [4]string{"X13", "X14", "X15", "X12"}},
	{s0: "X7", s1: "X8", m: [4]string{"X13", "X14", "X15", "X12"}},
}

// wkBlock4 emits one compression of all four lanes from the schedules at
// base (lane i at i·wk4LaneBytes), with the feed-forward through the save
// area (or from the IV when fromIV).
func (g *gen) wkBlock4(base string, fromIV bool) {
	if !fromIV {
		for i, l := range state4 {
			g.p("VMOVDQU %s, %d(SP)", l.s0, label4Save+32*i)
			g.p("VMOVDQU %s, %d(SP)", l.s1, label4Save+32*i+16)
		}
	}
	for grp := 0; grp < 16; grp++ {
		for i, l := range state4 {
			g.p("VMOVDQU %d(%s), X0", i*wk4LaneBytes+32*grp, base)
			g.p("SHA256RNDS2 X0, %s, %s", l.s0, l.s1)
		}
		for i, l := range state4 {
			g.p("VMOVDQU %d(%s), X0", i*wk4LaneBytes+32*grp+16, base)
			g.p("SHA256RNDS2 X0, %s, %s", l.s1, l.s0)
		}
	}
	for i, l := range state4 {
		if fromIV {
			g.p("VPADDD iv<>+0(SB), %s, %s", l.s0, l.s0)
			g.p("VPADDD iv<>+16(SB), %s, %s", l.s1, l.s1)
		} else {
			g.p("VPADDD %d(SP), %s, %s", label4Save+32*i, l.s0, l.s0)
			g.p("VPADDD %d(SP), %s, %s", label4Save+32*i+16, l.s1, l.s1)
		}
	}
}

// label4 emits label4SHANI.
func (g *gen) label4() {
	g.WriteString("// func label4SHANI(a *label4Args, u, last int)\n")
	g.WriteString("// Four labels of the same layer as four interleaved lanes, for batch PC1\n")
	g.WriteString("// on CPUs whose SHA256RNDS2 throughput outruns two chains. a holds the\n")
	g.WriteString("// four dst, prefix and parents pointers; u (1 to 7) and last are as for\n")
	g.WriteString("// label2SHANI. Phase 1 computes the W+K of the u+2 distinct blocks of\n")
	g.WriteString("// each lane (prefix, parent blocks, last block) into the frame; phase 2\n")
	g.WriteString("// runs the 20 compressions of all lanes from there.\n")
	fmt.Fprintf(g, "// Frame: lane i's slot s at i·%d + 512·s (SP); saved chaining values at %d(SP).\n", wk4LaneBytes, label4Save)
	g.WriteString("// Requires: AVX, SHA, SSE4.1, SSSE3.\n")
	fmt.Fprintf(g, "TEXT ·label4SHANI(SB), 0, $%d-24\n", label4Save+128)
	g.p("MOVQ a+0(FP), R13")
	g.p("MOVQ u+8(FP), CX")
	g.p("MOVQ last+16(FP), R11")
	g.comment("phase 1: schedules. Lanes 0 and 1, then 2 and 3; parents pointers in R8, R10")
	for pair := 0; pair < 2; pair++ {
		l0, l1 := 2*pair, 2*pair+1
		g.p("MOVQ %d(R13), SI", 32+8*l0)
		g.p("MOVQ %d(R13), AX", 32+8*l1)
		g.comment(fmt.Sprintf("slot 0 of lanes %d, %d: the prefixes", l0, l1))
		g.schedStore(schedLanes[:], [][4]string{
			{"0(SI)", "16(SI)", "32(SI)", "48(SI)"},
			{"0(AX)", "16(AX)", "32(AX)", "48(AX)"},
		}, []string{"SP", "SP"}, []int{l0 * wk4LaneBytes, l1 * wk4LaneBytes})
		g.p("MOVQ %d(R13), R8", 64+8*l0)
		g.p("MOVQ %d(R13), R10", 64+8*l1)
		g.p("LEAQ 512(SP), R9")
		g.p("MOVQ CX, DX")
		g.label(fmt.Sprintf("sched4_%d", pair))
		g.schedStore(schedLanes[:], [][4]string{
			{"0(R8)", "16(R8)", "32(R8)", "48(R8)"},
			{"0(R10)", "16(R10)", "32(R10)", "48(R10)"},
		}, []string{"R9", "R9"}, []int{l0 * wk4LaneBytes, l1 * wk4LaneBytes})
		g.p("ADDQ $64, R8")
		g.p("ADDQ $64, R10")
		g.p("ADDQ $512, R9")
		g.p("DECQ DX")
		g.p("JNZ sched4_%d", pair)
		g.comment("last slot: parent block 36 and the padding")
		g.p("MOVQ %d(R13), R8", 64+8*l0)
		g.p("MOVQ %d(R13), R10", 64+8*l1)
		g.p("ADDQ R11, R8")
		g.p("ADDQ R11, R10")
		g.schedStore(schedLanes[:], [][4]string{
			{"0(R8)", "16(R8)", rawPrefix + "lastpad<>+0(SB)", rawPrefix + "lastpad<>+16(SB)"},
			{"0(R10)", "16(R10)", rawPrefix + "lastpad<>+0(SB)", rawPrefix + "lastpad<>+16(SB)"},
		}, []string{"R9", "R9"}, []int{l0 * wk4LaneBytes, l1 * wk4LaneBytes})
	}
	g.comment("phase 2: block 0 (prefixes) from the IV")
	for _, l := range state4 {
		g.p("VMOVDQU iv<>+0(SB), %s", l.s0)
		g.p("VMOVDQU iv<>+16(SB), %s", l.s1)
	}
	g.p("LEAQ 0(SP), R9")
	g.wkBlock4("R9", true)
	g.comment("blocks 1-18: slots 1..u cyclically; R12 is the end of slot u")
	g.p("MOVQ CX, R12")
	g.p("INCQ R12")
	g.p("SHLQ $9, R12")
	g.p("LEAQ 0(SP)(R12*1), R12")
	g.p("LEAQ 512(SP), R9")
	g.p("MOVQ $%d, DX", labelChunks)
	g.label("rep4")
	g.wkBlock4("R9", false)
	g.p("ADDQ $512, R9")
	g.p("CMPQ R9, R12")
	g.p("JNE nowrap4")
	g.p("LEAQ 512(SP), R9")
	g.label("nowrap4")
	g.p("DECQ DX")
	g.p("JNZ rep4")
	g.comment("block 19: the last slot")
	g.wkBlock4("R12", false)
	g.comment("store all four")
	for i, l := range state4 {
		g.p("MOVQ %d(R13), DI", 8*i)
		g.output(l, "DI", 0)
	}
	g.p("RET")
	g.WriteString("\n")
}

// Label message geometry (see Label in sha2.go): a 64-byte prefix and 37
// parent blocks of 32 bytes, 1,248 bytes. After the prefix come 18 whole
// 64-byte blocks of parent data; the 20th block is parent block 36 and the
// padding.
const (
	labelMsgLen = 64 + 37*32
	labelChunks = 18
)

// labelTail emits the parent blocks of a label from R9 on (CX whole 64-byte
// blocks, R9 wrapping from R8 back to DX), the last block with its padding,
// and the store to (DI), for lane 0 whose chaining value is in X1, X2.
func (g *gen) labelTail() {
	g.label("chunk")
	g.comment("whole parent blocks, two parent labels each; R9 wraps from R8 to DX")
	g.chainBlock(lanes[0], [4]string{"0(R9)", "16(R9)", "32(R9)", "48(R9)"})
	g.p("ADDQ $64, R9")
	g.p("CMPQ R9, R8")
	g.p("JNE nowrap")
	g.p("MOVQ DX, R9")
	g.label("nowrap")
	g.p("DECQ CX")
	g.p("JNZ chunk")
	g.comment("block 19: parent block 36, then the padding with the bit length")
	g.chainBlock(lanes[0], [4]string{"0(R9)", "16(R9)", rawPrefix + "lastpad<>+0(SB)", rawPrefix + "lastpad<>+16(SB)"})
	g.comment("store")
	g.output(lanes[0], "DI", 0)
	g.p("RET")
}

// output emits the store of lane l's digest to off(dst), big-endian, with
// the two most significant bits of byte 31 cleared. s0 = {F,E,B,A} and
// s1 = {H,G,D,C} from dword 0 up: the high quadwords give {B,A,D,C} and
// the low ones {F,E,H,G}, and reversing the bytes of each quadword turns
// those into the digest halves A‖B‖C‖D and E‖F‖G‖H.
func (g *gen) output(l lane, dst string, off int) {
	g.p("VPUNPCKHQDQ %s, %s, %s", l.s1, l.s0, l.m[2])
	g.p("VPUNPCKLQDQ %s, %s, %s", l.s1, l.s0, l.m[3])
	g.p("VPSHUFB qswap<>+0(SB), %s, %s", l.m[2], l.m[2])
	g.p("VPSHUFB qswap<>+0(SB), %s, %s", l.m[3], l.m[3])
	g.p("VPAND trunc<>+0(SB), %s, %s", l.m[3], l.m[3])
	g.p("VMOVDQU %s, %d(%s)", l.m[2], off, dst)
	g.p("VMOVDQU %s, %d(%s)", l.m[3], off+16, dst)
}

func (g *gen) data(name string, words []uint32) {
	for i, w := range words {
		fmt.Fprintf(g, "DATA %s<>+%d(SB)/4, $0x%08x\n", name, 4*i, w)
	}
	fmt.Fprintf(g, "GLOBL %s<>(SB), RODATA|NOPTR, $%d\n\n", name, 4*len(words))
}

func main() {
	out := flag.String("out", "sha2_amd64.s", "output file")
	flag.Parse()

	var g gen
	g.WriteString("// Code generated by gen.go; DO NOT EDIT.\n\n")
	g.WriteString("//go:build amd64 && !purego\n\n")
	g.WriteString("#include \"textflag.h\"\n\n")

	g.WriteString("// Round constants K, four per 16-byte group.\n")
	g.data("k256", k[:])
	g.WriteString("// IV in the SHA256RNDS2 register layout: {F,E,B,A}, {H,G,D,C}.\n")
	g.data("iv", []uint32{iv[5], iv[4], iv[1], iv[0], iv[7], iv[6], iv[3], iv[2]})
	g.WriteString("// W+K of the padding block of a 64-byte message, two rounds per 16 bytes.\n")
	wk := padWK()
	var pad []uint32
	for t := 0; t < 64; t += 2 {
		pad = append(pad, wk[t], wk[t+1], 0, 0)
	}
	g.data("padwk", pad)
	g.WriteString("// Byte shuffle: big-endian message words to dwords.\n")
	g.data("flip", []uint32{0x00010203, 0x04050607, 0x08090a0b, 0x0c0d0e0f})
	g.WriteString("// Byte shuffle: reverse each quadword.\n")
	g.data("qswap", []uint32{0x04050607, 0x00010203, 0x0c0d0e0f, 0x08090a0b})
	g.WriteString("// Clears the two most significant bits of digest byte 31 (trunc254).\n")
	g.data("trunc", []uint32{0xffffffff, 0xffffffff, 0xffffffff, 0x3fffffff})

	g.WriteString("// Message words 8-15 of the last block of a label message: 0x80 after\n")
	fmt.Fprintf(&g, "// the 32 bytes of parent block 36, zeros, the bit length %d.\n", labelMsgLen*8)
	g.data("lastpad", []uint32{0x80000000, 0, 0, 0, 0, 0, 0, labelMsgLen * 8})
	g.WriteString("// func hashPairSHANI(dst, a, b *[32]byte)\n")
	g.WriteString("// Requires: AVX, SHA, SSE4.1, SSSE3.\n")
	g.WriteString("TEXT ·hashPairSHANI(SB), NOSPLIT, $0-24\n")
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ a+8(FP), SI")
	g.p("MOVQ b+16(FP), DX")
	g.firstBlock(lanes[:1], [][4]string{{"0(SI)", "16(SI)", "0(DX)", "16(DX)"}})
	g.padBlock(lanes[:1])
	g.comment("store")
	g.output(lanes[0], "DI", 0)
	g.p("RET")
	g.WriteString("\n")

	g.WriteString("// func hashPairsSHANI(dst, src *byte, n int)\n")
	g.WriteString("// Hashes n consecutive 64-byte pairs at src into n 32-byte nodes at dst,\n")
	g.WriteString("// two at a time. Node i is written after pair i (and i+1) was read, so dst\n")
	g.WriteString("// may equal src.\n")
	g.WriteString("// Requires: AVX, SHA, SSE4.1, SSSE3.\n")
	g.WriteString("TEXT ·hashPairsSHANI(SB), NOSPLIT, $0-24\n")
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ src+8(FP), SI")
	g.p("MOVQ n+16(FP), CX")
	g.p("CMPQ CX, $2")
	g.p("JLT tail")
	g.label("loop2")
	g.firstBlock(lanes[:2], [][4]string{
		{"0(SI)", "16(SI)", "32(SI)", "48(SI)"},
		{"64(SI)", "80(SI)", "96(SI)", "112(SI)"},
	})
	g.padBlock(lanes[:2])
	g.comment("store both")
	g.output(lanes[0], "DI", 0)
	g.output(lanes[1], "DI", 32)
	g.p("ADDQ $128, SI")
	g.p("ADDQ $64, DI")
	g.p("SUBQ $2, CX")
	g.p("CMPQ CX, $2")
	g.p("JGE loop2")
	g.label("tail")
	g.p("TESTQ CX, CX")
	g.p("JZ done")
	g.firstBlock(lanes[:1], [][4]string{{"0(SI)", "16(SI)", "32(SI)", "48(SI)"}})
	g.padBlock(lanes[:1])
	g.comment("store")
	g.output(lanes[0], "DI", 0)
	g.label("done")
	g.p("RET")
	g.WriteString("\n")

	g.WriteString("// func labelSHANI(dst *[32]byte, prefix *[64]byte, parents *byte, n int)\n")
	g.WriteString("// SHA-256 of prefix ‖ 37 parent blocks taken cyclically from the n blocks\n")
	g.WriteString("// at parents (n even, or 37), trunc254. Every block is one dependency\n")
	g.WriteString("// chain on the chaining value, so this is a single lane.\n")
	g.WriteString("// Requires: AVX, SHA, SSE4.1, SSSE3.\n")
	g.WriteString("TEXT ·labelSHANI(SB), NOSPLIT, $0-32\n")
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ prefix+8(FP), SI")
	g.p("MOVQ parents+16(FP), DX")
	g.p("MOVQ n+24(FP), CX")
	g.p("SHLQ $5, CX")
	g.p("LEAQ (DX)(CX*1), R8")
	g.p("MOVQ DX, R9")
	g.p("MOVQ $%d, CX", labelChunks)
	g.comment("block 0: the prefix (replica ID, layer, node index)")
	g.firstBlock(lanes[:1], [][4]string{{"0(SI)", "16(SI)", "32(SI)", "48(SI)"}})
	g.labelTail()
	g.WriteString("\n")

	g.WriteString("// func labelFromSHANI(dst *[32]byte, mid *Midstate, parents *byte, n int, next *[64]byte, nextMid *Midstate)\n")
	g.WriteString("// Label from the chaining value after the prefix block (mid), with the\n")
	g.WriteString("// next node's prefix block compressed in a second lane alongside the\n")
	g.WriteString("// first parent block: it does not depend on this label, so it costs no\n")
	g.WriteString("// time on the chain. nextMid is stored after mid was last read, so the\n")
	g.WriteString("// two may be the same.\n")
	g.WriteString("// Requires: AVX, SHA, SSE4.1, SSSE3.\n")
	g.WriteString("TEXT ·labelFromSHANI(SB), NOSPLIT, $0-48\n")
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ mid+8(FP), SI")
	g.p("MOVQ parents+16(FP), DX")
	g.p("MOVQ n+24(FP), CX")
	g.p("MOVQ next+32(FP), R10")
	g.p("MOVQ nextMid+40(FP), R11")
	g.p("SHLQ $5, CX")
	g.p("LEAQ (DX)(CX*1), R8")
	g.p("MOVQ DX, R9")
	g.comment("block 1 of this label (lane 0) and block 0 of the next (lane 1)")
	g.p("VMOVDQU 0(SI), %s", lanes[0].s0)
	g.p("VMOVDQU 16(SI), %s", lanes[0].s1)
	g.p("VMOVDQU iv<>+0(SB), %s", lanes[1].s0)
	g.p("VMOVDQU iv<>+16(SB), %s", lanes[1].s1)
	g.rounds(lanes[:2], [][4]string{
		{"0(R9)", "16(R9)", "32(R9)", "48(R9)"},
		{"0(R10)", "16(R10)", "32(R10)", "48(R10)"},
	})
	g.p("VPADDD 0(SI), %s, %s", lanes[0].s0, lanes[0].s0)
	g.p("VPADDD 16(SI), %s, %s", lanes[0].s1, lanes[0].s1)
	g.p("VPADDD iv<>+0(SB), %s, %s", lanes[1].s0, lanes[1].s0)
	g.p("VPADDD iv<>+16(SB), %s, %s", lanes[1].s1, lanes[1].s1)
	g.p("VMOVDQU %s, 0(R11)", lanes[1].s0)
	g.p("VMOVDQU %s, 16(R11)", lanes[1].s1)
	g.p("ADDQ $64, R9")
	g.p("CMPQ R9, R8")
	g.p("JNE first")
	g.p("MOVQ DX, R9")
	g.label("first")
	g.p("MOVQ $%d, CX", labelChunks-1)
	g.labelTail()
	g.WriteString("\n")

	g.WriteString("// func label2SHANI(dst0, dst1 *[32]byte, prefix0, prefix1 *[64]byte, parents0, parents1 *byte, u, last int)\n")
	g.WriteString("// Two labels of the same layer hashed as two interleaved lanes, for\n")
	g.WriteString("// batch PC1. The parent part of a label message is u distinct 64-byte\n")
	g.WriteString("// blocks taken cyclically (u = n/2 for n unique parents, 18 for 37) and a\n")
	g.WriteString("// last block made of the parent block at byte offset last and the padding.\n")
	g.WriteString("// The first pass over the u distinct blocks computes their message\n")
	g.WriteString("// schedules inline and keeps W+K in the frame, already split into the\n")
	g.WriteString("// two-round halves SHA256RNDS2 takes; the repeats (11 of 18 blocks for\n")
	g.WriteString("// 14 parents, 15 for 6) are then loads and SHA256RNDS2 only, which\n")
	g.WriteString("// leaves the shuffle port to the other lane's schedule.\n")
	fmt.Fprintf(&g, "// Frame: lane 0 at 0(SP), lane 1 at %d(SP), 512 bytes a block.\n", wkLaneBytes)
	g.WriteString("// Requires: AVX, SHA, SSE4.1, SSSE3.\n")
	fmt.Fprintf(&g, "TEXT ·label2SHANI(SB), 0, $%d-64\n", 2*wkLaneBytes+64)
	g.p("MOVQ prefix0+16(FP), SI")
	g.p("MOVQ prefix1+24(FP), AX")
	g.p("MOVQ parents0+32(FP), DX")
	g.p("MOVQ parents1+40(FP), R10")
	g.p("MOVQ u+48(FP), CX")
	g.comment("block 0 of both labels: their prefixes")
	g.firstBlock(lanes[:2], [][4]string{
		{"0(SI)", "16(SI)", "32(SI)", "48(SI)"},
		{"0(AX)", "16(AX)", "32(AX)", "48(AX)"},
	})
	g.comment("first pass: the u distinct parent blocks, schedules kept at R9")
	g.p("LEAQ 0(SP), R9")
	g.p("MOVQ DX, R8")
	g.p("MOVQ R10, R12")
	g.label("first2")
	g.chainBlock2Store([2][4]string{
		{"0(R8)", "16(R8)", "32(R8)", "48(R8)"},
		{"0(R12)", "16(R12)", "32(R12)", "48(R12)"},
	}, "R9")
	g.p("ADDQ $64, R8")
	g.p("ADDQ $64, R12")
	g.p("ADDQ $512, R9")
	g.p("DECQ CX")
	g.p("JNZ first2")
	g.comment("repeats: 18-u blocks from the kept schedules; R9 wraps at R8")
	g.p("MOVQ $%d, CX", labelChunks)
	g.p("SUBQ u+48(FP), CX")
	g.p("JZ last2")
	g.p("MOVQ R9, R8")
	g.p("LEAQ 0(SP), R9")
	g.label("rep2")
	g.wkBlock2("R9", 0, wkLaneBytes)
	g.p("ADDQ $512, R9")
	g.p("CMPQ R9, R8")
	g.p("JNE nowrap2")
	g.p("LEAQ 0(SP), R9")
	g.label("nowrap2")
	g.p("DECQ CX")
	g.p("JNZ rep2")
	g.label("last2")
	g.comment("block 19 of both: parent block 36, then the padding")
	g.p("MOVQ last+56(FP), R11")
	g.p("ADDQ R11, DX")
	g.p("ADDQ R11, R10")
	g.chainBlock2Store([2][4]string{
		{"0(DX)", "16(DX)", rawPrefix + "lastpad<>+0(SB)", rawPrefix + "lastpad<>+16(SB)"},
		{"0(R10)", "16(R10)", rawPrefix + "lastpad<>+0(SB)", rawPrefix + "lastpad<>+16(SB)"},
	}, "")
	g.comment("store both")
	g.p("MOVQ dst0+0(FP), DI")
	g.p("MOVQ dst1+8(FP), BX")
	g.output(lanes[0], "DI", 0)
	g.output(lanes[1], "BX", 0)
	g.p("RET")
	g.WriteString("\n")

	g.label4()

	g.WriteString("// func rnds2Probe(n, chains int)\n")
	g.WriteString("// Runs n iterations of 8 SHA256RNDS2 on each of chains (1–4) independent\n")
	g.WriteString("// state pairs: BenchmarkRNDS2 derives the instruction's latency (one\n")
	g.WriteString("// chain) and throughput (several), which bound what interleaving label\n")
	g.WriteString("// streams can gain on a given CPU.\n")
	g.WriteString("// Requires: SHA.\n")
	g.WriteString("TEXT ·rnds2Probe(SB), NOSPLIT, $0-16\n")
	g.p("MOVQ n+0(FP), CX")
	g.p("MOVQ chains+8(FP), DX")
	g.p("PXOR X0, X0")
	for k := 1; k <= 4; k++ {
		g.p("CMPQ DX, $%d", k)
		g.p("JEQ probe%d", k)
	}
	g.p("RET")
	pairs := [][2]string{{"X1", "X2"}, {"X3", "X4"}, {"X5", "X6"}, {"X7", "X8"}}
	for k := 1; k <= 4; k++ {
		g.label(fmt.Sprintf("probe%d", k))
		for i := 0; i < 8; i++ {
			for c := 0; c < k; c++ {
				a, b := pairs[c][0], pairs[c][1]
				if i%2 == 1 {
					a, b = b, a
				}
				g.p("SHA256RNDS2 X0, %s, %s", a, b)
			}
		}
		g.p("DECQ CX")
		g.p("JNZ probe%d", k)
		g.p("RET")
	}
	g.WriteString("\n")

	g.WriteString("// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)\n")
	g.WriteString("TEXT ·cpuid(SB), NOSPLIT, $0-24\n")
	g.p("MOVL leaf+0(FP), AX")
	g.p("MOVL sub+4(FP), CX")
	g.p("CPUID")
	g.p("MOVL AX, eax+8(FP)")
	g.p("MOVL BX, ebx+12(FP)")
	g.p("MOVL CX, ecx+16(FP)")
	g.p("MOVL DX, edx+20(FP)")
	g.p("RET")

	if err := os.WriteFile(*out, g.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
