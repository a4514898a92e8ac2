package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/rpc"
)

// ErrDemo marks a demo that did not reach its goal: some sector was not
// proven and verified in time, or failed for good.
var ErrDemo = errors.New("demo: not every sector was proven and verified")

// Config configures Run. The zero value of every field but Dir has a
// default (see withDefaults).
type Config struct {
	// Dir holds everything: chain/, manager/, workers/, tenants/<name>/
	// (signer keystore, receiver, store), provider-store/. Required.
	Dir string
	// Sectors per tenant (default 4). For the interactive tenants half of
	// them (rounded down) are data sectors with one full-size piece each,
	// the rest CC; the NI-PoRep tenant's are all CC.
	Sectors int
	// BlockTime of the devnet (default 300ms).
	BlockTime time.Duration
	// WPoStChallengeWindow is the devnet's deadline length in epochs
	// (default 4: a 192-epoch proving period instead of 960, so that the
	// Architecture 1 tenant's sectors reach their deadline within a
	// minute or so of being proven).
	WPoStChallengeWindow int64
	// BatchWait is how long a partial PreCommit/ProveCommit batch waits
	// for more sectors (default 3s).
	BatchWait time.Duration
	// Workers and ThreadsPerWorker size the sealing fleet (defaults 2
	// workers, and threads enough for all sectors at once, at most 16).
	Workers          int
	ThreadsPerWorker int
	// BatchSize, if ≥ 2, makes each worker's threads batch threads of
	// that many members (plan = "batch", see worker/batch.go):
	// ThreadsPerWorker/BatchSize of them, at least one.
	BatchSize int
	// Timeout bounds the run (default 3 minutes).
	Timeout time.Duration
	// WaitWindowPoSt makes the run also wait (within Timeout) until every
	// Architecture 1 sector was covered by a WindowPoSt; without it the
	// WindowPoSt count is reported as far as it got.
	WaitWindowPoSt bool
	// Self is the sealant binary, for workers' external processors (none
	// are configured by the demo; "" is fine).
	Self string
	// WorkerExtra is TOML appended to every worker's config, e.g.
	// [[processors.c2]] sections routing stages to external programs.
	WorkerExtra string
	// Logger receives the components' logs (nil discards).
	Logger *slog.Logger
	// Progress receives one status line per tenant while the demo runs
	// (nil: none). Redraw makes it rewrite the lines in place (a TTY).
	Progress     io.Writer
	Redraw       bool
	ProgressTick time.Duration
	// KeepRunning keeps every component up after the summary until ctx
	// ends (`--keep-running`): the chain, manager, signers and receivers
	// stay reachable for the CLI and the dashboard.
	KeepRunning bool
	// Ready, if set, is called once everything is up with the endpoints.
	Ready func(Endpoints)
	// OnSummary, if set, receives the summary as soon as the run is
	// decided, before KeepRunning keeps the components up.
	OnSummary func(*Summary, error)
	// VenusWallet, if set, is a venus-wallet binary: sp1's signer is then
	// that unmodified venus-wallet, connected to the manager's gateway
	// wallet API, with its keys created inside it and funded at genesis
	// (demo/venuswallet.go), instead of `sealant signer`. Give it on the
	// first run of a directory: the genesis names the wallet's keys.
	VenusWallet string
}

// Endpoints are the running demo's addresses, for --keep-running users.
type Endpoints struct {
	FullNodeAPIInfo string `json:"fullnode_api_info"`
	ManagerURL      string `json:"manager_url"`
	AdminTokenFile  string `json:"admin_token_file"`
}

