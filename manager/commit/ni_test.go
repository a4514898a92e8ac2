package commit

import (
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/store"
)

func TestCheckNICommit(t *testing.T) {
	p := MainnetParams()
	const head = 10_000_000
	base := SectorFacts{ID: sid(1), NI: true, Active: true, HasProof: true, HasTicket: true, TicketEpoch: head - 900, CommR: sealed(1)}
	mod := func(f func(*SectorFacts)) SectorFacts { s := base; f(&s); return s }
	for _, tc := range []struct {
		name string
		f    SectorFacts
		want Verdict
	}{
		{"ready", base, Ready},
		{"ticket older than a PreCommit allows", mod(func(s *SectorFacts) { s.TicketEpoch = head - 10*p.MaxPreCommitRandomnessLookback }), Ready},
		{"ticket at NI lookback edge", mod(func(s *SectorFacts) { s.TicketEpoch = head - p.MaxProveCommitNIRandomnessLookback }), Ready},
		{"ticket too old", mod(func(s *SectorFacts) { s.TicketEpoch = head - p.MaxProveCommitNIRandomnessLookback - 1 }), Bad},
		{"ticket from the future", mod(func(s *SectorFacts) { s.TicketEpoch = head }), Wait},
		{"aborted", mod(func(s *SectorFacts) { s.Active = false }), Drop},
		{"no proof", mod(func(s *SectorFacts) { s.HasProof = false }), Drop},
		{"no comm_r", mod(func(s *SectorFacts) { s.CommR = cid.Undef }), Drop},
		{"number taken", mod(func(s *SectorFacts) { s.Allocated = true }), Bad},
		{"already proven", mod(func(s *SectorFacts) { s.Allocated, s.Proven = true, true }), Done},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckNICommit(p, head, tc.f)
			if got.Verdict != tc.want {
				t.Fatalf("verdict %v (%s), want %v", got.Verdict, got.Reason, tc.want)
			}
			if got.Verdict != Ready && got.Reason == "" {
				t.Fatal("a non-ready verdict needs a reason")
			}
		})
	}
	if NIDeadline(p, 100) != 100+rand.MaxProveCommitNiLookback {
		t.Fatal("NIDeadline")
	}
}

func TestNIExpiration(t *testing.T) {
	p := MainnetParams()
	const head = types.ChainEpoch(5_000_000)
	for _, tc := range []struct {
		name   string
		ticket types.ChainEpoch
		days   int
		want   types.ChainEpoch
	}{
		{name: "540 days", ticket: head - 100, days: 540, want: head + 540*EpochsInDay},
		{name: "too short is raised", ticket: head - 100, days: 10, want: head + p.Slack + p.MinSectorExpiration},
		{name: "longest", ticket: head - 100, days: 0, want: head + p.MaxSectorExpirationExtension},
		{name: "old ticket caps at head", ticket: head - 100_000, days: 0, want: head - 100_000 + p.MaxPreCommitRandomnessLookback + p.MaxSectorExpirationExtension},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NIExpiration(p, head, tc.ticket, tc.days)
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
			// validate_expiration with activation a little after head.
			act := head + p.Slack
			if got-act < p.MinSectorExpiration || got > head+p.MaxSectorExpirationExtension {
				t.Fatalf("expiration %d fails the actor's checks at activation %d", got, act)
			}
		})
	}
}

func TestNIProvingDeadline(t *testing.T) {
	for cur, want := range map[uint64]uint64{0: 47, 1: 0, 47: 46, 10: 9} {
		if got := NIProvingDeadline(cur, 48); got != want {
			t.Errorf("current %d: %d, want %d", cur, got, want)
		}
	}
}

func TestPolicyForNI(t *testing.T) {
	tn := store.Tenant{ProofType: abi.StackedDrg2KiBV1_2_Feat_NiPoRep, Batching: store.Batching{ProveCommitMode: store.ProvePerSector, ProveCommitBatchSize: 500}}
	if got := PolicyFor(tn, store.BatchProveCommit); got.Size != rand.MaxAggregatedSectorsNI {
		t.Fatalf("NI tenant batch size %d, want %d", got.Size, rand.MaxAggregatedSectorsNI)
	}
	tn.Batching.ProveCommitBatchSize = 8
	if got := PolicyFor(tn, store.BatchProveCommit); got.Size != 8 {
		t.Fatalf("NI tenant batch size %d, want 8", got.Size)
	}
	tn.ProofType = abi.StackedDrg2KiBV1_1
	if got := PolicyFor(tn, store.BatchProveCommit); got.Size != 1 {
		t.Fatalf("per-sector interactive tenant batch size %d", got.Size)
	}
}
