package store

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
)

// Reserved usage stages written by the store itself; the CPU seconds a
// worker reports (WorkerReport, queued reports) never bill them.
const (
	// StageAllocated is written once per sector by AllocateSector.
	StageAllocated = "allocated"
	// StageFinalized is written once per sector by WorkerFinalize.
	StageFinalized = "finalized"
)

// TenantUsage is one tenant's metered usage over a period.
type TenantUsage struct {
	TenantID         string `json:"tenant_id"`
	SectorsAllocated int64  `json:"sectors_allocated"`
	SectorsFinalized int64  `json:"sectors_finalized"`
	// BytesFinalized is the total sector size of finalized sectors.
	BytesFinalized uint64 `json:"bytes_finalized"`
	// CPUSeconds sums worker-reported CPU time per stage.
	CPUSeconds map[string]float64 `json:"cpu_seconds"`
	// StageBytes sums the bytes recorded per worker stage (omitted if
	// none). No worker call records any today: a state report carries
	// CPU seconds only.
	StageBytes map[string]uint64 `json:"stage_bytes,omitempty"`
}

// Usage aggregates usage recorded in [from, to) per tenant, ordered by
// tenant id. Tenants with no usage in the period are absent. Deleted
// tenants and sectors still appear: usage rows are never deleted.
func (s *Store) Usage(ctx context.Context, from, to time.Time) ([]TenantUsage, error) {
	rows, err := s.reader().query(ctx, `SELECT tenant_id, stage, COUNT(*), SUM(cpu_seconds), SUM(bytes)
		FROM usage_events WHERE at_ms >= ? AND at_ms < ? GROUP BY tenant_id, stage ORDER BY tenant_id, stage`,
		ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("store: usage: %w", err)
	}
	defer rows.Close()
	var out []TenantUsage
	for rows.Next() {
		var (
			tenant, stage string
			count, bytes  int64
			cpu           float64
		)
		if err := rows.Scan(&tenant, &stage, &count, &cpu, &bytes); err != nil {
			return nil, fmt.Errorf("store: usage: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].TenantID != tenant {
			out = append(out, TenantUsage{TenantID: tenant, CPUSeconds: map[string]float64{}})
		}
		u := &out[len(out)-1]
		switch stage {
		case StageAllocated:
			u.SectorsAllocated = count
		case StageFinalized:
			u.SectorsFinalized, u.BytesFinalized = count, uint64(bytes)
		default:
			u.CPUSeconds[stage] = cpu
			if bytes > 0 {
				if u.StageBytes == nil {
					u.StageBytes = map[string]uint64{}
				}
				u.StageBytes[stage] = uint64(bytes)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: usage: %w", err)
	}
	return out, nil
}

// WriteUsageCSV writes usage as CSV: a header row, then one row per tenant
// with columns tenant, sectors_allocated, sectors_finalized,
// bytes_finalized, and cpu_seconds_<stage> for every stage that appears in
// any row (sorted, so the layout is stable for a given input).
func WriteUsageCSV(w io.Writer, usage []TenantUsage) error {
	stageSet := map[string]bool{}
	for _, u := range usage {
		for st := range u.CPUSeconds {
			stageSet[st] = true
		}
	}
	stages := make([]string, 0, len(stageSet))
	for st := range stageSet {
		stages = append(stages, st)
	}
	sort.Strings(stages)
	cw := csv.NewWriter(w)
	header := []string{"tenant", "sectors_allocated", "sectors_finalized", "bytes_finalized"}
	for _, st := range stages {
		header = append(header, "cpu_seconds_"+st)
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("store: write usage csv: %w", err)
	}
	for _, u := range usage {
		row := []string{u.TenantID, strconv.FormatInt(u.SectorsAllocated, 10),
			strconv.FormatInt(u.SectorsFinalized, 10), strconv.FormatUint(u.BytesFinalized, 10)}
		for _, st := range stages {
			row = append(row, strconv.FormatFloat(u.CPUSeconds[st], 'f', -1, 64))
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("store: write usage csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("store: write usage csv: %w", err)
	}
	return nil
}
