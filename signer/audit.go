package signer

import (
	"encoding/json"
	"fmt"
	"os"
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
}

// Audit is an append-only JSON-lines file (mode 0600). Each entry is
// written with one write call on an O_APPEND descriptor and synced, so
// entries are never interleaved or lost once a signature is returned.
type Audit struct {
	mu sync.Mutex
	f  *os.File
}

// OpenAudit opens path for appending, creating it if needed.
func OpenAudit(path string) (*Audit, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("signer: audit log: %w", err)
	}
	return &Audit{f: f}, nil
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
	if _, err := a.f.Write(b); err != nil {
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
