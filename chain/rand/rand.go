package rand

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"

	"golang.org/x/crypto/blake2b"

	"github.com/sealant/sealant/chain/address"
)

// DomainSeparationTag separates the uses of chain randomness so that the
// same ticket never yields the same bytes for two purposes. Values are the
// int64 enum of go-state-types crypto/randomness.go.
type DomainSeparationTag int64

// Domain separation tags (spec/chain.md §5.1).
const (
	TagTicketProduction               DomainSeparationTag = 1
	TagElectionProofProduction        DomainSeparationTag = 2
	TagWinningPoStChallengeSeed       DomainSeparationTag = 3
	TagWindowedPoStChallengeSeed      DomainSeparationTag = 4
	TagSealRandomness                 DomainSeparationTag = 5 // PoRep ticket
	TagInteractiveSealChallengeSeed   DomainSeparationTag = 6 // PoRep seed
	TagWindowedPoStDeadlineAssignment DomainSeparationTag = 7
	TagMarketDealCronSeed             DomainSeparationTag = 8
	TagPoStChainCommit                DomainSeparationTag = 9
	TagEvmPrevRandao                  DomainSeparationTag = 10 // FEVM PREVRANDAO
)

var tagNames = map[DomainSeparationTag]string{
	TagTicketProduction:               "TicketProduction",
	TagElectionProofProduction:        "ElectionProofProduction",
	TagWinningPoStChallengeSeed:       "WinningPoStChallengeSeed",
	TagWindowedPoStChallengeSeed:      "WindowedPoStChallengeSeed",
	TagSealRandomness:                 "SealRandomness",
	TagInteractiveSealChallengeSeed:   "InteractiveSealChallengeSeed",
	TagWindowedPoStDeadlineAssignment: "WindowedPoStDeadlineAssignment",
	TagMarketDealCronSeed:             "MarketDealCronSeed",
	TagPoStChainCommit:                "PoStChainCommit",
	TagEvmPrevRandao:                  "EvmPrevRandao",
}

// String returns the tag's name, or its number for tags this package does
// not know (the derivation accepts any int64, as Lotus does).
func (t DomainSeparationTag) String() string {
	if n, ok := tagNames[t]; ok {
		return n
	}
	return "DomainSeparationTag(" + strconv.FormatInt(int64(t), 10) + ")"
}

// Known reports whether t is one of the tags defined by the protocol.
func (t DomainSeparationTag) Known() bool {
	_, ok := tagNames[t]
	return ok
}

// DigestSize is the size of a randomness digest and of drawn randomness.
const DigestSize = 32

// Digest is the 32-byte blake2b-256 reduction of a randomness base (a
// ticket VRF proof or a drand beacon signature).
type Digest [DigestSize]byte

// Randomness is 32 bytes of drawn randomness, the value PoRep calls the
// ticket or the seed.
type Randomness [DigestSize]byte

// ErrBadLength is returned when a digest or randomness value does not have
// exactly 32 bytes.
var ErrBadLength = errors.New("rand: value must be 32 bytes")

// DigestOf reduces a randomness base (VRF proof or beacon signature bytes)
// to the digest the node mixes; it is the first step of Lotus
// DrawRandomnessFromBase.
func DigestOf(rbase []byte) Digest {
	return Digest(blake2b.Sum256(rbase))
}

// DrawRandomnessFromDigest mixes an already-reduced digest with the tag,
// epoch and entropy:
//
//	blake2b-256( i64be(tag) || digest || i64be(epoch) || entropy )
//
// This is the value StateGetRandomnessFromTickets/FromBeacon return for the
// digest StateGetRandomnessDigestFromTickets/FromBeacon return.
func DrawRandomnessFromDigest(digest Digest, tag DomainSeparationTag, epoch int64, entropy []byte) Randomness {
	const fixed = 8 + DigestSize + 8
	// PoRep entropy is at most 12 bytes, so the preimage normally fits on
	// the stack and blake2b.Sum256 needs no heap hasher.
	var stack [fixed + 80]byte
	var pre []byte
	if len(entropy) <= len(stack)-fixed {
		pre = stack[:fixed+len(entropy)]
	} else {
		pre = make([]byte, fixed+len(entropy))
	}
	binary.BigEndian.PutUint64(pre[0:8], uint64(tag))
	copy(pre[8:8+DigestSize], digest[:])
	binary.BigEndian.PutUint64(pre[8+DigestSize:fixed], uint64(epoch))
	copy(pre[fixed:], entropy)
	return Randomness(blake2b.Sum256(pre))
}

