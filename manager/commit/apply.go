package commit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/store"
)

// This file is the one place that carries out the lifecycle's actions:
// pass gathers a batch's facts, asks Plan, applies the actions (store,
// sign, push, follow) and feeds their answers back as facts.

// maxPlanSteps bounds the plan/apply rounds of one pass; a batch needs at
// most about a dozen (close, precheck, build, store, sign, record, push).
const maxPlanSteps = 32

// work is what one pass has loaded or built so far; it lives for the pass
// only (the durable record is the store).
type work struct {
	t    store.Tenant
	b    store.Batch
	head *lotus.TipSet
	log  *slog.Logger
	// from is the resolved sender, ds/fs the members' records and chain
	// facts (ActPrecheck); msg the built message (ActBuild); m the batch's
	// message record; sm the signed message this process holds.
	from address.Address
	ds   []sectorData
	fs   []SectorFacts
	msg  *types.Message
	m    *store.Message
	sm   *types.SignedMessage
}

// pass advances one batch as far as it can go in this tick.
func (p *Pipeline) pass(ctx context.Context, t store.Tenant, b store.Batch, head *lotus.TipSet, log *slog.Logger) error {
	w := &work{t: t, b: b, head: head, log: log, m: b.Message}
	f, err := p.baseFacts(ctx, w)
	if err != nil {
		return err
	}
	for range maxPlanSteps {
		d := Plan(f)
		if len(d.Actions) == 0 {
			return nil
		}
		again := false
		for _, a := range d.Actions {
			more, err := p.apply(ctx, w, &f, a)
			if err != nil {
				return err
			}
			again = again || more
		}
		if f.State != d.Next && !f.ReleaseRefused {
			// The table promised another state than the actions reached: a
			// bug in the table or here. docs/batch-states.md would be wrong.
			log.Error("commit: batch state differs from the plan", "rule", d.Rule, "want", d.Next, "got", f.State)
		}
		if !again || f.State.Terminal() {
			return nil
		}
	}
	return fmt.Errorf("commit: batch %d: the plan did not settle in %d steps (state %s)", b.ID, maxPlanSteps, f.State)
}

// baseFacts reads what Plan needs before any question is asked: the stored
// state, the closing input of an open batch, and the signing and re-push
// state this process keeps in memory.
func (p *Pipeline) baseFacts(ctx context.Context, w *work) (Facts, error) {
	b, now := w.b, p.cfg.Now()
	f := Facts{State: StateOf(b), Kind: b.Kind, Members: b.Sectors, Now: now, Head: w.head.Height, Confidence: p.cfg.Confidence}
	if m := b.Message; m != nil {
		f.From, f.Nonce = m.From, m.Nonce
	}
	switch f.State {
	case StateOpen:
		f.Close = CloseInput{Policy: PolicyFor(w.t, b.Kind), Members: len(b.Sectors), Opened: b.CreatedAt, Now: now,
			Head: w.head.Height, Slack: p.cfg.Params.Slack}
		if b.Kind == store.BatchPreCommit && len(b.Sectors) < f.Close.Policy.Size {
			// Only PreCommit deadlines are close enough to matter: the
			// ticket lookback is about a day, the prove window a month.
			for _, id := range b.Sectors {
				s, err := p.st.GetSector(ctx, id)
				if err != nil {
					return Facts{}, fmt.Errorf("commit: sector %s: %w", id, err)
				}
				if s.Ticket != nil {
					dl := PreCommitDeadline(p.cfg.Params, types.ChainEpoch(s.Ticket.Epoch))
					if f.Close.Deadline == 0 || dl < f.Close.Deadline {
						f.Close.Deadline = dl
					}
				}
			}
		}
	case StatePrepared, StateSigned, StatePushed:
		f.Sign, w.sm = p.signFacts(w.t, b, *w.m)
	}
	if f.State == StatePushed {
		m := w.m
		p.mu.Lock()
		last, ok := p.pushedAt[m.ID]
		if !ok {
			last = m.UpdatedAt
			p.pushedAt[m.ID] = last
		}
		f.RepushDue = p.repush[m.ID] || now.Sub(last) >= p.cfg.RepushAfter
		if f.RepushDue {
			// Stays set until a push went through, so a re-push that must
			// first re-sign (after a restart) is not forgotten.
			p.repush[m.ID] = true
		}
		p.mu.Unlock()
	}
	return f, nil
}

