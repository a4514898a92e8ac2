package sectorfsm

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestRecordJSONRoundTrip(t *testing.T) {
	for s, rec := range sampleRecords(t) {
		data, err := json.Marshal(rec)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		got, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", s, err, data)
		}
		if !reflect.DeepEqual(got, rec) {
			t.Errorf("%s: round trip changed the record\n got %+v\nwant %+v", s, got, rec)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good, err := json.Marshal(sampleRecords(t)[StatePC2Done])
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, data string
		want       error // nil: any error
	}{
		{"not json", "{", nil},
		{"no version", `{"state":"Empty"}`, ErrVersion},
		{"future version", `{"version":3,"state":"Empty"}`, ErrVersion},
		{"no migration", `{"version":0,"state":"Empty"}`, ErrVersion},
		{"unknown state", strings.Replace(string(good), `"PC2Done"`, `"WaitDeals"`, 1), nil},
		{"unknown field", strings.Replace(string(good), `"steps"`, `"stepz"`, 1), nil},
		{"missing state", `{"version":1}`, ErrBadRecord},
		{"paused nowhere", `{"version":1,"state":"Paused"}`, ErrBadRecord},
		{"paused in terminal", `{"version":1,"state":"Paused","paused_in":"Finished"}`, ErrBadRecord},
		{"short commitment", strings.Replace(string(good), `"comm_r":"c0c0`, `"comm_r":"c0`, 1), nil},
		{"trailing data", string(good) + " {}", nil},
	} {
		_, err := Decode([]byte(tc.data))
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestMigrationHook installs a migration from a made-up version 0, whose
// records called the sector "sector_id" and the PreCommitLanded state
// "Persisted", and checks that Decode runs it (and the real version 1 → 2
// migration after it) before strict decoding.
func TestMigrationHook(t *testing.T) {
	migrations[0] = func(raw map[string]json.RawMessage) error {
		raw["sector"] = raw["sector_id"]
		delete(raw, "sector_id")
		if string(raw["state"]) == `"Persisted"` {
			raw["state"] = json.RawMessage(`"PreCommitLanded"`)
		}
		return nil
	}
	t.Cleanup(func() { delete(migrations, 0) })
	rec, err := Decode([]byte(`{"version":0,"state":"Persisted","sector_id":{"miner":5,"number":6}}`))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != CurrentVersion || rec.State != StatePreCommitLanded || rec.Sector != (SectorID{5, 6}) {
		t.Errorf("migrated record %+v", rec)
	}
	if _, acts, err := Step(rec, Restart{}); err != nil || acts[0].Name() != "wait-seed" {
		t.Errorf("migrated record does not step: %v %v", acts, err)
	}
}

// TestMigrateV1Delivered: version 1 delivered before the seed; such a
// record (also a paused one) re-enters PreCommitLanded and waits for the
// seed, and will be finalized and delivered after the proof lands.
func TestMigrateV1Delivered(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"version":1,"state":"Delivered","sector":{"miner":5,"number":6}}`, "PreCommitLanded"},
		{`{"version":1,"state":"Paused","paused_in":"Delivered","failure":{"level":"permanent","state":"Delivered","stage":"wait-seed","reason":"x"}}`, "Paused"},
		{`{"version":1,"state":"C1Done"}`, "C1Done"},
	} {
		rec, err := Decode([]byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if rec.State.String() != tc.want || rec.Version != CurrentVersion {
			t.Errorf("%s: got %s v%d, want %s", tc.in, rec.State, rec.Version, tc.want)
		}
		if rec.State == StatePaused && (rec.PausedIn != StatePreCommitLanded || rec.Failure.State != StatePreCommitLanded) {
			t.Errorf("paused record not migrated: %+v", rec)
		}
	}
}

// FuzzDecode: arbitrary bytes never panic, and whatever decodes re-encodes
// to a record that decodes to the same value and can be stepped.
func FuzzDecode(f *testing.F) {
	for _, rec := range sampleRecords(f) {
		data, _ := json.Marshal(rec)
		f.Add(data)
	}
	f.Add([]byte(`{"version":1,"state":"Paused","paused_in":"PC1Done"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := Decode(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(rec)
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		back, err := Decode(again)
		if err != nil || !reflect.DeepEqual(back, rec) {
			t.Fatalf("re-decode: %v", err)
		}
		if _, _, err := Step(rec, Restart{}); err != nil {
			t.Fatalf("decoded record cannot restart: %v", err)
		}
	})
}
