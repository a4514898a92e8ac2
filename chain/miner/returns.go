package miner

import (
	"github.com/filecoin-project/go-state-types/batch"

	"github.com/sealant/sealant/chain/types"
)

// FailCode is the exit code of one failed entry of a batch (go-state-types batch).
type FailCode = batch.FailCode

// BatchReturn is the return value of ProveCommitSectors3 and
// ProveCommitSectorsNI: how many entries succeeded and, for each failed
// entry, its index and exit code (go-state-types batch).
type BatchReturn = batch.BatchReturn

// DecodeBatchReturn decodes a receipt's Return bytes holding exactly one
// BatchReturn (trailing bytes are refused, which cbor-gen alone does not do).
func DecodeBatchReturn(data []byte) (*BatchReturn, error) {
	var b BatchReturn
	if err := types.DecodeExact(data, &b); err != nil {
		return nil, err
	}
	return &b, nil
}
