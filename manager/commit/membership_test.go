package commit

import (
	"testing"

	"github.com/sealant/sealant/store"
)

// TestMembership is the membership rule for every kind of sector.
func TestMembership(t *testing.T) {
	for _, c := range []struct {
		name string
		m    MemberFacts
		kind store.BatchKind
		ok   bool
	}{
		{"nothing submitted", MemberFacts{}, "", false},
		{"pre-commit submitted", MemberFacts{Submitted: true}, store.BatchPreCommit, true},
		{"pre-commit batched", MemberFacts{Submitted: true, InPreCommit: true}, "", false},
		{"pausing after a transient failure", MemberFacts{Submitted: true, Paused: true}, "", false},
		{"proof before the pre-commit landed", MemberFacts{Submitted: true, InPreCommit: true, HasProof: true}, "", false},
		{"proof after the pre-commit landed", MemberFacts{Submitted: true, InPreCommit: true, PreCommitLanded: true, HasProof: true}, store.BatchProveCommit, true},
		{"proof batched", MemberFacts{Submitted: true, InPreCommit: true, PreCommitLanded: true, HasProof: true, InProveCommit: true}, "", false},
		{"pre-commit already on chain (sent elsewhere)", MemberFacts{Submitted: true, External: store.BatchPreCommit}, "", false},
		{"proof, pre-commit already on chain", MemberFacts{Submitted: true, HasProof: true, External: store.BatchPreCommit}, store.BatchProveCommit, true},
		{"already proven on chain", MemberFacts{Submitted: true, HasProof: true, External: store.BatchProveCommit}, "", false},
		{"NI without proof", MemberFacts{NI: true, Submitted: true}, "", false},
		{"NI with proof", MemberFacts{NI: true, Submitted: true, HasProof: true}, store.BatchProveCommit, true},
		{"NI batched", MemberFacts{NI: true, HasProof: true, InProveCommit: true}, "", false},
		{"NI pausing", MemberFacts{NI: true, HasProof: true, Paused: true}, "", false},
	} {
		kind, ok := Membership(c.m)
		if ok != c.ok || ok && kind != c.kind {
			t.Errorf("%s: Membership = %q %v, want %q %v", c.name, kind, ok, c.kind, c.ok)
		}
	}
}
