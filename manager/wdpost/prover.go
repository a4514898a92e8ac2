package wdpost

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/proofs/post"
)

// Replica is one sector to prove.
type Replica struct {
	Sector     uint64
	CommR      cid.Cid // on-chain sealed CID (cid.Undef if unknown)
	SealedPath string
	CacheDir   string
}

// WindowPoStRequest is one deadline's proving job: the sectors in proof
// order (partition order, ascending within a partition, skipped ones
// removed) and the challenge randomness, already a field element.
type WindowPoStRequest struct {
	Miner      uint64
	Proof      abi.RegisteredPoStProof
	Randomness [32]byte
	Replicas   []Replica
}

// Prover produces SubmitWindowedPoSt's ProofBytes. Faults lists sectors
// that could not be proven; the caller then skips them and asks again.
type Prover interface {
	ProveWindowPoSt(ctx context.Context, req WindowPoStRequest) (proof []byte, faults []uint64, err error)
}

// DevnetProver is the Sealant devnet's WindowPoSt: the fallback-PoSt
// vanilla proof of every sector (post.Prove), each post.Encode'd and
// length-prefixed (u32 little-endian) in order, as the devnet's verifier
// decodes them (devnet/state.EncodeWindowPoStProof). DEVNET ONLY: a real
// network rejects it; there the SNARK comes from a ProcessorProver.
type DevnetProver struct{}

// ProveWindowPoSt proves every replica and checks each proof against its
// CommR when known, reporting the sectors that fail as faults.
func (DevnetProver) ProveWindowPoSt(ctx context.Context, req WindowPoStRequest) ([]byte, []uint64, error) {
	var out []byte
	var faults []uint64
	for i, r := range req.Replicas {
		sp, err := post.Prove(ctx, req.Proof, req.Randomness, i, post.Sector{Number: r.Sector, SealedPath: r.SealedPath, CacheDir: r.CacheDir})
		if err == nil && r.CommR.Defined() {
			var commR [32]byte
			if commR, err = commp.CommFromSealedCID(r.CommR); err == nil {
				err = post.Verify(req.Proof, req.Randomness, i, commR, sp)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			faults = append(faults, r.Sector)
			continue
		}
		enc := post.Encode(sp)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(enc)))
		out = append(out, enc...)
	}
	return out, faults, nil
}

// ProcessorProver runs an external window_post processor speaking the
// damocles vc-processors protocol (shared/spec/landscape.md §4, Appendix
// A): it starts Bin with Args, waits for "window_post processor ready",
// writes one request line {"id", "task": {miner_id, proof_type, replicas,
// seed}} and reads {"id", "err_msg", "output": {proofs, faults}}. One
// process per request keeps it simple; a deadline needs one request.
type ProcessorProver struct {
	Bin  string
	Args []string
	// StableWait bounds the wait for the ready line (default 5 s, as
	// damocles).
	StableWait time.Duration
}

// ProcessorReplica is one replica of a window_post task (damocles
// vc-processors builtin/tasks.rs PoStReplicaInfo).
type ProcessorReplica struct {
	SectorID   uint64   `json:"sector_id"`
	CommR      [32]byte `json:"comm_r"`
	CacheDir   string   `json:"cache_dir"`
	SealedFile string   `json:"sealed_file"`
}

// ProcessorTask is the window_post task (damocles WindowPoSt): proof_type
// is the filecoin-proofs-api RegisteredPoStProof variant name, seed the
// challenge randomness.
type ProcessorTask struct {
	MinerID   uint64             `json:"miner_id"`
	ProofType string             `json:"proof_type"`
	Replicas  []ProcessorReplica `json:"replicas"`
	Seed      [32]byte           `json:"seed"`
}

// ProcessorOutput is the window_post output (damocles WindowPoStOutput):
// the proofs, or the faulty sectors and no proof.
type ProcessorOutput struct {
	Proofs []string `json:"proofs"` // base64 SnarkProof
	Faults []uint64 `json:"faults"`
}

// ProveWindowPoSt sends the task and returns the first proof.
func (p ProcessorProver) ProveWindowPoSt(ctx context.Context, req WindowPoStRequest) ([]byte, []uint64, error) {
	task := ProcessorTask{MinerID: req.Miner, ProofType: apiPoStName(req.Proof), Seed: req.Randomness}
	for _, r := range req.Replicas {
		commR, err := commp.CommFromSealedCID(r.CommR)
		if err != nil {
			return nil, nil, fmt.Errorf("wdpost: sector %d comm_r: %w", r.Sector, err)
		}
		task.Replicas = append(task.Replicas, ProcessorReplica{SectorID: r.Sector, CommR: commR, CacheDir: r.CacheDir, SealedFile: r.SealedPath})
	}
	line, err := json.Marshal(map[string]any{"id": 1, "task": task})
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, p.Bin, p.Args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("wdpost: start processor: %w", err)
	}
	defer func() { _ = cmd.Wait() }()
	defer stdin.Close()
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		errc <- errors.Join(sc.Err(), io.ErrUnexpectedEOF)
	}()
	wait := p.StableWait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	select {
	case l := <-lines:
		if strings.TrimSpace(l) != "window_post processor ready" {
			return nil, nil, fmt.Errorf("wdpost: processor said %q, want the ready line", l)
		}
	case err := <-errc:
		return nil, nil, fmt.Errorf("wdpost: processor exited before ready: %w", err)
	case <-time.After(wait):
		return nil, nil, errors.New("wdpost: processor not ready in time")
	}
	if _, err := stdin.Write(append(line, '\n')); err != nil {
		return nil, nil, fmt.Errorf("wdpost: write task: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case err := <-errc:
			return nil, nil, fmt.Errorf("wdpost: processor: %w", err)
		case l := <-lines:
			var resp struct {
				ID     uint64           `json:"id"`
				ErrMsg *string          `json:"err_msg"`
				Output *ProcessorOutput `json:"output"`
			}
			if json.Unmarshal([]byte(l), &resp) != nil || resp.ID != 1 {
				continue // not our response (damocles skips such lines too)
			}
			if resp.ErrMsg != nil {
				return nil, nil, fmt.Errorf("wdpost: processor: %s", *resp.ErrMsg)
			}
			if resp.Output == nil {
				return nil, nil, errors.New("wdpost: processor sent neither output nor error")
			}
			if len(resp.Output.Faults) > 0 {
				return nil, resp.Output.Faults, nil
			}
			if len(resp.Output.Proofs) == 0 {
				return nil, nil, errors.New("wdpost: processor returned no proof")
			}
			pb, err := base64.StdEncoding.DecodeString(resp.Output.Proofs[0])
			if err != nil {
				return nil, nil, fmt.Errorf("wdpost: proof: %w", err)
			}
			return pb, nil, nil
		}
	}
}

// apiPoStName is the filecoin-proofs-api RegisteredPoStProof variant the
// processor expects: go-state-types' Window…V1_1 (ids 10–14) is the API's
// Window…V1_2 (filecoin-ffi maps them so), the others keep their names.
func apiPoStName(p abi.RegisteredPoStProof) string {
	if !p.IsWinning() && p.APIVersion() == abi.APIVersion1_2 {
		return "StackedDrgWindow" + p.SectorSize().String() + "V1_2"
	}
	return p.String()
}
