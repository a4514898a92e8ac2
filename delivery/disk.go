package delivery

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
)

// File is the part of *os.File the receiver writes received bytes through.
type File interface {
	io.WriterAt
	Truncate(size int64) error
	Sync() error
	Close() error
}

// Disk is where the receiver writes received file data. OSDisk is the real
// one; tests inject a disk with a byte budget to exercise a full disk
// without filling one.
type Disk interface {
	// OpenFile opens (creating if needed) a file for writing.
	OpenFile(path string) (File, error)
}

// OSDisk writes to the local filesystem.
type OSDisk struct{}

// OpenFile opens path read-write, creating it with mode 0644.
func (OSDisk) OpenFile(path string) (File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
}

// isDiskFull reports the errors that mean "out of space": ENOSPC, and EDQUOT
// (a quota is as full as a disk for the sender).
func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, ErrDiskFull)
}

// mapDiskErr turns out-of-space errors into ErrDiskFull (keeping the cause).
func mapDiskErr(err error) error {
	if err != nil && isDiskFull(err) && !errors.Is(err, ErrDiskFull) {
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	}
	return err
}

// BudgetDisk is an OSDisk that refuses to grow files past a total byte
// budget, failing writes with ENOSPC exactly as a full filesystem does. It
// exists to test full-disk handling; Grow frees space.
type BudgetDisk struct {
	mu     sync.Mutex
	budget int64
	used   map[string]int64 // highest byte written per path
}

// NewBudgetDisk allows budget bytes of file data.
func NewBudgetDisk(budget int64) *BudgetDisk {
	return &BudgetDisk{budget: budget, used: map[string]int64{}}
}

// Grow adds n bytes to the budget.
func (d *BudgetDisk) Grow(n int64) {
	d.mu.Lock()
	d.budget += n
	d.mu.Unlock()
}

// OpenFile opens path on the real filesystem behind the budget.
func (d *BudgetDisk) OpenFile(path string) (File, error) {
	f, err := OSDisk{}.OpenFile(path)
	if err != nil {
		return nil, err
	}
	return &budgetFile{File: f, d: d, path: path}, nil
}

type budgetFile struct {
	File
	d    *BudgetDisk
	path string
}

func (f *budgetFile) WriteAt(p []byte, off int64) (int, error) {
	f.d.mu.Lock()
	end := off + int64(len(p))
	cur := f.d.used[f.path]
	total := int64(0)
	for _, u := range f.d.used {
		total += u
	}
	if grow := end - cur; grow > 0 && total+grow > f.d.budget {
		room := max(0, f.d.budget-total)
		f.d.mu.Unlock()
		// Write what fits, as a filesystem would, then fail.
		n := 0
		if fit := cur + room - off; fit > 0 {
			n, _ = f.File.WriteAt(p[:min(int64(len(p)), fit)], off)
			f.d.mu.Lock()
			f.d.used[f.path] = max(f.d.used[f.path], off+int64(n))
			f.d.mu.Unlock()
		}
		return n, &os.PathError{Op: "write", Path: f.path, Err: syscall.ENOSPC}
	}
	if end > cur {
		f.d.used[f.path] = end
	}
	f.d.mu.Unlock()
	return f.File.WriteAt(p, off)
}

func (f *budgetFile) Truncate(size int64) error {
	f.d.mu.Lock()
	if f.d.used[f.path] > size {
		f.d.used[f.path] = size
	}
	f.d.mu.Unlock()
	return f.File.Truncate(size)
}
