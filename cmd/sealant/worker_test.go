package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealant/sealant/worker"
)

func TestWorkerConfigDefaultCLI(t *testing.T) {
	out, _, err := runSealant(t, nil, "worker", "config", "default")
	if err != nil {
		t.Fatal(err)
	}
	if out != worker.DefaultTemplate {
		t.Error("config default does not print the template")
	}
	path := filepath.Join(t.TempDir(), "worker.toml")
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runSealant(t, nil, "worker", "config", "validate", path); err != nil || strings.TrimSpace(out) != "ok" {
		t.Errorf("validate template: %q %v", out, err)
	}
	if err := os.WriteFile(path, []byte(out+"\n[sealing]\nbogus = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runSealant(t, nil, "worker", "config", "validate", path); err == nil {
		t.Error("a config with an unknown key validated")
	}
}

// TestProcessorCLI serves the transfer stage over stdin/stdout.
func TestProcessorCLI(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("sector bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "out", "sealed", "s-t01000-1")
	req := `{"id":7,"task":{"stores":{},"routes":[{"src":{"store_name":null,"uri":"` + src + `"},"dest":{"store_name":null,"uri":"` + dst + `"},"opt":null}]}}` + "\n"
	out, _, err := runSealant(t, []byte(req), "processor", "transfer")
	if err != nil {
		t.Fatal(err)
	}
	want := "transfer processor ready\n{\"id\":7,\"err_msg\":null,\"output\":true}\n"
	if out != want {
		t.Errorf("got %q, want %q", out, want)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "sector bytes" {
		t.Errorf("copied file: %q %v", b, err)
	}
	if _, _, err := runSealant(t, nil, "processor", "snap_encode"); err == nil {
		t.Error("unknown stage accepted")
	}
}
