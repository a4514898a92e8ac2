package delivery

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is receiver.toml, what `sealant receiver run --config` reads.
type Config struct {
	// Listen is the HTTP address (default "0.0.0.0:2345").
	Listen string `toml:"listen"`
	// TLSCert and TLSKey enable HTTPS when both are set.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// Root holds state/, incoming/, quarantine/, scratch/.
	Root string `toml:"root"`
	// Store is the Lotus/Curio storage path accepted sectors go to.
	Store string `toml:"store"`
	// SecretFile holds the hex HS256 key for provider tokens (created with
	// 32 random bytes if missing; default <root>/secret).
	SecretFile string `toml:"secret_file"`
	// Miners this receiver takes sectors for: a non-empty list of miner
	// actor ids, or the string "any" (logged as a warning at start). An
	// empty list or a missing key is a config error: it would silently
	// accept any miner's sectors into the store.
	Miners MinerList `toml:"miners"`
	// RevokedTokens lists token ids (jti) no longer accepted.
	RevokedTokens []string `toml:"revoked_tokens"`
	// BandwidthLimit caps uploads in bytes/s (0: none).
	BandwidthLimit int64 `toml:"bandwidth_limit"`
	// VerifyConcurrency bounds parallel verifications (default 1).
	VerifyConcurrency int `toml:"verify_concurrency"`
	// CommitBytes and CommitInterval set how often received data is made
	// durable (ReceiverConfig.CommitBytes, CommitInterval; 0: defaults).
	CommitBytes    int64         `toml:"commit_bytes"`
	CommitInterval time.Duration `toml:"commit_interval"`
	// QuarantineMaxBytes and QuarantineMaxCount bound the copies of
	// rejected sectors kept in <root>/quarantine (one per sector, oldest
	// deleted first; 0: DefaultQuarantineMaxBytes / DefaultQuarantineMaxCount,
	// negative: no bound).
	QuarantineMaxBytes int64 `toml:"quarantine_max_bytes"`
	QuarantineMaxCount int   `toml:"quarantine_max_count"`
	// Chain is the SP's Lotus node the on-chain CommR is read from.
	Chain ChainConfig `toml:"chain"`
}

// QuarantineLimits returns the configured quarantine bounds.
func (c *Config) QuarantineLimits() QuarantineLimits {
	return QuarantineLimits{MaxBytes: c.QuarantineMaxBytes, MaxCount: c.QuarantineMaxCount}.withDefaults()
}

// ChainConfig addresses a Lotus full node.
type ChainConfig struct {
	// APIInfo is "TOKEN:/ip4/…/tcp/1234/http" or a URL; empty uses the
	// FULLNODE_API_INFO environment variable. A read token is enough.
	APIInfo string `toml:"api_info"`
}

// MinerList is the miners key: a list of ids, or "any".
type MinerList struct {
	IDs []uint64
	Any bool
	set bool
}

// UnmarshalTOML decodes [1000, 1001] or "any".
func (m *MinerList) UnmarshalTOML(v any) error {
	m.set = true
	switch v := v.(type) {
	case string:
		if v != "any" {
			return fmt.Errorf("miners: %q: want a list of miner ids or \"any\"", v)
		}
		m.Any = true
		return nil
	case []any:
		for _, e := range v {
			n, ok := e.(int64)
			if !ok || n <= 0 {
				return fmt.Errorf("miners: %v: want a positive miner actor id", e)
			}
			m.IDs = append(m.IDs, uint64(n))
		}
		return nil
	}
	return fmt.Errorf("miners: want a list of miner ids or \"any\", got %T", v)
}

// ExampleConfig is a commented receiver.toml.
const ExampleConfig = `# sealant receiver configuration (SP side)
listen = "0.0.0.0:2345"
# tls_cert = "/etc/sealant/receiver.crt"
# tls_key  = "/etc/sealant/receiver.key"

# Receiver state, incoming transfers, quarantine. Same filesystem as store.
root = "/srv/sealant-receiver"
# Lotus/Curio storage path accepted sectors are moved into
# (sealed/s-t0MINER-N, cache/s-t0MINER-N/...). Attach it to lotus-miner or Curio.
store = "/srv/lotus-store"
# secret_file = "/srv/sealant-receiver/secret"   # created if missing

# Miner actor ids whose sectors this receiver accepts (required). "any"
# accepts every miner's sectors and is logged as a warning.
miners = [1000]
revoked_tokens = []
bandwidth_limit = 0        # bytes/s, 0 = unlimited
verify_concurrency = 1
# Received data is acknowledged once written and checked, and made durable
# (fsync + saved offset) every commit_bytes per file or commit_interval,
# and when a file completes. After a crash of this machine a provider
# re-sends at most about 2 x commit_bytes per file. 0 = defaults.
commit_bytes = 0           # default 256 MiB
commit_interval = "0s"     # default 2s
# Rejected sectors are kept in root/quarantine for inspection: one copy per
# sector, the oldest deleted beyond these bounds (0 = defaults: 128 GiB, 8).
quarantine_max_bytes = 0
quarantine_max_count = 0

[chain]
# Your own Lotus node (read token). Empty: $FULLNODE_API_INFO.
api_info = ""
`

// LoadConfig reads and checks a receiver.toml.
func LoadConfig(path string) (*Config, error) {
	var c Config
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		return nil, fmt.Errorf("delivery: config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("delivery: config %s: unknown keys %s", path, strings.Join(keys, ", "))
	}
	if c.Listen == "" {
		c.Listen = "0.0.0.0:2345"
	}
	var errs []error
	if c.Root == "" {
		errs = append(errs, errors.New("root is required"))
	}
	if c.Store == "" {
		errs = append(errs, errors.New("store is required"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert and tls_key go together"))
	}
	if !c.Miners.Any && len(c.Miners.IDs) == 0 {
		errs = append(errs, errors.New(`miners is required: list the miner ids this receiver accepts (or "any")`))
	}
	if c.BandwidthLimit < 0 {
		errs = append(errs, errors.New("bandwidth_limit must not be negative"))
	}
	if c.CommitBytes < 0 || c.CommitInterval < 0 {
		errs = append(errs, errors.New("commit_bytes and commit_interval must not be negative"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("delivery: config %s: %w", path, errors.Join(errs...))
	}
	if c.SecretFile == "" {
		c.SecretFile = filepath.Join(c.Root, "secret")
	}
	return &c, nil
}

// LoadOrCreateSecret reads the hex key in path, creating it (0600, 32
// random bytes) when it does not exist.
func LoadOrCreateSecret(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("delivery: secret: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("delivery: secret: %w", err)
		}
		defer f.Close()
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			return nil, fmt.Errorf("delivery: secret: %w", err)
		}
		return key, f.Sync()
	}
	if err != nil {
		return nil, fmt.Errorf("delivery: secret: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("delivery: secret %s must be at least 32 bytes of hex", path)
	}
	return key, nil
}
