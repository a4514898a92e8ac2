package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/types"
)

// Well-known actor IDs (as on mainnet).
const (
	SystemActorID     = 0
	RewardActorID     = 2
	PowerActorID      = 4
	BurntFundsActorID = 99
	FirstAccountID    = 100
	FirstMinerActorID = 1000
)

// Code names an actor's kind (the devnet's stand-in for a code CID).
type Code string

// Actor kinds.
const (
	CodeSystem  Code = "system"
	CodeReward  Code = "reward"
	CodePower   Code = "power"
	CodeBurnt   Code = "burnt"
	CodeAccount Code = "account"
	CodeMiner   Code = "miner"
)

// Errors.
var (
	// ErrActorNotFound is returned for an address with no actor; the API maps
	// it to Lotus's "actor not found" text.
	ErrActorNotFound = errors.New("state: actor not found")
	// ErrNotMiner is returned when a miner address names another kind of actor.
	ErrNotMiner = errors.New("state: actor is not a miner")
	// ErrGenesis reports an invalid genesis description.
	ErrGenesis = errors.New("state: invalid genesis")
)

// Actor is one actor of the state tree.
type Actor struct {
	ID      uint64
	Code    Code
	Key     string `json:",omitempty"` // key address (f1/f3) of an account
	Balance types.BigInt
	Nonce   uint64
	Miner   *MinerState `json:",omitempty"`
}

// State is the whole devnet state. It is a plain value: its JSON encoding is
// deterministic (maps are written with sorted keys), which is what the node
// hashes into the state root and persists.
type State struct {
	NextAccountID uint64
	NextMinerID   uint64
	Actors        map[uint64]*Actor
	// Keys maps key addresses (string form) to account IDs.
	Keys map[string]uint64
}

// New returns a state holding only the singleton actors.
func New() *State {
	s := &State{NextAccountID: FirstAccountID, NextMinerID: FirstMinerActorID, Actors: map[uint64]*Actor{}, Keys: map[string]uint64{}}
	for id, c := range map[uint64]Code{SystemActorID: CodeSystem, RewardActorID: CodeReward, PowerActorID: CodePower, BurntFundsActorID: CodeBurnt} {
		s.Actors[id] = &Actor{ID: id, Code: c, Balance: types.Zero()}
	}
	return s
}

// Clone returns a deep copy.
func (s *State) Clone() *State {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("state: marshal: %v", err)) // only plain data: cannot fail
	}
	c, err := Decode(b)
	if err != nil {
		panic(fmt.Sprintf("state: clone: %v", err))
	}
	return c
}

// Encode returns the canonical JSON encoding.
func (s *State) Encode() ([]byte, error) { return json.Marshal(s) }

// Decode parses Encode's output.
func Decode(b []byte) (*State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("state: decode: %w", err)
	}
	if s.Actors == nil {
		s.Actors = map[uint64]*Actor{}
	}
	if s.Keys == nil {
		s.Keys = map[string]uint64{}
	}
	for _, a := range s.Actors {
		if a.Miner != nil {
			a.Miner.fixNil()
		}
	}
	return &s, nil
}

// Root is the devnet state root: a CIDv1 (raw codec, blake2b-256) of the
// canonical JSON encoding. It is not a HAMT root; it only identifies the state.
func Root(encoded []byte) cid.Cid {
	sum, err := mh.Sum(encoded, mh.BLAKE2B_MIN+31, -1)
	if err != nil {
		panic(err) // unreachable: blake2b-256 is always registered in go-multihash
	}
	return cid.NewCidV1(cid.Raw, sum)
}

// Lookup resolves an ID or key address to its actor.
func (s *State) Lookup(a address.Address) (*Actor, error) {
	switch a.Protocol() {
	case address.ID:
		id, err := idOf(a)
		if err != nil {
			return nil, err
		}
		if act, ok := s.Actors[id]; ok {
			return act, nil
		}
	default:
		if id, ok := s.Keys[keyString(a)]; ok {
			return s.Actors[id], nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrActorNotFound, a)
}

// LookupID resolves a to its ID address.
func (s *State) LookupID(a address.Address) (address.Address, error) {
	act, err := s.Lookup(a)
	if err != nil {
		return address.Undef, err
	}
	return address.NewIDAddress(act.ID), nil
}

// AccountKey returns the key address of an account actor.
func (s *State) AccountKey(a address.Address) (address.Address, error) {
	act, err := s.Lookup(a)
	if err != nil {
		return address.Undef, err
	}
	if act.Code != CodeAccount {
		return address.Undef, fmt.Errorf("state: actor %s is a %s, not an account", a, act.Code)
	}
	return address.Parse(act.Key)
}

// Miner returns the miner actor at a.
func (s *State) Miner(a address.Address) (*Actor, error) {
	act, err := s.Lookup(a)
	if err != nil {
		return nil, err
	}
	if act.Code != CodeMiner || act.Miner == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotMiner, a)
	}
	return act, nil
}

// CreateAccount adds an account for key address k (f1/f3) with balance bal
// and returns it; an existing account is returned unchanged.
func (s *State) CreateAccount(k address.Address, bal types.BigInt) (*Actor, error) {
	if p := k.Protocol(); p != address.SECP256K1 && p != address.BLS {
		return nil, fmt.Errorf("%w: account key %s must be f1 or f3", ErrGenesis, k)
	}
	if id, ok := s.Keys[keyString(k)]; ok {
		return s.Actors[id], nil
	}
	id := s.NextAccountID
	for s.Actors[id] != nil {
		id++
	}
	s.NextAccountID = id + 1
	a := &Actor{ID: id, Code: CodeAccount, Key: keyString(k), Balance: nz(bal)}
	s.Actors[id] = a
	s.Keys[a.Key] = id
	return a, nil
}

func (s *State) maxID() uint64 {
	var m uint64
	for id := range s.Actors {
		if id > m {
			m = id
		}
	}
	return m
}

// NetworkQAP is the sum of the active (non-faulty) power of all miners.
func (s *State) NetworkQAP() types.BigInt {
	total := new(big.Int)
	for _, a := range s.Actors {
		if a.Miner != nil {
			total.Add(total, new(big.Int).SetUint64(a.Miner.ActivePower()))
		}
	}
	return types.FromBig(total)
}

// SortedIDs returns the actor IDs in increasing order (deterministic iteration).
func (s *State) SortedIDs() []uint64 {
	ids := make([]uint64, 0, len(s.Actors))
	for id := range s.Actors {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// TotalBalance is the sum of all balances (conserved by every transition).
func (s *State) TotalBalance() types.BigInt {
	t := new(big.Int)
	for _, a := range s.Actors {
		t.Add(t, bigOr0(a.Balance))
	}
	return types.FromBig(t)
}

func idOf(a address.Address) (uint64, error) {
	id, err := address.IDOf(a)
	if err != nil {
		return 0, fmt.Errorf("state: %s: %w", a, err)
	}
	return id, nil
}

// keyString normalises a key address's string form to the "f" network
// prefix so lookups do not depend on the printing network.
func keyString(a address.Address) string { return address.Format(a, address.Mainnet) }

func nz(b types.BigInt) types.BigInt {
	if b.Int == nil {
		return types.Zero()
	}
	return b
}

// IDAddr is a shorthand for address.NewIDAddress.
func IDAddr(id uint64) address.Address { return address.NewIDAddress(id) }
