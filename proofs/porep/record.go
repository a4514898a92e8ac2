package porep

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sealant/sealant/proofs/abi"
)

// RecordFileName is the file in a sector directory that records the sector's
// identity and the stages already completed.
const RecordFileName = "sealant-seal.json"

// Stage names recorded in Record.Done, in pipeline order.
const (
	StagePieces = "pieces" // unsealed file staged, piece commitments known
	StageTreeD  = "tree-d" // TreeD built, CommD checked against the pieces
	StagePC1    = "pc1"    // label layers written
	StagePC2    = "pc2"    // TreeC, replica, TreeR_last, p_aux, t_aux written
)

// Piece is one piece staged into a sector.
type Piece struct {
	// PayloadSize is the unpadded payload length read from the source.
	PayloadSize uint64 `json:"payload_size"`
	// Offset and Size are the piece's padded offset and padded size in the
	// sector.
	Offset uint64 `json:"offset"`
	Size   uint64 `json:"size"`
	// CommP is the piece commitment.
	CommP Bytes32 `json:"comm_p"`
}

// Record is the persistent state of one sector directory.
type Record struct {
	Proof     abi.RegisteredSealProof `json:"proof"`
	Miner     uint64                  `json:"miner"`
	Sector    uint64                  `json:"sector"`
	Ticket    Bytes32                 `json:"ticket"`
	Pieces    []Piece                 `json:"pieces"`
	CommD     Bytes32                 `json:"comm_d"`
	ReplicaID Bytes32                 `json:"replica_id"`
	CommC     Bytes32                 `json:"comm_c"`
	CommRLast Bytes32                 `json:"comm_r_last"`
	CommR     Bytes32                 `json:"comm_r"`
	Done      []string                `json:"done"`
}

// has reports whether stage is recorded as done.
func (r *Record) has(stage string) bool {
	for _, s := range r.Done {
		if s == stage {
			return true
		}
	}
	return false
}

// ErrNoRecord reports a directory that was never sealed by Sealant.
var ErrNoRecord = errors.New("porep: no seal record in directory")

// LoadRecord reads the record of a sector directory.
func LoadRecord(dir string) (*Record, error) {
	raw, err := os.ReadFile(filepath.Join(dir, RecordFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w %s", ErrNoRecord, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("porep: read seal record: %w", err)
	}
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("porep: seal record %s is corrupt: %w", filepath.Join(dir, RecordFileName), err)
	}
	if !r.Proof.Valid() {
		return nil, fmt.Errorf("porep: seal record has unknown proof %d", r.Proof)
	}
	return &r, nil
}

// save writes the record atomically: temp file, fsync, rename, fsync dir.
func (r *Record) save(dir string) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, RecordFileName), raw)
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("porep: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("porep: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("porep: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("porep: close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("porep: rename %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // not supported on every filesystem; the rename is what matters
	return nil
}