// DrawRandomness derives randomness from a raw randomness base (the
// min-ticket VRF proof or the beacon entry data): it hashes rbase to a
// digest and then applies [DrawRandomnessFromDigest].
func DrawRandomness(rbase []byte, tag DomainSeparationTag, epoch int64, entropy []byte) Randomness {
	return DrawRandomnessFromDigest(DigestOf(rbase), tag, epoch, entropy)
}

// ParseDigest decodes a 64-character hex string into a Digest.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	b, err := hex.DecodeString(s)
	if err != nil {
		return d, fmt.Errorf("rand: parse digest: %w", err)
	}
	if len(b) != DigestSize {
		return d, fmt.Errorf("rand: parse digest: got %d bytes: %w", len(b), ErrBadLength)
	}
	copy(d[:], b)
	return d, nil
}

// String returns the digest as lower-case hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// String returns the randomness as lower-case hex.
func (r Randomness) String() string { return hex.EncodeToString(r[:]) }

// MarshalText encodes the randomness as lower-case hex.
func (r Randomness) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText decodes 64 hex characters.
func (r *Randomness) UnmarshalText(b []byte) error {
	d, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*r = Randomness(d)
	return nil
}

// ErrBadActorID is returned for actor IDs above 2^63-1, which no ID
// address can hold.
var ErrBadActorID = errors.New("rand: actor id exceeds 2^63-1")

// SealEntropyForID returns the PoRep entropy for the miner actor with the
// given actor ID: the CBOR byte string of its ID address
// (0x40|len, protocol 0, uvarint(id)), e.g. f01000 → 43 00 e8 07.
// The miner actor uses its receiver address, which is always the ID form,
// so this is the only correct entropy for tickets and seeds.
func SealEntropyForID(minerID uint64) ([]byte, error) {
	if minerID > math.MaxInt64 {
		return nil, fmt.Errorf("rand: seal entropy for %d: %w", minerID, ErrBadActorID)
	}
	var addr [1 + binary.MaxVarintLen64]byte
	addr[0] = 0 // ID protocol
	n := 1 + binary.PutUvarint(addr[1:], minerID)
	// n ≤ 11 < 24, so the CBOR byte-string header is a single byte.
	out := make([]byte, 0, 1+n)
	out = append(out, 0x40|byte(n))
	return append(out, addr[:n]...), nil
}

// ErrNotIDAddress is returned by SealEntropy for a non-ID miner address.
var ErrNotIDAddress = errors.New("rand: miner address must be an ID address")

// SealEntropy returns the PoRep entropy for a miner given as an address.
// Only ID addresses are accepted: the actor draws with its receiver
// address, which is always the ID form, so a robust (f2) address would
// silently produce a ticket the actor rejects. Resolve it with
// StateLookupID first.
func SealEntropy(maddr address.Address) ([]byte, error) {
	if maddr.Protocol() != address.ID {
		return nil, fmt.Errorf("rand: seal entropy for %s: %w", maddr, ErrNotIDAddress)
	}
	id, err := address.IDOf(maddr)
	if err != nil {
		return nil, fmt.Errorf("rand: seal entropy for %s: %w", maddr, err)
	}
	ent, err := SealEntropyForID(id)
	if err != nil {
		return nil, err
	}
	// Cross-check against the address package's own CBOR encoding.
	var buf bytes.Buffer
	if err := maddr.MarshalCBOR(&buf); err != nil {
		return nil, fmt.Errorf("rand: seal entropy for %s: %w", maddr, err)
	}
	if !bytes.Equal(buf.Bytes(), ent) {
		return nil, fmt.Errorf("rand: seal entropy for %s: address CBOR %x disagrees with %x", maddr, buf.Bytes(), ent)
	}
	return ent, nil
}
