package commit

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// Following a message on chain: the search behind ActLookup. Messages are
// polled with StateSearchMsg at every tick (see MessageSearcher), never
// waited for.

// lookup finds m (or a gas-bumped replacement of it) on chain: the first
// CID found wins. The error is reported only if no CID was found and some
// search failed; Lotus answers a search for a message it never received
// with an error ("failed to load message"), so callers treat an error as
// "not found" where re-pushing the same bytes is the safe continuation.
func (p *Pipeline) lookup(ctx context.Context, m store.Message, head *lotus.TipSet) (*types.MsgLookup, error) {
	if head == nil {
		var err error
		if head, err = p.chain.ChainHead(ctx); err != nil {
			return nil, fmt.Errorf("commit: chain head: %w", err)
		}
	}
	var errs []error
	for _, c := range p.cidsOf(m) {
		ml, err := p.chain.StateSearchMsg(ctx, head.Key(), c, lotus.LookbackNoLimit, true)
		if err != nil {
			errs = append(errs, fmt.Errorf("commit: search message %s: %w", c, err))
			continue
		}
		if ml != nil {
			return ml, nil
		}
	}
	return nil, errors.Join(errs...)
}

// cidsOf lists the CIDs a message may have on chain.
func (p *Pipeline) cidsOf(m store.Message) []cid.Cid {
	var out []cid.Cid
	if c, err := cid.Decode(m.ChainCID()); err == nil {
		out = append(out, c)
	}
	p.mu.Lock()
	if c, ok := p.altCID[m.ID]; ok {
		out = append(out, c)
	}
	p.mu.Unlock()
	return out
}