func (c Config) withDefaults() Config {
	if c.Sectors <= 0 {
		c.Sectors = 4
	}
	if c.BlockTime <= 0 {
		c.BlockTime = 300 * time.Millisecond
	}
	if c.WPoStChallengeWindow <= 0 {
		c.WPoStChallengeWindow = 4
	}
	if c.BatchWait <= 0 {
		c.BatchWait = 3 * time.Second
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.ThreadsPerWorker <= 0 {
		// A 2KiB sector needs well under a second of CPU; the rest of its
		// life is waiting for the chain. Threads are cheap, so there are
		// enough for every sector of both tenants to be in flight at once
		// (bounded, as an operator would size a template).
		c.ThreadsPerWorker = min(max((demoTenants*c.Sectors+c.Workers-1)/c.Workers, 2), 16)
	}
	if c.Timeout <= 0 {
		c.Timeout = 3 * time.Minute
	}
	if c.ProgressTick <= 0 {
		c.ProgressTick = time.Second
		if !c.Redraw {
			c.ProgressTick = 5 * time.Second
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// demoTenants is the number of tenants Run creates (sp1, sp2, sp3).
const demoTenants = 3

// Summary is the demo's result: `sealant devnet --json` prints it.
type Summary struct {
	Tenants []TenantSummary `json:"tenants"`
	// ElapsedS is the wall time of the whole run, start-up and (with
	// WaitWindowPoSt) the wait for the first WindowPoSt included.
	ElapsedS float64 `json:"elapsed_s"`
	// SealedS is the time from start until the last sector was verified:
	// the end-to-end sealing pipeline.
	SealedS float64 `json:"sealed_s"`
	// SectorsPerMinute is all tenants' verified sectors over SealedS.
	SectorsPerMinute float64 `json:"sectors_per_minute"`
	// Cores is runtime.NumCPU of the machine the figure was measured on.
	Cores int `json:"cores"`
	// OK: every sector was proven and verified.
	OK bool `json:"ok"`
	// Error says why not, when !OK.
	Error string `json:"error,omitempty"`
}

// TenantSummary is one tenant's outcome.
type TenantSummary struct {
	Tenant       string `json:"tenant"`
	Miner        string `json:"miner"`
	Architecture int    `json:"architecture"`
	// PoRep is "ni" for a tenant sealing with NI-PoRep (FIP-0092:
	// ProveCommitSectorsNI, no PreCommit, no seed wait; CC sectors only),
	// else "interactive".
	PoRep       string `json:"porep"`
	Sectors     int    `json:"sectors"`
	DataSectors int    `json:"data_sectors"`
	Proven      int    `json:"proven"`
	Delivered   int    `json:"delivered"`
	Verified    int    `json:"verified"`
	// WindowPoSt counts sectors covered by an accepted WindowPoSt the
	// provider sent (Architecture 1 only).
	WindowPoSt int `json:"windowpost"`
	Failed     int `json:"failed"`
	// Failures gives each failed sector's reason.
	Failures []string `json:"failures,omitempty"`
	// Signer is the kind of signer the tenant's messages went through:
	// "sealant" (`sealant signer`) or "venus-wallet".
	Signer string `json:"signer"`
	// Messages are the tenant's chain messages (PreCommit and ProveCommit
	// batches, WindowPoSt) and FeesAttoFIL the gas they burned and paid
	// (GasUsed × base fee + premium), in attoFIL.
	Messages    int    `json:"messages"`
	FeesAttoFIL string `json:"fees_attofil"`
	// SealedS is the time from start until this tenant's last sector was
	// verified, and SectorsPerMinute its verified sectors over that time
	// (the tenants share the workers).
	SealedS          float64 `json:"sealed_s,omitempty"`
	SectorsPerMinute float64 `json:"sectors_per_minute,omitempty"`
	// Stages are median seconds per stage over the tenant's sectors.
	Stages []StageTime `json:"stages"`
}

// StageTime is the median duration of one stage.
type StageTime struct {
	Stage   string  `json:"stage"`
	MedianS float64 `json:"median_s"`
	MaxS    float64 `json:"max_s"`
}

// Run starts the demo in cfg.Dir, seals cfg.Sectors sectors for each of
// three tenants (sp1: Architecture 2, its own receiver; sp2: Architecture 1,
// the provider keeps and proves; sp3: Architecture 1 sealing CC sectors
// with NI-PoRep, one ProveCommitSectorsNI per batch and no PreCommit, which
// the provider also keeps and WindowPoSt-proves) and returns the summary. The error is
// ErrDemo (wrapped, with the summary still filled) when a sector was not
// verified, or the reason the demo could not run.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.Dir == "" {
		return nil, errors.New("demo: Dir is required")
	}
	cfg = cfg.withDefaults()
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &cluster{cfg: cfg, log: cfg.Logger}
	defer func() {
		cancel()
		c.close()
		c.wg.Wait()
	}()
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if cfg.VenusWallet != "" {
		vw, err := prepareVenusWallet(ctx, cfg.VenusWallet, cfg.Dir)
		if err != nil {
			return nil, err
		}
		c.vw = vw
	}
	if err := c.startChain(ctx); err != nil {
		return nil, err
	}
	if err := c.startManager(ctx); err != nil {
		return nil, err
	}
	// sp1: Architecture 2, interactive PoRep; sp2: Architecture 1,
	// interactive; sp3: Architecture 1 with NI-PoRep (CC only): the
	// provider stores and WindowPoSt-proves its NI sectors.
	for i, tc := range []struct {
		arch api.Architecture
		ni   bool
	}{{api.ArchSPProves, false}, {api.ArchProviderProves, false}, {api.ArchProviderProves, true}} {
		if _, err := c.addTenant(ctx, i+1, tc.arch, tc.ni); err != nil {
			return nil, err
		}
	}
	c.startManagerRun(ctx)
	piecesDir := filepath.Join(cfg.Dir, "pieces")
	data, err := c.queuePieces(ctx, piecesDir)
	if err != nil {
		return nil, err
	}
	for i := 1; i <= cfg.Workers; i++ {
		if err := c.startWorker(ctx, i, piecesDir); err != nil {
			return nil, err
		}
	}
	if cfg.Ready != nil {
		cfg.Ready(Endpoints{FullNodeAPIInfo: c.node.APIInfo(), ManagerURL: c.managerURL,
			AdminTokenFile: filepath.Join(cfg.Dir, "manager", "admin.token")})
	}

	obs := newObserver(c, data)
	sum, runErr := obs.run(ctx, start)
	if cfg.OnSummary != nil {
		cfg.OnSummary(sum, runErr)
	}
	if cfg.KeepRunning && ctx.Err() == nil && (runErr == nil || errors.Is(runErr, ErrDemo)) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "demo: everything keeps running (manager %s, admin token %s); interrupt to stop\n",
				c.managerURL, filepath.Join(cfg.Dir, "manager", "admin.token"))
		}
		<-ctx.Done()
	}
	return sum, runErr
}

