package manager

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/sealant/sealant/api"
	"github.com/sealant/sealant/proofs/commp"
	"github.com/sealant/sealant/rpc"
	"github.com/sealant/sealant/store"
)

// maxPiecesPerCall bounds one SubmitPieces call.
const maxPiecesPerCall = 1000

// SubmitPieces queues pieces for the caller's data sectors; it needs a
// tenant token (the pieces go to that tenant's queue). Each piece is
// checked: a valid CommP CID, a padded power-of-two size that fits the
// tenant's sectors, a payload that fits the padded size, and an http(s)
// source. It is not idempotent: submitting again queues the pieces again.
func (s *Service) SubmitPieces(ctx context.Context, pieces []api.PieceSubmission) (api.SubmitPiecesResponse, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return api.SubmitPiecesResponse{}, err
	}
	if c.role != rpc.RoleTenant || c.tenant == "" {
		return api.SubmitPiecesResponse{}, fmt.Errorf("%w: pieces are submitted with a tenant token", ErrPermission)
	}
	if len(pieces) == 0 || len(pieces) > maxPiecesPerCall {
		return api.SubmitPiecesResponse{}, fmt.Errorf("%w: submit 1 to %d pieces per call", ErrInvalid, maxPiecesPerCall)
	}
	t, err := s.st.GetTenant(ctx, c.tenant)
	if err != nil {
		return api.SubmitPiecesResponse{}, mapStoreErr(err)
	}
	for i := range pieces {
		if err := checkPiece(&pieces[i], t.SectorSize); err != nil {
			return api.SubmitPiecesResponse{}, fmt.Errorf("%w: piece %d: %v", ErrInvalid, i, err)
		}
	}
	ps := make([]store.Piece, len(pieces))
	for i, p := range pieces {
		ps[i] = store.Piece{CID: p.PieceCID, Size: p.Size, PayloadSize: p.PayloadSize, SourceURL: p.SourceURL}
	}
	ids, err := s.st.EnqueuePieces(ctx, c.tenant, ps, s.now())
	if err != nil {
		return api.SubmitPiecesResponse{}, mapStoreErr(err)
	}
	return api.SubmitPiecesResponse{Queued: ids}, nil
}

func checkPiece(p *api.PieceSubmission, sectorSize uint64) error {
	c, err := cid.Decode(p.PieceCID)
	if err != nil {
		return fmt.Errorf("piece cid: %v", err)
	}
	if _, err := commp.CommFromPieceCID(c); err != nil {
		return fmt.Errorf("piece cid %s is not a CommP: %v", p.PieceCID, err)
	}
	p.PieceCID = c.String()
	if p.Size < 128 || p.Size&(p.Size-1) != 0 {
		return fmt.Errorf("size %d is not a padded power of two ≥ 128", p.Size)
	}
	if p.Size > sectorSize {
		return fmt.Errorf("size %d exceeds the sector size %d", p.Size, sectorSize)
	}
	unpadded := p.Size / 128 * 127
	if p.PayloadSize == 0 {
		p.PayloadSize = unpadded
	}
	if p.PayloadSize > unpadded {
		return fmt.Errorf("payload %d does not fit a %d-byte piece (max %d)", p.PayloadSize, p.Size, unpadded)
	}
	u, err := url.Parse(p.SourceURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("source url %q: want an http or https URL", p.SourceURL)
	}
	return nil
}

// tenantScope returns the tenant a tenant-API call is confined to: the
// token's tenant for tenant tokens, the requested one (or all: "") for
// admins. Other roles are refused.
func tenantScope(c caller, requested string) (string, error) {
	switch c.role {
	case rpc.RoleAdmin:
		return requested, nil
	case rpc.RoleTenant:
		if c.tenant == "" {
			return "", fmt.Errorf("%w: tenant token without tenant", ErrPermission)
		}
		if requested != "" && requested != c.tenant {
			return "", fmt.Errorf("%w: tenant %s", ErrPermission, requested)
		}
		return c.tenant, nil
	}
	return "", fmt.Errorf("%w: role %q", ErrPermission, c.role)
}

