package worker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/sdr"
	"github.com/sealant/sealant/worker/sectorfsm"
)

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("worker: invalid config")

// Duration is a time.Duration written as a Go duration string ("30s").
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

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Config is a worker's configuration file (TOML). Its sections follow
// damocles-worker (shared/spec/landscape.md §3) so an operator can carry a
// template over; the differences are the [[manager]] list (one worker may
// serve several managers, a thread names its own) and tenants in [sealing].
type Config struct {
	Worker     WorkerSection     `toml:"worker"`
	Managers   []ManagerSection  `toml:"manager"`
	Sealing    SealingSection    `toml:"sealing"`
	Threads    []ThreadSection   `toml:"sealing_thread"`
	Attached   []AttachedSection `toml:"attached"`
	Processors ProcessorsSection `toml:"processors"`
}

// WorkerSection identifies the worker.
type WorkerSection struct {
	// Name is the worker's identity towards its managers; a sector leased
	// by Name/thread is offered back to it after a restart.
	Name string `toml:"name"`
	// AdminListen is the admin API address (loopback by default).
	AdminListen string `toml:"admin_listen"`
	// AdminURL is the admin API URL sent to managers in WorkerPing; empty
	// derives it from AdminListen.
	AdminURL string `toml:"admin_url"`
	// PingInterval separates heartbeats (default 30s).
	PingInterval Duration `toml:"ping_interval"`
	// ParentCacheDir holds SDR parent caches ("" = the rust-fil-proofs default).
	ParentCacheDir string `toml:"parent_cache_dir"`
	// LocalPiecesDirs are searched for a piece's payload by piece CID before
	// it is downloaded (file name = the piece CID).
	LocalPiecesDirs []string `toml:"local_pieces_dirs"`
}

// ManagerSection is one manager endpoint.
type ManagerSection struct {
	Name string `toml:"name"`
	// URL is the manager's worker API (http(s):// or ws(s)://…/rpc/v0).
	URL string `toml:"url"`
	// Token is the worker-scoped JWT; TokenFile reads it from a file.
	Token     string `toml:"token"`
	TokenFile string `toml:"token_file"`
}

// SealingSection holds sealing defaults; each thread may override them.
type SealingSection struct {
	AllowedTenants []string `toml:"allowed_tenants"`
	AllowedMiners  []uint64 `toml:"allowed_miners"`
	// AllowedSizes lists sector sizes ("2KiB", "32GiB"); empty = any. A
	// size allows its V1_1 and its NI-PoRep seal proof.
	AllowedSizes []string `toml:"allowed_sizes"`
	// EnableDeals accepts data sectors; DisableCC refuses CC ones.
	EnableDeals *bool `toml:"enable_deals"`
	DisableCC   *bool `toml:"disable_cc"`
	// MaxRetries is the temporary-failure budget per action (default 5).
	MaxRetries int `toml:"max_retries"`
	// RetryBackoff is the first backoff, doubled per retry up to
	// RetryBackoffMax (defaults 30s and 30m).
	RetryBackoff    Duration `toml:"retry_backoff"`
	RetryBackoffMax Duration `toml:"retry_backoff_max"`
	// SealInterval separates allocation attempts when idle (default 30s).
	SealInterval Duration `toml:"seal_interval"`
	// RPCPollingInterval separates on-chain polls (default 3m).
	RPCPollingInterval Duration `toml:"rpc_polling_interval"`
	// ResubmitDelay precedes a resubmission after an on-chain failure.
	ResubmitDelay Duration `toml:"resubmit_delay"`
	// Workers bounds the goroutines of one in-process stage (0 = all cores).
	Workers int `toml:"workers"`
}

// ThreadSection is one sealing thread.
type ThreadSection struct {
	// Name defaults to the base name of Location.
	Name string `toml:"name"`
	// Location is the thread's local store: its record, event log and
	// sector files live below it. <Location>/config.toml, if present,
	// overrides [sealing] and is re-read before each new sector.
	Location string `toml:"location"`
	// Plan is the sealing plan: "sealer" (one sector at a time, the
	// default) or "batch" (BatchSize sectors of one tenant and size
	// allocated together, their PC1 labelled as one batch; see batchGroup).
	Plan string `toml:"plan"`
	// BatchSize is the number of sectors of a "batch" thread (2…64). The
	// thread runs as BatchSize member threads <name>.<i>, each with its
	// store in <location>/<i>.
	BatchSize int `toml:"batch_size"`
	// BatchWait bounds how long members wait for each other at allocation
	// and at PC1 before going on with those present (default 5m).
	BatchWait Duration `toml:"batch_wait"`
	// BatchMemory is the memory a batch PC1 may use ("256GiB"; default: no
	// limit). The config is refused when the largest allowed size does not
	// fit BatchSize sectors (sdr.BatchMemory), and a batch PC1 that would
	// exceed it is refused before it starts.
	BatchMemory string `toml:"batch_memory"`
	// Manager names the [[manager]] this thread pulls from (default: the
	// first one).
	Manager string `toml:"manager"`
	// Attached names the [[attached]] persist store finalized sectors go to
	// (default: the first writable one).
	Attached string `toml:"attached"`
	// Sealing overrides the [sealing] defaults for this thread.
	Sealing SealingSection `toml:"sealing"`
}

