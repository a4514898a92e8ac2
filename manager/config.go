package manager

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/sealant/sealant/chain/rand"
)

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("manager: invalid config")

// Config is the manager's configuration file (TOML). The life cycle is the
// caddy one: decode (unknown keys are errors) → Provision (fill defaults,
// resolve relative paths) → Validate (fast checks, no side effects).
type Config struct {
	// DataDir holds the JWT secret, the bootstrap admin token and, by
	// default, the SQLite database.
	DataDir string `toml:"data_dir"`
	// Listen is the HTTP address of /rpc/v0, /metrics and /healthz.
	Listen string `toml:"listen"`
	// Database is a store DSN: "" (SQLite in DataDir), a path,
	// "sqlite:///abs/path" or "postgres://…".
	Database string `toml:"database"`

	Chain    ChainConfig    `toml:"chain"`
	Leases   LeaseConfig    `toml:"leases"`
	Delivery DeliveryConfig `toml:"delivery"`
	Commit   CommitConfig   `toml:"commit"`
	// WindowPoSt is Architecture 1's proving of the provider's store.
	WindowPoSt WindowPoStConfig `toml:"wdpost"`
}

// WindowPoStConfig controls Architecture 1's WindowPoSt (package
// manager/wdpost) in this process: for tenants without a delivery target
// the provider keeps their sectors in delivery.store_path and proves them
// every deadline, signing SubmitWindowedPoSt through the SP's signer.
type WindowPoStConfig struct {
	// Enabled runs it here when a chain and delivery.store_path are
	// configured. With several managers on one database enable it on
	// exactly one (the one the signers connect to), as the pipeline.
	Enabled bool `toml:"enabled"`
	// Processor is an external window_post processor (damocles
	// vc-processors protocol) producing the Groth16 proofs. Empty on the
	// devnet (chain.devnet) uses the devnet's proofs; empty elsewhere
	// leaves WindowPoSt off, with a warning.
	Processor     string   `toml:"processor"`
	ProcessorArgs []string `toml:"processor_args"`
}

// CommitConfig controls the commitment pipeline of this process.
type CommitConfig struct {
	// Enabled runs the pipeline here. With several managers on one
	// database exactly one should run it (and the SPs' signers connect to
	// that one); the others serve workers, tenants and admins.
	Enabled bool `toml:"enabled"`
}

// ChainConfig says how the manager reaches the chain and which timing policy
// applies.
type ChainConfig struct {
	// APIInfo is a FULLNODE_API_INFO value ("TOKEN:URL"); "" means the
	// FULLNODE_API_INFO environment variable, and none at all runs the
	// manager without a chain (tickets and seeds are refused).
	APIInfo string `toml:"api_info"`
	// Network selects the timing policy: "mainnet" (also calibnet) or
	// "devnet" (2k devnet with a 10-epoch challenge delay).
	Network string `toml:"network"`
	// Devnet is set on AllocatedSector so workers use devnet proofs.
	Devnet bool `toml:"devnet"`
	// BlockTime is the epoch duration, used to tell workers how long to
	// wait for the seed.
	BlockTime Duration `toml:"block_time"`
	// PreCommitChallengeDelay overrides the network's value when > 0.
	PreCommitChallengeDelay int64 `toml:"precommit_challenge_delay"`
}

// LeaseConfig sets sector leases and fair share.
type LeaseConfig struct {
	// TTL is how long a lease lasts without a call from its worker.
	TTL Duration `toml:"ttl"`
	// FairShareWindow is the rolling window fair share counts over.
	FairShareWindow Duration `toml:"fair_share_window"`
}

// DeliveryConfig is the provider-side store used when a tenant has no
// delivery target (architecture 1: the provider keeps and proves).
type DeliveryConfig struct {
	StorePath string `toml:"store_path"`
	// BandwidthLimit in bytes/s handed to workers (0 = unlimited).
	BandwidthLimit int64 `toml:"bandwidth_limit"`
}

