package worker

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/porep"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/worker/sectorfsm"
)

// TestLevel classifies every error a stage can end with: the worker's own
// sentinels, porep's, transport failures, and (TestLevelRegistry) every
// sentinel of the API error registry.
func TestLevel(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want sectorfsm.Level
	}{
		{"abort", fmt.Errorf("x: %w", ErrAbort), sectorfsm.LevelAbort},
		{"permanent", ErrPermanent, sectorfsm.LevelPermanent},
		{"other sector", porep.ErrOtherSector, sectorfsm.LevelPermanent},
		{"commd mismatch", porep.ErrCommDMismatch, sectorfsm.LevelPermanent},
		{"pieces too large", porep.ErrPiecesTooLarge, sectorfsm.LevelPermanent},
		{"internal", fmt.Errorf("rpc: m: %w", &rpc.Error{Code: rpc.CodeInternal}), sectorfsm.LevelTemporary},
		{"unregistered code", fmt.Errorf("rpc: m: %w", &rpc.Error{Code: 4242}), sectorfsm.LevelTemporary},
		{"transport", errors.New("dial tcp: connection refused"), sectorfsm.LevelTemporary},
		{"stage error", &StageError{Stage: "submit-precommit", Err: api.ErrSectorDone}, sectorfsm.LevelAbort},
	}
	for _, c := range cases {
		if got := Level(c.err); got != c.want {
			t.Errorf("%s: Level = %v, want %v", c.name, got, c.want)
		}
	}
}

// registryLevels is what a thread must do with each registered API error,
// by registry name: terminal (abort the sector at once), pause (wait for
// an operator) or retry (backoff). Every entry of api.ErrorCodes must be
// here: a new sentinel fails the test until someone decides.
var registryLevels = map[string]sectorfsm.Level{
	"sector_done":      sectorfsm.LevelAbort,
	"not_lease_holder": sectorfsm.LevelAbort,
	"invalid":          sectorfsm.LevelPermanent,
	"conflict":         sectorfsm.LevelPermanent,
	"permission":       sectorfsm.LevelPermanent,
	"not_found":        sectorfsm.LevelPermanent,
	"sign_refused":     sectorfsm.LevelPermanent,
	"tenant_paused":    sectorfsm.LevelTemporary,
	"no_chain":         sectorfsm.LevelTemporary,
	"no_signer":        sectorfsm.LevelTemporary,
}

// TestLevelRegistry classifies every sentinel of the registry in the three
// forms it can reach a thread: as the sentinel (the worker dials with
// rpcapi.Errors), as a bare wire code (a connection without the registry),
// and wrapped in a StageError.
func TestLevelRegistry(t *testing.T) {
	if len(registryLevels) != len(api.ErrorCodes) {
		t.Errorf("registryLevels has %d entries, the registry %d", len(registryLevels), len(api.ErrorCodes))
	}
	for _, e := range api.ErrorCodes {
		want, ok := registryLevels[e.Name]
		if !ok {
			t.Errorf("%s (%d): no expected level: decide what a thread does with it", e.Name, e.Code)
			continue
		}
		forms := map[string]error{
			"sentinel":    fmt.Errorf("rpc: Sealant.SubmitPreCommit: sector s-t01000-5: %w", e.Err),
			"wire code":   fmt.Errorf("rpc: Sealant.SubmitPreCommit: %w", &rpc.Error{Code: e.Code, Message: e.Err.Error()}),
			"stage error": &StageError{Stage: "submit-precommit", Err: fmt.Errorf("x: %w", e.Err)},
		}
		for form, err := range forms {
			if got := Level(err); got != want {
				t.Errorf("%s as %s: Level = %v, want %v", e.Name, form, got, want)
			}
		}
	}
}
