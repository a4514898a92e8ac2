package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runSealant runs the CLI in-process and returns stdout, stderr and the
// error RunE returned (what main would print as "sealant: <err>").
func runSealant(t *testing.T, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(bytes.NewReader(stdin))
	err := root.Execute()
	return out.String(), errb.String(), err
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "payload.bin")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCommpCLI(t *testing.T) {
	// go-fil-commp-hashhash 0xCC vectors (shared/vectors/commp.json).
	cc127 := bytes.Repeat([]byte{0xcc}, 127)
	cc509 := bytes.Repeat([]byte{0xcc}, 509)
	file := writeTemp(t, cc509)

	out, _, err := runSealant(t, nil, "proofs", "commp", "--json", file)
	if err != nil {
		t.Fatal(err)
	}
	var got commpOutput
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	want := commpOutput{"baga6ea4seaqdzbeaexq6gpbqh2tlnbz5mm5neap2kejsketkogzd6x2dx7dzkii", 509, 1024}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want exactly one JSON line, got %q", out)
	}

	// stdin, human output
	out, _, err = runSealant(t, cc127, "proofs", "commp", "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "baga6ea4seaqmfldjtozgne6adk7eve2vdxte7vzlivae7nzsbrawobo546zkijq") ||
		!strings.Contains(out, "payload 127 bytes") || !strings.Contains(out, "piece 128 bytes") {
		t.Fatalf("human output %q", out)
	}
}

func TestCommdCLI(t *testing.T) {
	const (
		zero2K = "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"
		zero32 = "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"
		// mainnet sector f01392893:139074 (go-commp-utils commd_test.go)
		mainnet = "baga6ea4seaqiw3gbmstmexb7sqwkc5r23o3i7zcyx5kr76pfobpykes3af62kca"
	)
	mainnetPieces := []string{
		"baga6ea4seaqknzm22isnhsxt2s4dnw45kfywmhenngqq3nc7jvecakoca6ksyhy:256MiB",
		"baga6ea4seaqnq6o5wuewdpviyoafno4rdpqnokz6ghvg2iyeyfbqxgcwdlj2egi:1GiB",
		"baga6ea4seaqpixk4ifbkzato3huzycj6ty6gllqwanhdpsvxikawyl5bg2h44mq:512MiB",
		"baga6ea4seaqaxwe5dy6nt3ko5tngtmzvpqxqikw5mdwfjqgaxfwtzenc6bgzajq:536870912",
		"baga6ea4seaqpy33nbesa4d6ot2ygeuy43y4t7amc4izt52mlotqenwcmn2kyaai:1GiB",
		"baga6ea4seaqphvv4x2s2v7ykgc3ugs2kkltbdeg7icxstklkrgqvv72m2v3i2aa:256MiB",
		"baga6ea4seaqf5u55znk6jwhdsrhe37emzhmehiyvjxpsww274f6fiy3h4yctady:512MiB",
		"baga6ea4seaqa3qbabsbmvk5er6rhsjzt74beplzgulthamm22jue4zgqcuszofi:1GiB",
		"baga6ea4seaqiekvf623muj6jpxg6vsqaikyw3r4ob5u7363z7zcaixqvfqsc2ji:256MiB",
		"baga6ea4seaqhsewv65z2d4m5o4vo65vl5o6z4bcegdvgnusvlt7rao44gro36pi:512MiB",
	}
	mainnetArgs := []string{"proofs", "commd", "--json", "--size", "32GiB"}
	for _, p := range mainnetPieces {
		mainnetArgs = append(mainnetArgs, "--piece", p)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"empty 2KiB", []string{"proofs", "commd", "--size", "2KiB", "--json"}, zero2K},
		{"empty bytes", []string{"proofs", "commd", "--size", "2048", "--json"}, zero2K},
		{"empty 32GiB", []string{"proofs", "commd", "--size", "32GiB", "--json"}, zero32},
		{"zero piece fills", []string{"proofs", "commd", "--size", "2KiB", "--json", "--piece", zero2K + ":2KiB"}, zero2K},
		{"mainnet", mainnetArgs, mainnet},
		// run again: repeated flags must not leak from the previous run
		{"empty again", []string{"proofs", "commd", "--size", "2KiB", "--json"}, zero2K},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runSealant(t, nil, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
				t.Fatalf("bad JSON %q: %v", out, err)
			}
			if got["cid"] != tc.want {
				t.Fatalf("cid %s, want %s", got["cid"], tc.want)
			}
		})
	}
}

