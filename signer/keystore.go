package signer

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/sigs"
	"github.com/sealant/sealant/chain/types"
)

// Keystore errors.
var (
	// ErrBadPassphrase: a key file could not be opened with the passphrase
	// (wrong passphrase or a tampered file; AEAD cannot tell them apart).
	ErrBadPassphrase = errors.New("signer: wrong passphrase or corrupted key file")
	// ErrKeyExists: the keystore already holds that address.
	ErrKeyExists = errors.New("signer: key already in keystore")
	// ErrNoKey: the keystore has no key for that address.
	ErrNoKey = errors.New("signer: no such key")
	// ErrKeyFile: a key file is malformed.
	ErrKeyFile = errors.New("signer: malformed key file")
	// ErrInsecurePerms: a key or passphrase file can be read by others.
	ErrInsecurePerms = errors.New("signer: permissions too relaxed")
	// ErrWeakPassphrase: a new keystore's passphrase is too short.
	ErrWeakPassphrase = errors.New("signer: passphrase too short")
)

// MinPassphraseLen is the shortest passphrase (in characters) a new
// keystore is created with. Keys are sealed with argon2id, but a short
// passphrase still falls to a dictionary.
const MinPassphraseLen = 12

// checkPrivate refuses a file that group or others may access, as Lotus
// does for its keystore ("permissions of key … are too relaxed, required:
// 0600"), unless allow is set.
func checkPrivate(path, what string, allow bool) error {
	if allow {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("signer: %s: %w", what, err)
	}
	if m := st.Mode().Perm(); m&0o077 != 0 {
		return fmt.Errorf("%w: %s %s has mode %#o, required 0600 (chmod 600 %s, or --allow-insecure-permissions)",
			ErrInsecurePerms, what, path, m, path)
	}
	return nil
}

// KeyFileVersion is the version of the on-disk key format.
const KeyFileVersion = 1

// keyFileExt is the extension of key files in a keystore directory.
const keyFileExt = ".key"

// KDFParams are argon2id parameters. The defaults follow RFC 9106's second
// recommended option (t=3, 64 MiB), a cost paid once per key at start-up.
type KDFParams struct {
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

// DefaultKDF is used for new key files.
var DefaultKDF = KDFParams{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

// Bounds on stored KDF parameters, so a crafted key file cannot make the
// signer allocate unbounded memory or spin forever.
const (
	maxKDFMemoryKiB = 4 << 20 // 4 GiB
	maxKDFTime      = 64
)

// keyFile is the JSON on disk: the address and type in the clear (so the
// keystore can be listed and announced without the passphrase), the private
// key sealed with XChaCha20-Poly1305 under an argon2id-derived key. The
// address, type and version are the AEAD's additional data, so swapping a
// sealed key into another file's header fails to open.
type keyFile struct {
	Version    int       `json:"version"`
	Address    string    `json:"address"`
	Type       string    `json:"type"`
	KDF        string    `json:"kdf"`
	KDFParams  KDFParams `json:"kdf_params"`
	Salt       []byte    `json:"salt"`
	Cipher     string    `json:"cipher"`
	Nonce      []byte    `json:"nonce"`
	Ciphertext []byte    `json:"ciphertext"`
}

func (kf *keyFile) aad() []byte {
	return []byte(fmt.Sprintf("sealant-signer-key/v%d\x00%s\x00%s", kf.Version, kf.Type, kf.Address))
}

// KeyEntry is what a keystore listing shows (no secret).
type KeyEntry struct {
	Address address.Address `json:"address"`
	Type    sigs.KeyType    `json:"type"`
	Path    string          `json:"path"`
}

// Keystore is a directory with one encrypted file per key (mode 0600).
// Key files are written to a temporary file and renamed into place, so a
// reader never sees a partial file; the struct itself holds no mutable
// state after OpenKeystore (set KDF and Rand before first use).
type Keystore struct {
	dir string
	// KDF is the cost used when writing new key files (default DefaultKDF).
	KDF KDFParams
	// Rand supplies salts, nonces and generated keys (default crypto/rand).
	Rand io.Reader
	// AllowInsecurePerms uses key files that group or others can read;
	// by default Unlock and Export refuse them (ErrInsecurePerms).
	AllowInsecurePerms bool
}

// OpenKeystore opens (creating with mode 0700 if needed) the keystore
// directory dir.
func OpenKeystore(dir string) (*Keystore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("signer: keystore %s: %w", dir, err)
	}
	return &Keystore{dir: dir, KDF: DefaultKDF, Rand: rand.Reader}, nil
}

// Dir returns the keystore directory.
func (ks *Keystore) Dir() string { return ks.dir }

func (ks *Keystore) pathFor(a address.Address) string {
	return filepath.Join(ks.dir, address.Format(a, address.Mainnet)+keyFileExt)
}

// List returns the keys in the keystore, sorted by address string. It
// needs no passphrase.
func (ks *Keystore) List() ([]KeyEntry, error) {
	ents, err := os.ReadDir(ks.dir)
	if err != nil {
		return nil, fmt.Errorf("signer: keystore %s: %w", ks.dir, err)
	}
	var out []KeyEntry
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), keyFileExt) {
			continue
		}
		p := filepath.Join(ks.dir, e.Name())
		kf, err := readKeyFile(p)
		if err != nil {
			return nil, err
		}
		a, _ := address.Parse(kf.Address) // checked by readKeyFile
		out = append(out, KeyEntry{Address: a, Type: sigs.KeyType(kf.Type), Path: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address.String() < out[j].Address.String() })
	return out, nil
}

