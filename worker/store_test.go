package worker

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sealant/sealant/worker/sectorfsm"
)

func TestStoreRoundTrip(t *testing.T) {
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.Load()
	if err != nil || rec.State != sectorfsm.StateEmpty {
		t.Fatalf("fresh store: %+v %v", rec, err)
	}
	rec, _, err = sectorfsm.Step(rec, sectorfsm.Allocated{Sector: sectorfsm.SectorID{Miner: 1000, Number: 3}, ProofType: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("load after save: %+v %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(s.root, metaDir, recordFile+".tmp")); !os.IsNotExist(err) {
		t.Errorf("temp file left behind: %v", err)
	}
	// A torn last line (crash mid-append) is skipped.
	for i := range 3 {
		if err := s.Append(LogEntry{Step: uint64(i), Event: "retry"}); err != nil {
			t.Fatal(err)
		}
	}
	fh, _ := os.OpenFile(filepath.Join(s.root, metaDir, eventsFile), os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"step": 9, "ev`)
	fh.Close()
	log, err := s.Log()
	if err != nil || len(log) != 3 {
		t.Fatalf("log: %d entries, %v", len(log), err)
	}
	if err := os.WriteFile(filepath.Join(s.SectorDir(), "sealed"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(rec.Sector); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Load(); got.State != sectorfsm.StateEmpty {
		t.Errorf("after reset: %s", got.State)
	}
	if ents, _ := os.ReadDir(s.SectorDir()); len(ents) != 0 {
		t.Errorf("sector dir not emptied: %v", ents)
	}
	if hist, _ := readLog(filepath.Join(s.root, archiveDir, "s-t01000-3.jsonl")); len(hist) != 3 {
		t.Errorf("archived log has %d entries", len(hist))
	}
	// A corrupt record is an error, never silently a new sector.
	os.WriteFile(filepath.Join(s.root, metaDir, recordFile), []byte("{"), 0o644)
	if _, err := s.Load(); err == nil {
		t.Error("corrupt record loaded")
	}
}

// BenchmarkStoreSave measures the durable record write every transition
// pays (temp file, fsync, rename, directory fsync).
func BenchmarkStoreSave(b *testing.B) {
	s, err := OpenStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	rec := sectorfsm.New()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Save(rec); err != nil {
			b.Fatal(err)
		}
	}
}
