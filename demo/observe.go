package demo

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/chain/lotus"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/delivery"
	"github.com/sealant/sealant/store"

	cid "github.com/ipfs/go-cid"
)

// sectorView is what the observer knows of one sector.
type sectorView struct {
	id        api.SectorID
	phase     string
	state     string
	proven    bool
	delivered bool
	verified  bool
	failed    string // reason, when failed for good
	verifyTry int
}

// observer follows the tenants' sectors until all are verified or failed.
type observer struct {
	c       *cluster
	data    map[string]int
	sectors map[string]map[uint64]*sectorView // tenant → number → view
	wpost   map[string]map[uint64]bool        // tenant → sectors covered by a WindowPoSt
	lines   int                               // status lines drawn (redraw)
	landed  map[cid.Cid]bool                  // WindowPoSt messages seen executed
	// lastVerified is when the last sector was verified: the end of the
	// sealing pipeline, which the throughput figure is measured to.
	lastVerified time.Time
	// note says what the run waits for once sealing is done (see
	// windowPoStWait); dlOf caches the deadline each sector is in.
	note string
	dlOf map[string]map[uint64]uint64
	// last is what was printed last without the time (no redraw: an
	// unchanged status is not printed again).
	last string
	// tenantLast is lastVerified per tenant, for its own throughput.
	tenantLast map[string]time.Time
	start      time.Time
}

func newObserver(c *cluster, data map[string]int) *observer {
	o := &observer{c: c, data: data, sectors: map[string]map[uint64]*sectorView{}, wpost: map[string]map[uint64]bool{}, landed: map[cid.Cid]bool{}, tenantLast: map[string]time.Time{}}
	for _, t := range c.tenants {
		o.sectors[t.Name] = map[uint64]*sectorView{}
		o.wpost[t.Name] = map[uint64]bool{}
	}
	return o
}

// run polls until done, the timeout or ctx's end, drawing progress, and
// returns the summary.
func (o *observer) run(ctx context.Context, start time.Time) (*Summary, error) {
	cfg := o.c.cfg
	o.start = start
	deadline := time.NewTimer(cfg.Timeout - time.Since(start))
	defer deadline.Stop()
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	lastDraw := time.Time{}
	var runErr error
	for {
		o.refresh(ctx)
		if time.Since(lastDraw) >= cfg.ProgressTick {
			o.note = o.windowPoStWait(ctx)
			o.draw(start)
			lastDraw = time.Now()
		}
		if err := o.c.firstErr(); err != nil {
			runErr = fmt.Errorf("demo: component failed: %w", err)
			break
		}
		if o.done() {
			break
		}
		select {
		case <-ctx.Done():
			runErr = ctx.Err()
		case <-deadline.C:
			runErr = fmt.Errorf("%w within %s", ErrDemo, cfg.Timeout)
		case <-poll.C:
			continue
		}
		break
	}
	elapsed := time.Since(start)
	if o.done() {
		o.note = ""
	}
	o.draw(start)
	// Figures are read with a fresh context: ctx may be the one that ended.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	sum := o.summary(sctx, elapsed, o.lastVerified.Sub(start))
	if runErr == nil && !sum.OK {
		runErr = ErrDemo
	}
	if runErr != nil {
		sum.OK = false
		sum.Error = runErr.Error()
	}
	return sum, runErr
}

// done: every tenant has all its sectors allocated, each verified or
// failed, and (WaitWindowPoSt) every Architecture 1 sector was proven in a
// WindowPoSt.
func (o *observer) done() bool {
	for _, t := range o.c.tenants {
		secs := o.sectors[t.Name]
		if len(secs) < o.c.cfg.Sectors {
			return false
		}
		for n, s := range secs {
			if s.failed != "" {
				continue
			}
			if !s.verified {
				return false
			}
			if o.c.cfg.WaitWindowPoSt && t.Architecture == api.ArchProviderProves && !o.wpost[t.Name][n] {
				return false
			}
		}
	}
	return true
}

