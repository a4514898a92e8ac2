package delivery

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sealant/sealant/api"
)

// InStore reports whether a Lotus/Curio store already has any file of the
// sector (its sealed file or its cache directory).
func InStore(store string, id api.SectorID) (bool, error) {
	for _, n := range []string{SealedName(id), CacheName(id)} {
		_, err := os.Lstat(filepath.Join(store, filepath.FromSlash(n)))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return false, err
		}
	}
	return false, nil
}

// importSector moves a verified sector's files from src (laid out like a
// store) into store. It never overwrites: the cache directory is claimed
// with mkdir and every file is placed with link (or an O_EXCL copy across
// filesystems), both of which fail if the target exists; on failure,
// whatever this call created is removed again and the source is kept.
func importSector(store, src string, id api.SectorID, files []api.SectorFile) error {
	if exists, err := InStore(store, id); err != nil {
		return fmt.Errorf("delivery: import %s: %w", id, err)
	} else if exists {
		return fmt.Errorf("%w: sector %s already exists in the store %s; refusing to overwrite it", ErrConflict, id, store)
	}
	for _, d := range []string{sealedDir, cacheDir} {
		if err := os.MkdirAll(filepath.Join(store, d), 0o755); err != nil {
			return fmt.Errorf("delivery: import %s: %w", id, mapDiskErr(err))
		}
	}
	cache := filepath.Join(store, filepath.FromSlash(CacheName(id)))
	if err := os.Mkdir(cache, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%w: sector %s appeared in the store %s; refusing to overwrite it", ErrConflict, id, store)
		}
		return fmt.Errorf("delivery: import %s: %w", id, mapDiskErr(err))
	}
	var placed []string
	undo := func() {
		for _, p := range placed {
			_ = os.Remove(p)
		}
		_ = os.Remove(cache)
	}
	// Cache files first, the replica last: a store scanner that sees the
	// sealed file finds a complete cache next to it.
	ordered := make([]api.SectorFile, 0, len(files))
	var sealed *api.SectorFile
	for i := range files {
		if files[i].Name == SealedName(id) {
			sealed = &files[i]
			continue
		}
		ordered = append(ordered, files[i])
	}
	if sealed != nil {
		ordered = append(ordered, *sealed)
	}
	for _, f := range ordered {
		from := filepath.Join(src, filepath.FromSlash(f.Name))
		to := filepath.Join(store, filepath.FromSlash(f.Name))
		if err := placeFile(from, to); err != nil {
			undo()
			if errors.Is(err, os.ErrExist) {
				return fmt.Errorf("%w: %s already exists; refusing to overwrite it", ErrConflict, to)
			}
			return fmt.Errorf("delivery: import %s: %w", f.Name, mapDiskErr(err))
		}
		placed = append(placed, to)
	}
	_ = syncDir(cache)
	_ = syncDir(filepath.Join(store, sealedDir))
	_ = syncDir(filepath.Join(store, cacheDir))
	// The store now owns the files; drop the incoming names.
	for _, f := range ordered {
		_ = os.Remove(filepath.Join(src, filepath.FromSlash(f.Name)))
	}
	return nil
}

// placeFile puts from at to without ever replacing an existing to: a hard
// link on the same filesystem, else an exclusive-create copy.
func placeFile(from, to string) error {
	err := os.Link(from, to)
	if err == nil || !errors.Is(err, syscall.EXDEV) && !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.EMLINK) {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(out, in, make([]byte, 1<<20)); err != nil {
		out.Close()
		os.Remove(to)
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(to)
		return err
	}
	return out.Close()
}

// quarantineNote is written next to quarantined files.
type quarantineNote struct {
	ID       api.SectorID       `json:"id"`
	Provider string             `json:"provider"`
	Reason   string             `json:"reason"`
	Checks   []api.VerifyCheck  `json:"checks,omitempty"`
	Metadata api.SectorMetadata `json:"metadata"`
	At       time.Time          `json:"at"`
}

// quarantine moves a sector's incoming directory aside with a note of why.
// The files are kept for the SP to inspect and are never imported.
func quarantine(root string, rec *sectorRecord, now time.Time) (string, error) {
	src := filepath.Join(root, incomingDirName, rec.ID.String())
	dst := filepath.Join(root, quarantineDirName, fmt.Sprintf("%s-%d", rec.ID, now.UnixNano()))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(src, dst); err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("delivery: quarantine %s: %w", rec.ID, err)
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return "", err
		}
	}
	note, _ := json.MarshalIndent(quarantineNote{ID: rec.ID, Provider: rec.Provider, Reason: rec.Reason,
		Checks: rec.Checks, Metadata: rec.Metadata, At: now}, "", "  ")
	if err := writeFileAtomic(filepath.Join(dst, "reason.json"), note); err != nil {
		return dst, fmt.Errorf("delivery: quarantine note: %w", err)
	}
	return dst, nil
}
