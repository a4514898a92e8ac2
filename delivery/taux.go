package delivery

import (
	"encoding/binary"
	"fmt"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/merkle"
)

// storeConfig is one bincode StoreConfig of t_aux.
type storeConfig struct {
	path, id string
	size     *uint64
	rows     uint64
}

// parseTAux decodes bincode(TemporaryAux) (rust-fil-proofs
// filecoin-proofs/src/types: labels Vec<StoreConfig>, tree_d_config,
// tree_r_last_config, tree_c_config; PhantomData fields take no bytes) and
// checks it describes a sector of proof type p: one label store per layer,
// the store ids, and the tree-d and tree-r-last sizes and rows_to_discard
// that proving relies on. Every store's rows_to_discard must be one a tree
// of that shape can have (fewer than its rows minus one; the label layers
// all share one, as rust-fil-proofs derives them from one config), and the
// tree-r-last one must be the proof type's: rust-fil-proofs versions
// differ on the others, and a wrong value there only breaks reading the
// store. The paths are not checked: rust-fil-proofs
// replaces them with the sector's cache path when it loads t_aux, and
// WindowPoSt does not read t_aux at all, which is also why a byte flipped
// inside a path can only be caught by the file's SHA-256.
func parseTAux(b []byte, p abi.RegisteredSealProof) error {
	off := 0
	u64 := func(what string) (uint64, error) {
		if len(b)-off < 8 {
			return 0, fmt.Errorf("t_aux: truncated at %s (byte %d)", what, off)
		}
		v := binary.LittleEndian.Uint64(b[off:])
		off += 8
		return v, nil
	}
	str := func(what string) (string, error) {
		n, err := u64(what + " length")
		if err != nil {
			return "", err
		}
		if n > uint64(len(b)-off) {
			return "", fmt.Errorf("t_aux: %s of %d bytes overruns the file", what, n)
		}
		s := string(b[off : off+int(n)])
		off += int(n)
		return s, nil
	}
	config := func(what string) (storeConfig, error) {
		var c storeConfig
		var err error
		if c.path, err = str(what + " path"); err != nil {
			return c, err
		}
		if c.id, err = str(what + " id"); err != nil {
			return c, err
		}
		if off >= len(b) {
			return c, fmt.Errorf("t_aux: truncated at %s size tag", what)
		}
		switch tag := b[off]; tag {
		case 0:
			off++
		case 1:
			off++
			v, err := u64(what + " size")
			if err != nil {
				return c, err
			}
			c.size = &v
		default:
			return c, fmt.Errorf("t_aux: %s size has option tag %d", what, tag)
		}
		c.rows, err = u64(what + " rows_to_discard")
		return c, err
	}
	want := func(c storeConfig, id string, size uint64, rows int) error {
		if c.id != id {
			return fmt.Errorf("t_aux: store id %q, want %q", c.id, id)
		}
		if c.size == nil || *c.size != size {
			return fmt.Errorf("t_aux: %s size %v, want %d nodes", id, c.size, size)
		}
		if rows >= 0 && c.rows != uint64(rows) {
			return fmt.Errorf("t_aux: %s rows_to_discard %d, want %d", id, c.rows, rows)
		}
		return nil
	}
	layers, err := u64("label count")
	if err != nil {
		return err
	}
	if layers != uint64(p.Layers()) {
		return fmt.Errorf("t_aux: %d label layers, a %s sector has %d", layers, p, p.Layers())
	}
	rowsFit := func(c storeConfig, leaves uint64, arity int) error {
		if c.rows > 64 {
			return fmt.Errorf("t_aux: %s rows_to_discard %d is impossible", c.id, c.rows)
		}
		if _, err := merkle.CacheLen(leaves, arity, int(c.rows)); err != nil {
			return fmt.Errorf("t_aux: %s rows_to_discard %d: %w", c.id, c.rows, err)
		}
		return nil
	}
	var labelRows uint64
	for l := 1; l <= p.Layers(); l++ {
		c, err := config(fmt.Sprintf("layer %d", l))
		if err != nil {
			return err
		}
		if err := want(c, fmt.Sprintf("layer-%d", l), p.Nodes(), -1); err != nil {
			return err
		}
		if err := rowsFit(c, p.Nodes(), 2); err != nil {
			return err
		}
		if l == 1 {
			labelRows = c.rows
		} else if c.rows != labelRows {
			return fmt.Errorf("t_aux: %s rows_to_discard %d, layer-1 has %d", c.id, c.rows, labelRows)
		}
	}
	dLen, err := merkle.TreeLen(p.Nodes(), 2)
	if err != nil {
		return fmt.Errorf("t_aux: %w", err)
	}
	rLen, err := merkle.TreeLen(p.BaseTreeLeaves(), p.TreeShape().Base)
	if err != nil {
		return fmt.Errorf("t_aux: %w", err)
	}
	base := p.TreeShape().Base
	for _, s := range []struct {
		id           string
		size, leaves uint64
		arity, rows  int
	}{
		{merkle.IDTreeD, dLen, p.Nodes(), 2, -1},
		{merkle.IDTreeRLast, rLen, p.BaseTreeLeaves(), base, p.RowsToDiscard()},
		{merkle.IDTreeC, rLen, p.BaseTreeLeaves(), base, -1},
	} {
		c, err := config(s.id)
		if err != nil {
			return err
		}
		if err := want(c, s.id, s.size, s.rows); err != nil {
			return err
		}
		if err := rowsFit(c, s.leaves, s.arity); err != nil {
			return err
		}
	}
	if off != len(b) {
		return fmt.Errorf("t_aux: %d trailing bytes", len(b)-off)
	}
	return nil
}
