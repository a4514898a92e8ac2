package chaintest

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// MustHex decodes s or fails the test, quoting the bad input.
func MustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// LoadJSON reads the JSON file at path (relative to the test's package
// directory, normally testdata/…) into a new T, failing the test on any
// read or decode error.
func LoadJSON[T any](t testing.TB, path string) T {
	t.Helper()
	var v T
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}
