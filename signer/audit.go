package signer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Audit event kinds.
const (
	EventSign       = "sign"
	EventProve      = "prove"
	EventConnect    = "connect"
	EventDisconnect = "disconnect"
)

// Decisions recorded for sign events.
const (
	DecisionSigned   = "signed"
	DecisionResigned = "re-signed" // a CID signed before, signed again without counting
	DecisionRefused  = "refused"
	// DecisionAbandoned: allowed and counted, but the connection ended
	// before the key was used.
	DecisionAbandoned = "abandoned"
	// DecisionDropped: the connection ended while the request was queued;
	// it was neither evaluated nor counted.
	DecisionDropped = "dropped"
)

// AuditEntry is one line of the audit log. It is built only from public
// data (the request, the decoded message, the decision); nothing derived
// from a private key or the passphrase is ever put in it.
type AuditEntry struct {
	Time     time.Time `json:"time"`
	Event    string    `json:"event"`
	Manager  string    `json:"manager,omitempty"`
	Tenant   string    `json:"tenant,omitempty"`
	Request  string    `json:"request,omitempty"`
	Purpose  string    `json:"purpose,omitempty"`
	Claimed  string    `json:"claimed_sectors,omitempty"`
	Decision string    `json:"decision,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Summary  *Summary  `json:"summary,omitempty"`
	// Addresses are those proven (prove) or announced (connect).
	Addresses []string `json:"addresses,omitempty"`
	// Count is how many requests an aggregated entry stands for (requests
	// refused without evaluation: rate limit, overload); 0 means one.
	Count int `json:"count,omitempty"`
}

// Audit is an append-only JSON-lines file (mode 0600). Each entry is
// written with one write call on an O_APPEND descriptor and synced, so
// entries are never interleaved or lost once a signature is returned. When
// the file would pass MaxBytes it is rotated: path → path.1 → … →
// path.<Keep>, the oldest dropped, so the log's disk use is bounded by
// about (Keep+1) × MaxBytes.
type Audit struct {
	mu   sync.Mutex
	f    *os.File
	path string
	size int64
	max  int64
	keep int
}

// Audit rotation defaults.
const (
	DefaultAuditMaxBytes = 64 << 20
	DefaultAuditKeep     = 8
)

// OpenAudit opens path for appending, creating it if needed, with the
// default rotation (DefaultAuditMaxBytes, DefaultAuditKeep).
func OpenAudit(path string) (*Audit, error) {
	return OpenAuditRotating(path, 0, 0)
}

// OpenAuditRotating is OpenAudit with a size cap per file (maxBytes, 0:
// default) and the number of rotated files kept (keep, 0: default).
func OpenAuditRotating(path string, maxBytes int64, keep int) (*Audit, error) {
	if maxBytes < 0 || keep < 0 {
		return nil, fmt.Errorf("signer: audit log: negative rotation setting")
	}
	a := &Audit{path: path, max: maxBytes, keep: keep}
	if a.max == 0 {
		a.max = DefaultAuditMaxBytes
	}
	if a.keep == 0 {
		a.keep = DefaultAuditKeep
	}
	if err := a.open(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Audit) open() error {
	f, err := os.OpenFile(a.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("signer: audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("signer: audit log: %w", err)
	}
	a.f, a.size = f, st.Size()
	return nil
}

// rotate shifts the files and opens a fresh one; a.mu is held.
func (a *Audit) rotate() error {
	if err := a.f.Close(); err != nil {
		return fmt.Errorf("signer: audit log: %w", err)
	}
	for i := a.keep - 1; i >= 1; i-- {
		_ = os.Rename(fmt.Sprintf("%s.%d", a.path, i), fmt.Sprintf("%s.%d", a.path, i+1))
	}
	if err := os.Rename(a.path, a.path+".1"); err != nil {
		return fmt.Errorf("signer: audit log rotation: %w", err)
	}
	if d, err := os.Open(filepath.Dir(a.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return a.open()
}

// Write appends e.
func (a *Audit) Write(e AuditEntry) error {
	if a == nil {
		return nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("signer: audit entry: %w", err)
	}
	b = append(b, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.size > 0 && a.size+int64(len(b)) > a.max {
		if err := a.rotate(); err != nil {
			return err
		}
	}
	n, err := a.f.Write(b)
	a.size += int64(n)
	if err != nil {
		return fmt.Errorf("signer: audit log: %w", err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("signer: audit log: %w", err)
	}
	return nil
}

// Close closes the file.
func (a *Audit) Close() error {
	if a == nil {
		return nil
	}
	return a.f.Close()
}