func readKeyFile(path string) (*keyFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signer: read key file: %w", err)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrKeyFile, filepath.Base(path), err)
	}
	if kf.Version != KeyFileVersion || kf.KDF != "argon2id" || kf.Cipher != "xchacha20-poly1305" {
		return nil, fmt.Errorf("%w: %s: unsupported version %d / kdf %q / cipher %q", ErrKeyFile, filepath.Base(path), kf.Version, kf.KDF, kf.Cipher)
	}
	if _, err := address.Parse(kf.Address); err != nil {
		return nil, fmt.Errorf("%w: %s: address: %v", ErrKeyFile, filepath.Base(path), err)
	}
	p := kf.KDFParams
	if p.Time == 0 || p.Time > maxKDFTime || p.MemoryKiB < 8 || p.MemoryKiB > maxKDFMemoryKiB || p.Threads == 0 ||
		len(kf.Salt) < 16 || len(kf.Nonce) != chacha20poly1305.NonceSizeX {
		return nil, fmt.Errorf("%w: %s: bad kdf parameters, salt or nonce", ErrKeyFile, filepath.Base(path))
	}
	return &kf, nil
}

func deriveKey(pass []byte, salt []byte, p KDFParams) []byte {
	return argon2.IDKey(pass, salt, p.Time, p.MemoryKiB, p.Threads, chacha20poly1305.KeySize)
}

// Import seals ki under pass and stores it. It returns the key's address.
// The first key of a keystore sets its passphrase, which must have at
// least MinPassphraseLen characters (ErrWeakPassphrase); later keys must
// use the same passphrase anyway (Unlock opens all keys with one).
func (ks *Keystore) Import(ki sigs.KeyInfo, pass []byte) (address.Address, error) {
	if _, err := ki.SigType(); err != nil {
		return address.Undef, fmt.Errorf("signer: import: %w", err)
	}
	if n := utf8.RuneCount(pass); n < MinPassphraseLen {
		existing, err := ks.List()
		if err != nil {
			return address.Undef, err
		}
		if len(existing) == 0 {
			return address.Undef, fmt.Errorf("%w: a new keystore needs a passphrase of at least %d characters, got %d", ErrWeakPassphrase, MinPassphraseLen, n)
		}
	}
	a, err := ki.Address()
	if err != nil {
		return address.Undef, fmt.Errorf("signer: import: %w", err)
	}
	path := ks.pathFor(a)
	if _, err := os.Stat(path); err == nil {
		return a, fmt.Errorf("%w: %s", ErrKeyExists, a)
	}
	kf := &keyFile{Version: KeyFileVersion, Address: address.Format(a, address.Mainnet), Type: string(ki.Type),
		KDF: "argon2id", KDFParams: ks.KDF, Cipher: "xchacha20-poly1305"}
	kf.Salt = make([]byte, 16)
	kf.Nonce = make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := io.ReadFull(ks.Rand, kf.Salt); err != nil {
		return address.Undef, fmt.Errorf("signer: salt: %w", err)
	}
	if _, err := io.ReadFull(ks.Rand, kf.Nonce); err != nil {
		return address.Undef, fmt.Errorf("signer: nonce: %w", err)
	}
	k := deriveKey(pass, kf.Salt, kf.KDFParams)
	defer zero(k)
	aead, err := chacha20poly1305.NewX(k)
	if err != nil {
		return address.Undef, fmt.Errorf("signer: cipher: %w", err)
	}
	kf.Ciphertext = aead.Seal(nil, kf.Nonce, ki.PrivateKey, kf.aad())
	data, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return address.Undef, fmt.Errorf("signer: encode key file: %w", err)
	}
	if err := writeFileAtomic(path, append(data, '\n'), 0o600); err != nil {
		return address.Undef, fmt.Errorf("signer: write key file: %w", err)
	}
	return a, nil
}

