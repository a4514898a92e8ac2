package delivery

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sealant/sealant/api"
)

// The receiver's HTTP API, under PathPrefix. Every request carries a
// provider token ("Authorization: Bearer …") issued by the SP
// (`sealant receiver token issue`). Bodies are JSON except chunk uploads.
//
//	PUT  /delivery/v0/sectors/{miner}/{number}/metadata   api.SectorMetadata → api.ReceiverSector
//	GET  /delivery/v0/sectors/{miner}/{number}            → api.ReceiverSector
//	PUT  /delivery/v0/sectors/{miner}/{number}/chunk?file=NAME&offset=O&length=L
//	     body: L raw bytes; SHA-256 of the body in the ChunkSHAHeader header
//	     or trailer → api.ReceiverFile
//	POST /delivery/v0/sectors/{miner}/{number}/verify     → api.ReceiverSector
//	GET  /delivery/v0/healthz                             (no token)
//
// Errors are JSON {"error": "…", "code": "…"} with the HTTP status codes
// below; the client maps them back to the sentinels of this package.
const PathPrefix = "/delivery/v0"

// ChunkSHAHeader carries the hex SHA-256 of a chunk body. The client sends it
// as an HTTP trailer so that it can hash while streaming (one pass over the
// file); a header set before the body is accepted too.
const ChunkSHAHeader = "Sealant-Chunk-Sha256"

// DefaultChunkSize is the upload unit: the granularity of resumption (at
// most one chunk is re-sent after an interruption) and of checksumming.
const DefaultChunkSize = 8 << 20

// MaxChunkSize bounds what a receiver accepts in one request.
const MaxChunkSize = 64 << 20

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
	// budget). The upload resumes from the last committed chunk once space
	// is freed.
	ErrDiskFull = errors.New("delivery: receiver disk full")
	// ErrRejected: verification failed; the sector is quarantined.
	ErrRejected = errors.New("delivery: sector rejected by receiver")
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
