package state

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/sealant/sealant/chain/address"
	"github.com/sealant/sealant/chain/miner"
	"github.com/sealant/sealant/chain/rand"
	"github.com/sealant/sealant/chain/types"
)

// Env gives the actors what they read from the chain: randomness. Epochs
// passed are never after the epoch being executed.
type Env interface {
	// TicketRandomness is DrawRandomness over the ticket chain at epoch
	// (StateGetRandomnessFromTickets).
	TicketRandomness(tag rand.DomainSeparationTag, epoch int64, entropy []byte) ([32]byte, error)
	// BeaconRandomness is DrawRandomness over the beacon at epoch
	// (StateGetRandomnessFromBeacon).
	BeaconRandomness(tag rand.DomainSeparationTag, epoch int64, entropy []byte) ([32]byte, error)
}

// VM applies messages at one epoch.
type VM struct {
	Policy   Policy
	Env      Env
	Verifier Verifier
	Epoch    int64
}

// Gas model constants (see the package doc).
const (
	GasBase            = 100_000
	GasPerByte         = 1_000
	GasPreCommitSector = 5_000_000
	GasProveSector     = 50_000_000
	GasPoStPartition   = 20_000_000
	GasRecovery        = 2_000_000
	GasOtherMethod     = 1_000_000
)

// GasFor returns the gas a message uses under the devnet gas model; size
// is the length of its signed CBOR encoding. Params that do not decode cost
// only the base and size charges.
func GasFor(msg *types.Message, size int) int64 {
	g := int64(GasBase) + int64(GasPerByte)*int64(size)
	if msg.Method == 0 {
		return g
	}
	p, err := miner.DecodeParams(msg.Method, msg.Params)
	if err != nil {
		return g + GasOtherMethod
	}
	switch v := p.(type) {
	case *miner.PreCommitSectorBatchParams2:
		return g + GasPreCommitSector*int64(len(v.Sectors))
	case *miner.ProveCommitSectors3Params:
		return g + GasProveSector*int64(len(v.SectorActivations))
	case *miner.ProveCommitSectorsNIParams:
		return g + GasProveSector*int64(len(v.Sectors))
	case *miner.SubmitWindowedPoStParams:
		return g + GasPoStPartition*int64(len(v.Partitions))
	case *miner.DeclareFaultsRecoveredParams:
		return g + GasRecovery*int64(len(v.Recoveries))
	}
	return g + GasOtherMethod
}

// actorError is an actor abort with an exit code.
type actorError struct {
	code types.ExitCode
	msg  string
}

// Error returns "<ExitCodeName>(<n>): <message>".
func (e *actorError) Error() string { return fmt.Sprintf("%s: %s", e.code, e.msg) }

func abort(code types.ExitCode, format string, args ...any) error {
	return &actorError{code: code, msg: fmt.Sprintf(format, args...)}
}

// Result is the outcome of applying a message.
type Result struct {
	Receipt types.MessageReceipt
	// Error explains a non-zero exit code (for logs and StateCall-like use).
	Error string
}

// Apply executes one message against st at vm.Epoch, mutating st. size is
// the length of the signed message's CBOR. The signature is not checked
// here (the mempool did); sender existence, nonce and balance are, with
// Lotus's system exit codes.
func (vm *VM) Apply(st *State, msg *types.Message, size int) Result {
	gas := GasFor(msg, size)
	fail := func(code types.ExitCode, used int64, format string, args ...any) Result {
		return Result{Receipt: types.MessageReceipt{ExitCode: code, GasUsed: used}, Error: fmt.Sprintf(format, args...)}
	}
	from, err := st.Lookup(msg.From)
	if err != nil || from.Code != CodeAccount {
		// Lotus: sender must be an existing account → SysErrSenderInvalid.
		return fail(types.SysErrSenderInvalid, 0, "sender %s is not an account", msg.From)
	}
	if from.Nonce != msg.Nonce {
		return fail(types.SysErrSenderStateInvalid, 0, "actor nonce invalid: msg:%d != state:%d", msg.Nonce, from.Nonce)
	}
	maxFee := nz(msg.GasFeeCap).Mul(types.NewInt(msg.GasLimit))
	if nz(from.Balance).Cmp(maxFee) < 0 {
		return fail(types.SysErrSenderStateInvalid, 0, "actor balance less than needed: %s < %s", from.Balance, maxFee)
	}
	from.Nonce++
	if gas > msg.GasLimit {
		vm.chargeGas(st, from, msg, msg.GasLimit)
		return fail(types.SysErrOutOfGas, msg.GasLimit, "out of gas: need %d, limit %d", gas, msg.GasLimit)
	}
	vm.chargeGas(st, from, msg, gas)

	value := nz(msg.Value)
	if value.Sign() < 0 {
		return fail(types.SysErrIllegalInstruction, gas, "negative value")
	}
	if from.Balance.Cmp(value) < 0 {
		return fail(types.SysErrInsufficientFunds, gas, "not enough funds to send %s (balance %s)", value, from.Balance)
	}
	to, err := st.Lookup(msg.To)
	if err != nil {
		p := msg.To.Protocol()
		if msg.Method != 0 || (p != address.SECP256K1 && p != address.BLS) {
			return fail(types.SysErrInvalidReceiver, gas, "receiver %s does not exist", msg.To)
		}
		to, _ = st.CreateAccount(msg.To, types.Zero())
	}
	// Snapshot what an actor method may change so an abort rolls back.
	var saved *MinerState
	if to.Miner != nil {
		saved = cloneMiner(to.Miner)
	}
	transfer(from, to, value)
	ret, err := vm.safeInvoke(st, from, to, msg)
	if err != nil {
		transfer(to, from, value)
		if saved != nil {
			to.Miner = saved
		}
		var ae *actorError
		if errors.As(err, &ae) {
			return fail(ae.code, gas, "%s", ae.msg)
		}
		return fail(types.SysErrFatal, gas, "%v", err)
	}
	return Result{Receipt: types.MessageReceipt{ExitCode: types.Ok, Return: ret, GasUsed: gas}}
}

