package delivery

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/sealant/sealant/api"
)

// QuarantineLimits bound quarantine/, so rejected deliveries cannot fill
// the SP's disk: each sector keeps one copy (a new rejection replaces the
// previous one), and beyond MaxCount copies or MaxBytes in total the
// oldest are deleted (their records keep the reason and checks).
type QuarantineLimits struct {
	// MaxBytes bounds the total size (default DefaultQuarantineMaxBytes;
	// negative: no bound).
	MaxBytes int64
	// MaxCount bounds the number of quarantined sectors (default
	// DefaultQuarantineMaxCount; negative: no bound).
	MaxCount int
}

// Quarantine defaults: a few 32GiB sectors' worth.
const (
	DefaultQuarantineMaxBytes = 128 << 30
	DefaultQuarantineMaxCount = 8
)

func (l QuarantineLimits) withDefaults() QuarantineLimits {
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultQuarantineMaxBytes
	}
	if l.MaxCount == 0 {
		l.MaxCount = DefaultQuarantineMaxCount
	}
	return l
}

// QuarantineEntry is one quarantined copy.
type QuarantineEntry struct {
	Dir    string
	Sector string // s-t0MINER-N
	At     int64  // UnixNano of the rejection
	Bytes  int64
}

// QuarantineUsage lists root's quarantine, oldest first, with the total
// size.
func QuarantineUsage(root string) ([]QuarantineEntry, int64, error) {
	dir := filepath.Join(root, quarantineDirName)
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("delivery: quarantine: %w", err)
	}
	var out []QuarantineEntry
	var total int64
	for _, e := range ents {
		i := strings.LastIndexByte(e.Name(), '-')
		if !e.IsDir() || i < 0 {
			continue
		}
		at, err := strconv.ParseInt(e.Name()[i+1:], 10, 64)
		if err != nil {
			continue
		}
		q := QuarantineEntry{Dir: filepath.Join(dir, e.Name()), Sector: e.Name()[:i], At: at}
		_ = filepath.WalkDir(q.Dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					q.Bytes += info.Size()
				}
			}
			return nil
		})
		total += q.Bytes
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out, total, nil
}

// dropOlderCopies deletes earlier quarantined copies of id (one copy per
// sector).
func dropOlderCopies(root string, id api.SectorID) {
	qs, _, _ := QuarantineUsage(root)
	for _, q := range qs {
		if q.Sector == id.String() {
			_ = os.RemoveAll(q.Dir)
		}
	}
}

// enforceQuarantine deletes the oldest copies until l holds; keep (the
// copy just made) goes last, and then only its data: its reason.json
// stays. It returns the directories removed.
func enforceQuarantine(root string, l QuarantineLimits, keep string) []string {
	l = l.withDefaults()
	qs, total, err := QuarantineUsage(root)
	if err != nil {
		return nil
	}
	over := func() bool {
		return (l.MaxCount >= 0 && len(qs) > l.MaxCount) || (l.MaxBytes >= 0 && total > l.MaxBytes)
	}
	var removed []string
	for i := 0; i < len(qs) && over(); {
		if qs[i].Dir == keep {
			i++
			continue
		}
		_ = os.RemoveAll(qs[i].Dir)
		removed = append(removed, qs[i].Dir)
		total -= qs[i].Bytes
		qs = append(qs[:i], qs[i+1:]...)
	}
	if l.MaxBytes >= 0 && total > l.MaxBytes && keep != "" {
		// The newest copy alone is over budget: keep its note only.
		_ = filepath.WalkDir(keep, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && filepath.Base(p) != "reason.json" {
				_ = os.Remove(p)
			}
			return nil
		})
	}
	return removed
}