// TestCLIBadInput checks that bad input fails with a one-line error naming
// the problem and never panics.
func TestCLIBadInput(t *testing.T) {
	const sealed = "bagboea4b5abcbnym7z3pgc64fk5wwsk3nsmz62jamgaa3pekzelmm3fv5q6g6zji"
	const zero2K = "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"
	empty := writeTemp(t, nil)
	small := writeTemp(t, make([]byte, 64))
	tests := []struct {
		name  string
		stdin []byte
		args  []string
		want  string // substring of the error
	}{
		{"empty file", nil, []string{"proofs", "commp", empty}, "payload is empty"},
		{"empty stdin", nil, []string{"proofs", "commp", "--json", "-"}, "payload is empty"},
		{"short payload", nil, []string{"proofs", "commp", small}, "64 bytes, need at least 65"},
		{"missing file", nil, []string{"proofs", "commp", filepath.Join(t.TempDir(), "nope")}, "no such file"},
		{"no file arg", nil, []string{"proofs", "commp"}, "accepts 1 arg"},
		{"missing size", nil, []string{"proofs", "commd", "--json"}, "missing --size"},
		{"bad size", nil, []string{"proofs", "commd", "--size", "32GB"}, "bad --size"},
		{"zero size", nil, []string{"proofs", "commd", "--size", "0"}, "bad --size"},
		{"sector not pow2", nil, []string{"proofs", "commd", "--size", "3000"}, "invalid sector size"},
		{"piece not pow2", nil, []string{"proofs", "commd", "--size", "2KiB", "--piece", zero2K + ":384"}, "not a power of two"},
		{"pieces overflow", nil, []string{"proofs", "commd", "--size", "2KiB", "--piece", zero2K + ":2KiB", "--piece", zero2K + ":128"}, "overflow"},
		{"malformed cid", nil, []string{"proofs", "commd", "--size", "2KiB", "--piece", "bagaXYZ:128"}, "malformed cid"},
		{"sealed cid as piece", nil, []string{"proofs", "commd", "--size", "2KiB", "--piece", sealed + ":128"}, "wrong cid codec"},
		{"piece without size", nil, []string{"proofs", "commd", "--size", "2KiB", "--piece", zero2K}, "want PIECE_CID:PADDED_SIZE"},
		{"piece bad size", nil, []string{"proofs", "commd", "--size", "2KiB", "--piece", zero2K + ":lots"}, "bad --piece"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runSealant(t, tc.stdin, tc.args...)
			if err == nil {
				t.Fatalf("no error; stdout %q", out)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Fatalf("multi-line error %q", msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not mention %q", msg, tc.want)
			}
			if out != "" {
				t.Fatalf("stdout must be empty on error, got %q", out)
			}
		})
	}
}

func TestParseByteSize(t *testing.T) {
	good := map[string]uint64{"2KiB": 2048, "8MiB": 8 << 20, "512MiB": 512 << 20, "32GiB": 32 << 30,
		"64GiB": 64 << 30, "2048": 2048, "128B": 128, "2kib": 2048}
	for s, want := range good {
		if got, err := parseByteSize(s); err != nil || got != want {
			t.Errorf("%s: %d, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "0", "-1", "KiB", "2KB", "1.5GiB", "99999999999TiB", "32 GiB"} {
		if _, err := parseByteSize(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestProgressDraw(t *testing.T) {
	var buf bytes.Buffer
	if startProgress(&buf, 100) != nil {
		t.Fatal("a bytes.Buffer is not a terminal: no progress bar expected")
	}
	p := &progress{w: &buf, total: 4 << 30}
	p.done.Store(1 << 30)
	p.draw()
	if got := buf.String(); !strings.HasPrefix(got, "\rcommp [#######       ") || !strings.Contains(got, " 25%  1.0/4.0 GiB") {
		t.Fatalf("bar %q", got)
	}
}