// AttachedSection is a persist store, where finalized sectors are kept
// (lotus layout: sealed/, cache/, unsealed/).
type AttachedSection struct {
	Name     string `toml:"name"`
	Location string `toml:"location"`
	ReadOnly bool   `toml:"readonly"`
}

// ProcessorsSection configures stage execution.
type ProcessorsSection struct {
	Limitation struct {
		// Concurrent bounds how many tasks of a stage run at once across
		// all threads, in-process or external (stage → n).
		Concurrent map[string]int `toml:"concurrent"`
	} `toml:"limitation"`
	// ExtLocks declares named locks (name → holders), e.g. one GPU shared
	// by pc2 and c2.
	ExtLocks map[string]int `toml:"ext_locks"`
	// Stages configures external processors per stage ([[processors.c2]]).
	AddPieces []ExtProcessor `toml:"add_pieces"`
	TreeD     []ExtProcessor `toml:"tree_d"`
	PC1       []ExtProcessor `toml:"pc1"`
	PC2       []ExtProcessor `toml:"pc2"`
	C2        []ExtProcessor `toml:"c2"`
	Transfer  []ExtProcessor `toml:"transfer"`
}

// ExtProcessor is an external program serving one stage over JSON lines
// (damocles' protocol, see processor.go).
type ExtProcessor struct {
	// Bin defaults to this sealant binary with Args ["processor", stage].
	Bin  string   `toml:"bin"`
	Args []string `toml:"args"`
	// Envs are added to the environment (InheritEnvs, default true, keeps
	// the worker's own).
	Envs        map[string]string `toml:"envs"`
	InheritEnvs *bool             `toml:"inherit_envs"`
	// Concurrent is how many tasks the process runs at once (default 1).
	Concurrent int `toml:"concurrent"`
	// Locks are named locks ([processors.ext_locks]) held while a task runs.
	Locks []string `toml:"locks"`
	// CPUSet pins the process ("0-7"): passed as VC_CG_CPUSET like damocles
	// and applied with sched_setaffinity via taskset when available.
	CPUSet string `toml:"cpuset"`
	// StableWait bounds the wait for the ready line (default 5s).
	StableWait Duration `toml:"stable_wait"`
	// AutoRestart restarts a crashed process (default true).
	AutoRestart *bool `toml:"auto_restart"`
}

// Stages with configurable external processors.
const (
	StageAddPieces = "add_pieces"
	StageTreeD     = "tree_d"
	StagePC1       = "pc1"
	StagePC2       = "pc2"
	StageC1        = "c1"
	StageC2        = "c2"
	StageTransfer  = "transfer"
)

// ExtFor returns the external processors of stage.
func (p *ProcessorsSection) ExtFor(stage string) []ExtProcessor {
	switch stage {
	case StageAddPieces:
		return p.AddPieces
	case StageTreeD:
		return p.TreeD
	case StagePC1:
		return p.PC1
	case StagePC2:
		return p.PC2
	case StageC2:
		return p.C2
	case StageTransfer:
		return p.Transfer
	}
	return nil
}

// LoadConfig reads and validates a config file. Unknown keys are errors:
// a misspelt option must not be silently ignored.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("worker: read config: %w", err)
	}
	return ParseConfig(string(data), filepath.Dir(path))
}

// ParseConfig decodes a config document; relative paths are resolved
// against base.
func ParseConfig(doc, base string) (*Config, error) {
	var c Config
	md, err := toml.Decode(doc, &c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%w: unknown keys %s", ErrConfig, strings.Join(keys, ", "))
	}
	c.resolve(base)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) resolve(base string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || base == "" {
			return p
		}
		return filepath.Join(base, p)
	}
	for i := range c.Threads {
		c.Threads[i].Location = abs(c.Threads[i].Location)
		if c.Threads[i].Name == "" {
			c.Threads[i].Name = filepath.Base(c.Threads[i].Location)
		}
		if c.Threads[i].Plan == "" {
			c.Threads[i].Plan = "sealer"
		}
	}
	for i := range c.Attached {
		c.Attached[i].Location = abs(c.Attached[i].Location)
	}
	for i := range c.Managers {
		c.Managers[i].TokenFile = abs(c.Managers[i].TokenFile)
		if c.Managers[i].Name == "" {
			c.Managers[i].Name = fmt.Sprintf("manager%d", i+1)
		}
	}
	if c.Worker.AdminListen == "" {
		c.Worker.AdminListen = "127.0.0.1:17890"
	}
	if c.Worker.PingInterval == 0 {
		c.Worker.PingInterval = Duration(30 * time.Second)
	}
}