// apply carries out one action and records what it learnt in f. again
// reports whether Plan should be asked again in this pass.
func (p *Pipeline) apply(ctx context.Context, w *work, f *Facts, a Action) (again bool, err error) {
	b, log, now := w.b, w.log, p.cfg.Now()
	switch a.Kind {
	case ActClose:
		if err := p.st.CloseBatch(ctx, b.ID, now); err != nil {
			return false, fmt.Errorf("commit: close batch: %w", err)
		}
		log.Info("commit: batch closed", "why", a.Reason, "sectors", len(b.Sectors))
		f.State = StateClosed
		return true, nil

	case ActPrecheck:
		if w.from, err = p.sender(ctx, w.t, w.head); err != nil {
			return false, err
		}
		if w.ds, err = p.loadSectors(ctx, b.Sectors, b.Kind); err != nil {
			return false, err
		}
		fs, checks, err := p.precheck(ctx, b.Kind, w.ds, w.head)
		if err != nil {
			return false, err
		}
		w.fs = fs
		f.Precheck = make([]MemberCheck, len(w.ds))
		for i, d := range w.ds {
			f.Precheck[i] = MemberCheck{ID: d.Sector.ID, Check: checks[d.Sector.ID], ProofType: int64(d.Sector.ProofType), NI: d.Sector.ProofType.IsNI()}
			if c := checks[d.Sector.ID]; c.Verdict == Drop {
				log.Info("commit: sector leaves the batch", "sector", d.Sector.ID, "why", c.Reason)
			}
		}
		return true, nil

	case ActBuild:
		return true, p.applyBuild(ctx, w, f)

	case ActStoreMessage:
		return true, p.storeMessage(ctx, w, f)

	case ActSign:
		return false, p.startSign(ctx, w.t, b, *w.m)

	case ActClearSign:
		p.mu.Lock()
		delete(p.results, w.m.ID)
		p.mu.Unlock()
		log.Warn("commit: signing failed", "msg", w.m.CID, "err", a.Reason)
		return false, nil

	case ActRecordSigned:
		r, err := p.st.MarkMessageSigned(ctx, w.m.ID, w.sm.Cid().String(), now)
		if err != nil {
			return false, fmt.Errorf("commit: record signature: %w", err)
		}
		w.m, f.State = &r, StateSigned
		return true, nil

	case ActNoteAltCID:
		// Re-signed after a restart and the signer is not deterministic:
		// same message and nonce, different signature. Both cannot land
		// (same From+Nonce); follow this one as well as the stored one.
		c := w.sm.Cid()
		log.Warn("commit: re-signature differs from the stored one", "stored", w.m.SignedCID, "new", c.String())
		p.mu.Lock()
		p.altCID[w.m.ID] = c
		p.mu.Unlock()
		f.Sign.AltCID = false
		return true, nil

	case ActLookup:
		ml, err := p.lookup(ctx, *w.m, w.head)
		if err != nil {
			log.Warn("commit: message search failed; treating it as not on chain yet", "err", err)
		}
		f.Chain = &ChainFacts{}
		if ml != nil {
			f.Chain = &ChainFacts{Found: true, Height: ml.Height, Exit: ml.Receipt.ExitCode, Return: ml.Receipt.Return, CID: ml.Message.String()}
		}
		return true, nil

	case ActPush:
		_, err := p.chain.MpoolPush(ctx, w.sm)
		f.Push = &PushFacts{Outcome: ClassifyPushError(err)}
		if err != nil {
			f.Push.Err = err.Error()
			log.Info("commit: mpool push answered", "outcome", f.Push.Outcome, "err", err)
		}
		if f.Push.Outcome == PushNonceTooLow {
			// The nonce was spent after any earlier search: look again.
			f.Chain = nil
		}
		return true, nil

	case ActRecordPushed:
		if _, err := p.st.MarkMessagePushed(ctx, w.m.ID, now); err != nil {
			return false, fmt.Errorf("commit: record push: %w", err)
		}
		p.mu.Lock()
		p.pushedAt[w.m.ID] = now
		delete(p.repush, w.m.ID)
		p.mu.Unlock()
		p.setStatus(b.ID, "", false)
		log.Info("commit: message pushed", "msg", w.m.ChainCID(), "nonce", w.m.Nonce, "note", a.Reason)
		f.State, f.RepushDue = StatePushed, false
		return false, nil

	case ActRelease:
		switch err := p.st.ReleaseBatch(ctx, b.ID, a.Reason, now); {
		case errors.Is(err, store.ErrNonceGap):
			log.Info("commit: batch keeps its nonce; not released", "why", a.Reason)
			f.ReleaseRefused = true
			return true, nil
		case err != nil:
			return false, fmt.Errorf("commit: release batch %d: %w", b.ID, err)
		}
		var msgID int64
		if w.m != nil {
			msgID = w.m.ID
		}
		p.forget(msgID, b.ID)
		log.Info("commit: batch released", "why", a.Reason, "groups", len(a.Groups), "failed", len(a.Fail))
		f.State = StateFailed
		return false, p.settle(ctx, w, a)

	case ActAbandon:
		if _, err := p.st.MarkMessageFailed(ctx, w.m.ID, a.Reason, now); err != nil {
			return false, fmt.Errorf("commit: fail message: %w", err)
		}
		p.forget(w.m.ID, b.ID)
		log.Warn("commit: message abandoned; its sectors are regrouped", "why", a.Reason, "msg", w.m.ChainCID())
		f.State = StateFailed
		return false, p.settle(ctx, w, a)

	case ActCulprits:
		f.Culprits = map[store.SectorID]string{}
		ds, err := p.loadSectors(ctx, f.Members, b.Kind)
		if err == nil {
			_, checks, err2 := p.precheck(ctx, b.Kind, ds, w.head)
			err = err2
			for id, c := range checks {
				if c.Verdict == Bad {
					f.Culprits[id] = c.Reason
				}
			}
		}
		if err != nil {
			log.Warn("commit: precheck after failure", "err", err)
		}
		return true, nil

	case ActLand:
		if _, err := p.st.MarkMessageLanded(ctx, w.m.ID, int64(a.Exit), now); err != nil {
			return false, fmt.Errorf("commit: record receipt: %w", err)
		}
		p.forget(w.m.ID, b.ID)
		log.Info("commit: message landed", "msg", f.Chain.CID, "exit", a.Exit, "height", f.Chain.Height, "sectors", len(f.Members))
		if a.Reason != "" {
			log.Warn("commit: " + a.Reason)
		}
		f.State = StateLanded
		if !a.Exit.IsSuccess() {
			f.State = StateFailed
		}
		if len(a.Retry) > 0 {
			p.mu.Lock()
			for _, id := range a.Retry {
				p.retryAt[id] = now.Add(p.cfg.RetryBackoff)
			}
			p.mu.Unlock()
		}
		return false, p.settle(ctx, w, a)

	case ActMarkExternal:
		p.mu.Lock()
		for _, id := range a.Sectors {
			p.external[id] = b.Kind
		}
		p.mu.Unlock()
		for _, id := range a.Sectors {
			log.Warn("commit: sector already on chain; left out of the batch", "sector", id)
		}
		return false, nil

	case ActWait:
		p.setStatus(b.ID, a.Reason, a.WaitingForSigner)
		if a.Reason != "" {
			log.Debug("commit: batch waits", "reason", a.Reason)
		}
		return false, nil
	}
	return false, fmt.Errorf("commit: batch %d: unknown action %s", b.ID, a.Kind)
}

