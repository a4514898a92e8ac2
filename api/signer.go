package api

// The signer connection. An SP's `sealant signer` dials the manager's
// WebSocket (/rpc/v0) with a signer-role token of its tenant, then calls
// MethodSignerHello. The manager answers with a challenge and calls
// MethodSignerProve on the same connection; the signer signs the challenge
// with each of its keys, proving possession. From then on the manager sends
// sign requests with MethodSignerSign. Several signers may serve one tenant;
// the manager uses any connected one that holds the From address.
const (
	// MethodSignerHello is called by the signer: (SignerHello) → SignerWelcome.
	MethodSignerHello = "Sealant.SignerHello"
	// MethodSignerProve is called by the manager on the signer:
	// (challenge HexBytes) → []AddressProof.
	MethodSignerProve = "SealantSigner.ProveAddresses"
	// MethodSignerSign is called by the manager on the signer:
	// (SignRequest) → SignResponse; a refusal is an RPC error with code
	// CodeSignRefused whose message is the policy's reason.
	MethodSignerSign = "SealantSigner.Sign"
)

// SignerHello introduces a signer.
type SignerHello struct {
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Addresses []string `json:"addresses"` // f1/f3 (or t1/t3) addresses it can sign for
}

// SignerWelcome is the manager's answer to SignerHello.
type SignerWelcome struct {
	Tenant string `json:"tenant"`
	Miner  uint64 `json:"miner"`
}

// AddressProof proves possession of a key: the signature (types.Signature
// JSON form: {"Type":1,"Data":base64}) over the challenge bytes.
type AddressProof struct {
	Address   string        `json:"address"`
	Signature SignatureJSON `json:"signature"`
}

// SignatureJSON is Lotus's signature JSON shape.
type SignatureJSON struct {
	Type int    `json:"Type"`
	Data []byte `json:"Data"`
}

// SignRequest asks a signer to sign one chain message. The signer decodes
// Message itself, checks that its CID is Cid, and applies its policy; the
// rest is informational.
type SignRequest struct {
	ID      string   `json:"id"`
	Tenant  string   `json:"tenant"`
	From    string   `json:"from"`
	Message HexBytes `json:"message"` // unsigned message CBOR
	Cid     string   `json:"cid"`     // CID of Message
	// Purpose and Sectors describe why (e.g. "precommit-batch", [5,6,7]).
	Purpose string   `json:"purpose"`
	Sectors []uint64 `json:"sectors,omitempty"`
}

// SignResponse carries the signature over the message CID bytes.
type SignResponse struct {
	Signature SignatureJSON `json:"signature"`
}
