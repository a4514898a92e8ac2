package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/sealant/sealant/demo"
	"github.com/sealant/sealant/manager"
)

// TestDemoAndCommandAssembleAlike: the devnet demo's manager configuration,
// written to a file and loaded the way `sealant manager run --config` loads
// it, assembles the same manager as the demo does — same configuration,
// same pipeline knobs (message sizes, confidences, backoffs, chain
// parameters), same WindowPoSt tick and confidence — because both go
// through manager.Assemble. (Before, the command built its own pipeline
// with a 16 MiB message limit where the demo had 64 KiB.)
func TestDemoAndCommandAssembleAlike(t *testing.T) {
	root := t.TempDir()
	demoDir, cmdDir := filepath.Join(root, "demo"), filepath.Join(root, "cmd")
	store := filepath.Join(root, "store")
	demoCfg, err := demo.ManagerConfig(demoDir, store, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// The operator's file: the demo's settings, another data directory.
	fileCfg := demoCfg
	fileCfg.DataDir, fileCfg.Database = cmdDir, ""
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(fileCfg); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "manager.toml")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmdCfg, err := managerRunConfig(path, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	norm := func(c manager.Config) manager.Config { c.DataDir, c.Database = "", ""; return c }
	if !reflect.DeepEqual(norm(demoCfg), norm(cmdCfg)) {
		t.Fatalf("configs differ:\ndemo    %+v\ncommand %+v", norm(demoCfg), norm(cmdCfg))
	}
	quiet := slog.New(slog.DiscardHandler)
	assemble := func(cfg manager.Config) *manager.Assembly {
		a, err := manager.Assemble(context.Background(), manager.AssembleOptions{Config: cfg, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		return a
	}
	da, ca := assemble(demoCfg), assemble(cmdCfg)
	if !reflect.DeepEqual(da.CommitConfig, ca.CommitConfig) {
		t.Errorf("pipeline configs differ:\ndemo    %+v\ncommand %+v", da.CommitConfig, ca.CommitConfig)
	}
	if da.WindowPoStTick != ca.WindowPoStTick || da.WindowPoStConfidence != ca.WindowPoStConfidence {
		t.Errorf("window post: demo tick %s confidence %d, command %s %d",
			da.WindowPoStTick, da.WindowPoStConfidence, ca.WindowPoStTick, ca.WindowPoStConfidence)
	}
	for _, dir := range []string{demoDir, cmdDir} {
		if _, err := os.Stat(filepath.Join(dir, manager.AdminTokenFile)); err != nil {
			t.Errorf("no bootstrap admin token: %v", err)
		}
	}
}
