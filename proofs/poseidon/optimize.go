package poseidon

import (
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// optimize derives the cheap schedule from the reference parameters. It is
// the same idea as neptune's "optimized" constants (compressed round
// constants, a pre-sparse matrix and one sparse matrix per partial round),
// derived here independently. Row-vector convention throughout: a linear
// layer maps state s to s × A.
//
// Constant compression. A partial round only raises state[0] to the fifth
// power, so constants added to the other elements can be carried forward
// past the S-box and through the linear layer. Keep a carried vector acc
// (initially 0); for partial round k let w = acc + RC_k. Only w[0] has to be
// added before the S-box; the rest (0, w[1:]) passes through the S-box
// unchanged and becomes acc = (0, w[1:]) × M after the MDS layer. After the
// last partial round acc is folded into the constants of the next full
// round. Invariant: reference state = optimised state + acc.
//
// Sparse factorisation. Any t×t matrix D = [[d, v], [w, Ď]] with Ď
// invertible factors as D = M′ × M″ with M′ = diag(1, Ď) and
// M″ = [[d, v], [Ď⁻¹w, I]]. M′ leaves state[0] alone and mixes only the
// others, so it commutes with "add a constant to state[0]" and with the
// partial S-box; it can therefore be pushed backwards into the previous
// round's linear layer. Working from the last partial round backwards,
// D starts as M; each round keeps M″ (sparse, 2t−1 multiplications) and hands
// M × M′ back to the round before. The full round preceding the partial
// rounds finally uses the dense "pre-sparse" matrix M × M′₀.
func optimize(c *constants) optimized {
	t, rp := c.width, c.rp
	rc := func(r int) []fr.Element { return c.rc[r*t : (r+1)*t] }

	var o optimized
	o.fullRC = make([][]fr.Element, fullRounds)
	for r := range halfFull {
		o.fullRC[r] = append([]fr.Element(nil), rc(r)...)
	}

	// Constant compression through the partial rounds.
	acc := make([]fr.Element, t)
	w := make([]fr.Element, t)
	o.partialRC = make([]fr.Element, rp)
	for k := range rp {
		rk := rc(halfFull + k)
		for i := range t {
			w[i].Add(&acc[i], &rk[i])
		}
		o.partialRC[k] = w[0]
		w[0].SetZero()
		vecMat(acc, w, c.mds)
	}
	for r := halfFull; r < fullRounds; r++ {
		o.fullRC[r] = append([]fr.Element(nil), rc(r+rp)...)
	}
	first := o.fullRC[halfFull]
	for i := range t {
		first[i].Add(&first[i], &acc[i])
	}

	// Sparse factorisation, last partial round first.
	o.sparse = make([]sparseMatrix, rp)
	d := c.mds
	for k := rp - 1; k >= 0; k-- {
		mPrime, sp := factor(d)
		o.sparse[k] = sp
		d = matMul(c.mds, mPrime)
	}
	o.preSparseT = transpose(d)
	return o
}

// factor splits D into M′ (returned as a full matrix) and the sparse M″.
func factor(d [][]fr.Element) ([][]fr.Element, sparseMatrix) {
	t := len(d)
	sub := newMatrix(t - 1)
	for i := 1; i < t; i++ {
		copy(sub[i-1], d[i][1:])
	}
	subInv, ok := invert(sub)
	if !ok {
		// Cannot happen for the Cauchy matrices used here (neptune relies
		// on the same property); fail loudly at constant generation.
		panic(fmt.Sprintf("poseidon: singular minor while factoring width %d", t))
	}
	sp := sparseMatrix{
		m00: d[0][0],
		v:   append([]fr.Element(nil), d[0][1:]...),
		w:   make([]fr.Element, t-1),
	}
	var tmp fr.Element
	for i := range t - 1 {
		for j := range t - 1 {
			tmp.Mul(&subInv[i][j], &d[j+1][0])
			sp.w[i].Add(&sp.w[i], &tmp)
		}
	}
	mPrime := newMatrix(t)
	mPrime[0][0].SetOne()
	for i := 1; i < t; i++ {
		copy(mPrime[i][1:], d[i][1:])
	}
	return mPrime, sp
}

// vecMat sets out = in × m (out and in must not alias).
func vecMat(out, in []fr.Element, m [][]fr.Element) {
	var tmp fr.Element
	for j := range out {
		out[j].SetZero()
		for i := range in {
			tmp.Mul(&in[i], &m[i][j])
			out[j].Add(&out[j], &tmp)
		}
	}
}
