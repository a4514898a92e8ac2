package signer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
)

// wpostPeriodDeadlines is the number of proving deadlines per period.
const wpostPeriodDeadlines = 48

// maxBitfieldSectors bounds how many sector numbers a recovery bitfield may
// expand to while checking it (decoded bitfields can name huge runs).
const maxBitfieldSectors = 1 << 16

// Request is one message to evaluate: the unsigned message CBOR and what
// the requester claims about it.
type Request struct {
	// Message is the unsigned message CBOR (the only thing trusted,
	// after decoding).
	Message []byte
	// Cid is the claimed CID string of Message; it must match.
	Cid string
	// From is the claimed signing address ("" = not claimed).
	From string
	// Sectors are the claimed sector numbers (nil = not claimed); when
	// given they must equal the sectors the params name.
	Sectors []uint64
}

// Summary is the decoded message as shown to the operator and written to
// the audit log. It never holds key material; Params holds only decoded
// public parameters.
type Summary struct {
	Cid        string `json:"cid,omitempty"`
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
	Nonce      uint64 `json:"nonce"`
	Method     uint64 `json:"method"`
	MethodName string `json:"method_name,omitempty"`
	Value      string `json:"value,omitempty"` // attoFIL
	GasLimit   int64  `json:"gas_limit"`
	GasFeeCap  string `json:"gas_fee_cap,omitempty"`
	GasPremium string `json:"gas_premium,omitempty"`
	// MaxFee is GasFeeCap × GasLimit in attoFIL.
	MaxFee string `json:"max_fee,omitempty"`
	// Sectors are the sector numbers the params name, as ranges "1-4,7".
	Sectors     string `json:"sectors,omitempty"`
	SectorCount int    `json:"sector_count,omitempty"`
	// Detail is a short human description of the params.
	Detail string `json:"detail,omitempty"`
}

// Decision is the outcome of evaluating a request.
type Decision struct {
	Allowed bool    `json:"allowed"`
	Reason  string  `json:"reason"`
	Summary Summary `json:"summary"`

	msg   *types.Message
	value types.BigInt // counted against the value caps
	fee   types.BigInt // GasFeeCap × GasLimit
}

// Usage is what has been counted today against the daily caps.
type Usage struct {
	Value types.BigInt
	Fee   types.BigInt
}

// KeySet says whether the signer holds a key (nil: do not check, as in the
// offline `policy check` without a keystore).
type KeySet interface{ Has(address.Address) bool }

func refuse(d *Decision, format string, args ...any) Decision {
	d.Allowed = false
	d.Reason = fmt.Sprintf(format, args...)
	return *d
}