// refresh updates every sector's view from the manager, the chain, the
// receivers and the provider's store.
func (o *observer) refresh(ctx context.Context) {
	for _, sub := range o.postSubmissions() {
		// A WindowPoSt counts once its message executed successfully.
		if !o.postLanded(ctx, sub.Message) {
			continue
		}
		for _, n := range sub.Proven {
			if m := o.wpost[sub.Tenant]; m != nil {
				m[n] = true
			}
		}
	}
	for _, t := range o.c.tenants {
		list, err := o.c.svc.ListSectors(adminCtx(ctx), api.SectorListRequest{Tenant: t.Name})
		if err != nil {
			continue
		}
		for _, si := range list {
			v := o.sectors[t.Name][si.ID.Number]
			if v == nil {
				v = &sectorView{id: si.ID}
				o.sectors[t.Name][si.ID.Number] = v
			}
			v.phase, v.state = si.Phase, si.State
			if si.Phase == string(store.PhaseAborted) && v.failed == "" && !v.verified {
				v.failed = si.AbortReason
				if v.failed == "" {
					v.failed = "aborted"
				}
			}
			if v.failed != "" || v.verified {
				continue
			}
			if !v.proven && si.ProveMsg != "" {
				info, err := o.c.chain.StateSectorGetInfo(ctx, t.Miner, si.ID.Number, types.EmptyTSK)
				v.proven = err == nil && info != nil
			}
			if !v.proven {
				continue
			}
			o.checkDelivery(ctx, t, si, v)
		}
	}
}

// checkDelivery follows a proven sector into the SP's store.
func (o *observer) checkDelivery(ctx context.Context, t *tenant, si api.SectorInfo, v *sectorView) {
	if t.Architecture == api.ArchSPProves {
		rs, err := t.receiver.SectorStatus(si.ID)
		if err != nil || rs == nil {
			return
		}
		switch rs.State {
		case api.DeliveryAccepted:
			v.delivered, v.verified = true, true
			o.lastVerified = time.Now()
			o.tenantLast[t.Name] = o.lastVerified
		case api.DeliveryRejected:
			// The worker may deliver again after a rejection; the receiver's
			// reason is kept in case it never does.
			v.delivered = false
		}
		return
	}
	// Architecture 1: the worker copies into the provider's store and
	// finalizes; the SP-side check is the same verified import, run here
	// over the store.
	if si.Phase != string(store.PhaseFinalized) {
		return
	}
	in, err := delivery.InStore(t.storePath, si.ID)
	if err != nil || !in {
		return
	}
	v.delivered = true
	md, err := o.c.svc.ExportSector(adminCtx(ctx), si.ID)
	if err != nil {
		return
	}
	md.Files = deliveredFiles(md.Files)
	res := delivery.Verify(ctx, delivery.VerifyInput{Metadata: md, Dir: t.storePath, Chain: o.c.chain, Workers: 1})
	v.verifyTry++
	if res.OK {
		v.verified = true
		o.lastVerified = time.Now()
		o.tenantLast[t.Name] = o.lastVerified
		return
	}
	if v.verifyTry >= 3 {
		v.failed = "verified import failed: " + delivery.FailedChecks(res)
	}
}

// deliveredFiles keeps the files a sector is delivered with (sealed and
// the cache files); the unsealed copy of a data sector stays with the
// provider.
func deliveredFiles(fs []api.SectorFile) []api.SectorFile {
	out := fs[:0:0]
	for _, f := range fs {
		if !strings.HasPrefix(f.Name, "unsealed/") {
			out = append(out, f)
		}
	}
	return out
}

// postLanded reports whether a SubmitWindowedPoSt executed with exit 0
// (remembered once true).
func (o *observer) postLanded(ctx context.Context, c cid.Cid) bool {
	if o.landed[c] {
		return true
	}
	ml, err := o.c.chain.StateSearchMsg(ctx, types.EmptyTSK, c, lotus.LookbackNoLimit, true)
	if err != nil || ml == nil || ml.Receipt.ExitCode != 0 {
		return false
	}
	o.landed[c] = true
	return true
}

func (o *observer) postSubmissions() []postSub {
	if o.c.asm == nil || o.c.asm.WindowPoSt == nil {
		return nil
	}
	var out []postSub
	for _, s := range o.c.asm.WindowPoSt.Submissions() {
		out = append(out, postSub{Tenant: s.Tenant, Proven: s.Proven, Message: s.Message})
	}
	return out
}

