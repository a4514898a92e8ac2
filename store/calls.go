package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"
)

// Worker calls: each method here is everything one worker-API call of the
// manager writes, in one transaction. The sector row is locked first, the
// caller's Holder checks it, and the lease is renewed in the same
// transaction when it runs low, so a call never pays for a separate read,
// check or heartbeat.

// Holder is a worker call's claim on a sector.
type Holder struct {
	// Check runs on the locked sector before anything changes (the
	// manager checks that the caller may act on it); its error ends the
	// call unchanged and nothing is written.
	Check func(Sector) error
	// Now is the call's time. When TTL is set and an active sector's lease
	// has less than three quarters of TTL left, it is extended to Now+TTL:
	// calls double as heartbeats, at a write only every TTL/4.
	Now time.Time
	TTL time.Duration
	// Reports are the sector's state reports the manager accepted earlier
	// and has not written yet (see QueuedReport), oldest first: the call's
	// transaction writes them before anything else, so the sector's
	// history and the call's own writes stay in order.
	Reports []QueuedReport
}

// lockFor locks a sector for a worker call, checks the holder and renews
// the lease when it runs low.
func (d db) lockFor(ctx context.Context, id SectorID, h Holder) (Sector, error) {
	sec, err := d.getSector(ctx, id, true)
	if err != nil {
		return Sector{}, err
	}
	if h.Check != nil {
		if err := h.Check(sec); err != nil {
			return Sector{}, err
		}
	}
	if len(h.Reports) > 0 {
		if sec, _, err = d.applyReports(ctx, sec, h.Reports, h.TTL); err != nil {
			return Sector{}, err
		}
	}
	if h.TTL > 0 && sec.Phase == PhaseActive && sec.LeaseExpires.Sub(h.Now) < h.TTL*3/4 {
		exp := ms(h.Now.Add(h.TTL))
		if err := d.later(ctx, &id, `UPDATE sectors SET lease_expires_ms = ? WHERE miner_id = ? AND number = ?`,
			exp, int64(id.Miner), int64(id.Number)); err != nil {
			return Sector{}, fmt.Errorf("store: renew lease on sector %s: %w", id, err)
		}
		sec.LeaseExpires = fromMS(exp)
	}
	return sec, nil
}

// lockActive is lockFor for calls that need an active sector (else
// ErrSectorDone).
func (d db) lockActive(ctx context.Context, id SectorID, h Holder, what string) (Sector, error) {
	sec, err := d.lockFor(ctx, id, h)
	if err != nil {
		return Sector{}, err
	}
	if sec.Phase != PhaseActive {
		return Sector{}, fmt.Errorf("store: %s for sector %s: %s: %w", what, id, sec.Phase, ErrSectorDone)
	}
	return sec, nil
}