// Generate creates a new key of the given type, stores it sealed under
// pass and returns its address.
func (ks *Keystore) Generate(kind types.SigType, pass []byte) (address.Address, error) {
	priv, err := sigs.GenerateKey(kind, ks.Rand)
	if err != nil {
		return address.Undef, fmt.Errorf("signer: generate: %w", err)
	}
	defer zero(priv)
	ki, err := sigs.NewKeyInfo(kind, priv)
	if err != nil {
		return address.Undef, fmt.Errorf("signer: generate: %w", err)
	}
	return ks.Import(ki, pass)
}

// Export opens the key of a and returns it in Lotus form. The caller
// decides whether to print it; the CLI demands an explicit flag.
func (ks *Keystore) Export(a address.Address, pass []byte) (sigs.KeyInfo, error) {
	if err := checkPrivate(ks.pathFor(a), "key file", ks.AllowInsecurePerms); err != nil && !errors.Is(err, os.ErrNotExist) {
		return sigs.KeyInfo{}, err
	}
	kf, err := readKeyFile(ks.pathFor(a))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return sigs.KeyInfo{}, fmt.Errorf("%w: %s", ErrNoKey, a)
		}
		return sigs.KeyInfo{}, err
	}
	return openKey(kf, pass)
}

// openKey decrypts kf and checks the key really belongs to the address in
// the header.
func openKey(kf *keyFile, pass []byte) (sigs.KeyInfo, error) {
	k := deriveKey(pass, kf.Salt, kf.KDFParams)
	defer zero(k)
	aead, err := chacha20poly1305.NewX(k)
	if err != nil {
		return sigs.KeyInfo{}, fmt.Errorf("signer: cipher: %w", err)
	}
	priv, err := aead.Open(nil, kf.Nonce, kf.Ciphertext, kf.aad())
	if err != nil {
		return sigs.KeyInfo{}, fmt.Errorf("%w (%s)", ErrBadPassphrase, kf.Address)
	}
	ki := sigs.KeyInfo{Type: sigs.KeyType(kf.Type), PrivateKey: priv}
	got, err := ki.Address()
	want, _ := address.Parse(kf.Address)
	if err != nil || got != want {
		zero(priv)
		return sigs.KeyInfo{}, fmt.Errorf("%w: %s: key does not match its address", ErrKeyFile, kf.Address)
	}
	return ki, nil
}

// Unlock opens every key with pass and returns the in-memory wallet. All
// keys must open: a keystore with mixed passphrases is an operator error
// better reported at start than discovered at signing time.
func (ks *Keystore) Unlock(pass []byte) (*Wallet, error) {
	list, err := ks.List()
	if err != nil {
		return nil, err
	}
	w := &Wallet{keys: map[address.Address]*walletKey{}}
	for _, e := range list {
		if err := checkPrivate(e.Path, "key file", ks.AllowInsecurePerms); err != nil {
			w.Close()
			return nil, err
		}
		kf, err := readKeyFile(e.Path)
		if err != nil {
			w.Close()
			return nil, err
		}
		ki, err := openKey(kf, pass)
		if err != nil {
			w.Close()
			return nil, err
		}
		if err := w.add(ki); err != nil {
			zero(ki.PrivateKey)
			w.Close()
			return nil, err
		}
		zero(ki.PrivateKey)
	}
	return w, nil
}

// writeFileAtomic writes data to path through a synced temporary file and
// a rename, so a crash leaves either the old or the new content.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
