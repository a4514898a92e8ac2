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
// sentinels, porep's, and each manager error code as it arrives over the
// wire (an *rpc.Error, possibly wrapped), so that a terminal answer such as
// "sector finalized or aborted" is not retried.
func TestLevel(t *testing.T) {
	wire := func(code int) error {
		return fmt.Errorf("rpc: Sealant.SubmitPreCommit: %w", &rpc.Error{Code: code, Message: "manager: …"})
	}
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
		{"sector done", wire(api.CodeSectorDone), sectorfsm.LevelAbort},
		{"not lease holder", wire(api.CodeNotLeaseHolder), sectorfsm.LevelAbort},
		{"invalid", wire(api.CodeInvalid), sectorfsm.LevelPermanent},
		{"conflict", wire(api.CodeConflict), sectorfsm.LevelPermanent},
		{"permission", wire(api.CodePermission), sectorfsm.LevelPermanent},
		{"not found", wire(api.CodeNotFound), sectorfsm.LevelPermanent},
		{"tenant paused", wire(api.CodeTenantPaused), sectorfsm.LevelTemporary},
		{"no chain", wire(api.CodeNoChain), sectorfsm.LevelTemporary},
		{"internal", wire(rpc.CodeInternal), sectorfsm.LevelTemporary},
		{"transport", errors.New("dial tcp: connection refused"), sectorfsm.LevelTemporary},
		{"stage error", &StageError{Stage: "submit-precommit", Err: wire(api.CodeSectorDone)}, sectorfsm.LevelAbort},
	}
	for _, c := range cases {
		if got := Level(c.err); got != c.want {
			t.Errorf("%s: Level = %v, want %v", c.name, got, c.want)
		}
	}
}