// settle carries out what follows a batch's end: sectors failed for good,
// and groups regrouped into batches of their own.
func (p *Pipeline) settle(ctx context.Context, w *work, a Action) error {
	if err := p.failSectors(ctx, a.Fail, w.log); err != nil {
		return err
	}
	return p.regroup(ctx, w.b.Kind, w.t.ID, a.Groups)
}

// applyBuild builds the message for every prechecked member, estimates its
// gas, caps its fee and measures it.
func (p *Pipeline) applyBuild(ctx context.Context, w *work, f *Facts) error {
	msg, maxFee, err := p.build(ctx, w.t, w.b.Kind, w.from, w.ds, w.fs, w.head)
	if err != nil {
		return err
	}
	bf := &BuildFacts{}
	f.Build = bf
	est, err := p.chain.GasEstimateMessageGas(ctx, msg, sendSpec(maxFee), w.head.Key())
	if err != nil {
		bf.EstimateErr = err.Error()
		bf.EstimateExit, bf.EstimateExitOK = EstimateExit(err)
		if bf.EstimateExitOK && SectorSpecific(bf.EstimateExit) {
			w.log.Warn("commit: gas estimation predicts failure", "exit", bf.EstimateExit, "err", err)
		}
		return nil
	}
	bf.GasLimit = est.GasLimit
	bf.Fee = CapFee(est.GasLimit, est.GasFeeCap, est.GasPremium, maxFee, baseFee(w.head))
	if !bf.Fee.OK {
		w.log.Info("commit: batch held by fee cap", "reason", bf.Fee.Reason)
	}
	msg.GasLimit, msg.GasFeeCap, msg.GasPremium = est.GasLimit, bf.Fee.GasFeeCap, bf.Fee.GasPremium
	raw, err := msg.Serialize()
	if err != nil {
		return fmt.Errorf("commit: encode message: %w", err)
	}
	// A signature adds at most 100 bytes (a BLS one is 97) plus headers.
	bf.Size, bf.Limit = len(raw)+128, p.cfg.MaxMessageBytes
	if msg.Method == miner.MethodProveCommitSectorsNI {
		bf.Limit = p.cfg.MaxNIMessageBytes
	}
	w.msg = msg
	return nil
}

