// Package delivery hands sealed sectors from a sealing provider to the
// storage provider (SP) that owns them, and makes the SP's side of that
// handoff trustless: nothing the provider sends is accepted until the SP
// has checked it against the chain.
//
// # Why
//
// After sealing, the SP must end up with sectors it can keep proving
// (Architectures 2/3 in docs/storage-providers.md). A provider that is
// buggy, compromised or dishonest could deliver a replica that does not
// match the on-chain CommR; the SP would only find out when its
// WindowPoSt fails and it is penalised. Curio's delegated remote seal
// trusts the provider (shared/spec/landscape.md §6); Sealant does not.
//
// # Protocol (protocol.go)
//
// The SP runs a Receiver (`sealant receiver run`) and issues each provider
// an HS256 token (role "provider"). The provider's manager pushes the
// sector's api.SectorMetadata (idempotent; resumable), and the worker's
// Client uploads the sealed file and the cache files the SP needs
// (tree-r-last, p_aux, t_aux) in chunks over HTTP. Each chunk must start
// at the receiver's acknowledged offset and carries, as a trailer, the
// SHA-256 of the file's prefix up to its end: both ends finalise a copy of
// the running whole-file hash they keep anyway, so each hashes every byte
// once, and a chunk damaged in transit is refused at that chunk
// (ErrChecksum) and re-sent. The last chunk's value is the whole-file
// SHA-256, which must also equal the metadata's. A checked chunk is
// acknowledged at once; the receiver makes acknowledged bytes durable —
// fsync, then offset and the whole-file hash state saved — every
// CommitBytes or CommitInterval, in the background, and synchronously
// when a file completes. So an upload cut at any point resumes at the
// last acknowledged chunk and never re-sends one; after a receiver crash
// it resumes at the last commit. The receiver answers a stale offset with
// its real one, and with 100-continue a refused chunk is not even sent. A
// ProtocolHeader on both sides makes an old client or receiver fail with
// a clear error. A full disk (ENOSPC, or an injected byte budget in
// tests) is ErrDiskFull on both sides; the upload resumes once space is
// freed. Memory is bounded by a 1 MiB buffer per upload on each side,
// whatever the sector size; a token-bucket Limiter caps bandwidth on
// either side.
//
// # Verified import (verify.go, importer.go)
//
// A complete sector is verified before anything is accepted: every file's
// SHA-256 against the metadata, p_aux = comm_c ‖ comm_r_last, t_aux's
// structure, Poseidon2(comm_c, comm_r_last) = CommR, CommD = the pieces'
// CommD, CommR = the on-chain CommR (Lotus StateSectorGetInfo or
// StateSectorPreCommitInfo), TreeR_last rebuilt from the received replica
// equal byte for byte to the received tree-r-last files with root
// comm_r_last, and WindowPoSt and WinningPoSt vanilla proofs over the
// received files with fresh randomness. Only then are the files moved into
// the SP's Lotus/Curio store (sealed/s-t0M-N, cache/s-t0M-N/…) with
// link/O_EXCL, so an existing sector is never overwritten. Any failure
// moves the files to quarantine/ with a reason.json and the provider sees
// the reason (state rejected) when it polls.
package delivery
