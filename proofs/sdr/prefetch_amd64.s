#include "textflag.h"

// func prefetchParents(cur, prev *byte, ps *[14]uint32)
// Issues PREFETCHT0 for the 32-byte labels of the 6 DRG parents in cur and,
// when prev is not nil, the 8 expander parents in prev.
TEXT ·prefetchParents(SB), NOSPLIT, $0-24
	MOVQ cur+0(FP), AX
	MOVQ prev+8(FP), BX
	MOVQ ps+16(FP), CX
	MOVL 0(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (AX)(DX*1)
	MOVL 4(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (AX)(DX*1)
	MOVL 8(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (AX)(DX*1)
	MOVL 12(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (AX)(DX*1)
	MOVL 16(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (AX)(DX*1)
	MOVL 20(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (AX)(DX*1)
	TESTQ BX, BX
	JZ   done
	MOVL 24(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 28(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 32(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 36(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 40(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 44(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 48(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 52(CX), DX
	SHLQ $5, DX
	PREFETCHT0 (BX)(DX*1)
done:
	RET

// func prefetchParentsStride(cur, prev *byte, ps *[14]uint32, stride uint64)
// As prefetchParents for layers holding stride bytes per node (a batch's
// interleaved lanes): the line at parent·stride of each parent.
TEXT ·prefetchParentsStride(SB), NOSPLIT, $0-32
	MOVQ cur+0(FP), AX
	MOVQ prev+8(FP), BX
	MOVQ ps+16(FP), CX
	MOVQ stride+24(FP), SI
	MOVL 0(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (AX)(DX*1)
	MOVL 4(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (AX)(DX*1)
	MOVL 8(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (AX)(DX*1)
	MOVL 12(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (AX)(DX*1)
	MOVL 16(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (AX)(DX*1)
	MOVL 20(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (AX)(DX*1)
	TESTQ BX, BX
	JZ   sdone
	MOVL 24(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 28(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 32(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 36(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 40(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 44(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 48(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (BX)(DX*1)
	MOVL 52(CX), DX
	IMULQ SI, DX
	PREFETCHT0 (BX)(DX*1)
sdone:
	RET
