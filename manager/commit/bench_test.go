package commit

import (
	"fmt"
	"testing"

	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/types"
	"github.com/sealant/sealant/proofs/abi"
	"github.com/sealant/sealant/store"
)

func benchSectors(n int, proof int) []sectorData {
	ds := make([]sectorData, n)
	for i := range ds {
		id := store.SectorID{Miner: 1000, Number: uint64(i)}
		ds[i] = sectorData{
			Sector: store.Sector{ID: id, ProofType: abi.StackedDrg32GiBV1_1, SectorSize: 32 << 30,
				CommR: comm(uint64(i), 0xaa), CommD: comm(uint64(i), 0xdd), Ticket: &store.Ticket{Epoch: 4_000_000}, HasProof: true},
			Proof: make([]byte, proof),
		}
	}
	return ds
}

// BenchmarkPreCommitParams builds and encodes PreCommitSectorBatch2 params
// for batches of CC sectors (bytes = encoded params).
func BenchmarkPreCommitParams(b *testing.B) {
	for _, n := range []int{1, 32, 256} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ds := benchSectors(n, 0)
			var size int
			b.ReportAllocs()
			for b.Loop() {
				pp := &miner.PreCommitSectorBatchParams2{}
				for _, d := range ds {
					info, err := preCommitInfo(d, 5_000_000)
					if err != nil {
						b.Fatal(err)
					}
					pp.Sectors = append(pp.Sectors, info)
				}
				raw, err := miner.EncodeParams(pp)
				if err != nil {
					b.Fatal(err)
				}
				size = len(raw)
			}
			b.SetBytes(int64(size))
		})
	}
}

// BenchmarkProveParams builds and encodes ProveCommitSectors3 params with
// 1920-byte (32 GiB Groth16) proofs per sector.
func BenchmarkProveParams(b *testing.B) {
	for _, n := range []int{1, 32} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ds := benchSectors(n, 1920)
			var size int
			b.ReportAllocs()
			for b.Loop() {
				pp, err := proveParams(ds)
				if err != nil {
					b.Fatal(err)
				}
				raw, err := miner.EncodeParams(pp)
				if err != nil {
					b.Fatal(err)
				}
				size = len(raw)
			}
			b.SetBytes(int64(size))
		})
	}
}

// BenchmarkPlanFailure is the bisection decision for a large failed batch.
func BenchmarkPlanFailure(b *testing.B) {
	ids := make([]store.SectorID, 256)
	for i := range ids {
		ids[i] = sid(uint64(i))
	}
	bad := map[store.SectorID]string{sid(17): "ticket expired"}
	b.ReportAllocs()
	for b.Loop() {
		_ = PlanFailure(store.BatchPreCommit, ids, types.ErrIllegalArgument, "", bad)
		_ = PlanFailure(store.BatchPreCommit, ids, types.ErrIllegalArgument, "", nil)
	}
}