// Evaluate decides whether req may be signed. It decodes the message
// itself; the claimed CID, sender and sectors are only compared with what
// the bytes say. keys may be nil (no sender check); usage nil means the
// daily caps are checked against this message alone.
func (p *Policy) Evaluate(req Request, keys KeySet, usage *Usage) Decision {
	var d Decision
	msg, err := types.DecodeMessage(req.Message)
	if err != nil {
		return refuse(&d, "malformed message cbor: %v", err)
	}
	d.msg = msg
	c := msg.Cid()
	fee := msg.GasFeeCap.Mul(types.NewInt(msg.GasLimit))
	d.fee = fee
	d.value = msg.Value
	d.Summary = Summary{Cid: c.String(), From: msg.From.String(), To: msg.To.String(), Nonce: msg.Nonce,
		Method: uint64(msg.Method), MethodName: miner.MethodName(msg.Method), Value: msg.Value.String(),
		GasLimit: msg.GasLimit, GasFeeCap: msg.GasFeeCap.String(), GasPremium: msg.GasPremium.String(),
		MaxFee: fee.String()}
	// Params are decoded first so that every refusal shows the operator
	// what the message would have done; the params verdict is applied
	// after the envelope checks below.
	sectors, detail, extraValue, paramsReason := p.checkParams(msg)
	d.Summary.Detail = detail
	if sectors != nil {
		d.Summary.Sectors = formatRanges(sectors)
		d.Summary.SectorCount = len(sectors)
	}

	if req.Cid != c.String() {
		return refuse(&d, "cid mismatch: request names %q but the message hashes to %s", clip(req.Cid), c)
	}
	if req.From != "" {
		if a, err := address.Parse(req.From); err != nil || a != msg.From {
			return refuse(&d, "sender mismatch: request names %q but the message is from %s", clip(req.From), msg.From)
		}
	}
	if err := msg.ValidateLimit(p.maxMsgBytes); err != nil {
		return refuse(&d, "invalid message: %v", err)
	}
	if p := msg.From.Protocol(); p != address.SECP256K1 && p != address.BLS {
		return refuse(&d, "sender %s is not an f1/f3 key address", msg.From)
	}
	if keys != nil && !keys.Has(msg.From) {
		return refuse(&d, "sender %s is not one of this signer's keys", msg.From)
	}
	if len(p.senders) > 0 && !p.senders[msg.From] {
		return refuse(&d, "sender %s is not in the policy's senders", msg.From)
	}
	if !p.miners[msg.To] {
		return refuse(&d, "recipient %s is not an allowed miner actor", msg.To)
	}
	if !p.methods[msg.Method] {
		return refuse(&d, "method %d (%s) is not allowed (allowed: %s)", msg.Method, methodLabel(msg.Method), joinUints(p.methodsSorted))
	}
	if msg.GasLimit > p.maxGasLimit {
		return refuse(&d, "gas limit %d exceeds cap %d", msg.GasLimit, p.maxGasLimit)
	}
	if msg.GasFeeCap.Cmp(p.maxFeeCap) > 0 {
		return refuse(&d, "gas fee cap %s attoFIL exceeds cap %s attoFIL", msg.GasFeeCap, p.maxFeeCap)
	}
	if msg.GasPremium.Cmp(p.maxPremium) > 0 {
		return refuse(&d, "gas premium %s attoFIL exceeds cap %s attoFIL", msg.GasPremium, p.maxPremium)
	}
	if fee.Cmp(p.maxFeeMsg) > 0 {
		return refuse(&d, "max fee %s (gas fee cap × gas limit) exceeds per-message cap %s", fee.FIL(), p.maxFeeMsg.FIL())
	}

	if paramsReason != "" {
		return refuse(&d, "%s", paramsReason)
	}
	if req.Sectors != nil && !sameSet(req.Sectors, sectors) {
		return refuse(&d, "sector mismatch: request claims %s but the params name %s",
			formatRanges(req.Sectors), orNone(formatRanges(sectors)))
	}

	d.value = msg.Value.Add(extraValue)
	if d.value.Cmp(p.maxValueMsg) > 0 {
		return refuse(&d, "value %s exceeds per-message cap %s", d.value.FIL(), p.maxValueMsg.FIL())
	}
	u := Usage{Value: types.Zero(), Fee: types.Zero()}
	if usage != nil {
		u = *usage
	}
	if tot := u.Value.Add(d.value); tot.Cmp(p.maxValueDay) > 0 {
		return refuse(&d, "value %s would bring today's total to %s, over the daily cap %s", d.value.FIL(), tot.FIL(), p.maxValueDay.FIL())
	}
	if tot := u.Fee.Add(fee); tot.Cmp(p.maxFeeDay) > 0 {
		return refuse(&d, "max fee %s would bring today's total to %s, over the daily cap %s", fee.FIL(), tot.FIL(), p.maxFeeDay.FIL())
	}
	d.Allowed = true
	d.Reason = "allowed"
	return d
}

