package commit

import (
	"testing"

	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/store"
)

// The store keeps batches within the actor's NI limit on its own copy of
// the number (store imports no chain package); the two must agree.
func TestNIBatchLimitAgrees(t *testing.T) {
	if store.MaxNIBatch != rand.MaxAggregatedSectorsNI {
		t.Fatalf("store.MaxNIBatch = %d, chain/rand.MaxAggregatedSectorsNI = %d", store.MaxNIBatch, rand.MaxAggregatedSectorsNI)
	}
}
