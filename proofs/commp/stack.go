package commp

// stackEntry is a subtree root and the number of padded bytes it covers.
type stackEntry struct {
	comm [32]byte
	size uint64
}

// pieceStack folds power-of-two subtrees, laid out left to right, into
// their common root: the Stack of rust-fil-proofs compute_comm_d. Entry
// sizes strictly decrease from bottom to top, so the stack never holds more
// than one entry per level (≤ 32 entries).
type pieceStack struct {
	s []stackEntry
}

// total returns the number of padded bytes pushed so far.
func (ps *pieceStack) total() uint64 {
	var t uint64
	for _, e := range ps.s {
		t += e.size
	}
	return t
}

// push appends a subtree and merges equal-sized neighbours.
func (ps *pieceStack) push(comm [32]byte, size uint64) {
	ps.s = append(ps.s, stackEntry{comm, size})
	for n := len(ps.s); n >= 2 && ps.s[n-1].size == ps.s[n-2].size; n = len(ps.s) {
		l, r := ps.s[n-2], ps.s[n-1]
		ps.s[n-2] = stackEntry{HashPair(l.comm, r.comm), 2 * l.size}
		ps.s = ps.s[:n-1]
	}
}

// alignTo appends zero subtrees until the total is a multiple of size (a
// power of two), which is where a piece of that size may start.
func (ps *pieceStack) alignTo(size uint64) {
	for len(ps.s) > 0 && ps.s[len(ps.s)-1].size < size {
		top := ps.s[len(ps.s)-1].size
		ps.push(zeroComms[level(top)], top)
	}
}

// fillTo appends zero subtrees until the stack is one tree of the given
// size. The caller guarantees total() ≤ size and that size is a power of
// two.
func (ps *pieceStack) fillTo(size uint64) [32]byte {
	if len(ps.s) == 0 {
		return zeroComms[level(size)]
	}
	for len(ps.s) > 1 || ps.s[0].size < size {
		top := ps.s[len(ps.s)-1].size
		ps.push(zeroComms[level(top)], top)
	}
	return ps.s[0].comm
}

// collapse appends zero subtrees only until a single root remains (the
// smallest power-of-two tree holding everything pushed) and returns it.
func (ps *pieceStack) collapse() stackEntry {
	for len(ps.s) > 1 {
		top := ps.s[len(ps.s)-1].size
		ps.push(zeroComms[level(top)], top)
	}
	return ps.s[0]
}