type postSub struct {
	Tenant  string
	Proven  []uint64
	Message cid.Cid
}

// counts returns a tenant's totals.
func (o *observer) counts(t *tenant) (allocated, proven, delivered, verified, failed int) {
	for _, s := range o.sectors[t.Name] {
		allocated++
		if s.proven {
			proven++
		}
		if s.delivered {
			delivered++
		}
		if s.verified {
			verified++
		}
		if s.failed != "" {
			failed++
		}
	}
	return
}

// summary assembles the result, reading messages, fees and stage times.
func (o *observer) summary(ctx context.Context, elapsed, sealing time.Duration) *Summary {
	sum := &Summary{ElapsedS: round2(elapsed.Seconds()), Cores: numCPU(), OK: true}
	if sealing > 0 {
		sum.SealedS = round2(sealing.Seconds())
	}
	total := 0
	for _, t := range o.c.tenants {
		_, proven, delivered, verified, failed := o.counts(t)
		ts := TenantSummary{Tenant: t.Name, Miner: t.Miner.String(), Architecture: int(t.Architecture), PoRep: t.porep(), Signer: t.signer, Sectors: o.c.cfg.Sectors,
			DataSectors: o.data[t.Name], Proven: proven, Delivered: delivered, Verified: verified, Failed: failed,
			WindowPoSt: len(o.wpost[t.Name])}
		nums := make([]uint64, 0, len(o.sectors[t.Name]))
		for n := range o.sectors[t.Name] {
			nums = append(nums, n)
		}
		slices.Sort(nums)
		for _, n := range nums {
			if s := o.sectors[t.Name][n]; s.failed != "" {
				ts.Failures = append(ts.Failures, fmt.Sprintf("%s: %s", s.id, s.failed))
			}
		}
		msgs, fee := o.messages(ctx, t)
		ts.Messages, ts.FeesAttoFIL = msgs, fee.String()
		if last, ok := o.tenantLast[t.Name]; ok && !o.start.IsZero() && verified > 0 {
			ts.SealedS = round2(last.Sub(o.start).Seconds())
			if ts.SealedS > 0 {
				ts.SectorsPerMinute = round2(float64(verified) / (ts.SealedS / 60))
			}
		}
		ts.Stages = o.stages(ctx, t)
		if proven < o.c.cfg.Sectors || verified < o.c.cfg.Sectors {
			sum.OK = false
		}
		total += verified
		sum.Tenants = append(sum.Tenants, ts)
	}
	if sealing > 0 {
		sum.SectorsPerMinute = round2(float64(total) / sealing.Minutes())
	}
	if o.c.cfg.WaitWindowPoSt {
		for _, ts := range sum.Tenants {
			if ts.Architecture == int(api.ArchProviderProves) && ts.WindowPoSt < ts.Verified {
				sum.OK = false
			}
		}
	}
	return sum
}

// messages counts the tenant's sent chain messages and their fees: the base
// fee burnt on the gas used plus the premium paid to the block producer.
func (o *observer) messages(ctx context.Context, t *tenant) (int, *big.Int) {
	fee := new(big.Int)
	n := 0
	batches, err := o.c.svc.Store().ListBatches(ctx, store.BatchFilter{TenantID: t.Name})
	if err == nil {
		for _, b := range batches {
			m := b.Message
			if m == nil || m.State != store.MsgLanded && m.State != store.MsgPushed {
				continue
			}
			n++
			c, err := cid.Parse(m.ChainCID())
			if err != nil {
				continue
			}
			var premium, feeCap *big.Int
			if um, err := types.DecodeMessage(m.Unsigned); err == nil {
				premium, feeCap = um.GasPremium.Int, um.GasFeeCap.Int
				fee.Add(fee, o.gasFee(ctx, c, um.GasLimit, premium, feeCap))
			}
		}
	}
	for _, s := range o.postSubmissions() {
		if s.Tenant != t.Name {
			continue
		}
		n++
		fee.Add(fee, o.gasFee(ctx, s.Message, 0, nil, nil))
	}
	return n, fee
}

