// Package signer is the SP side of Sealant's key custody: the process an
// SP runs on its own premises (`sealant signer run`) that holds the worker
// or control keys, connects out to one or more managers, and signs only the
// chain messages its local policy allows.
//
// Why: the storage provider must keep control of its funds. Sealant never
// holds SP keys; the manager can only ask, over the WebSocket the signer
// opened (no inbound port, works behind NAT), and every request is judged
// here from the message bytes alone (spec/chain.md §7: the venus-wallet /
// lotus-wallet model of verifying CID(Extra) == toSign, then a method-level
// policy).
//
// Pieces:
//
//   - Keystore: one file per key, mode 0600, address and type in the clear
//     and the private key sealed with XChaCha20-Poly1305 under an argon2id
//     key derived from the passphrase; import/export of Lotus KeyInfo
//     (hex-lotus, json-lotus). Keys are only decrypted into a Wallet, whose
//     signing method is unexported so that every signature passes through
//     the policy or the address-proof construction.
//   - Policy (TOML): allowed miners (To), methods (default 28, 34, 5, 11),
//     senders, value and fee caps per message and per UTC day, gas caps and
//     params sanity (sector numbers in the tenant's ranges, no duplicates,
//     expiration bounds, seal proof types, commitment CID prefixes, sealer
//     id = miner for NI-PoRep, piece notifications only to allowed actors,
//     claimed sectors = decoded sectors). Policy.Evaluate is pure and is
//     what `sealant signer policy check` runs offline.
//   - State: the daily counters and recently signed CIDs, persisted before a
//     signature is released, so restarts do not reset the caps and a
//     manager retrying a request after a lost connection gets the same
//     (deterministic) signature without the message being counted twice.
//   - Audit: append-only JSON lines, one per request, proof and connection,
//     with the decoded summary, the decision and the reason; no key
//     material ever (the wallet never exposes it, and the entries are built
//     from the message only).
//   - Runner: the outbound connections with jittered exponential backoff;
//     on each connection the signer announces its addresses
//     (Sealant.SignerHello) and proves possession by signing a
//     domain-separated digest of the manager's challenge
//     (api.AddressProofBytes), never the raw challenge, so the proof step
//     cannot be abused to obtain a signature over a message CID.
package signer
