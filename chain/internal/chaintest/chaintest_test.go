package chaintest

import (
	"bytes"
	"os"
	"testing"
)

func TestMustHex(t *testing.T) {
	if got := MustHex(t, "00ff10"); !bytes.Equal(got, []byte{0, 0xff, 0x10}) {
		t.Errorf("MustHex = %x", got)
	}
}

func TestLoadJSON(t *testing.T) {
	dir := t.TempDir() + "/v.json"
	writeFile(t, dir, `{"a":[1,2]}`)
	got := LoadJSON[struct{ A []int }](t, dir)
	if len(got.A) != 2 || got.A[1] != 2 {
		t.Errorf("LoadJSON = %+v", got)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