// Validate checks the config; it touches no files.
func (c *Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	if c.Worker.Name == "" {
		return bad("[worker] name is required")
	}
	if len(c.Managers) == 0 {
		return bad("at least one [[manager]] with a url is required")
	}
	names := map[string]bool{}
	for _, m := range c.Managers {
		if m.URL == "" {
			return bad("[[manager]] %s has no url", m.Name)
		}
		if names[m.Name] {
			return bad("duplicate [[manager]] name %q", m.Name)
		}
		names[m.Name] = true
	}
	if len(c.Threads) == 0 {
		return bad("at least one [[sealing_thread]] is required")
	}
	stores := map[string]bool{}
	for _, a := range c.Attached {
		if a.Name == "" || a.Location == "" {
			return bad("[[attached]] needs name and location")
		}
		if stores[a.Name] {
			return bad("duplicate [[attached]] name %q", a.Name)
		}
		stores[a.Name] = true
	}
	threads, locs := map[string]bool{}, map[string]bool{}
	for _, t := range c.Threads {
		if t.Location == "" {
			return bad("[[sealing_thread]] %s has no location", t.Name)
		}
		if threads[t.Name] || locs[t.Location] {
			return bad("duplicate [[sealing_thread]] %s (%s)", t.Name, t.Location)
		}
		threads[t.Name], locs[t.Location] = true, true
		switch t.Plan {
		case "sealer":
			if t.BatchSize != 0 {
				return bad("thread %s: batch_size is for plan = \"batch\"", t.Name)
			}
		case "batch":
			if t.BatchSize < 2 || t.BatchSize > maxBatchSize {
				return bad("thread %s: batch_size %d, want 2…%d", t.Name, t.BatchSize, maxBatchSize)
			}
			if t.BatchWait < 0 {
				return bad("thread %s: batch_wait %s < 0", t.Name, time.Duration(t.BatchWait))
			}
			limit, err := parseMemory(t.BatchMemory)
			if err != nil {
				return bad("thread %s: batch_memory: %v", t.Name, err)
			}
			s, err := c.SealingFor(t)
			if err != nil {
				return err
			}
			proofs := s.AllowedProofTypes
			if len(proofs) == 0 {
				proofs = []int64{int64(abi.StackedDrg64GiBV1_1)}
			}
			for _, p := range proofs {
				if need := sdr.BatchMemory(abi.RegisteredSealProof(p), t.BatchSize); limit > 0 && need > limit {
					return bad("thread %s: %d sectors of %s need %d bytes (%.1f GiB) for batch PC1, batch_memory is %.1f GiB",
						t.Name, t.BatchSize, abi.RegisteredSealProof(p), need, float64(need)/(1<<30), float64(limit)/(1<<30))
				}
			}
		default:
			return bad("thread %s: unknown plan %q (\"sealer\" or \"batch\")", t.Name, t.Plan)
		}
		if t.Manager != "" && !names[t.Manager] {
			return bad("thread %s names unknown manager %q", t.Name, t.Manager)
		}
		if t.Attached != "" && !stores[t.Attached] {
			return bad("thread %s names unknown [[attached]] store %q", t.Name, t.Attached)
		}
		if _, err := c.SealingFor(t); err != nil {
			return err
		}
	}
	for _, stage := range []string{StageAddPieces, StageTreeD, StagePC1, StagePC2, StageC2, StageTransfer} {
		for _, p := range c.Processors.ExtFor(stage) {
			if p.Concurrent < 0 {
				return bad("[[processors.%s]] concurrent %d < 0", stage, p.Concurrent)
			}
			for _, l := range p.Locks {
				if _, ok := c.Processors.ExtLocks[l]; !ok {
					return bad("[[processors.%s]] uses lock %q missing from [processors.ext_locks]", stage, l)
				}
			}
		}
	}
	for stage, n := range c.Processors.Limitation.Concurrent {
		if n < 1 {
			return bad("[processors.limitation.concurrent] %s = %d, want >= 1", stage, n)
		}
	}
	return nil
}

