package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runParentCacheCLI runs "sealant proofs parent-cache ARGS" in-process. The
// command objects are package globals, so flag values left by an earlier run
// are reset first.
func runParentCacheCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	for _, c := range proofsCmd.Commands() {
		if c.Name() == "parent-cache" {
			resetParentCacheFlags(c)
		}
	}
	var out, errb bytes.Buffer
	root.SetArgs(append([]string{"proofs", "parent-cache"}, args...))
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.Execute()
	return out.String(), err
}

func resetParentCacheFlags(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		_ = f.Value.Set(f.DefValue)
		f.Changed = false
	})
}

func TestParentCacheCLI(t *testing.T) {
	const digest2K = "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97" // graph.json 2KiB_id5
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"size", []string{"--proof", "2KiB", "--json"}, digest2K},
		{"name", []string{"--proof", "StackedDrg2KiBV1_1", "--json"}, digest2K},
		{"legacy id", []string{"--proof", "0", "--json"}, "3da49221e2ed55371b86d0bf3d6526fcf128af61bed904f966428db1b531750d"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := runParentCacheCLI(t, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			var got parentCacheOutput
			dec := json.NewDecoder(strings.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil || strings.Count(out, "\n") != 1 {
				t.Fatalf("bad JSON %q: %v", out, err)
			}
			if got.SHA256 != c.want {
				t.Fatalf("sha256 = %s, want %s", got.SHA256, c.want)
			}
		})
	}

	t.Run("out file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sub", "parents.cache")
		out, err := runParentCacheCLI(t, "--proof", "2KiB", "--out", path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out, digest2K+"  StackedDrg2KiBV1_1") {
			t.Fatalf("human output %q", out)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != digest2K || len(b) != 64*56 {
			t.Fatalf("file: %d bytes, sha256 %x", len(b), sum)
		}
	})

	for _, bad := range [][]string{
		{"--proof", "4KiB", "--json"},
		{"--proof", "banana"},
		{"--proof", "20"},
		{"--json"},
		{"--proof", "2KiB", "extra-arg"},
	} {
		t.Run("bad "+strings.Join(bad, " "), func(t *testing.T) {
			_, err := runParentCacheCLI(t, bad...)
			if err == nil {
				t.Fatal("want an error")
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || msg == "" {
				t.Fatalf("error must be one line: %q", msg)
			}
		})
	}
}
