package delivery

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sealant/sealant/api"
)

// The receiver's HTTP API, under PathPrefix. Every request carries a
// provider token ("Authorization: Bearer …") issued by the SP
// (`sealant receiver token issue`). Bodies are JSON except chunk uploads.
//
//	PUT  /delivery/v0/sectors/{miner}/{number}/metadata   api.SectorMetadata → api.ReceiverSector
//	GET  /delivery/v0/sectors/{miner}/{number}            → api.ReceiverSector
//	PUT  /delivery/v0/sectors/{miner}/{number}/chunk?file=NAME&offset=O&length=L
//	     body: L raw bytes; PrefixSHAHeader trailer (or header) → api.ReceiverFile
//	POST /delivery/v0/sectors/{miner}/{number}/verify     → api.ReceiverSector
//	GET  /delivery/v0/healthz                             (no token)
//
// Errors are JSON {"error": "…", "code": "…"} with the HTTP status codes
// below; the client maps them back to the sentinels of this package.
//
// # Chunk check (protocol version 1)
//
// A chunk [O, O+L) of a file carries the SHA-256 of the file's first O+L
// bytes — the digest of the whole prefix, not of the chunk alone. Both
// ends get it from the running whole-file SHA-256 they keep anyway (its
// state is resumable, encoding.BinaryMarshaler), finalising a copy at each
// chunk end, so each side hashes every byte exactly once. Version 0 sent
// the chunk's own SHA-256 and made the receiver hash every byte twice
// (chunk and whole file).
//
// The check is at least as strong as a per-chunk hash: the receiver's
// prefix state before the chunk covers what it acknowledged, so any byte of the
// chunk that differs from what the sender hashed changes the digest
// (SHA-256 collision resistance), the chunk is refused with ErrChecksum
// and re-sent; nothing of it is acknowledged. The last chunk's value is
// the whole-file SHA-256, which the receiver also compares with the
// metadata's: a transmission error there is a retryable ErrChecksum, a
// sender whose file is not the one described is a rejection.
//
// A sender resuming at offset O needs its own hash state at O: the Client
// keeps it at every chunk boundary it passed and otherwise re-reads the
// prefix once (after its own restart).
//
// # Acknowledged and committed
//
// A chunk's 200 answer (and the "received" offset of a file in any
// answer) means acknowledged: written to the file and checked. The
// receiver makes acknowledged bytes durable — fsync, then the offset and
// the whole-file hash state saved in its record — in the background every
// CommitBytes or CommitInterval (ReceiverConfig), and before answering the
// chunk that completes a file (so "complete" is always durable). A
// process crash loses no written data but does lose the in-memory offset;
// an OS crash can lose unsynced data. Either way the restarted receiver
// resumes at its committed offset (truncating what lies beyond), and the
// sender, which asks where a file stands before re-sending, sends only
// what was acknowledged but not committed: at most about 2×CommitBytes.
// While the receiver runs, nothing acknowledged is ever sent again.
// `sealant receiver sectors list` reads the records, so it shows committed
// progress; the API shows acknowledged progress.
//
// # Versions
//
// Both ends put ProtocolHeader on every request and answer. The receiver
// refuses a chunk without ProtocolVersion (an older client: ErrInvalid,
// whose message says to upgrade, before the body is sent), and the client
// refuses to upload to a receiver whose answers do not announce it
// (ErrProtocol), so mismatched versions fail clearly instead of as a
// stream of checksum mismatches. The path prefix names the API's shape,
// which did not change; the header names the chunk check.
const PathPrefix = "/delivery/v0"

// ProtocolHeader carries ProtocolVersion on requests and answers.
const ProtocolHeader = "Sealant-Delivery-Protocol"

// ProtocolVersion is the chunk-check format spoken (see the protocol
// comment above): 1 is the prefix digest.
const ProtocolVersion = "1"

// PrefixSHAHeader carries the hex SHA-256 of the file's bytes up to the
// chunk's end. The client sends it as an HTTP trailer so that it can hash
// while streaming; a header set before the body is accepted too.
const PrefixSHAHeader = "Sealant-Prefix-Sha256"

// DefaultChunkSize is the upload unit: the granularity of resumption (at
// most one chunk is re-sent after a network interruption) and of
// checksumming. Between chunks the pipe idles for about two round trips
// (the answer, then the next request's 100-continue) while both ends
// drain and refill. 32 MiB measured about 15% faster than 8 MiB over
// loopback on the 2-core bench (`sealant bench transfer --chunk`), and on
// a long path (50 ms at 1 Gbit/s: 100 ms idle per chunk) it keeps the
// link busy 73% of the time where 8 MiB would manage 40%. Memory does not
// grow with it (the body is streamed); a network cut costs at most 32 MiB
// of re-sending.
const DefaultChunkSize = 32 << 20

