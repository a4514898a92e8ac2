package delivery

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		wantErr    string
		check      func(t *testing.T, c *Config)
	}{
		{name: "example", toml: ExampleConfig, check: func(t *testing.T, c *Config) {
			if c.Root == "" || c.Store == "" || c.CommitBytes != 0 || c.CommitInterval != 0 {
				t.Errorf("example config: %+v", c)
			}
		}},
		{name: "no miners key", toml: "root = \"/r\"\nstore = \"/s\"\n", wantErr: "miners is required"},
		{name: "empty miners", toml: "root = \"/r\"\nstore = \"/s\"\nminers = []\n", wantErr: "miners is required"},
		{name: "miners typo", toml: "root = \"/r\"\nstore = \"/s\"\nminers = \"all\"\n", wantErr: "any"},
		{name: "miner 0", toml: "root = \"/r\"\nstore = \"/s\"\nminers = [0]\n", wantErr: "positive"},
		{name: "any miner", toml: "root = \"/r\"\nstore = \"/s\"\nminers = \"any\"\n", check: func(t *testing.T, c *Config) {
			if !c.Miners.Any || len(c.Miners.IDs) != 0 {
				t.Errorf("miners = %+v", c.Miners)
			}
		}},
		{name: "commit settings", toml: "root = \"/r\"\nstore = \"/s\"\nminers = [1000]\ncommit_bytes = 1048576\ncommit_interval = \"3s\"\n", check: func(t *testing.T, c *Config) {
			if c.CommitBytes != 1<<20 || c.CommitInterval != 3*time.Second {
				t.Errorf("commit settings: %d %v", c.CommitBytes, c.CommitInterval)
			}
		}},
		{name: "negative commit", toml: "root = \"/r\"\nstore = \"/s\"\nminers = [1000]\ncommit_bytes = -1\n", wantErr: "commit_bytes"},
		{name: "bad duration", toml: "root = \"/r\"\nstore = \"/s\"\nminers = [1000]\ncommit_interval = \"soon\"\n", wantErr: "commit_interval"},
		{name: "unknown key", toml: "root = \"/r\"\nstore = \"/s\"\nminers = [1000]\ncommit_byte = 1\n", wantErr: "unknown keys commit_byte"},
		{name: "missing root", toml: "store = \"/s\"\n", wantErr: "root is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "receiver.toml")
			if err := os.WriteFile(p, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := LoadConfig(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}
