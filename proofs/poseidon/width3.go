package poseidon

import "github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

// hash3 is the optimised permutation specialised to width 3 (arity 2) with
// the state in locals: at this width the generic loops' slice handling is a
// visible share of the ~580 multiplications. It computes exactly what
// (*constants).hash does; TestNeptuneVectors and TestOptimisedMatchesReference
// check both.
func (c *constants) hash3(a, b *fr.Element) fr.Element {
	o := &c.opt
	s0, s1, s2 := c.tag, *a, *b
	var t0, t1, t2, u fr.Element
	full := func(rc []fr.Element, mT [][]fr.Element) {
		s0.Add(&s0, &rc[0])
		s1.Add(&s1, &rc[1])
		s2.Add(&s2, &rc[2])
		sbox(&s0)
		sbox(&s1)
		sbox(&s2)
		for j := range 3 {
			row := mT[j][:3]
			t := &t0
			switch j {
			case 1:
				t = &t1
			case 2:
				t = &t2
			}
			t.Mul(&s0, &row[0])
			u.Mul(&s1, &row[1])
			t.Add(t, &u)
			u.Mul(&s2, &row[2])
			t.Add(t, &u)
		}
		s0, s1, s2 = t0, t1, t2
	}
	for r := range halfFull - 1 {
		full(o.fullRC[r], c.mdsT)
	}
	full(o.fullRC[halfFull-1], o.preSparseT)
	for k := range o.partialRC {
		m := &o.sparse[k]
		s0.Add(&s0, &o.partialRC[k])
		sbox(&s0)
		t0.Mul(&s0, &m.m00)
		u.Mul(&s1, &m.w[0])
		t0.Add(&t0, &u)
		u.Mul(&s2, &m.w[1])
		t0.Add(&t0, &u)
		u.Mul(&s0, &m.v[0])
		s1.Add(&s1, &u)
		u.Mul(&s0, &m.v[1])
		s2.Add(&s2, &u)
		s0 = t0
	}
	for r := halfFull; r < fullRounds-1; r++ {
		full(o.fullRC[r], c.mdsT)
	}
	// Last round: only output element 1 is needed.
	rc := o.fullRC[fullRounds-1]
	s0.Add(&s0, &rc[0])
	s1.Add(&s1, &rc[1])
	s2.Add(&s2, &rc[2])
	sbox(&s0)
	sbox(&s1)
	sbox(&s2)
	row := c.mdsT[1]
	t1.Mul(&s0, &row[0])
	u.Mul(&s1, &row[1])
	t1.Add(&t1, &u)
	u.Mul(&s2, &row[2])
	t1.Add(&t1, &u)
	return t1
}
