package devnet

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/devnet/state"
	"github.com/sealant/sealant/proofs/abi"
)

// GenesisFileName is the genesis description inside a devnet directory.
const GenesisFileName = "genesis.toml"

// ErrConfig reports an invalid genesis file or node configuration.
var ErrConfig = errors.New("devnet: invalid configuration")

// Genesis is the TOML genesis description (genesis.toml). Example:
//
//	network_name = "sealant-devnet"
//	block_time = "1s"
//	[policy]
//	precommit_challenge_delay = 10
//	[[accounts]]
//	name = "sp1-owner"
//	type = "secp256k1"      # or "bls"; a key is generated at init
//	balance = "100000"      # FIL
//	[[miners]]
//	name = "sp1"
//	owner = "sp1-owner"
//	worker = "sp1-worker"
//	sector_size = "2KiB"
//
// An account may instead give `address` (its key is held elsewhere) or
// `key_file` (a Lotus KeyInfo JSON or hex-lotus file to use). Generated keys
// are written to DIR/owners/<name>/key.json, never anywhere else.
type Genesis struct {
	NetworkName string        `toml:"network_name"`
	BlockTime   Duration      `toml:"block_time"`
	Seed        string        `toml:"seed,omitempty"` // hex, 32 bytes; generated at init if empty
	Policy      PolicyConfig  `toml:"policy"`
	Accounts    []AccountSpec `toml:"accounts"`
	Miners      []MinerSpec   `toml:"miners"`
}

// Duration is a time.Duration written as "1s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%w: duration %q: %v", ErrConfig, b, err)
	}
	d.Duration = v
	return nil
}

// MarshalText writes a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// PolicyConfig overrides the chain policy (state.DefaultPolicy); zero fields
// keep the default.
type PolicyConfig struct {
	PreCommitChallengeDelay        int64 `toml:"precommit_challenge_delay,omitempty"`
	MaxProveCommitDuration         int64 `toml:"max_prove_commit_duration,omitempty"`
	MaxPreCommitRandomnessLookback int64 `toml:"max_precommit_randomness_lookback,omitempty"`
	ExpiredPreCommitCleanUpDelay   int64 `toml:"expired_precommit_cleanup_delay,omitempty"`
	WPoStChallengeWindow           int64 `toml:"wpost_challenge_window,omitempty"`
	WPoStChallengeLookback         int64 `toml:"wpost_challenge_lookback,omitempty"`
	FaultDeclarationCutoff         int64 `toml:"fault_declaration_cutoff,omitempty"`
}

// Apply returns p with the configured overrides.
func (c PolicyConfig) Apply(p state.Policy) state.Policy {
	set := func(dst *int64, v int64) {
		if v != 0 {
			*dst = v
		}
	}
	set(&p.PreCommitChallengeDelay, c.PreCommitChallengeDelay)
	set(&p.MaxProveCommitDuration, c.MaxProveCommitDuration)
	set(&p.MaxPreCommitRandomnessLookback, c.MaxPreCommitRandomnessLookback)
	set(&p.ExpiredPreCommitCleanUpDelay, c.ExpiredPreCommitCleanUpDelay)
	set(&p.WPoStChallengeWindow, c.WPoStChallengeWindow)
	set(&p.WPoStChallengeLookback, c.WPoStChallengeLookback)
	set(&p.FaultDeclarationCutoff, c.FaultDeclarationCutoff)
	return p
}

// AccountSpec is a genesis account.
type AccountSpec struct {
	Name    string `toml:"name"`
	Type    string `toml:"type,omitempty"`     // secp256k1 (default) or bls
	Balance string `toml:"balance,omitempty"`  // FIL
	Address string `toml:"address,omitempty"`  // key held elsewhere
	KeyFile string `toml:"key_file,omitempty"` // existing key to use
}

// MinerSpec is a genesis miner.
type MinerSpec struct {
	Name       string   `toml:"name"`
	Owner      string   `toml:"owner"`
	Worker     string   `toml:"worker,omitempty"` // default: owner; must be a BLS account
	Control    []string `toml:"control,omitempty"`
	SectorSize string   `toml:"sector_size,omitempty"` // default 2KiB
	Balance    string   `toml:"balance,omitempty"`     // FIL
	PeerID     string   `toml:"peer_id,omitempty"`
}