// storeMessage reserves the batch's nonce (idempotent per batch) and
// stores the unsigned bytes under it: from here on the message is resent,
// never rebuilt.
func (p *Pipeline) storeMessage(ctx context.Context, w *work, f *Facts) error {
	msg, m := w.msg, w.m
	if m == nil {
		next, err := p.chain.MpoolGetNonce(ctx, w.from)
		if err != nil {
			return fmt.Errorf("commit: mpool nonce of %s: %w", w.from, err)
		}
		r, err := p.st.ReserveNonce(ctx, w.b.ID, senderKey(w.from), next, p.cfg.Now())
		if err != nil {
			return fmt.Errorf("commit: reserve nonce: %w", err)
		}
		m = &r
	} else if m.From != senderKey(w.from) {
		return fmt.Errorf("commit: message %d reserved for sender %s, tenant now sends from %s: %w", m.ID, m.From, senderKey(w.from), ErrPolicy)
	}
	msg.Nonce = m.Nonce
	raw, err := msg.Serialize()
	if err != nil {
		return fmt.Errorf("commit: encode message: %w", err)
	}
	r, err := p.st.SetMessageUnsigned(ctx, m.ID, raw, msg.Cid().String(), p.cfg.Now())
	if err != nil {
		return fmt.Errorf("commit: store unsigned message: %w", err)
	}
	w.log.Info("commit: message prepared", "msg", r.CID, "nonce", r.Nonce, "from", r.From, "sectors", len(w.ds),
		"value", msg.Value.String(), "gas_limit", msg.GasLimit, "fee_cap", msg.GasFeeCap.String())
	w.m = &r
	f.State, f.From, f.Nonce = StatePrepared, r.From, r.Nonce
	f.Sign, w.sm = p.signFacts(w.t, w.b, r)
	return nil
}
