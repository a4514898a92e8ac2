package manager

import (
	"context"
	"fmt"
	"time"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/manager/wdpost"
)

// DefaultWindowPoStTenantRefresh is how often RunWindowPoSt re-reads the
// tenant list, so a tenant created, deleted or given a delivery target
// (admin API, possibly on another manager sharing the database) is picked
// up without a restart.
const DefaultWindowPoStTenantRefresh = 30 * time.Second

// WindowPoStTenants lists the Architecture-1 tenants — those without a
// delivery target, whose sectors the provider keeps in its store
// (delivery.store_path) and must therefore prove — as wdpost tenants.
//
// The WindowPoSt sender is the tenant's LAST configured sender, the commit
// pipeline uses the first: give an Architecture-1 tenant two senders (its
// worker and a control address, both allowed by the SP's signer for their
// methods) so that WindowPoSt and commit messages draw nonces from
// different accounts. With a single sender both share it: the pipeline
// reserves nonces in the store while wdpost asks the mpool, so a
// WindowPoSt can take a nonce the pipeline reserved (the pipeline then
// rebuilds its message with a new nonce); a warning says so. With no
// sender, wdpost uses the miner's worker address from the chain. Without a
// store_path there is nothing to prove from and the list is empty.
func (s *Service) WindowPoStTenants(ctx context.Context) ([]wdpost.Tenant, error) {
	if s.delivery.StorePath == "" {
		return nil, nil
	}
	ts, err := s.st.ListTenants(ctx)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	var out []wdpost.Tenant
	for _, t := range ts {
		if t.DeliveryTarget != "" {
			continue
		}
		wt := wdpost.Tenant{Name: t.ID, Miner: t.Miner, Store: wdpost.LayoutStore{Root: s.delivery.StorePath}}
		if n := len(t.Senders); n > 0 {
			last := t.Senders[n-1]
			a, err := address.Parse(last)
			if err != nil {
				// A sender the store accepted but this build cannot
				// parse: prove from the worker address instead of not
				// proving at all.
				s.log.Warn("window post: tenant sender unparsable, using the miner's worker", "tenant", t.ID, "sender", last, "err", err)
			} else {
				wt.Sender = a
			}
			if n == 1 {
				s.log.Warn("window post: tenant has one sender, shared with the commit pipeline; add a control address as a second sender to keep their nonces apart", "tenant", t.ID)
			}
		}
		out = append(out, wt)
	}
	return out, nil
}

// RunWindowPoSt drives an Architecture-1 WindowPoSt service (package
// manager/wdpost) until ctx ends: it ticks p every tick and refreshes its
// tenants from the store (WindowPoStTenants) every refresh (zero: the
// default). It returns nil when ctx ends.
func (s *Service) RunWindowPoSt(ctx context.Context, p *wdpost.Service, tick, refresh time.Duration) error {
	if p == nil {
		return fmt.Errorf("%w: nil window post service", ErrConfig)
	}
	if refresh <= 0 {
		refresh = DefaultWindowPoStTenantRefresh
	}
	set := func() {
		ts, err := s.WindowPoStTenants(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("window post: tenant list", "err", err)
			}
			return // keep the last list
		}
		p.SetTenants(ts)
	}
	set()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, tick) }()
	t := time.NewTicker(refresh)
	defer t.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-t.C:
			set()
		}
	}
}
