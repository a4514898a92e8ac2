package signer

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// ErrConfig: signer.toml is malformed or incomplete.
var ErrConfig = errors.New("signer: invalid config")

// Config is signer.toml. Relative paths are relative to the file's
// directory.
type Config struct {
	Name           string `toml:"name"`
	Keystore       string `toml:"keystore"`
	StateDir       string `toml:"state_dir"`
	AuditLog       string `toml:"audit_log"`
	Policy         string `toml:"policy"`
	PassphraseFile string `toml:"passphrase_file"`
	// RateLimit and RateBurst bound sign requests per manager connection
	// (requests/s and burst; 0: DefaultRateLimit, rate_limit < 0: none).
	RateLimit float64 `toml:"rate_limit"`
	RateBurst int     `toml:"rate_burst"`
	// AuditMaxBytes and AuditKeep rotate the audit log (0: 64 MiB per
	// file, 8 rotated files kept).
	AuditMaxBytes int64           `toml:"audit_max_bytes"`
	AuditKeep     int             `toml:"audit_keep"`
	Managers      []ManagerConfig `toml:"managers"`

	// Insecure allows plain ws:// to a manager that is not on loopback
	// (the token and every message would cross the network in clear);
	// set from `sealant signer run --insecure`, never from the file.
	Insecure bool `toml:"-"`
	// AllowInsecurePerms uses key and passphrase files others can read
	// (--allow-insecure-permissions).
	AllowInsecurePerms bool `toml:"-"`

	dir string
}

// ManagerConfig is one [[managers]] entry.
type ManagerConfig struct {
	URL string `toml:"url"`
	// TokenFile holds the tenant's signer token (kept out of the config
	// so the config can be shared and versioned).
	TokenFile string `toml:"token_file"`
	Tenant    string `toml:"tenant"`
	// CAFile is a PEM bundle of CAs trusted for wss:// (optional).
	CAFile string `toml:"ca_file"`
}

// LoadConfig reads signer.toml. Unknown keys are errors.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signer: config: %w", err)
	}
	var c Config
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%w: %s: unknown key %s", ErrConfig, path, und[0])
	}
	c.dir = filepath.Dir(path)
	if c.RateBurst < 0 || c.AuditMaxBytes < 0 || c.AuditKeep < 0 {
		return nil, fmt.Errorf("%w: %s: rate_burst, audit_max_bytes and audit_keep must not be negative", ErrConfig, path)
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"keystore", c.Keystore}, {"state_dir", c.StateDir}, {"audit_log", c.AuditLog}, {"policy", c.Policy}} {
		if f.v == "" {
			return nil, fmt.Errorf("%w: %s: %s is required", ErrConfig, path, f.name)
		}
	}
	return &c, nil
}