// Duration is a time.Duration written as "10m" in TOML.
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText formats d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// DefaultConfigTOML is the commented default configuration printed by
// `sealant manager config default`. Decoding it gives DefaultConfig().
const DefaultConfigTOML = `# Sealant manager configuration.

# Directory for the JWT secret (jwt.secret, created on first run, mode 0600),
# the bootstrap admin token (admin.token) and the default SQLite database.
data_dir = "./sealant-manager"

# HTTP address serving JSON-RPC at /rpc/v0 (HTTP and WebSocket), /metrics
# and /healthz.
listen = "127.0.0.1:1789"

# Store DSN. Empty: SQLite at <data_dir>/manager.sqlite. Also accepted:
# a path, "sqlite:///abs/path.sqlite", "postgres://user@host/db?sslmode=disable".
# Several managers may share one PostgreSQL database.
database = ""

[chain]
# Lotus full node, "TOKEN:URL" as in FULLNODE_API_INFO. Empty: the
# FULLNODE_API_INFO environment variable; without either, tickets and seeds
# cannot be drawn.
api_info = ""
# Timing policy: "mainnet" (also calibnet) or "devnet" (2k devnet).
network = "mainnet"
# Tell workers the chain is Sealant's devnet (devnet proofs instead of SNARKs).
devnet = false
# Epoch duration, used to tell workers how long to wait for the seed.
block_time = "30s"
# Override the network's PreCommitChallengeDelay (epochs) when > 0.
precommit_challenge_delay = 0

[leases]
# A sector's lease lapses when its worker makes no call for this long. An
# expired lease is visible (admin API) and the sector is offered back only
# to the same worker identity: it is never sealed twice.
ttl = "10m"
# Fair share counts allocations over this rolling window.
fair_share_window = "24h"

[delivery]
# Long-term store for tenants without a delivery target (the provider keeps
# and proves their sectors). Empty: such tenants cannot finalize delivery.
store_path = ""
# Bandwidth limit handed to workers for transfers, bytes/s (0 = unlimited).
bandwidth_limit = 0

[commit]
# Run the commitment pipeline (PreCommit/ProveCommit batches and messages) in
# this process. With several managers on one PostgreSQL database enable it on
# exactly one, and point the SPs' signers at that one.
enabled = true

[wdpost]
# Prove the sectors of tenants without a delivery target (architecture 1:
# they live in delivery.store_path) every WindowPoSt deadline, signing through
# the SP's signer. Needs a chain and delivery.store_path; enable it on exactly
# one manager per database.
enabled = true
# External window_post processor (damocles protocol) for the SNARKs. Empty on
# the devnet (chain.devnet = true) uses devnet proofs; empty elsewhere leaves
# WindowPoSt off.
processor = ""
# processor_args = ["--flag"]
`

// DefaultConfig returns the defaults (the decoded DefaultConfigTOML).
func DefaultConfig() Config {
	return Config{
		DataDir: "./sealant-manager",
		Listen:  "127.0.0.1:1789",
		Chain: ChainConfig{
			Network:   "mainnet",
			BlockTime: Duration(30 * time.Second),
		},
		Leases: LeaseConfig{
			TTL:             Duration(10 * time.Minute),
			FairShareWindow: Duration(24 * time.Hour),
		},
		Commit:     CommitConfig{Enabled: true},
		WindowPoSt: WindowPoStConfig{Enabled: true},
	}
}

// ParseConfig decodes TOML over the defaults. Unknown keys are errors, so
// a typo never silently falls back to a default.
func ParseConfig(data []byte) (Config, error) {
	cfg := DefaultConfig()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&cfg)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("%w: unknown keys: %s", ErrConfig, strings.Join(keys, ", "))
	}
	return cfg, nil
}

// LoadConfig reads, decodes, provisions and validates a config file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("manager: read config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := cfg.Provision(filepath.Dir(path)); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Provision fills derived values: a relative DataDir is resolved against
// baseDir (the config file's directory) and an empty Database becomes the
// SQLite file in DataDir. It has no side effects on disk.
func (c *Config) Provision(baseDir string) error {
	if c.DataDir == "" {
		c.DataDir = DefaultConfig().DataDir
	}
	if !filepath.IsAbs(c.DataDir) && baseDir != "" {
		c.DataDir = filepath.Join(baseDir, c.DataDir)
	}
	// An absolute path keeps logs and the printed DSN unambiguous.
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("%w: data_dir: %w", ErrConfig, err)
	}
	c.DataDir = abs
	if c.Database == "" {
		c.Database = "sqlite://" + filepath.Join(c.DataDir, "manager.sqlite")
	}
	if c.Chain.APIInfo == "" {
		c.Chain.APIInfo = os.Getenv("FULLNODE_API_INFO")
	}
	return nil
}

// Validate checks the configuration without touching anything.
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir is empty"))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen %q: %w", c.Listen, err))
	}
	if _, err := c.Policy(); err != nil {
		errs = append(errs, err)
	}
	if c.Chain.BlockTime <= 0 {
		errs = append(errs, errors.New("chain.block_time must be positive"))
	}
	if c.Chain.PreCommitChallengeDelay < 0 {
		errs = append(errs, errors.New("chain.precommit_challenge_delay must not be negative"))
	}
	if time.Duration(c.Leases.TTL) < time.Minute {
		errs = append(errs, errors.New("leases.ttl must be at least 1m (workers poll for minutes between calls)"))
	}
	if time.Duration(c.Leases.FairShareWindow) < time.Hour {
		errs = append(errs, errors.New("leases.fair_share_window must be at least 1h"))
	}
	if c.Delivery.BandwidthLimit < 0 {
		errs = append(errs, errors.New("delivery.bandwidth_limit must not be negative"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return nil
}

// Policy returns the chain timing policy of the configured network.
func (c *Config) Policy() (rand.Policy, error) {
	var p rand.Policy
	switch c.Chain.Network {
	case "mainnet", "calibnet", "":
		p = rand.Mainnet
	case "devnet", "2k":
		p = rand.Devnet2K
	default:
		return rand.Policy{}, fmt.Errorf("chain.network %q: want mainnet or devnet", c.Chain.Network)
	}
	if d := c.Chain.PreCommitChallengeDelay; d > 0 {
		// The prove-commit window counts from the pre-commit, so it moves
		// with the delay (as in the Lotus 2k build).
		p.MaxProveCommitDuration += d - p.PreCommitChallengeDelay
		p.PreCommitChallengeDelay = d
	}
	return p, nil
}