// gasFee is GasUsed × base fee + min(premium, feeCap − base fee) × gasLimit
// for a landed message (0 if it is not found).
func (o *observer) gasFee(ctx context.Context, c cid.Cid, gasLimit int64, premium, feeCap *big.Int) *big.Int {
	ml, err := o.c.chain.StateSearchMsg(ctx, types.EmptyTSK, c, lotus.LookbackNoLimit, true)
	if err != nil || ml == nil {
		return new(big.Int)
	}
	base := big.NewInt(100)
	if ts, err := o.c.chain.ChainHead(ctx); err == nil && len(ts.Blocks) > 0 && ts.Blocks[0].ParentBaseFee.Int != nil {
		base = ts.Blocks[0].ParentBaseFee.Int
	}
	f := new(big.Int).Mul(big.NewInt(ml.Receipt.GasUsed), base)
	if premium != nil && feeCap != nil {
		tip := new(big.Int).Sub(feeCap, base)
		if premium.Cmp(tip) < 0 {
			tip = premium
		}
		if tip.Sign() > 0 {
			f.Add(f, new(big.Int).Mul(tip, big.NewInt(gasLimit)))
		}
	}
	return f
}

// stageBounds maps the sector states (worker/sectorfsm names, as reported
// to the manager) that end each stage.
var stageBounds = []struct{ stage, end string }{
	{"seal (pieces, PC1, PC2)", "PC2Done"},
	{"precommit on chain", "PreCommitLanded"},
	{"wait seed", "SeedAssigned"},
	{"prove (C1, C2, ProveCommit)", "ProofLanded"},
	{"finalize + deliver", "Delivered"},
}

// stages computes the median and maximum time of each stage from the
// sectors' histories (first time each end state was reported).
func (o *observer) stages(ctx context.Context, t *tenant) []StageTime {
	durs := make([][]float64, len(stageBounds))
	for _, s := range o.sectors[t.Name] {
		hist, err := o.c.svc.Store().SectorHistory(ctx, store.SectorID{Miner: s.id.Miner, Number: s.id.Number})
		if err != nil || len(hist) == 0 {
			continue
		}
		first := map[string]time.Time{}
		for _, h := range hist {
			if _, ok := first[h.Next]; !ok {
				first[h.Next] = h.At
			}
		}
		prev := hist[0].At
		if sec, err := o.c.svc.Store().GetSector(ctx, store.SectorID{Miner: s.id.Miner, Number: s.id.Number}); err == nil {
			prev = sec.AllocatedAt
		}
		for i, b := range stageBounds {
			at, ok := first[b.end]
			if !ok {
				break
			}
			durs[i] = append(durs[i], at.Sub(prev).Seconds())
			prev = at
		}
	}
	var out []StageTime
	for i, b := range stageBounds {
		d := durs[i]
		if len(d) == 0 {
			continue
		}
		sort.Float64s(d)
		out = append(out, StageTime{Stage: b.stage, MedianS: round2(d[len(d)/2]), MaxS: round2(d[len(d)-1])})
	}
	return out
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// draw writes one status line per tenant (redrawn in place on a TTY).
func (o *observer) draw(start time.Time) {
	w := o.c.cfg.Progress
	if w == nil {
		return
	}
	var b, plain strings.Builder
	if o.c.cfg.Redraw && o.lines > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", o.lines)
	}
	lines := make([]string, 0, len(o.c.tenants)+1)
	for _, t := range o.c.tenants {
		alloc, proven, delivered, verified, failed := o.counts(t)
		sealing := 0
		for _, s := range o.sectors[t.Name] {
			if !s.proven && s.failed == "" {
				sealing++
			}
		}
		line := fmt.Sprintf("%s %s arch%d  allocated %d/%d  in flight %d  proven %d  delivered %d  verified %d",
			t.Name, t.Miner, t.Architecture, alloc, o.c.cfg.Sectors, sealing, proven, delivered, verified)
		if t.Architecture == api.ArchProviderProves {
			line += fmt.Sprintf("  windowpost %d", len(o.wpost[t.Name]))
		}
		if failed > 0 {
			line += fmt.Sprintf("  FAILED %d", failed)
		}
		lines = append(lines, line)
	}
	if o.note != "" {
		lines = append(lines, o.note)
	}
	for _, l := range lines {
		plain.WriteString(l)
		plain.WriteByte('\n')
	}
	if !o.c.cfg.Redraw && plain.String() == o.last {
		return // nothing changed: no repeated status lines
	}
	prev := strings.Split(o.last, "\n")
	o.last = plain.String()
	for i, l := range lines {
		if o.c.cfg.Redraw {
			b.WriteString("\x1b[2K")
		} else if i < len(prev) && prev[i] == l {
			continue // appended output: only the lines that changed
		}
		fmt.Fprintf(&b, "[%6.1fs] %s\n", time.Since(start).Seconds(), l)
	}
	if o.c.cfg.Redraw && len(lines) < o.lines {
		// The note went away: clear its line.
		b.WriteString("\x1b[2K\n")
		lines = append(lines, "")
	}
	o.lines = len(lines)
	_, _ = io.WriteString(w, b.String())
}

