package delivery

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sealant/sealant/api"
)

// sectorRecord is the receiver's persistent record of one sector,
// state/<s-t0M-N>.json, rewritten atomically after every change.
type sectorRecord struct {
	ID       api.SectorID       `json:"id"`
	Provider string             `json:"provider"`
	State    api.DeliveryState  `json:"state"`
	Reason   string             `json:"reason,omitempty"`
	Metadata api.SectorMetadata `json:"metadata"`
	Files    []fileRecord       `json:"files"`
	Checks   []api.VerifyCheck  `json:"checks,omitempty"`
	// Quarantine is the directory a rejected sector's files went to.
	Quarantine string    `json:"quarantine,omitempty"`
	Updated    time.Time `json:"updated"`
}

// fileRecord is the upload progress of one file. HashState is the
// marshalled SHA-256 state after Received bytes, so the whole-file hash
// continues across interruptions and restarts without re-reading the file.
type fileRecord struct {
	api.SectorFile
	Received  int64  `json:"received"`
	Complete  bool   `json:"complete"`
	HashState []byte `json:"hash_state,omitempty"`
}

func (r *sectorRecord) file(name string) *fileRecord {
	for i := range r.Files {
		if r.Files[i].Name == name {
			return &r.Files[i]
		}
	}
	return nil
}

func (r *sectorRecord) allComplete() bool {
	for _, f := range r.Files {
		if !f.Complete {
			return false
		}
	}
	return len(r.Files) > 0
}

func (r *sectorRecord) public() api.ReceiverSector {
	out := api.ReceiverSector{ID: r.ID, Provider: r.Provider, State: r.State, Reason: r.Reason,
		Checks: slices.Clone(r.Checks), Quarantine: r.Quarantine, Updated: r.Updated}
	for _, f := range r.Files {
		out.Files = append(out.Files, f.public())
	}
	return out
}

func (f *fileRecord) public() api.ReceiverFile {
	return api.ReceiverFile{SectorFile: f.SectorFile, Received: f.Received, Complete: f.Complete}
}

// dirs of a receiver root.
const (
	stateDirName      = "state"
	incomingDirName   = "incoming"
	quarantineDirName = "quarantine"
	scratchDirName    = "scratch"
)

func statePath(root string, id api.SectorID) string {
	return filepath.Join(root, stateDirName, id.String()+".json")
}

func saveRecord(root string, r *sectorRecord) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(statePath(root, r.ID), raw)
}

func loadRecord(root string, id api.SectorID) (*sectorRecord, error) {
	raw, err := os.ReadFile(statePath(root, id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("delivery: read state of %s: %w", id, err)
	}
	var r sectorRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("delivery: state of %s is corrupt: %w", id, err)
	}
	return &r, nil
}

// ListSectors reads every sector record under a receiver root, ordered by
// miner and number. It reads files only, so it works whether or not the
// receiver is running.
func ListSectors(root string) ([]api.ReceiverSector, error) {
	ents, err := os.ReadDir(filepath.Join(root, stateDirName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("delivery: list sectors: %w", err)
	}
	var out []api.ReceiverSector
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.IsDir() {
			continue
		}
		id, err := api.ParseSectorID(name)
		if err != nil {
			continue
		}
		r, err := loadRecord(root, id)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out = append(out, r.public())
		}
	}
	slices.SortFunc(out, func(a, b api.ReceiverSector) int {
		if a.ID.Miner != b.ID.Miner {
			return cmpU64(a.ID.Miner, b.ID.Miner)
		}
		return cmpU64(a.ID.Number, b.ID.Number)
	})
	return out, nil
}

// LoadSector returns one sector record's public view and its metadata.
func LoadSector(root string, id api.SectorID) (*api.ReceiverSector, *api.SectorMetadata, error) {
	r, err := loadRecord(root, id)
	if err != nil {
		return nil, nil, err
	}
	if r == nil {
		return nil, nil, fmt.Errorf("%w: sector %s", ErrNotFound, id)
	}
	pub := r.public()
	return &pub, &r.Metadata, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeFileAtomic writes data to path via a synced temporary file and a
// rename, so a crash leaves either the old or the new content.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return mapDiskErr(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return mapDiskErr(err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return mapDiskErr(err)
	}
	if err := f.Close(); err != nil {
		return mapDiskErr(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // not every filesystem supports it; the rename is what matters
	return nil
}