// DefaultGenesis describes a devnet with n demo miners: miner i has an owner
// (secp256k1) and a worker (BLS, as the miner actor requires) with 100 000
// FIL each, and 2KiB sectors.
func DefaultGenesis(n int) *Genesis {
	d := state.DefaultPolicy()
	g := &Genesis{NetworkName: "sealant-devnet", BlockTime: Duration{time.Second}, Policy: PolicyConfig{
		PreCommitChallengeDelay: d.PreCommitChallengeDelay, MaxProveCommitDuration: d.MaxProveCommitDuration,
		MaxPreCommitRandomnessLookback: d.MaxPreCommitRandomnessLookback, ExpiredPreCommitCleanUpDelay: d.ExpiredPreCommitCleanUpDelay,
		WPoStChallengeWindow: d.WPoStChallengeWindow, WPoStChallengeLookback: d.WPoStChallengeLookback,
		FaultDeclarationCutoff: d.FaultDeclarationCutoff,
	}}
	g.Accounts = append(g.Accounts, AccountSpec{Name: "faucet", Type: "secp256k1", Balance: "1000000"})
	for i := 1; i <= n; i++ {
		o, w := fmt.Sprintf("sp%d-owner", i), fmt.Sprintf("sp%d-worker", i)
		g.Accounts = append(g.Accounts,
			AccountSpec{Name: o, Type: "secp256k1", Balance: "100000"},
			AccountSpec{Name: w, Type: "bls", Balance: "100000"})
		g.Miners = append(g.Miners, MinerSpec{Name: fmt.Sprintf("sp%d", i), Owner: o, Worker: w, SectorSize: "2KiB"})
	}
	return g
}

// LoadGenesis reads a genesis TOML file.
func LoadGenesis(path string) (*Genesis, error) {
	var g Genesis
	md, err := toml.DecodeFile(path, &g)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%w: %s: unknown keys %v", ErrConfig, path, und)
	}
	return &g, nil
}

// WriteFile writes g as TOML (0644; it holds no secrets).
func (g *Genesis) WriteFile(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("devnet: write genesis: %w", err)
	}
	if err := toml.NewEncoder(f).Encode(g); err != nil {
		f.Close()
		return fmt.Errorf("devnet: write genesis: %w", err)
	}
	return f.Close()
}

// resolved is the genesis after init: every account has an address. It is
// stored in the database so `run` needs no key files.
type resolved struct {
	NetworkName string
	BlockTime   time.Duration
	Seed        [32]byte
	Policy      state.Policy
	Accounts    []resolvedAccount
	Miners      []resolvedMiner
	DevnetKey   []byte // BLS key that signs block tickets (chain-owned)
}

type resolvedAccount struct {
	Name    string
	Address string
	Balance types.BigInt
}

type resolvedMiner struct {
	Name    string
	ID      uint64
	Address string
}

// OwnerKeyPath is where init writes the key of the named genesis account.
func OwnerKeyPath(dir, name string) string { return filepath.Join(dir, "owners", name, "key.json") }

// LoadOwnerKey reads and parses the key init wrote for the named genesis
// account (OwnerKeyPath). The caller owns the returned private key bytes
// and should clear them when done.
func LoadOwnerKey(dir, name string) (sigs.KeyInfo, error) {
	raw, err := os.ReadFile(OwnerKeyPath(dir, name))
	if err != nil {
		return sigs.KeyInfo{}, fmt.Errorf("devnet: owner key %s: %w", name, err)
	}
	defer clear(raw)
	ki, err := sigs.ParseKeyInfo(raw)
	if err != nil {
		return sigs.KeyInfo{}, fmt.Errorf("devnet: owner key %s: %w", name, err)
	}
	return ki, nil
}

// resolve generates or loads keys (writing generated ones to their owner
// directory) and checks the description.
func (g *Genesis) resolve(dir string) (*resolved, error) {
	r := &resolved{NetworkName: g.NetworkName, BlockTime: g.BlockTime.Duration, Policy: g.Policy.Apply(state.DefaultPolicy())}
	if r.NetworkName == "" {
		r.NetworkName = "sealant-devnet"
	}
	if r.BlockTime <= 0 {
		r.BlockTime = time.Second
	}
	if g.Seed != "" {
		b, err := hex.DecodeString(g.Seed)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("%w: seed must be 32 bytes of hex", ErrConfig)
		}
		copy(r.Seed[:], b)
	} else if _, err := rand.Read(r.Seed[:]); err != nil {
		return nil, err
	}
	dk, err := sigs.GenerateKey(types.SigTypeBLS, nil)
	if err != nil {
		return nil, err
	}
	r.DevnetKey = dk
	names := map[string]bool{}
	for _, a := range g.Accounts {
		if a.Name == "" || names[a.Name] || filepath.Base(a.Name) != a.Name {
			return nil, fmt.Errorf("%w: account name %q missing, duplicated or not a plain file name", ErrConfig, a.Name)
		}
		names[a.Name] = true
		bal := types.Zero()
		if a.Balance != "" {
			if bal, err = types.ParseFIL(a.Balance); err != nil {
				return nil, fmt.Errorf("%w: account %s balance: %v", ErrConfig, a.Name, err)
			}
		}
		addr, err := accountAddress(dir, a)
		if err != nil {
			return nil, err
		}
		r.Accounts = append(r.Accounts, resolvedAccount{Name: a.Name, Address: addr.String(), Balance: bal})
	}
	for _, m := range g.Miners {
		if m.Name == "" || names[m.Name] {
			return nil, fmt.Errorf("%w: miner name %q missing or duplicated", ErrConfig, m.Name)
		}
		names[m.Name] = true
	}
	return r, nil
}

