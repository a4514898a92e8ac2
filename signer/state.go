package signer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sealant/sealant/chain/types"
)

// stateFileName is the daily-counter file inside the state directory.
const stateFileName = "usage.json"

// keepSignedDays is how long signed CIDs are remembered for idempotent
// re-signing (today and yesterday, so a request retried across midnight
// is still recognised).
const keepSignedDays = 2

// State holds the per-day counters and the CIDs signed recently. It is
// persisted (synced temp file + rename) before a signature leaves the
// signer, so a restart never resets the daily caps and a crash can only
// over-count.
type State struct {
	path string
	mu   sync.Mutex
	data stateData
}

type stateData struct {
	Day   string       `json:"day"` // UTC date the counters belong to
	Value types.BigInt `json:"value"`
	Fee   types.BigInt `json:"fee"`
	// Signed maps message CIDs to the UTC day they were signed.
	Signed map[string]string `json:"signed"`
}

// OpenState loads (or creates) the state in dir.
func OpenState(dir string) (*State, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("signer: state dir: %w", err)
	}
	s := &State{path: filepath.Join(dir, stateFileName)}
	data, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("signer: state: %w", err)
	default:
		if err := json.Unmarshal(data, &s.data); err != nil {
			return nil, fmt.Errorf("signer: state %s is corrupt (refusing to reset the daily caps): %w", s.path, err)
		}
	}
	if s.data.Signed == nil {
		s.data.Signed = map[string]string{}
	}
	return s, nil
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// rollLocked resets the counters when the UTC day changed and forgets old
// CIDs.
func (s *State) rollLocked(now time.Time) {
	today := day(now)
	if s.data.Day != today {
		s.data.Day, s.data.Value, s.data.Fee = today, types.Zero(), types.Zero()
	}
	if s.data.Value.Nil() {
		s.data.Value = types.Zero()
	}
	if s.data.Fee.Nil() {
		s.data.Fee = types.Zero()
	}
	cutoff := day(now.AddDate(0, 0, -(keepSignedDays - 1)))
	for c, d := range s.data.Signed {
		if d < cutoff {
			delete(s.data.Signed, c)
		}
	}
}

// Usage returns today's counters.
func (s *State) Usage(now time.Time) Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollLocked(now)
	return Usage{Value: s.data.Value, Fee: s.data.Fee}
}

// Signed reports whether the message CID was signed recently.
func (s *State) Signed(now time.Time, cid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollLocked(now)
	_, ok := s.data.Signed[cid]
	return ok
}

// Record adds a signed message to today's counters and persists them.
func (s *State) Record(now time.Time, cid string, value, fee types.BigInt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollLocked(now)
	prev := s.data
	prevSigned := len(s.data.Signed)
	s.data.Value = s.data.Value.Add(value)
	s.data.Fee = s.data.Fee.Add(fee)
	s.data.Signed[cid] = s.data.Day
	if err := s.saveLocked(); err != nil {
		s.data.Value, s.data.Fee = prev.Value, prev.Fee
		if len(s.data.Signed) != prevSigned {
			delete(s.data.Signed, cid)
		}
		return err
	}
	return nil
}

func (s *State) saveLocked() error {
	b, err := json.Marshal(&s.data)
	if err != nil {
		return fmt.Errorf("signer: encode state: %w", err)
	}
	if err := writeFileAtomic(s.path, b, 0o600); err != nil {
		return fmt.Errorf("signer: save state: %w", err)
	}
	return nil
}
