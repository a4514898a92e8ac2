package signer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
)

// Wallet holds unlocked keys in memory. Its methods never return or log
// key material. It is safe for concurrent use.
type Wallet struct {
	mu   sync.RWMutex
	keys map[address.Address]*walletKey
}

type walletKey struct {
	kind types.SigType
	priv []byte
}

// String redacts: a walletKey printed by mistake shows no secret.
func (k *walletKey) String() string { return "walletKey{redacted}" }

// NewWallet builds a wallet from Lotus key infos (tests and tools); the
// inputs are copied, not retained.
func NewWallet(kis ...sigs.KeyInfo) (*Wallet, error) {
	w := &Wallet{keys: map[address.Address]*walletKey{}}
	for _, ki := range kis {
		if err := w.add(ki); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

func (w *Wallet) add(ki sigs.KeyInfo) error {
	kind, err := ki.SigType()
	if err != nil {
		return fmt.Errorf("signer: %w", err)
	}
	a, err := ki.Address()
	if err != nil {
		return fmt.Errorf("signer: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, dup := w.keys[a]; dup {
		return fmt.Errorf("%w: %s", ErrKeyExists, a)
	}
	w.keys[a] = &walletKey{kind: kind, priv: append([]byte(nil), ki.PrivateKey...)}
	return nil
}

// Addresses returns the wallet's addresses in string order.
func (w *Wallet) Addresses() []address.Address {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]address.Address, 0, len(w.keys))
	for a := range w.keys {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// Has reports whether the wallet holds the key of a.
func (w *Wallet) Has(a address.Address) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	_, ok := w.keys[a]
	return ok
}

// sign signs data with a's key. Unexported: every signature goes through
// Signer, which applies the policy or the address-proof construction first.
func (w *Wallet) sign(a address.Address, data []byte) (types.Signature, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	k, ok := w.keys[a]
	if !ok {
		return types.Signature{}, fmt.Errorf("%w: %s", ErrNoKey, a)
	}
	sig, err := sigs.Sign(k.kind, k.priv, data)
	if err != nil {
		return types.Signature{}, fmt.Errorf("signer: sign with %s: %w", a, err)
	}
	return sig, nil
}

// Close zeroes the keys.
func (w *Wallet) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for a, k := range w.keys {
		zero(k.priv)
		delete(w.keys, a)
	}
}

// PassphraseEnv is the environment variable the passphrase may come from.
const PassphraseEnv = "SEALANT_SIGNER_PASSPHRASE"

// ErrNoPassphrase: no passphrase source was available.
var ErrNoPassphrase = errors.New("signer: no passphrase: use --passphrase-file, $" + PassphraseEnv + " or a terminal")

// PassphraseSource says where a passphrase comes from, in order: File,
// then the environment variable (via Getenv), then a prompt on TTY.
type PassphraseSource struct {
	File   string
	Getenv func(string) string // default os.Getenv
	// TTY is the terminal to prompt on (nil: no prompt). Confirm asks
	// twice (for new keys).
	TTY     *os.File
	Prompt  io.Writer
	Confirm bool
	// AllowInsecurePerms reads a File that group or others can read; by
	// default it is refused (ErrInsecurePerms), as for key files.
	AllowInsecurePerms bool
}

// ReadPassphrase returns the passphrase. A file's trailing newline is
// dropped. An empty passphrase is refused: keys at rest must be sealed.
func ReadPassphrase(src PassphraseSource) ([]byte, error) {
	var pass []byte
	switch {
	case src.File != "":
		if err := checkPrivate(src.File, "passphrase file", src.AllowInsecurePerms); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(src.File)
		if err != nil {
			return nil, fmt.Errorf("signer: passphrase file: %w", err)
		}
		pass = []byte(strings.TrimRight(string(data), "\r\n"))
		zero(data)
	default:
		getenv := src.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		if v := getenv(PassphraseEnv); v != "" {
			pass = []byte(v)
			break
		}
		if src.TTY == nil || !term.IsTerminal(int(src.TTY.Fd())) {
			return nil, ErrNoPassphrase
		}
		p, err := promptPass(src.TTY, src.Prompt, "Passphrase: ")
		if err != nil {
			return nil, err
		}
		if src.Confirm {
			again, err := promptPass(src.TTY, src.Prompt, "Repeat passphrase: ")
			if err != nil {
				return nil, err
			}
			if string(again) != string(p) {
				return nil, errors.New("signer: passphrases do not match")
			}
			zero(again)
		}
		pass = p
	}
	if len(pass) == 0 {
		return nil, errors.New("signer: empty passphrase")
	}
	return pass, nil
}

func promptPass(tty *os.File, w io.Writer, prompt string) ([]byte, error) {
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprint(w, prompt)
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(w)
	if err != nil {
		return nil, fmt.Errorf("signer: read passphrase: %w", err)
	}
	return p, nil
}
