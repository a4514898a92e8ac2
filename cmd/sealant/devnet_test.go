package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/lotus"
)

func TestDevnetInitRunCLI(t *testing.T) {
	dir := t.TempDir()
	init := newDevnetInitCmd()
	var out bytes.Buffer
	init.SetArgs([]string{"--dir", dir, "--miners", "2", "--json"})
	init.SetOut(&out)
	init.SilenceUsage, init.SilenceErrors = true, true
	if err := init.Execute(); err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Miners   map[string]string
		Accounts map[string]string
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil || len(sum.Miners) != 2 || sum.Miners["sp1"] != "t01000" {
		t.Fatalf("init summary %s: %v", out.String(), err)
	}

	// run prints FULLNODE_API_INFO and serves until cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	run := newDevnetRunCmd()
	pr, pw := io.Pipe()
	run.SetArgs([]string{"--dir", dir, "--listen", "127.0.0.1:0", "--block-time", "50ms"})
	run.SetOut(pw)
	run.SetContext(ctx)
	run.SilenceUsage, run.SilenceErrors = true, true
	done := make(chan error, 1)
	go func() { done <- run.Execute(); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	info, ok := strings.CutPrefix(strings.TrimSpace(line), "FULLNODE_API_INFO=")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	api, err := lotus.New(lotus.Config{APIInfo: info})
	if err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
	defer ccancel()
	ch, err := api.ChainNotify(cctx)
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	if next := <-ch; len(next) == 0 || next[0].Type != lotus.HCApply {
		t.Fatalf("no block produced: %+v", next)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// init refuses an existing chain; run needs --dir.
	again := newDevnetInitCmd()
	again.SetArgs([]string{"--dir", dir})
	again.SetOut(io.Discard)
	again.SilenceUsage, again.SilenceErrors = true, true
	if err := again.Execute(); err == nil {
		t.Fatal("init over an existing chain succeeded")
	}
	norun := newDevnetRunCmd()
	norun.SetArgs(nil)
	norun.SilenceUsage, norun.SilenceErrors = true, true
	if err := norun.Execute(); err == nil {
		t.Fatal("run without --dir succeeded")
	}
}