// parseMemory parses a size such as "256GiB" (KiB, MiB, GiB, TiB or plain
// bytes); "" is 0, no limit.
func parseMemory(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSpace(strings.TrimSuffix(v, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (e.g. 256GiB)", v)
	}
	return n * mult, nil
}

// maxBatchSize bounds a batch thread: the memory of a batch PC1 grows with
// it (sdr.BatchMemory), and SupraSeal's largest batch is 128 sectors of
// which 64 is the common size.
const maxBatchSize = 64

// Sealing is the effective sealing settings of a thread.
type Sealing struct {
	AllowedTenants    []string
	AllowedMiners     []uint64
	AllowedProofTypes []int64
	EnableDeals       bool
	DisableCC         bool
	Policy            sectorfsm.Policy
	Workers           int
}

// SealingFor merges the [sealing] defaults with a thread's overrides.
func (c *Config) SealingFor(t ThreadSection) (Sealing, error) {
	return mergeSealing(c.Sealing, t.Sealing)
}

func mergeSealing(base, o SealingSection) (Sealing, error) {
	m := mergeSealingSection(base, o)
	s := Sealing{
		AllowedTenants: m.AllowedTenants,
		AllowedMiners:  m.AllowedMiners,
		EnableDeals:    m.EnableDeals == nil || *m.EnableDeals,
		DisableCC:      m.DisableCC != nil && *m.DisableCC,
		Workers:        m.Workers,
		Policy: sectorfsm.Policy{
			MaxRetries:    m.MaxRetries,
			BackoffBase:   sectorfsm.Duration(m.RetryBackoff),
			BackoffMax:    sectorfsm.Duration(m.RetryBackoffMax),
			PollInterval:  sectorfsm.Duration(m.RPCPollingInterval),
			ResubmitDelay: sectorfsm.Duration(m.ResubmitDelay),
			IdleInterval:  sectorfsm.Duration(m.SealInterval),
		},
	}
	if !s.EnableDeals && s.DisableCC {
		return Sealing{}, fmt.Errorf("%w: enable_deals = false and disable_cc = true leave nothing to seal", ErrConfig)
	}
	for _, size := range m.AllowedSizes {
		ss, err := abi.ParseSectorSize(size)
		if err != nil {
			return Sealing{}, fmt.Errorf("%w: allowed_sizes: %w", ErrConfig, err)
		}
		p, err := abi.SealProofForSize(ss)
		if err != nil {
			return Sealing{}, fmt.Errorf("%w: allowed_sizes %s: %w", ErrConfig, size, err)
		}
		// A size allows its V1_1 and its NI-PoRep proof: the same sealing
		// work, another porep id.
		for _, q := range []abi.RegisteredSealProof{p, p.NI()} {
			if !slices.Contains(s.AllowedProofTypes, int64(q)) {
				s.AllowedProofTypes = append(s.AllowedProofTypes, int64(q))
			}
		}
	}
	return s, nil
}

// threadOverride is <location>/config.toml: a [sealing] section only.
type threadOverride struct {
	Sealing SealingSection `toml:"sealing"`
}

// hotSealing re-reads <location>/config.toml (if present) over the static
// settings; called before each new sector.
func (c *Config) hotSealing(t ThreadSection) (Sealing, error) {
	data, err := os.ReadFile(filepath.Join(t.Location, "config.toml"))
	if errors.Is(err, os.ErrNotExist) {
		return c.SealingFor(t)
	}
	if err != nil {
		return Sealing{}, fmt.Errorf("worker: thread %s config: %w", t.Name, err)
	}
	var o threadOverride
	md, err := toml.Decode(string(data), &o)
	if err != nil {
		return Sealing{}, fmt.Errorf("%w: thread %s config.toml: %w", ErrConfig, t.Name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return Sealing{}, fmt.Errorf("%w: thread %s config.toml: unknown key %s", ErrConfig, t.Name, und[0])
	}
	// Layering: [sealing] < thread overrides < <location>/config.toml.
	return mergeSealing(mergeSealingSection(c.Sealing, t.Sealing), o.Sealing)
}

// mergeSealingSection layers o over base at the section level.
func mergeSealingSection(base, o SealingSection) SealingSection {
	m := base
	if o.AllowedTenants != nil {
		m.AllowedTenants = o.AllowedTenants
	}
	if o.AllowedMiners != nil {
		m.AllowedMiners = o.AllowedMiners
	}
	if o.AllowedSizes != nil {
		m.AllowedSizes = o.AllowedSizes
	}
	if o.EnableDeals != nil {
		m.EnableDeals = o.EnableDeals
	}
	if o.DisableCC != nil {
		m.DisableCC = o.DisableCC
	}
	for _, p := range []struct{ dst, src *Duration }{
		{&m.RetryBackoff, &o.RetryBackoff}, {&m.RetryBackoffMax, &o.RetryBackoffMax},
		{&m.SealInterval, &o.SealInterval}, {&m.RPCPollingInterval, &o.RPCPollingInterval},
		{&m.ResubmitDelay, &o.ResubmitDelay},
	} {
		if *p.src != 0 {
			*p.dst = *p.src
		}
	}
	if o.MaxRetries != 0 {
		m.MaxRetries = o.MaxRetries
	}
	if o.Workers != 0 {
		m.Workers = o.Workers
	}
	return m
}
