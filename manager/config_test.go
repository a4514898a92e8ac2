package manager

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sealant/sealant/chain/rand"
)

func TestDefaultConfigTOMLMatchesDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(DefaultConfigTOML))
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(cfg, want) {
		t.Fatalf("decoded default config\n%+v\nwant\n%+v", cfg, want)
	}
	if err := cfg.Provision(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
}

func TestParseConfig(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		wantErr    string // substring; "" = valid
	}{
		{"empty uses defaults", ``, ""},
		{"unknown top key", `listn = "x:1"`, "unknown keys: listn"},
		{"unknown nested key", "[leases]\nttl = \"10m\"\nttll = \"1m\"", "leases.ttll"},
		{"bad duration", "[leases]\nttl = \"ten minutes\"", "invalid"},
		{"short ttl", "[leases]\nttl = \"10s\"", "leases.ttl"},
		{"bad network", "[chain]\nnetwork = \"moonnet\"", "chain.network"},
		{"bad listen", `listen = "nope"`, "listen"},
		{"devnet", "[chain]\nnetwork = \"devnet\"\ndevnet = true\nblock_time = \"4s\"", ""},
		{"zero block time", "[chain]\nblock_time = \"0s\"", "block_time"},
		{"wrong type", `listen = 5`, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tc.toml))
			if err == nil {
				cfg.Provision("/base")
				err = cfg.Validate()
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want ErrConfig mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestProvisionAndPolicy(t *testing.T) {
	cfg, _ := ParseConfig([]byte("data_dir = \"d\"\n[chain]\nnetwork = \"devnet\"\nprecommit_challenge_delay = 5"))
	if err := cfg.Provision("/etc/sealant"); err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/etc/sealant/d" || cfg.Database != "sqlite:///etc/sealant/d/manager.sqlite" {
		t.Fatalf("provisioned %q %q", cfg.DataDir, cfg.Database)
	}
	p, err := cfg.Policy()
	if err != nil {
		t.Fatal(err)
	}
	if p.PreCommitChallengeDelay != 5 || p.MaxProveCommitDuration != rand.Devnet2K.MaxProveCommitDuration-5 {
		t.Fatalf("policy = %+v", p)
	}
	if time.Duration(cfg.Leases.TTL) != 10*time.Minute {
		t.Fatalf("ttl = %v", cfg.Leases.TTL)
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a, err := LoadOrCreateSecret(dir)
	if err != nil || len(a) != 32 {
		t.Fatalf("create: %x, %v", a, err)
	}
	st, _ := os.Stat(filepath.Join(dir, SecretFile))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("secret mode %v, want 0600", st.Mode().Perm())
	}
	b, err := LoadOrCreateSecret(dir)
	if err != nil || string(a) != string(b) {
		t.Fatalf("reload gave a different secret: %v", err)
	}
	os.Chmod(filepath.Join(dir, SecretFile), 0o644)
	if _, err := LoadOrCreateSecret(dir); err == nil {
		t.Fatal("world-readable secret accepted")
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(DefaultConfigTOML))
	f.Add([]byte("[chain]\nnetwork = \"devnet\""))
	f.Add([]byte("listen = 1\n[[x]]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error does not wrap ErrConfig: %v", err)
			}
			return
		}
		cfg.Provision("/base")
		if err := cfg.Validate(); err != nil && !errors.Is(err, ErrConfig) {
			t.Fatalf("validate error does not wrap ErrConfig: %v", err)
		}
	})
}