// Path resolves p against the config's directory.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Endpoints reads the token and CA files of the [[managers]] entries.
func (c *Config) Endpoints() ([]Endpoint, error) {
	if len(c.Managers) == 0 {
		return nil, fmt.Errorf("%w: no [[managers]]", ErrConfig)
	}
	var out []Endpoint
	for i, m := range c.Managers {
		if !strings.HasPrefix(m.URL, "ws://") && !strings.HasPrefix(m.URL, "wss://") {
			return nil, fmt.Errorf("%w: managers[%d].url %q: want ws:// or wss://", ErrConfig, i, m.URL)
		}
		if strings.HasPrefix(m.URL, "ws://") && !c.Insecure && !loopbackURL(m.URL) {
			return nil, fmt.Errorf("%w: managers[%d].url %q: plain ws:// to a host that is not loopback sends the token and messages in clear; use wss:// (or --insecure)", ErrConfig, i, m.URL)
		}
		if m.TokenFile == "" {
			return nil, fmt.Errorf("%w: managers[%d].token_file is required", ErrConfig, i)
		}
		tok, err := os.ReadFile(c.Path(m.TokenFile))
		if err != nil {
			return nil, fmt.Errorf("signer: managers[%d] token: %w", i, err)
		}
		ep := Endpoint{URL: m.URL, Token: strings.TrimSpace(string(tok)), Tenant: m.Tenant}
		if m.CAFile != "" {
			pem, err := os.ReadFile(c.Path(m.CAFile))
			if err != nil {
				return nil, fmt.Errorf("signer: managers[%d] ca: %w", i, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%w: managers[%d].ca_file has no certificate", ErrConfig, i)
			}
			ep.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		out = append(out, ep)
	}
	return out, nil
}

// loopbackURL reports whether u's host is localhost or a loopback IP.
func loopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	h := p.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Open unlocks the keystore with pass and opens the policy, state and
// audit log. The returned close function zeroes the keys and closes the log.
func (c *Config) Open(pass []byte, log *slog.Logger) (*Signer, func() error, error) {
	pol, err := LoadPolicy(c.Path(c.Policy))
	if err != nil {
		return nil, nil, err
	}
	ks, err := OpenKeystore(c.Path(c.Keystore))
	if err != nil {
		return nil, nil, err
	}
	ks.AllowInsecurePerms = c.AllowInsecurePerms
	w, err := ks.Unlock(pass)
	if err != nil {
		return nil, nil, err
	}
	if len(w.Addresses()) == 0 {
		w.Close()
		return nil, nil, fmt.Errorf("signer: keystore %s is empty (sealant signer new / import)", ks.Dir())
	}
	st, err := OpenState(c.Path(c.StateDir))
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	au, err := OpenAuditRotating(c.Path(c.AuditLog), c.AuditMaxBytes, c.AuditKeep)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	s, err := New(Options{Name: c.Name, Wallet: w, Policy: pol, State: st, Audit: au, Logger: log,
		RateLimit: RateLimit{PerSecond: c.RateLimit, Burst: c.RateBurst}})
	if err != nil {
		w.Close()
		au.Close()
		return nil, nil, err
	}
	return s, func() error { w.Close(); return au.Close() }, nil
}

// Layout of a directory made by Init.
const (
	ConfigFileName = "signer.toml"
	PolicyFileName = "policy.toml"
	KeysDirName    = "keys"
	StateDirName   = "state"
	AuditFileName  = "audit.jsonl"
)

const configTemplate = `# Sealant signer configuration (sealant signer run --config signer.toml).
name = "sp-signer"
keystore = "keys"
state_dir = "state"
audit_log = "audit.jsonl"
policy = "policy.toml"
# passphrase_file = "passphrase"   # or $SEALANT_SIGNER_PASSPHRASE, or a terminal prompt
# Sign requests per manager connection: sustained rate and burst. Requests
# over it are refused unevaluated and audited in aggregate.
# rate_limit = 20
# rate_burst = 40
# The audit log rotates at audit_max_bytes, keeping audit_keep old files.
# audit_max_bytes = 67108864
# audit_keep = 8

# One entry per manager; the signer connects out (no inbound port needed).
# Plain ws:// is accepted only to loopback (else: sealant signer run --insecure).
[[managers]]
url = "wss://manager.example:4100/rpc/v0"
token_file = "manager.token"       # the tenant's signer token
# tenant = "acme"
# ca_file = "manager-ca.pem"
`

// Init creates a signer directory: keys/ and state/ (0700), signer.toml
// and policy.toml templates. Existing files are never overwritten.
func Init(dir string) ([]string, error) {
	var made []string
	for _, d := range []string{dir, filepath.Join(dir, KeysDirName), filepath.Join(dir, StateDirName)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return made, fmt.Errorf("signer: init: %w", err)
		}
	}
	for _, f := range []struct{ name, text string }{
		{ConfigFileName, configTemplate}, {PolicyFileName, PolicyTemplate},
	} {
		p := filepath.Join(dir, f.name)
		fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return made, fmt.Errorf("signer: init: %w", err)
		}
		_, werr := fh.WriteString(f.text)
		if err := errors.Join(werr, fh.Close()); err != nil {
			return made, fmt.Errorf("signer: init: %w", err)
		}
		made = append(made, p)
	}
	return made, nil
}