// WorkerAcquirePieces returns a sector's pieces, deciding them on the first
// call: the tenant's queued pieces that fit (see takePieces), none for an
// NI-PoRep sector (its commit activates no data) or an empty queue. The
// queue and the sector change in the same transaction. Repeats return the
// same pieces, also after the sector ended; a sector not decided by then is
// ErrSectorDone.
//
// ticket, when set, is a ticket the manager drew for the sector: a CC
// sector (no pieces) without a ticket stores it in the same transaction,
// so the worker's AssignTicket that follows only reads. A sector with
// pieces does not: its AddPiece may take long, and the ticket's age counts
// against the PreCommit deadline, so it is drawn when the worker asks.
func (s *Store) WorkerAcquirePieces(ctx context.Context, id SectorID, h Holder, ticket *Ticket) ([]Piece, error) {
	var out []Piece
	err := s.callTx(ctx, id, piecesCall, func(d db) error {
		ctx := context.WithoutCancel(ctx) // see callTx
		sec, err := d.lockFor(ctx, id, h)
		if err != nil {
			return err
		}
		var u sets
		if sec.PiecesSet {
			if out, err = d.pieces(ctx, id); err != nil {
				return err
			}
		} else {
			if sec.Phase != PhaseActive {
				return fmt.Errorf("store: acquire pieces for sector %s: %s: %w", id, sec.Phase, ErrSectorDone)
			}
			out = []Piece{}
			if !sec.ProofType.IsNI() {
				if out, err = d.takePieces(ctx, sec.TenantID, sec.SectorSize); err != nil {
					return err
				}
			}
			if err := d.insertPieces(ctx, id, out, h.Now, &u); err != nil {
				return err
			}
		}
		if ticket != nil && len(out) == 0 && sec.Phase == PhaseActive {
			if _, _, err := randomnessSets(sec, ticket, h.Now, false, &u); err != nil {
				return err
			}
		}
		return d.writeSets(ctx, id, u)
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []Piece{}
	}
	return out, nil
}

// WorkerRandomness returns a sector's ticket (seed false) or interactive
// seed, storing t when none is stored yet: the first value stored wins, so
// a repeat or a second manager gets the same one. With t nil it only looks:
// ok is false when nothing is stored. Storing on an ended sector is
// ErrSectorDone.
func (s *Store) WorkerRandomness(ctx context.Context, id SectorID, h Holder, seed bool, t *Ticket) (out Ticket, ok bool, err error) {
	err = s.callTx(ctx, id, sectorCall, func(d db) error {
		ctx := context.WithoutCancel(ctx) // see callTx
		sec, err := d.lockFor(ctx, id, h)
		if err != nil {
			return err
		}
		out, ok, err = d.assignRandomness(ctx, sec, t, h.Now, seed)
		return err
	})
	return out, ok, err
}

// Commitments is what a worker submits after PC2, for a PreCommit or, for
// an NI-PoRep sector, with its proof.
type Commitments struct {
	PreCommitInfo
	// CommC and CommRLast (hex) are stored once beside comm_r and comm_d.
	CommC, CommRLast string
	// Refusal, when set, refuses a first submission (not a repeat of a
	// stored one) with this reason: the manager's check of the ticket's
	// age against the chain.
	Refusal string
	// Invalid, when set, refuses the submission whatever is stored: the
	// manager could not parse the worker's payload. It is checked after
	// the sector's state, so a finished sector still answers ErrSectorDone
	// (terminal for the worker) rather than a refusal it would retry.
	Invalid string
}

// Outcome is the answer to a submission.
type Outcome struct {
	// Result is SubmitAccepted, SubmitDuplicate, SubmitMismatch or
	// SubmitRefused; Reason says why for the last two.
	Result SubmitResult
	Reason string
	// Batch is the batch this call queued the sector in (0: none), of the
	// sector's tenant Tenant.
	Batch  int64
	Tenant string
}

// SubmitRefused: the submission cannot be taken as it stands (no ticket
// yet, an expired ticket, …); nothing changed and a corrected one may
// follow.
const SubmitRefused SubmitResult = SubmitMismatch + 1

// WorkerSubmitPreCommit stores a sector's commitments once and queues it
// for its tenant's PreCommit batch, in one transaction. A repeat with the
// same values is SubmitDuplicate and queues the sector again only when
// requeue is set (the worker's reset after a failed batch) or when it is in
// no batch and has no message; different values are SubmitMismatch. An
// ended sector is ErrSectorDone.
func (s *Store) WorkerSubmitPreCommit(ctx context.Context, id SectorID, h Holder, c Commitments, requeue bool) (Outcome, error) {
	var out Outcome
	err := s.callTx(ctx, id, batchCall, func(d db) error {
		ctx := context.WithoutCancel(ctx) // see callTx
		sec, err := d.lockActive(ctx, id, h, "submit precommit")
		if err != nil {
			return err
		}
		var u sets
		if out, err = d.commitments(sec, c, h.Now, "differs from the earlier submission (comm_r, comm_d or ticket)", &u); err != nil ||
			out.Result == SubmitMismatch || out.Result == SubmitRefused {
			return err
		}
		if out.Result == SubmitAccepted || requeue || sec.PreCommitBatch == 0 && sec.PreCommitMsg == "" {
			if out.Batch, err = d.addToBatch(ctx, sec, BatchPreCommit, h.Now, &u); err != nil {
				return err
			}
			out.Tenant = sec.TenantID
		}
		return d.writeSets(ctx, id, u)
	})
	return out, err
}

// commitments stores comm_r, comm_d (with the stored ticket's check) and
// comm_c, comm_r_last once on a locked active sector, adding what to write
// to u; mismatch is the reason given when comm_r, comm_d or the ticket
// differ from stored ones.
func (d db) commitments(sec Sector, c Commitments, now time.Time, mismatch string, u *sets) (Outcome, error) {
	if c.Invalid != "" {
		return Outcome{Result: SubmitRefused, Reason: c.Invalid}, nil
	}
	if len(c.CommR) != 32 || len(c.CommD) != 32 {
		return Outcome{}, fmt.Errorf("store: submit commitments for sector %s: commitments must be 32 bytes: %w", sec.ID, ErrInvalid)
	}
	if sec.Ticket == nil {
		return Outcome{Result: SubmitRefused, Reason: "no ticket assigned: call AssignTicket first"}, nil
	}
	if sec.CommR == nil && c.Refusal != "" {
		return Outcome{Result: SubmitRefused, Reason: c.Refusal}, nil
	}
	if sec.Ticket.Epoch != c.Ticket.Epoch || !bytes.Equal(sec.Ticket.Value, c.Ticket.Value) {
		return Outcome{Result: SubmitMismatch, Reason: mismatch}, nil
	}
	// The locked row already holds what a repeat is compared with, so a
	// first submission is one UPDATE and a repeat none.
	if sec.CommR != nil {
		switch {
		case !bytes.Equal(sec.CommR, c.CommR) || !bytes.Equal(sec.CommD, c.CommD):
			return Outcome{Result: SubmitMismatch, Reason: mismatch}, nil
		case sec.CommC != "" && (sec.CommC != c.CommC || sec.CommRLast != c.CommRLast):
			return Outcome{Result: SubmitMismatch, Reason: "comm_c or comm_r_last differ from the earlier submission"}, nil
		case sec.CommC != "":
			return Outcome{Result: SubmitDuplicate}, nil
		}
		// Stored before comm_c was kept beside it: complete it.
		u.add("comm_c", c.CommC)
		u.add("comm_r_last", c.CommRLast)
		return Outcome{Result: SubmitDuplicate}, nil
	}
	u.add("comm_r", c.CommR)
	u.add("comm_d", c.CommD)
	u.add("comm_c", c.CommC)
	u.add("comm_r_last", c.CommRLast)
	u.add("updated_ms", ms(now))
	return Outcome{Result: SubmitAccepted}, nil
}

// sets collects assignments to one sector row, so that a call's changes
// are one UPDATE (one round trip); a column set twice keeps the last value.
type sets struct {
	cols []string
	args []any
}

func (u *sets) add(col string, v any) {
	for i, c := range u.cols {
		if c == col {
			u.args[i] = v
			return
		}
	}
	u.cols, u.args = append(u.cols, col), append(u.args, v)
}

// writeSets writes u to sector id (nothing when u is empty).
func (d db) writeSets(ctx context.Context, id SectorID, u sets) error {
	if len(u.cols) == 0 {
		return nil
	}
	q := `UPDATE sectors SET ` + strings.Join(u.cols, " = ?, ") + ` = ? WHERE miner_id = ? AND number = ?`
	if err := d.later(ctx, &id, q, append(u.args, int64(id.Miner), int64(id.Number))...); err != nil {
		return fmt.Errorf("store: update sector %s: %w", id, err)
	}
	return nil
}

// ProofSubmission is a worker's proof.
type ProofSubmission struct {
	Proof []byte
	// NI carries an NI-PoRep sector's commitments and ticket, which it
	// submits with its proof instead of in a PreCommit. NIRefusal, when
	// set, refuses an NI sector's submission (its commitments could not
	// be read).
	NI        *Commitments
	NIRefusal string
	// Seed is the interactive seed the manager drew from the chain for
	// this submission (nil: not settled yet). A sector without a stored
	// seed stores it in the same transaction; WaitSeed only reads, as the
	// chain gives every caller the same settled seed.
	Seed *Ticket
}

// WorkerSubmitProof stores a sector's proof once (for an NI-PoRep sector
// its commitments first) and queues it for its tenant's ProveCommit batch,
// in one transaction; see WorkerSubmitPreCommit for the rules.
func (s *Store) WorkerSubmitProof(ctx context.Context, id SectorID, h Holder, p ProofSubmission, requeue bool) (Outcome, error) {
	if len(p.Proof) == 0 {
		return Outcome{}, fmt.Errorf("store: submit proof for sector %s: empty proof: %w", id, ErrInvalid)
	}
	var out Outcome
	err := s.callTx(ctx, id, batchCall, func(d db) error {
		ctx := context.WithoutCancel(ctx) // see callTx
		sec, err := d.lockActive(ctx, id, h, "submit proof")
		if err != nil {
			return err
		}
		var u sets
		switch {
		case sec.ProofType.IsNI() && (p.NI == nil || p.NIRefusal != ""):
			out = Outcome{Result: SubmitRefused, Reason: p.NIRefusal}
			if out.Reason == "" {
				out.Reason = "NI-PoRep sector: the proof must carry its commitments and ticket (ni)"
			}
			return nil
		case sec.ProofType.IsNI():
			if out, err = d.commitments(sec, *p.NI, h.Now, "NI commitments differ from the earlier submission (comm_r, comm_d or ticket)", &u); err != nil ||
				out.Result == SubmitMismatch || out.Result == SubmitRefused {
				return err
			}
		case sec.Seed == nil && (p.Seed == nil || len(p.Seed.Value) != 32):
			out = Outcome{Result: SubmitRefused, Reason: "no seed yet: the chain has not settled it (call WaitSeed first)"}
			return nil
		case sec.Seed == nil:
			if _, _, err := randomnessSets(sec, p.Seed, h.Now, true, &u); err != nil {
				return err
			}
		}
		r := SubmitAccepted
		if sec.HasProof {
			var cur []byte
			if err := d.queryRow(ctx, `SELECT proof FROM sectors WHERE miner_id = ? AND number = ?`, int64(id.Miner), int64(id.Number)).Scan(&cur); err != nil {
				return fmt.Errorf("store: submit proof for sector %s: %w", id, err)
			}
			r = SubmitDuplicate
			if !bytes.Equal(cur, p.Proof) {
				r = SubmitMismatch
			}
		} else {
			u.add("proof", p.Proof)
			u.add("updated_ms", ms(h.Now))
		}
		out = Outcome{Result: r}
		if r == SubmitMismatch {
			// The NI commitments of a first submission stay unwritten too.
			out.Reason = "differs from the earlier proof"
			return nil
		}
		if r == SubmitAccepted || requeue || sec.ProveCommitBatch == 0 && sec.ProveCommitMsg == "" {
			if out.Batch, err = d.addToBatch(ctx, sec, BatchProveCommit, h.Now, &u); err != nil {
				return err
			}
			out.Tenant = sec.TenantID
		}
		return d.writeSets(ctx, id, u)
	})
	return out, err
}

// WorkerFinalize marks a sector finalized (sealed and handed over: the
// lease ends and a 'finalized' usage row is written), records where its
// files are and opens its delivery record to the tenant's delivery target
// (defaultTarget when the tenant has none), in one transaction. It returns
// the sector as it was before and the tenant's own target ("" when it has
// none). Idempotent; an aborted sector is ErrConflict.
func (s *Store) WorkerFinalize(ctx context.Context, id SectorID, h Holder, location, files, defaultTarget string) (Sector, string, error) {
	var tenantTarget string
	var sec Sector
	err := s.callTx(ctx, id, sectorCall, func(d db) error {
		ctx := context.WithoutCancel(ctx) // see callTx
		var err error
		if sec, err = d.lockFor(ctx, id, h); err != nil {
			return err
		}
		if err := d.finalize(ctx, sec, h.Now); err != nil {
			return err
		}
		if _, err := d.exec(ctx, `UPDATE sectors SET location = ?, files = ? WHERE miner_id = ? AND number = ?`,
			location, files, int64(id.Miner), int64(id.Number)); err != nil {
			return fmt.Errorf("store: finalize sector %s: files: %w", id, err)
		}
		if err := d.queryRow(ctx, `SELECT delivery_target FROM tenants WHERE id = ?`, sec.TenantID).Scan(&tenantTarget); err != nil {
			return fmt.Errorf("store: finalize sector %s: tenant %q: %w", id, sec.TenantID, err)
		}
		target := tenantTarget
		if target == "" {
			target = defaultTarget
		}
		_, err = d.createDelivery(ctx, sec, target, h.Now)
		return err
	})
	return sec, tenantTarget, err
}

// WorkerAbort gives a sector up at its worker's request (see AbortSector),
// in one transaction.
func (s *Store) WorkerAbort(ctx context.Context, id SectorID, h Holder, reason string) error {
	return s.callTx(ctx, id, sectorCall, func(d db) error {
		ctx := context.WithoutCancel(ctx) // see callTx
		sec, err := d.lockFor(ctx, id, h)
		if err != nil {
			return err
		}
		return d.abort(ctx, sec, reason, h.Now)
	})
}
