package rand

import (
	"errors"
	"testing"
)

// TestConstants pins the derived constants to the values listed in
// spec/chain.md §5.5 so an edit to one of their inputs is caught.
func TestConstants(t *testing.T) {
	cases := []struct {
		name      string
		got, want int64
	}{
		{"MaxPreCommitRandomnessLookback", MaxPreCommitRandomnessLookback, 3780},
		{"MaxProveCommitDuration", MaxProveCommitDuration, 86_550},
		{"ExpiredPreCommitCleanUpDelay", ExpiredPreCommitCleanUpDelay, 960},
		{"MinSectorExpiration", MinSectorExpiration, 518_400},
		{"MaxSectorExpirationExtension", MaxSectorExpirationExtension, 3_680_640},
		{"SealProofSectorMaximumLifetime", SealProofSectorMaximumLifetime, 5_259_600},
		{"WPoStProvingPeriod", WPoStProvingPeriod, WPoStChallengeWindow * WPoStPeriodDeadlines},
		{"EpochDuration", int64(EpochDuration.Seconds()), 30},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestPolicyEpochs(t *testing.T) {
	p := Mainnet
	if got := p.TicketEpoch(10_000); got != 9_100 {
		t.Errorf("TicketEpoch = %d", got)
	}
	if got := p.TicketValidThrough(9_100); got != 12_880 {
		t.Errorf("TicketValidThrough = %d", got)
	}
	if got := p.SeedEpoch(20_000); got != 20_150 {
		t.Errorf("SeedEpoch = %d", got)
	}
	if got := p.SeedReadyAt(20_000); got != 20_156 {
		t.Errorf("SeedReadyAt = %d", got)
	}
	after, last := p.ProveCommitWindow(20_000)
	if after != 20_150 || last != 106_550 {
		t.Errorf("ProveCommitWindow = (%d, %d]", after, last)
	}
	if got := Devnet2K.SeedEpoch(100); got != 110 {
		t.Errorf("devnet SeedEpoch = %d", got)
	}
	if got := p.PreCommitExpiry(0); got != MaxProveCommitDuration {
		t.Errorf("PreCommitExpiry = %d", got)
	}
}

func TestCheckTicket(t *testing.T) {
	cases := []struct {
		ticket, curr int64
		want         error
	}{
		{9_100, 10_000, nil},
		{9_100, 9_101, nil},
		{9_100, 12_880, nil}, // oldest allowed: curr − 3780
		{9_100, 12_881, ErrTicketExpired},
		{9_100, 9_100, ErrTicketFromFuture},
		{9_101, 9_100, ErrTicketFromFuture},
	}
	for _, tc := range cases {
		err := Mainnet.CheckTicket(tc.ticket, tc.curr)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckTicket(%d, %d) = %v, want %v", tc.ticket, tc.curr, err, tc.want)
		}
	}
}