// ListSectors lists sectors: a tenant's own, or (admin) any tenant's.
func (s *Service) ListSectors(ctx context.Context, req api.SectorListRequest) ([]api.SectorInfo, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	tenant, err := tenantScope(c, req.Tenant)
	if err != nil {
		return nil, err
	}
	switch store.Phase(req.Phase) {
	case "", store.PhaseActive, store.PhaseFinalized, store.PhaseAborted:
	default:
		return nil, fmt.Errorf("%w: phase %q", ErrInvalid, req.Phase)
	}
	secs, err := s.st.ListSectors(ctx, store.SectorFilter{TenantID: tenant, Phase: store.Phase(req.Phase), WorkerID: req.Worker, Limit: req.Limit})
	if err != nil {
		return nil, mapStoreErr(err)
	}
	now := s.now()
	out := make([]api.SectorInfo, len(secs))
	for i, sec := range secs {
		out[i] = sectorInfo(sec, now)
	}
	return out, nil
}

// visibleSector loads a sector the caller may see via the tenant API.
func (s *Service) visibleSector(ctx context.Context, id api.SectorID) (store.Sector, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return store.Sector{}, err
	}
	if c.role != rpc.RoleAdmin && c.role != rpc.RoleTenant {
		return store.Sector{}, fmt.Errorf("%w: role %q", ErrPermission, c.role)
	}
	sec, err := s.st.GetSector(ctx, toStoreID(id))
	if err != nil {
		return store.Sector{}, mapStoreErr(err)
	}
	if !c.canSeeTenant(sec.TenantID) {
		// The same answer whether or not the sector exists would hide
		// existence; the issue asks for a permission error, which is also
		// what an operator debugging a wrong token wants to see.
		return store.Sector{}, fmt.Errorf("%w: sector %s", ErrPermission, id)
	}
	return sec, nil
}

// ShowSector returns a sector with its pieces, history and files.
func (s *Service) ShowSector(ctx context.Context, id api.SectorID) (api.SectorDetail, error) {
	sec, err := s.visibleSector(ctx, id)
	if err != nil {
		return api.SectorDetail{}, err
	}
	hist, err := s.st.SectorHistory(ctx, sec.ID)
	if err != nil {
		return api.SectorDetail{}, mapStoreErr(err)
	}
	ps, err := s.st.Pieces(ctx, sec.ID)
	if err != nil {
		return api.SectorDetail{}, mapStoreErr(err)
	}
	files, err := sectorFiles(sec)
	if err != nil {
		return api.SectorDetail{}, err
	}
	d := api.SectorDetail{Sector: sectorInfo(sec, s.now()), Pieces: apiPieces(ps), Location: sec.Location, Files: files}
	for _, h := range hist {
		he := api.HistoryEntry{At: h.At, Worker: h.WorkerID, Prev: h.Prev, Next: h.Next, Event: h.Event}
		if h.Failure != nil {
			he.Failure = &api.Failure{Level: api.FailureLevel(h.Failure.Level), Desc: h.Failure.Desc}
		}
		d.History = append(d.History, he)
	}
	return d, nil
}

// ExportSector returns the metadata an SP needs to keep proving the sector
// (api.SectorMetadata): commitments, ticket and seed with epochs, message
// CIDs, pieces and file locations. Fields not known yet are empty.
func (s *Service) ExportSector(ctx context.Context, id api.SectorID) (api.SectorMetadata, error) {
	sec, err := s.visibleSector(ctx, id)
	if err != nil {
		return api.SectorMetadata{}, err
	}
	return s.sectorMetadata(ctx, sec)
}

// sectorMetadata assembles a sector's api.SectorMetadata from the store and
// its pieces (ExportSector and the metadata handoff share it, so what an
// operator exports is exactly what the receiver is sent, minus the
// provider-only unsealed copy).
func (s *Service) sectorMetadata(ctx context.Context, sec store.Sector) (api.SectorMetadata, error) {
	id := toAPIID(sec.ID)
	ps, err := s.st.Pieces(ctx, sec.ID)
	if err != nil {
		return api.SectorMetadata{}, mapStoreErr(err)
	}
	files, err := sectorFiles(sec)
	if err != nil {
		return api.SectorMetadata{}, err
	}
	t, err := s.st.GetTenant(ctx, sec.TenantID)
	if err != nil {
		return api.SectorMetadata{}, mapStoreErr(err)
	}
	info := sectorInfo(sec, s.now())
	m := api.SectorMetadata{
		ID: id, ProofType: int64(sec.ProofType), CommR: info.CommR, CommD: info.CommD,
		PreCommitMessage: sec.PreCommitMsg, ProveCommitMessage: sec.ProveCommitMsg,
		Pieces: apiPieces(ps), Files: files,
	}
	m.CommC, _ = parseHex32(sec.CommC)
	m.CommRLast, _ = parseHex32(sec.CommRLast)
	if info.Ticket != nil {
		m.Ticket = *info.Ticket
	}
	if info.Seed != nil {
		m.Seed = *info.Seed
	}
	// The expiration the pipeline commits to is the tenant's policy from
	// the seed epoch; 0 until the seed is known.
	if info.Seed != nil && t.ExpirationDays > 0 {
		m.Expiration = info.Seed.Epoch + int64(t.ExpirationDays)*2880
	}
	return m, nil
}