// MaxChunkSize bounds what a receiver accepts in one request.
const MaxChunkSize = 64 << 20

// DefaultCommitBytes and DefaultCommitInterval are the receiver's default
// commit policy: a commit of a file's acknowledged bytes starts every
// 256 MiB or 2 seconds, so a receiver crash costs about twice that much
// re-sending at most, while fsync stays off the per-chunk path.
const (
	DefaultCommitBytes    = 256 << 20
	DefaultCommitInterval = 2 * time.Second
)

// maxMetadataSize bounds a metadata body.
const maxMetadataSize = 1 << 20

// maxTAuxSize bounds t_aux: bincode of a few StoreConfigs with paths.
const maxTAuxSize = 1 << 20

// Errors. Each maps to one HTTP status and error code on the wire.
var (
	// ErrUnauthorized: missing, invalid or revoked provider token.
	ErrUnauthorized = errors.New("delivery: unauthorized")
	// ErrForbidden: the token is valid but may not deliver this sector
	// (a miner the receiver does not serve, another provider's sector).
	ErrForbidden = errors.New("delivery: forbidden")
	// ErrNotFound: no such sector (or file) at the receiver.
	ErrNotFound = errors.New("delivery: not found")
	// ErrNoMetadata: files arrived before the sector's metadata was pushed.
	ErrNoMetadata = errors.New("delivery: sector metadata not pushed yet")
	// ErrInvalid: malformed request or metadata.
	ErrInvalid = errors.New("delivery: invalid request")
	// ErrConflict: the request does not fit the sector's state (an accepted
	// sector with other metadata, a chunk at the wrong offset, a sector
	// that already exists in the store).
	ErrConflict = errors.New("delivery: conflict")
	// ErrBusy: another upload of the same file or a verification is
	// running; retry shortly.
	ErrBusy = errors.New("delivery: busy")
	// ErrChecksum: a chunk's bytes do not match its SHA-256; it was
	// discarded and must be re-sent.
	ErrChecksum = errors.New("delivery: chunk checksum mismatch")
	// ErrDiskFull: the receiver is out of space (ENOSPC or its configured
	// budget). The upload resumes from the last acknowledged chunk once
	// space is freed.
	ErrDiskFull = errors.New("delivery: receiver disk full")
	// ErrRejected: verification failed; the sector is quarantined.
	ErrRejected = errors.New("delivery: sector rejected by receiver")
	// ErrProtocol: the receiver does not announce ProtocolVersion (an
	// older sealant): upgrade it. Client-side only; a receiver answers an
	// older client with ErrInvalid, which that client knows, and a message
	// saying to upgrade.
	ErrProtocol = errors.New("delivery: protocol version mismatch")
)

var errCodes = []struct {
	err    error
	code   string
	status int
}{
	{ErrUnauthorized, "unauthorized", http.StatusUnauthorized},
	{ErrForbidden, "forbidden", http.StatusForbidden},
	{ErrNoMetadata, "no_metadata", http.StatusPreconditionFailed},
	{ErrNotFound, "not_found", http.StatusNotFound},
	{ErrInvalid, "invalid", http.StatusBadRequest},
	{ErrConflict, "conflict", http.StatusConflict},
	{ErrBusy, "busy", http.StatusServiceUnavailable},
	{ErrChecksum, "checksum", http.StatusUnprocessableEntity},
	{ErrDiskFull, "disk_full", http.StatusInsufficientStorage},
	{ErrRejected, "rejected", http.StatusGone},
}

// wireError is the JSON body of an error response.
type wireError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	// File is the server's progress on the file a chunk was for, so that a
	// client that sent a chunk at a stale offset can resume without asking.
	File *api.ReceiverFile `json:"file,omitempty"`
}

func statusOf(err error) (int, string) {
	for _, e := range errCodes {
		if errors.Is(err, e.err) {
			return e.status, e.code
		}
	}
	return http.StatusInternalServerError, "internal"
}

// errorFromWire maps a response back to an error wrapping the sentinel.
func errorFromWire(status int, we wireError) error {
	for _, e := range errCodes {
		if e.code == we.Code {
			return fmt.Errorf("%w: %s", e.err, we.Error)
		}
	}
	return fmt.Errorf("delivery: receiver answered %d: %s", status, we.Error)
}