// windowPoStWait says what the run waits for when every sector is
// verified and only Architecture 1's first WindowPoSt is missing: the
// deadline the sectors are in, the epoch it opens and about how long that
// is. It returns "" while sealing is still under way or when the chain
// cannot tell.
func (o *observer) windowPoStWait(ctx context.Context) string {
	if !o.c.cfg.WaitWindowPoSt {
		return ""
	}
	for _, t := range o.c.tenants {
		if len(o.sectors[t.Name]) < o.c.cfg.Sectors {
			return ""
		}
		for _, s := range o.sectors[t.Name] {
			if s.failed == "" && !s.verified {
				return ""
			}
		}
	}
	for _, t := range o.c.tenants {
		if t.Architecture != api.ArchProviderProves {
			continue
		}
		var pending []uint64
		for n, s := range o.sectors[t.Name] {
			if s.failed == "" && !o.wpost[t.Name][n] {
				pending = append(pending, n)
			}
		}
		if len(pending) == 0 {
			continue
		}
		slices.Sort(pending)
		dl, err := o.c.chain.StateMinerProvingDeadline(ctx, t.Miner, types.EmptyTSK)
		if err != nil || dl.WPoStChallengeWindow <= 0 || dl.WPoStProvingPeriod <= 0 {
			return ""
		}
		idx, ok := o.deadlineOf(ctx, t, pending[0], dl.WPoStPeriodDeadlines)
		if !ok {
			return fmt.Sprintf("waiting for %s's first WindowPoSt: sector %d is not yet in a deadline (epoch %d)", t.Name, pending[0], dl.CurrentEpoch)
		}
		open := dl.PeriodStart + types.ChainEpoch(idx)*dl.WPoStChallengeWindow
		for open+dl.WPoStChallengeWindow <= dl.CurrentEpoch {
			open += dl.WPoStProvingPeriod
		}
		if open <= dl.CurrentEpoch {
			return fmt.Sprintf("waiting for %s's WindowPoSt: deadline %d is open (epochs %d–%d, now %d); the proof is being submitted",
				t.Name, idx, open, open+dl.WPoStChallengeWindow-1, dl.CurrentEpoch)
		}
		eta := time.Duration(open-dl.CurrentEpoch) * o.c.cfg.BlockTime
		return fmt.Sprintf("waiting for %s's WindowPoSt: its sectors are in deadline %d, which opens at epoch %d (now %d, about %s)",
			t.Name, idx, open, dl.CurrentEpoch, eta.Round(time.Second))
	}
	return ""
}

// deadlineOf finds the deadline holding sector n of t (cached: a sector
// stays in its deadline).
func (o *observer) deadlineOf(ctx context.Context, t *tenant, n, deadlines uint64) (uint64, bool) {
	if o.dlOf == nil {
		o.dlOf = map[string]map[uint64]uint64{}
	}
	if o.dlOf[t.Name] == nil {
		o.dlOf[t.Name] = map[uint64]uint64{}
	}
	if d, ok := o.dlOf[t.Name][n]; ok {
		return d, true
	}
	for d := uint64(0); d < deadlines; d++ {
		parts, err := o.c.chain.StateMinerPartitions(ctx, t.Miner, d, types.EmptyTSK)
		if err != nil {
			return 0, false
		}
		for _, p := range parts {
			all, err := p.AllSectors.Decode()
			if err != nil {
				continue
			}
			if has, err := all.IsSet(n); err == nil && has {
				o.dlOf[t.Name][n] = d
				return d, true
			}
		}
	}
	return 0, false
}