// sectorFiles decodes the finalized files the store keeps as JSON.
func sectorFiles(sec store.Sector) ([]api.SectorFile, error) {
	if sec.Files == "" {
		return nil, nil
	}
	var files []api.SectorFile
	if err := json.Unmarshal([]byte(sec.Files), &files); err != nil {
		return nil, fmt.Errorf("manager: sector %s files: %w", sec.ID, err)
	}
	return files, nil
}

func parseHex32(s string) (api.Hex32, error) {
	var h api.Hex32
	if s == "" {
		return h, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("bad hex32 %q", s)
	}
	copy(h[:], b)
	return h, nil
}

// Usage returns metered usage: a tenant's own, or (admin) every tenant's.
func (s *Service) Usage(ctx context.Context, req api.UsageRequest) ([]api.TenantUsage, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	tenant, err := tenantScope(c, req.Tenant)
	if err != nil {
		return nil, err
	}
	us, err := s.usage(ctx, req)
	if err != nil {
		return nil, err
	}
	out := []api.TenantUsage{}
	for _, u := range us {
		if tenant != "" && u.TenantID != tenant {
			continue
		}
		out = append(out, api.TenantUsage{Tenant: u.TenantID, SectorsAllocated: u.SectorsAllocated, SectorsFinalized: u.SectorsFinalized,
			BytesFinalized: u.BytesFinalized, CPUSeconds: u.CPUSeconds, StageBytes: u.StageBytes})
	}
	return out, nil
}

func (s *Service) usage(ctx context.Context, req api.UsageRequest) ([]store.TenantUsage, error) {
	to := req.To
	if to.IsZero() {
		to = s.now().Add(time.Millisecond)
	}
	from := req.From
	if from.IsZero() {
		from = to.Add(-30 * 24 * time.Hour)
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("%w: usage period: from must be before to", ErrInvalid)
	}
	us, err := s.st.Usage(ctx, from, to)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	return us, nil
}

// sectorInfo converts a store sector to its wire form.
func sectorInfo(sec store.Sector, now time.Time) api.SectorInfo {
	info := api.SectorInfo{
		ID: toAPIID(sec.ID), Tenant: sec.TenantID, ProofType: int64(sec.ProofType), SectorSize: sec.SectorSize,
		State: sec.State, Phase: string(sec.Phase), AbortReason: sec.AbortReason, Worker: sec.WorkerID,
		LeaseExpires: sec.LeaseExpires, LeaseExpired: sec.Phase == store.PhaseActive && sec.LeaseExpired(now),
		AllocatedAt: sec.AllocatedAt, UpdatedAt: sec.UpdatedAt, HasProof: sec.HasProof,
		PreCommitMsg: sec.PreCommitMsg, ProveMsg: sec.ProveCommitMsg,
	}
	if sec.Ticket != nil && len(sec.Ticket.Value) == 32 {
		t := api.Ticket{Epoch: sec.Ticket.Epoch}
		copy(t.Ticket[:], sec.Ticket.Value)
		info.Ticket = &t
	}
	if sec.Seed != nil && len(sec.Seed.Value) == 32 {
		sd := api.Seed{Epoch: sec.Seed.Epoch}
		copy(sd.Seed[:], sec.Seed.Value)
		info.Seed = &sd
	}
	if len(sec.CommR) == 32 {
		info.CommR = commp.SealedCID([32]byte(sec.CommR)).String()
	}
	if len(sec.CommD) == 32 {
		info.CommD = commp.PieceCID([32]byte(sec.CommD)).String()
	}
	return info
}
