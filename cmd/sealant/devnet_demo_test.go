package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sealant/sealant/demo"
)

// TestDevnetDemoRejectsBadSectors: a usage error exits 2 before anything
// starts.
func TestDevnetDemoRejectsBadSectors(t *testing.T) {
	for _, arg := range []string{"0", "-3", "65"} {
		// Set the flag the way cobra would, then run.
		if err := devnetCmd.Flags().Set("sectors", arg); err != nil {
			t.Fatal(err)
		}
		err := devnetCmd.RunE(devnetCmd, nil)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("--sectors %s: err %v, want exit code 2", arg, err)
		}
	}
	if err := devnetCmd.Flags().Set("sectors", "4"); err != nil {
		t.Fatal(err)
	}
}

// TestPrintDemoTable checks the human summary: a row per tenant with its
// counts, the WindowPoSt column only for Architecture 1, failures listed,
// and the verdict line.
func TestPrintDemoTable(t *testing.T) {
	tests := []struct {
		name string
		sum  demo.Summary
		want []string
		not  []string
	}{
		{
			name: "ok",
			sum: demo.Summary{OK: true, ElapsedS: 64.2, SealedS: 30.8, SectorsPerMinute: 15.6, Cores: 2, Tenants: []demo.TenantSummary{
				{Tenant: "sp1", Miner: "t01000", Architecture: 2, Sectors: 4, DataSectors: 2, Proven: 4, Delivered: 4, Verified: 4, Messages: 3, FeesAttoFIL: "123",
					Stages: []demo.StageTime{{Stage: "wait seed", MedianS: 4.5, MaxS: 5}}},
				{Tenant: "sp2", Miner: "t01001", Architecture: 1, Sectors: 4, Proven: 4, Delivered: 4, Verified: 4, WindowPoSt: 4, Messages: 7, FeesAttoFIL: "456"},
			}},
			want: []string{"sp1     t01000  2", "sp2     t01001  1", "wait seed", "4.50", "OK: every sector proven and verified", "15.6 sectors/minute on 2 cores"},
			not:  []string{"NOT OK", "failed "},
		},
		{
			name: "failed",
			sum: demo.Summary{OK: false, Error: "demo: not every sector was proven and verified within 3m0s", Tenants: []demo.TenantSummary{
				{Tenant: "sp1", Miner: "t01000", Architecture: 2, Sectors: 2, Proven: 1, Failed: 1, Failures: []string{"s-t01000-1: precommit failed alone"}},
			}},
			want: []string{"NOT OK: demo: not every sector", "failed s-t01000-1: precommit failed alone"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			printDemoTable(&b, &tc.sum)
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in:\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("unexpected %q in:\n%s", n, out)
				}
			}
		})
	}
}

// TestWorkDirNote: the first line says whether the printed directory
// survives the run.
func TestWorkDirNote(t *testing.T) {
	if n := workDirNote(true, false); !strings.Contains(n, "deleted at exit") || !strings.Contains(n, "--dir") {
		t.Errorf("temporary: %q", n)
	}
	if n := workDirNote(true, true); !strings.Contains(n, "kept") {
		t.Errorf("temporary with --keep-running: %q", n)
	}
	if n := workDirNote(false, false); strings.Contains(n, "deleted") {
		t.Errorf("--dir: %q", n)
	}
}
