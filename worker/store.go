package worker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sealant/sealant/worker/sectorfsm"
)

// Files of a thread's local store, below ThreadSection.Location:
//
//	meta/record.json   the sectorfsm.Record, replaced atomically after every step
//	meta/events.jsonl  append-only history of the current sector (one line per step)
//	data/              the sector directory (porep layout) while sealing
//	config.toml        optional [sealing] overrides, re-read before each sector
const (
	metaDir        = "meta"
	recordFile     = "record.json"
	eventsFile     = "events.jsonl"
	dataDir        = "data"
	archiveDir     = "history"
	c1OutputFile   = "c1.json"
	pausedFlagFile = "paused"
)

// LogEntry is one line of a thread's event log: what happened and what the
// thread decided, for `sectors status --log`-style history.
type LogEntry struct {
	Time    time.Time          `json:"time"`
	Step    uint64             `json:"step"`
	Sector  sectorfsm.SectorID `json:"sector"`
	From    string             `json:"from"`
	To      string             `json:"to"`
	Event   string             `json:"event"`
	Detail  json.RawMessage    `json:"detail,omitempty"`
	Actions []string           `json:"actions,omitempty"`
	Error   string             `json:"error,omitempty"`
}

// Store is a thread's local store. Its methods are not safe for concurrent
// use; a thread's runner is its only user.
type Store struct{ root string }

// OpenStore creates (if needed) and opens the store at location.
func OpenStore(location string) (*Store, error) {
	for _, d := range []string{metaDir, dataDir} {
		if err := os.MkdirAll(filepath.Join(location, d), 0o755); err != nil {
			return nil, fmt.Errorf("worker: open store %s: %w", location, err)
		}
	}
	return &Store{root: location}, nil
}

// SectorDir is where the current sector's files live.
func (s *Store) SectorDir() string { return filepath.Join(s.root, dataDir) }

// Load returns the persisted record, or a new idle one if none exists.
func (s *Store) Load() (sectorfsm.Record, error) {
	data, err := os.ReadFile(filepath.Join(s.root, metaDir, recordFile))
	if errors.Is(err, os.ErrNotExist) {
		return sectorfsm.New(), nil
	}
	if err != nil {
		return sectorfsm.Record{}, fmt.Errorf("worker: load record: %w", err)
	}
	rec, err := sectorfsm.Decode(data)
	if err != nil {
		return sectorfsm.Record{}, fmt.Errorf("worker: load record %s: %w", s.root, err)
	}
	return rec, nil
}

// Save persists rec durably: temp file, fsync, rename, fsync of the
// directory. When Save returns nil the record survives a power loss; a
// crash before that leaves the previous record intact.
func (s *Store) Save(rec sectorfsm.Record) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("worker: encode record: %w", err)
	}
	return writeFileSync(filepath.Join(s.root, metaDir, recordFile), data)
}

// Append adds e to the event log and fsyncs it.
func (s *Store) Append(e LogEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("worker: encode log entry: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.root, metaDir, eventsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("worker: event log: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("worker: event log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("worker: event log: %w", err)
	}
	return f.Close()
}

// Log reads the current sector's event log.
func (s *Store) Log() ([]LogEntry, error) { return readLog(filepath.Join(s.root, metaDir, eventsFile)) }

func readLog(path string) ([]LogEntry, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []LogEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e LogEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// A torn last line after a crash is expected; skip it.
			continue
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Reset ends the current sector: its event log is archived as
// history/s-t0M-N.jsonl, the sector directory emptied and the record
// replaced by an idle one. Each part is idempotent, and the record goes
// last, so a crash in between reruns Reset from the terminal record.
func (s *Store) Reset(id sectorfsm.SectorID) error {
	hist := filepath.Join(s.root, archiveDir)
	if err := os.MkdirAll(hist, 0o755); err != nil {
		return fmt.Errorf("worker: archive log: %w", err)
	}
	src := filepath.Join(s.root, metaDir, eventsFile)
	dst := filepath.Join(hist, fmt.Sprintf("s-t0%d-%d.jsonl", id.Miner, id.Number))
	if err := os.Rename(src, dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("worker: archive log: %w", err)
	}
	if err := os.RemoveAll(s.SectorDir()); err != nil {
		return fmt.Errorf("worker: clean sector dir: %w", err)
	}
	if err := os.MkdirAll(s.SectorDir(), 0o755); err != nil {
		return fmt.Errorf("worker: clean sector dir: %w", err)
	}
	return s.Save(sectorfsm.New())
}

// writeFileSync writes data to path atomically and durably.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("worker: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("worker: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("worker: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("worker: close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("worker: rename %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("worker: sync dir %s: %w", dir, err)
	}
	defer d.Close()
	// Some filesystems refuse fsync on directories; the rename itself is
	// what must be ordered, and those filesystems order it anyway.
	_ = d.Sync()
	return nil
}