// checkParams decodes and checks the method params. It returns the sector
// numbers named (nil if the method names none), a description, funds the
// params move beyond Value (WithdrawBalance), and a refusal reason.
func (p *Policy) checkParams(msg *types.Message) (sectors []uint64, detail string, extra types.BigInt, reason string) {
	extra = types.Zero()
	decoded, err := miner.DecodeParams(msg.Method, msg.Params)
	if err != nil {
		return nil, "", extra, fmt.Sprintf("params do not decode: %v", err)
	}
	toID, _ := address.IDOf(msg.To)
	switch pp := decoded.(type) {
	case *miner.PreCommitSectorBatchParams2:
		if len(pp.Sectors) == 0 {
			return nil, "", extra, "precommit batch is empty"
		}
		for _, s := range pp.Sectors {
			sectors = append(sectors, uint64(s.SectorNumber))
		}
		detail = fmt.Sprintf("precommit %d sector(s)", len(pp.Sectors))
		if r := p.checkSectorList(sectors); r != "" {
			return sectors, detail, extra, r
		}
		for _, s := range pp.Sectors {
			if !p.sealProofs[s.SealProof] {
				return sectors, detail, extra, fmt.Sprintf("sector %d: seal proof %d is not allowed", uint64(s.SectorNumber), s.SealProof)
			}
			if _, err := miner.CommR(s.SealedCID); err != nil {
				return sectors, detail, extra, fmt.Sprintf("sector %d: %v", uint64(s.SectorNumber), err)
			}
			if s.UnsealedCid != nil {
				if _, err := miner.CommD(*s.UnsealedCid); err != nil {
					return sectors, detail, extra, fmt.Sprintf("sector %d: %v", uint64(s.SectorNumber), err)
				}
			}
			if len(s.DealIDs) > 0 && !p.allowDeals {
				return sectors, detail, extra, fmt.Sprintf("sector %d: legacy deal ids are not allowed", uint64(s.SectorNumber))
			}
			if r := p.checkExpiration(uint64(s.SectorNumber), s.SealRandEpoch, s.Expiration); r != "" {
				return sectors, detail, extra, r
			}
		}
	case *miner.ProveCommitSectors3Params:
		if len(pp.SectorActivations) == 0 {
			return nil, "", extra, "prove-commit has no sectors"
		}
		for _, a := range pp.SectorActivations {
			sectors = append(sectors, uint64(a.SectorNumber))
		}
		kind := "per-sector proofs"
		if len(pp.AggregateProof) > 0 {
			kind = "aggregate proof"
		}
		detail = fmt.Sprintf("prove-commit %d sector(s), %s", len(sectors), kind)
		if r := p.checkSectorList(sectors); r != "" {
			return sectors, detail, extra, r
		}
		if (len(pp.SectorProofs) == 0) == (len(pp.AggregateProof) == 0) {
			return sectors, detail, extra, "exactly one of sector proofs and aggregate proof must be given"
		}
		if len(pp.SectorProofs) > 0 && len(pp.SectorProofs) != len(pp.SectorActivations) {
			return sectors, detail, extra, fmt.Sprintf("%d sector proofs for %d sectors", len(pp.SectorProofs), len(pp.SectorActivations))
		}
		for _, a := range pp.SectorActivations {
			for _, pc := range a.Pieces {
				if _, err := miner.CommD(pc.CID); err != nil {
					return sectors, detail, extra, fmt.Sprintf("sector %d: piece %v", uint64(a.SectorNumber), err)
				}
				for _, n := range pc.Notify {
					if !p.notifyActors[n.Address] {
						return sectors, detail, extra, fmt.Sprintf("sector %d: piece notifies %s, not an allowed actor", uint64(a.SectorNumber), n.Address)
					}
				}
			}
		}
	case *miner.ProveCommitSectorsNIParams:
		if len(pp.Sectors) == 0 {
			return nil, "", extra, "ni prove-commit has no sectors"
		}
		for _, s := range pp.Sectors {
			sectors = append(sectors, uint64(s.SectorNumber))
		}
		detail = fmt.Sprintf("ni-porep commit %d sector(s)", len(sectors))
		if r := p.checkSectorList(sectors); r != "" {
			return sectors, detail, extra, r
		}
		if !p.sealProofs[pp.SealProofType] {
			return sectors, detail, extra, fmt.Sprintf("seal proof %d is not allowed", pp.SealProofType)
		}
		if pp.ProvingDeadline >= wpostPeriodDeadlines {
			return sectors, detail, extra, fmt.Sprintf("proving deadline %d out of range", pp.ProvingDeadline)
		}
		for _, s := range pp.Sectors {
			if uint64(s.SealerID) != toID {
				return sectors, detail, extra, fmt.Sprintf("sector %d: sealer id %d is not the miner %s", uint64(s.SectorNumber), s.SealerID, msg.To)
			}
			if _, err := miner.CommR(s.SealedCID); err != nil {
				return sectors, detail, extra, fmt.Sprintf("sector %d: %v", uint64(s.SectorNumber), err)
			}
			if r := p.checkExpiration(uint64(s.SectorNumber), s.SealRandEpoch, s.Expiration); r != "" {
				return sectors, detail, extra, r
			}
		}
	case *miner.SubmitWindowedPoStParams:
		detail = fmt.Sprintf("window post deadline %d, %d partition(s)", pp.Deadline, len(pp.Partitions))
		if pp.Deadline >= wpostPeriodDeadlines {
			return nil, detail, extra, fmt.Sprintf("deadline %d out of range", pp.Deadline)
		}
		if len(pp.Partitions) == 0 || len(pp.Proofs) == 0 {
			return nil, detail, extra, "window post without partitions or proofs"
		}
	case *miner.DeclareFaultsRecoveredParams:
		if len(pp.Recoveries) == 0 {
			return nil, "", extra, "no recoveries declared"
		}
		for _, r := range pp.Recoveries {
			if r.Deadline >= wpostPeriodDeadlines {
				return nil, "", extra, fmt.Sprintf("deadline %d out of range", r.Deadline)
			}
			n, err := r.Sectors.Count()
			if err != nil {
				return nil, "", extra, fmt.Sprintf("recovery sectors: %v", err)
			}
			if n > maxBitfieldSectors {
				return nil, "", extra, fmt.Sprintf("recovery names %d sectors, more than %d", n, maxBitfieldSectors)
			}
			all, err := r.Sectors.All(maxBitfieldSectors)
			if err != nil {
				return nil, "", extra, fmt.Sprintf("recovery sectors: %v", err)
			}
			sectors = append(sectors, all...)
		}
		detail = fmt.Sprintf("declare %d sector(s) recovered in %d partition(s)", len(sectors), len(pp.Recoveries))
		for _, n := range sectors {
			if !p.inRange(n) {
				return sectors, detail, extra, fmt.Sprintf("sector %d is outside the tenant's range", n)
			}
		}
	case *miner.WithdrawBalanceParams:
		amount := types.BigInt(pp.AmountRequested)
		detail = fmt.Sprintf("withdraw %s", amount.FIL())
		if amount.Sign() < 0 {
			return nil, detail, extra, "negative withdrawal"
		}
		// Withdrawn funds leave the miner like Value leaves the sender:
		// count them against the same caps.
		extra = amount
	default:
		return nil, "", extra, fmt.Sprintf("no policy checks for method %d", msg.Method)
	}
	return sectors, detail, extra, ""
}

