package worker

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/worker/sectorfsm"
)

func TestDefaultTemplateParses(t *testing.T) {
	cfg, err := ParseConfig(DefaultTemplate, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Threads) != 2 || cfg.Threads[0].Name != "nvme1" || cfg.Managers[0].Name != "main" {
		t.Errorf("template: %+v", cfg)
	}
	s, err := cfg.SealingFor(cfg.Threads[0])
	if err != nil {
		t.Fatal(err)
	}
	// A size allows its V1_1 (8) and NI-PoRep (18) proofs.
	if !slices.Equal(s.AllowedProofTypes, []int64{8, 18}) || s.Policy.PollInterval != 3*sectorfsm.Minute {
		t.Errorf("sealing %+v", s)
	}
}

func TestConfigRejects(t *testing.T) {
	base := `
[worker]
name = "w"
[[manager]]
url = "http://m/rpc/v0"
[[sealing_thread]]
location = "/a"
`
	for _, tc := range []struct{ name, doc, want string }{
		{"unknown key", base + "\n[sealing]\nmax_retry = 3\n", "unknown keys sealing.max_retry"},
		{"no name", strings.Replace(base, `name = "w"`, "", 1), "name is required"},
		{"no manager", "[worker]\nname=\"w\"\n[[sealing_thread]]\nlocation=\"/a\"\n", "manager"},
		{"no thread", "[worker]\nname=\"w\"\n[[manager]]\nurl=\"u\"\n", "sealing_thread"},
		{"dup thread", base + "[[sealing_thread]]\nlocation = \"/a\"\n", "duplicate"},
		{"bad plan", base + "plan = \"snapup\"\n", "unknown plan"},
		{"batch of one", base + "plan = \"batch\"\nbatch_size = 1\n", "batch_size 1"},
		{"batch size on a sealer", base + "batch_size = 4\n", "batch_size is for"},
		{"batch too big", base + "plan = \"batch\"\nbatch_size = 65\n", "batch_size 65"},
		{"batch memory", base + "plan = \"batch\"\nbatch_size = 4\nbatch_memory = \"100GiB\"\n[sealing]\nallowed_sizes = [\"32GiB\"]\n", "need 274982240256 bytes (256.1 GiB)"},
		{"bad batch memory", base + "plan = \"batch\"\nbatch_size = 4\nbatch_memory = \"lots\"\n", "batch_memory"},
		{"unknown manager", base + "manager = \"x\"\n", "unknown manager"},
		{"unknown store", base + "attached = \"x\"\n", "unknown [[attached]]"},
		{"bad size", base + "[sealing]\nallowed_sizes = [\"3KiB\"]\n", "allowed_sizes"},
		{"nothing to seal", base + "[sealing]\nenable_deals = false\ndisable_cc = true\n", "nothing to seal"},
		{"undeclared lock", base + "[[processors.c2]]\nlocks = [\"gpu9\"]\n", "gpu9"},
		{"bad limit", base + "[processors.limitation.concurrent]\npc1 = 0\n", "pc1 = 0"},
		{"bad duration", base + "[sealing]\nseal_interval = \"soon\"\n", "soon"},
	} {
		_, err := ParseConfig(tc.doc, "")
		if err == nil || !errors.Is(err, ErrConfig) && tc.name != "bad duration" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an ErrConfig containing %q", tc.name, err, tc.want)
		}
	}
}

// TestThreadOverrides: [sealing] < [sealing_thread.sealing] <
// <location>/config.toml, the last re-read before every sector.
func TestThreadOverrides(t *testing.T) {
	loc := t.TempDir()
	cfg, err := ParseConfig(`
[worker]
name = "w"
[[manager]]
url = "http://m/rpc/v0"
[sealing]
allowed_miners = [1, 2]
max_retries = 7
seal_interval = "1m"
[[sealing_thread]]
location = "`+loc+`"
[sealing_thread.sealing]
allowed_miners = [3]
`, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.hotSealing(cfg.Threads[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(s.AllowedMiners) != 1 || s.AllowedMiners[0] != 3 || s.Policy.MaxRetries != 7 || s.Policy.IdleInterval != sectorfsm.Duration(time.Minute) {
		t.Errorf("thread override: %+v", s)
	}
	if err := os.WriteFile(filepath.Join(loc, "config.toml"), []byte("[sealing]\nallowed_miners = [4]\nallowed_sizes = [\"2KiB\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = cfg.hotSealing(cfg.Threads[0])
	if err != nil || len(s.AllowedMiners) != 1 || s.AllowedMiners[0] != 4 || !slices.Equal(s.AllowedProofTypes, []int64{5, 15}) || s.Policy.MaxRetries != 7 {
		t.Errorf("hot override: %+v %v", s, err)
	}
	if err := os.WriteFile(filepath.Join(loc, "config.toml"), []byte("[sealing]\nbogus = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.hotSealing(cfg.Threads[0]); !errors.Is(err, ErrConfig) {
		t.Errorf("bad hot config: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add(DefaultTemplate)
	f.Add("[worker]\nname=\"w\"\n[[manager]]\nurl=\"u\"\n[[sealing_thread]]\nlocation=\"x\"\n")
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := ParseConfig(doc, "/base")
		if err == nil && cfg.Validate() != nil {
			t.Fatal("ParseConfig returned an invalid config")
		}
	})
}
