package poseidon

import (
	"errors"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// Sentinel errors.
var (
	// ErrArity reports an arity (number of inputs) this package does not
	// build constants for.
	ErrArity = errors.New("poseidon: unsupported arity")
	// ErrNonCanonical reports 32 bytes that do not encode an integer below
	// the field modulus.
	ErrNonCanonical = errors.New("poseidon: non-canonical field element")
)

// Hash returns the Poseidon hash of elems with arity len(elems), as
// neptune's Poseidon::hash with HashType::MerkleTree and Strength::Standard
// (what rust-fil-proofs calls multi_node / hash_single_column). It returns
// ErrArity for arities outside MinArity..MaxArity.
func Hash(elems []fr.Element) (fr.Element, error) {
	c, err := constantsFor(len(elems))
	if err != nil {
		return fr.Element{}, err
	}
	return c.hash(elems), nil
}

// Hash2 returns the arity-2 Poseidon hash of (a, b): the TreeC column hash of
// 2-layer sectors, the 64 GiB top-tree node and comm_r = H(comm_c, comm_r_last).
func Hash2(a, b fr.Element) fr.Element {
	return constants2().hash3(&a, &b)
}

// Hash4 returns the arity-4 Poseidon hash.
func Hash4(in *[4]fr.Element) fr.Element { return constants4().hash(in[:]) }

// Hash8 returns the arity-8 Poseidon hash: the node hash of TreeC and
// TreeR_last and the 32/64 GiB sub-tree combination.
func Hash8(in *[8]fr.Element) fr.Element { return constants8().hash(in[:]) }

// Hash11 returns the arity-11 Poseidon hash: the TreeC column hash of
// 11-layer (32/64 GiB) sectors.
func Hash11(in *[11]fr.Element) fr.Element { return constants11().hash(in[:]) }

// Warm generates and caches the constants of the arities Filecoin uses so the
// first hash in a latency-sensitive path does not pay for it.
func Warm() {
	constants2()
	constants4()
	constants8()
	constants11()
}

func constants2() *constants  { return mustConstants(2) }
func constants4() *constants  { return mustConstants(4) }
func constants8() *constants  { return mustConstants(8) }
func constants11() *constants { return mustConstants(11) }

// hash runs the optimised permutation on [tag, elems...] and returns
// element 1 of the final state. len(elems) must equal c.arity.
func (c *constants) hash(elems []fr.Element) fr.Element {
	if len(elems) != c.arity {
		panic(fmt.Sprintf("poseidon: %d inputs for arity %d", len(elems), c.arity)) // internal misuse only
	}
	if c.arity == 2 {
		return c.hash3(&elems[0], &elems[1])
	}
	var st [maxWidth]fr.Element
	s := st[:c.width]
	s[0] = c.tag
	copy(s[1:], elems)
	c.permuteButLastMDS(s)
	// Only element 1 of the final MDS output is the hash: one row instead
	// of t saves t·(t−1) multiplications (72 of ~2000 for arity 8).
	var out [1]fr.Element
	matVec(out[:], s, c.mdsT[1:2])
	return out[0]
}

// permuteButLastMDS applies the optimised Poseidon permutation to s in
// place, stopping before the MDS layer of the last full round.
func (c *constants) permuteButLastMDS(s []fr.Element) {
	o := &c.opt
	var tmp [maxWidth]fr.Element
	for r := range halfFull {
		addVec(s, o.fullRC[r])
		sboxAll(s)
		if r < halfFull-1 {
			matVec(tmp[:len(s)], s, c.mdsT)
		} else {
			matVec(tmp[:len(s)], s, o.preSparseT)
		}
		copy(s, tmp[:len(s)])
	}
	for k := range o.partialRC {
		s[0].Add(&s[0], &o.partialRC[k])
		sbox(&s[0])
		o.sparse[k].apply(s)
	}
	for r := halfFull; r < fullRounds; r++ {
		addVec(s, o.fullRC[r])
		sboxAll(s)
		if r == fullRounds-1 {
			return
		}
		matVec(tmp[:len(s)], s, c.mdsT)
		copy(s, tmp[:len(s)])
	}
}

// apply sets s = s × S for the sparse matrix S.
func (m *sparseMatrix) apply(s []fr.Element) {
	var acc, t fr.Element
	acc.Mul(&s[0], &m.m00)
	s0 := s[0]
	w := m.w[:len(s)-1]
	v := m.v[:len(s)-1]
	rest := s[1:]
	for i := range rest {
		t.Mul(&rest[i], &w[i])
		acc.Add(&acc, &t)
		t.Mul(&s0, &v[i])
		rest[i].Add(&rest[i], &t)
	}
	s[0] = acc
}

// hashReference is the textbook permutation (full MDS every round, full
// round constant vectors), kept to prove the optimised schedule identical.
func (c *constants) hashReference(elems []fr.Element) fr.Element {
	t := c.width
	s := make([]fr.Element, t)
	tmp := make([]fr.Element, t)
	s[0] = c.tag
	copy(s[1:], elems)
	for r := range c.rounds {
		addVec(s, c.rc[r*t:(r+1)*t])
		if r < halfFull || r >= halfFull+c.rp {
			sboxAll(s)
		} else {
			sbox(&s[0])
		}
		vecMat(tmp, s, c.mds)
		copy(s, tmp)
	}
	return s[1]
}

func addVec(s, k []fr.Element) {
	k = k[:len(s)]
	for i := range s {
		s[i].Add(&s[i], &k[i])
	}
}

// sbox computes x^5.
func sbox(x *fr.Element) {
	var x2 fr.Element
	x2.Square(x)
	x2.Square(&x2)
	x.Mul(x, &x2)
}

func sboxAll(s []fr.Element) {
	for i := range s {
		sbox(&s[i])
	}
}

// matVec sets out[j] = Σ_i s[i]·mT[j][i], i.e. out = s × M for mT = Mᵀ.
func matVec(out, s []fr.Element, mT [][]fr.Element) {
	var t fr.Element
	for j := range out {
		row := mT[j][:len(s)]
		var acc fr.Element
		for i := range s {
			t.Mul(&s[i], &row[i])
			acc.Add(&acc, &t)
		}
		out[j] = acc
	}
}