func cloneMiner(m *MinerState) *MinerState {
	a := &Actor{Miner: m}
	s := &State{Actors: map[uint64]*Actor{0: a}}
	return s.Clone().Actors[0].Miner
}

// chargeGas takes GasUsed × (BaseFee + effective premium) from the sender:
// the base fee part is burnt, the premium goes to the reward actor.
func (vm *VM) chargeGas(st *State, from *Actor, msg *types.Message, gas int64) {
	base := vm.Policy.BaseFee
	prem := nz(msg.GasPremium)
	if room := nz(msg.GasFeeCap).Sub(base); room.Cmp(prem) < 0 {
		prem = room
	}
	if prem.Sign() < 0 {
		prem = types.Zero()
	}
	g := types.NewInt(gas)
	transfer(from, st.Actors[BurntFundsActorID], base.Mul(g))
	transfer(from, st.Actors[RewardActorID], prem.Mul(g))
}

func transfer(from, to *Actor, amt types.BigInt) {
	if amt.Sign() == 0 {
		return
	}
	from.Balance = nz(from.Balance).Sub(amt)
	to.Balance = nz(to.Balance).Add(amt)
}

// safeInvoke turns a panic inside an actor or a proof verifier (a bug, or
// input the proof engine chokes on) into an abort with
// SysErrIllegalInstruction, so one bad message cannot stop the chain.
func (vm *VM) safeInvoke(st *State, from, to *Actor, msg *types.Message) (ret []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			ret, err = nil, abort(types.SysErrIllegalInstruction, "actor panicked: %v", r)
		}
	}()
	return vm.invoke(st, from, to, msg)
}

func (vm *VM) invoke(st *State, from, to *Actor, msg *types.Message) ([]byte, error) {
	if msg.Method == 0 {
		return nil, nil
	}
	switch to.Code {
	case CodeAccount:
		return nil, abort(types.ErrUnhandledMessage, "account actor has no method %d on the devnet", msg.Method)
	case CodeMiner:
		return vm.invokeMiner(st, from, to, msg)
	default:
		return nil, abort(types.ErrUnhandledMessage, "%s actor has no callable method %d on the devnet", to.Code, msg.Method)
	}
}

func (vm *VM) invokeMiner(st *State, from, to *Actor, msg *types.Message) ([]byte, error) {
	switch msg.Method {
	case miner.MethodPreCommitSector, miner.MethodProveCommitSector, miner.MethodExtendSectorExpiration,
		miner.MethodPreCommitSectorBatch, miner.MethodProveCommitAggregate, miner.MethodProveReplicaUpdates,
		miner.MethodProveReplicaUpdates2:
		return nil, abort(types.ErrUnhandledMessage, "method %d (%s) was removed from the miner actor", msg.Method, miner.MethodName(msg.Method))
	case miner.MethodPreCommitSectorBatch2, miner.MethodProveCommitSectors3, miner.MethodProveCommitSectorsNI,
		miner.MethodSubmitWindowedPoSt, miner.MethodDeclareFaultsRecovered, miner.MethodWithdrawBalance:
	default:
		return nil, abort(types.ErrUnhandledMessage, "miner method %d (%s) is not implemented on the devnet", msg.Method, miner.MethodName(msg.Method))
	}
	params, err := miner.DecodeParams(msg.Method, msg.Params)
	if err != nil {
		return nil, abort(types.ErrSerialization, "failed to decode params: %v", err)
	}
	mc := &minerCall{vm: vm, st: st, act: to, m: to.Miner, caller: from.ID}
	switch p := params.(type) {
	case *miner.PreCommitSectorBatchParams2:
		return nil, mc.preCommitSectorBatch2(p)
	case *miner.ProveCommitSectors3Params:
		return mc.proveCommitSectors3(p)
	case *miner.ProveCommitSectorsNIParams:
		return mc.proveCommitSectorsNI(p)
	case *miner.SubmitWindowedPoStParams:
		return nil, mc.submitWindowedPoSt(p)
	case *miner.DeclareFaultsRecoveredParams:
		return nil, mc.declareFaultsRecovered(p)
	case *miner.WithdrawBalanceParams:
		return mc.withdrawBalance(p)
	}
	return nil, abort(types.ErrUnhandledMessage, "unexpected params type %T", params)
}

// encodeBig is the CBOR of a BigInt (WithdrawBalance's return).
func encodeBig(b types.BigInt) []byte {
	var buf bytes.Buffer
	_ = b.MarshalCBOR(&buf)
	return buf.Bytes()
}

// minBig returns the smaller of a and b.
func minBig(a, b types.BigInt) types.BigInt {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}
