package types

import (
	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multihash"
	"golang.org/x/crypto/blake2b"
)

// Multicodec and multihash codes used by chain objects.
const (
	// CodecDagCBOR is the dag-cbor multicodec (0x71).
	CodecDagCBOR = 0x71
	// MhBlake2b256 is the blake2b-256 multihash code (0xb220).
	MhBlake2b256 = 0xb220
)

// CidBuilder is the CID prefix of every chain object: CIDv1, dag-cbor,
// blake2b-256 (go-state-types abi.CidBuilder).
var CidBuilder = cid.Prefix{Version: 1, Codec: CodecDagCBOR, MhType: MhBlake2b256, MhLength: 32}

// CidOf returns the dag-cbor/blake2b-256 CIDv1 of encoded CBOR bytes. The
// digest is computed here with x/crypto rather than via go-multihash's hash
// registry so the result does not depend on which hashers are linked in, and
// the multihash header is a constant so no error path exists.
func CidOf(data []byte) cid.Cid {
	sum := blake2b.Sum256(data)
	// multihash = uvarint(0xb220) || uvarint(32) || digest.
	mh := make([]byte, 0, 4+len(sum))
	mh = append(mh, 0xa0, 0xe4, 0x02, 0x20)
	mh = append(mh, sum[:]...)
	return cid.NewCidV1(CodecDagCBOR, multihash.Multihash(mh))
}