// checkSectorList checks count, uniqueness and the tenant's ranges.
func (p *Policy) checkSectorList(sectors []uint64) string {
	if len(sectors) > p.maxSectors {
		return fmt.Sprintf("%d sectors in one message, cap %d", len(sectors), p.maxSectors)
	}
	seen := make(map[uint64]bool, len(sectors))
	for _, n := range sectors {
		if seen[n] {
			return fmt.Sprintf("sector %d appears twice", n)
		}
		seen[n] = true
		if !p.inRange(n) {
			return fmt.Sprintf("sector %d is outside the tenant's range", n)
		}
	}
	return ""
}

func (p *Policy) checkExpiration(n uint64, seal, exp types.ChainEpoch) string {
	d := int64(exp) - int64(seal)
	if d < p.expMin || d > p.expMax {
		return fmt.Sprintf("sector %d: expiration %d is %d epochs after its ticket epoch %d, outside [%d, %d]",
			n, exp, d, seal, p.expMin, p.expMax)
	}
	return ""
}

func methodLabel(m types.MethodNum) string {
	if n := miner.MethodName(m); n != "" {
		return n
	}
	return "unknown"
}

func joinUints(v []uint64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatUint(x, 10)
	}
	return strings.Join(s, ", ")
}

// formatRanges renders sector numbers as sorted ranges: "1-4,7".
func formatRanges(v []uint64) string {
	if len(v) == 0 {
		return ""
	}
	s := append([]uint64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && (s[j+1] == s[j] || s[j+1] == s[j]+1) {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if s[i] == s[j] {
			b.WriteString(strconv.FormatUint(s[i], 10))
		} else {
			fmt.Fprintf(&b, "%d-%d", s[i], s[j])
		}
		i = j + 1
	}
	return b.String()
}

func sameSet(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[uint64]int, len(a))
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		if m[x] == 0 {
			return false
		}
		m[x]--
	}
	return true
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// clip bounds attacker-supplied strings echoed into reasons and logs.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