// adminCtx carries admin claims, as the manager's transport would after
// checking an admin token: the demo is the manager's operator.
func adminCtx(ctx context.Context) context.Context {
	return rpc.WithClaims(ctx, &rpc.Claims{Role: rpc.RoleAdmin, Allow: rpc.AllowList(rpc.PermAdmin)})
}

// tenantCtx carries a tenant's claims (what its tenant token would give).
func tenantCtx(ctx context.Context, name string) context.Context {
	return rpc.WithClaims(ctx, &rpc.Claims{Role: rpc.RoleTenant, Tenant: name, Allow: rpc.AllowList(rpc.PermWrite)})
}

// pieceSize is a full 2KiB sector's piece: 2032 payload bytes, 2048 padded.
const pieceSize = 2048

// queuePieces makes the data pieces (deterministic pseudo-random payloads,
// one full-size piece per data sector) and queues them with each tenant
// through the tenant API. It returns the number of data sectors per tenant.
func (c *cluster) queuePieces(ctx context.Context, dir string) (map[string]int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	// The pieces' source: a loopback HTTP server, as a client's storage
	// would be. (Workers find them first in local_pieces_dirs.)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: pieces listen: %w", err)
	}
	hs := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	c.goRun(ctx, "pieces http", func(context.Context) error { return hs.Serve(ln) })
	c.closers = append(c.closers, func() { hs.Close() })
	base := "http://" + ln.Addr().String() + "/"
	out := map[string]int{}
	for _, t := range c.tenants {
		nData := c.cfg.Sectors / 2
		if t.ni {
			nData = 0 // NI-PoRep sectors are CC only
		}
		out[t.Name] = nData
		if nData == 0 {
			continue
		}
		// A restarted demo (same Dir) already queued its pieces.
		if secs, err := c.svc.ListSectors(adminCtx(ctx), api.SectorListRequest{Tenant: t.Name}); err == nil && len(secs) > 0 {
			continue
		}
		var subs []api.PieceSubmission
		for j := range nData {
			payload := piecePayload(t.Name, j, pieceSize/128*127)
			res, err := commp.FromReader(ctx, bytes.NewReader(payload), 1)
			if err != nil {
				return nil, fmt.Errorf("demo: commp: %w", err)
			}
			pcid := commp.PieceCID(res.Commitment).String()
			path := filepath.Join(dir, pcid)
			if err := os.WriteFile(path, payload, 0o600); err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
			subs = append(subs, api.PieceSubmission{PieceCID: pcid, Size: uint64(res.PieceSize), PayloadSize: uint64(len(payload)),
				SourceURL: base + pcid})
		}
		if _, err := c.svc.SubmitPieces(tenantCtx(ctx, t.Name), subs); err != nil {
			return nil, fmt.Errorf("demo: submit pieces of %s: %w", t.Name, err)
		}
	}
	return out, nil
}

// piecePayload is n bytes of SHA-256 counter-mode output seeded by the
// tenant and index: reproducible, and different for every piece.
func piecePayload(tenant string, idx, n int) []byte {
	out := make([]byte, 0, n+32)
	var ctr [8]byte
	for i := uint64(0); len(out) < n; i++ {
		binary.BigEndian.PutUint64(ctr[:], i)
		h := sha256.New()
		fmt.Fprintf(h, "sealant-demo/%s/%d/", tenant, idx)
		h.Write(ctr[:])
		out = h.Sum(out)
	}
	return out[:n]
}

// numCPU is runtime.NumCPU, a variable for the summary.
var numCPU = runtime.NumCPU