func accountAddress(dir string, a AccountSpec) (address.Address, error) {
	switch {
	case a.Address != "":
		addr, err := address.Parse(a.Address)
		if err != nil {
			return address.Undef, fmt.Errorf("%w: account %s: %v", ErrConfig, a.Name, err)
		}
		return addr, nil
	case a.KeyFile != "":
		b, err := os.ReadFile(a.KeyFile)
		if err != nil {
			return address.Undef, fmt.Errorf("%w: account %s: %v", ErrConfig, a.Name, err)
		}
		ki, err := sigs.ParseKeyInfo(b)
		if err != nil {
			return address.Undef, fmt.Errorf("%w: account %s: %v", ErrConfig, a.Name, err)
		}
		return ki.Address()
	}
	kind := types.SigTypeSecp256k1
	switch a.Type {
	case "", "secp256k1":
	case "bls":
		kind = types.SigTypeBLS
	default:
		return address.Undef, fmt.Errorf("%w: account %s: key type %q (want secp256k1 or bls)", ErrConfig, a.Name, a.Type)
	}
	path := OwnerKeyPath(dir, a.Name)
	if b, err := os.ReadFile(path); err == nil {
		// Re-running init keeps existing keys.
		ki, err := sigs.ParseKeyInfo(b)
		if err != nil {
			return address.Undef, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
		}
		return ki.Address()
	}
	priv, err := sigs.GenerateKey(kind, nil)
	if err != nil {
		return address.Undef, err
	}
	ki, err := sigs.NewKeyInfo(kind, priv)
	if err != nil {
		return address.Undef, err
	}
	js, err := json.Marshal(ki)
	if err != nil {
		return address.Undef, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return address.Undef, fmt.Errorf("devnet: key dir: %w", err)
	}
	if err := os.WriteFile(path, js, 0o600); err != nil {
		return address.Undef, fmt.Errorf("devnet: write key: %w", err)
	}
	addr, err := ki.Address()
	if err != nil {
		return address.Undef, err
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "address"), []byte(addr.String()+"\n"), 0o644); err != nil {
		return address.Undef, fmt.Errorf("devnet: write address: %w", err)
	}
	return addr, nil
}

// genesisState builds the epoch-0 state.
func (r *resolved) genesisState(g *Genesis) (*state.State, error) {
	st := state.New()
	byName := map[string]address.Address{}
	total := types.Zero()
	for _, a := range r.Accounts {
		addr, err := address.Parse(a.Address)
		if err != nil {
			return nil, err
		}
		if _, err := st.CreateAccount(addr, a.Balance); err != nil {
			return nil, err
		}
		byName[a.Name] = addr
		total = total.Add(a.Balance)
	}
	acct := func(miner, role, name string) (address.Address, error) {
		a, ok := byName[name]
		if !ok {
			return address.Undef, fmt.Errorf("%w: miner %s: %s %q is not a genesis account", ErrConfig, miner, role, name)
		}
		return a, nil
	}
	r.Miners = nil
	for _, m := range g.Miners {
		owner, err := acct(m.Name, "owner", m.Owner)
		if err != nil {
			return nil, err
		}
		wn := m.Worker
		if wn == "" {
			wn = m.Owner
		}
		worker, err := acct(m.Name, "worker", wn)
		if err != nil {
			return nil, err
		}
		var ctl []address.Address
		for _, c := range m.Control {
			a, err := acct(m.Name, "control", c)
			if err != nil {
				return nil, err
			}
			ctl = append(ctl, a)
		}
		size := m.SectorSize
		if size == "" {
			size = "2KiB"
		}
		ss, err := abi.ParseSectorSize(size)
		if err != nil {
			return nil, fmt.Errorf("%w: miner %s: %v", ErrConfig, m.Name, err)
		}
		sp, err := abi.SealProofForSize(ss)
		if err != nil {
			return nil, fmt.Errorf("%w: miner %s: %v", ErrConfig, m.Name, err)
		}
		bal := types.Zero()
		if m.Balance != "" {
			if bal, err = types.ParseFIL(m.Balance); err != nil {
				return nil, fmt.Errorf("%w: miner %s balance: %v", ErrConfig, m.Name, err)
			}
		}
		// The genesis miner's balance is minted like the accounts'.
		act, err := st.CreateMiner(r.Policy, owner, worker, ctl, miner.RegisteredSealProof(sp), bal, m.PeerID)
		if err != nil {
			return nil, fmt.Errorf("miner %s: %w", m.Name, err)
		}
		total = total.Add(bal)
		r.Miners = append(r.Miners, resolvedMiner{Name: m.Name, ID: act.ID, Address: state.IDAddr(act.ID).String()})
	}
	r.Policy.CirculatingSupply = total
	if total.Sign() == 0 {
		r.Policy.CirculatingSupply = state.DefaultPolicy().CirculatingSupply
	}
	return st, nil
}
