package sectorfsm

import "testing"

// BenchmarkStep measures one ordinary transition (PC1Done + PC2Done →
// PC2Done, with a SubmitPreCommit action).
func BenchmarkStep(b *testing.B) {
	rec := sampleRecords(b)[StatePC1Done]
	ev := sampleEvent(KindPC2Done)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Step(rec, ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepIllegal measures the rejection path.
func BenchmarkStepIllegal(b *testing.B) {
	rec := New()
	ev := PC1Done{}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Step(rec, ev); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkHappyPath steps a whole sector from Empty to Finished (17
// events); the record carries a one-partition proof and two files.
func BenchmarkHappyPath(b *testing.B) {
	path := happyPath()
	b.ReportAllocs()
	for b.Loop() {
		rec := New()
		var err error
		for _, ev := range path {
			if rec, _, err = Step(rec, ev); err != nil {
				b.Fatal(err)
			}
		}
	}
}
