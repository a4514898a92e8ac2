#!/usr/bin/env python3
"""Writes ni-challenges.json: NI-PoRep (and interactive) challenge sets
computed independently of Sealant's Go code, from the Rust sources:

- rust-fil-proofs storage-proofs-porep/src/stacked/vanilla/challenges.rs
  (commit 87348a749d80447d00c595af834a8ed73c09e4d9): NiChallenges::derive,
  InteractiveChallenges::derive, bigint_to_challenge.
- rust-fil-proofs filecoin-proofs/src/constants.rs (same commit):
  get_porep_non_interactive_partitions (13 test sizes, 126 for 32/64GiB),
  get_porep_non_interactive_minimum_challenges (26, 2253);
  filecoin-proofs/src/parameters.rs select_challenges: per partition
  ceil(min/partitions) = 2 or 18.
- rust-filecoin-proofs-api src/registry.rs (commit
  0e64ce8d9cf87d4039075c101de833290096745b): porep_id = u64_le(id) || u64_le(0) || 0^16,
  NI ids 15..19.
- replica_id: storage-proofs-porep/src/stacked/vanilla/params.rs
  generate_replica_id, SHA-256(prover_id || u64_be(sector) || ticket || comm_d || porep_id)
  with the top two bits of byte 31 cleared.

Run: python3 ni_challenges.py > ni-challenges.json
"""
import hashlib, json, struct

TAG = b"filecoin.io|PoRep|1|NonInteractive|1"

def ni(replica_id, comm_r, nodes, partitions, per):
    out = []
    for k in range(partitions):
        part = []
        for i in range(per):
            j = per * k + i
            h = hashlib.sha256(TAG + replica_id + comm_r + struct.pack("<I", j)).digest()
            part.append(int.from_bytes(h, "little") % (nodes - 1) + 1)
        out.append(part)
    return out

def interactive(replica_id, seed, nodes, partitions, per):
    out = []
    for k in range(partitions):
        part = []
        for i in range(per):
            j = per * k + i
            h = hashlib.sha256(replica_id + seed + struct.pack("<I", j)).digest()
            part.append(int.from_bytes(h, "little") % (nodes - 1) + 1)
        out.append(part)
    return out

def porep_id(proof):
    return struct.pack("<Q", proof) + bytes(24)

def leb128(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)

def replica_id(miner, sector, ticket, comm_d, proof):
    # prover_id: the ID address payload (uvarint of the actor id), zero padded to 32 bytes.
    p = leb128(miner)
    prover = p + bytes(32 - len(p))
    h = bytearray(hashlib.sha256(prover + struct.pack(">Q", sector) + ticket + comm_d + porep_id(proof)).digest())
    h[31] &= 0x3F
    return bytes(h)

def fr(n):
    return n.to_bytes(32, "little")

# The golden 2KiB sector of shared/spec/porep.md §11.1 (t01002 sector 1).
ticket = bytes.fromhex("c3a1ca12b981a8a59f9a4764edf3398edd239b2afa8ca2bbd57e0091ec193aa0")
comm_d = bytes.fromhex("fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833")
comm_r = bytes.fromhex("b70cfe76f30bdc2abb6b495b6c999f692061800dbc8ac916c66cb5ec3c6f6528")
seed = bytes.fromhex("62a9ec8794bdb9cf9899e3e1fde9dd3c84ecb285bfeeace7fdbf4924b25eba85")

rid5 = replica_id(1002, 1, ticket, comm_d, 5)
assert rid5.hex() == "a68a0d7a75fe874043fceffc91b63795020146a2cb3df3a68e6cf500d66ee134"
rid15 = replica_id(1002, 1, ticket, comm_d, 15)

cases = []
def add(name, proof, nodes, parts, per, rid, cr, sd=None):
    c = {"name": name, "proof": proof, "nodes": nodes, "partitions": parts, "per_partition": per,
         "replica_id": rid.hex(), "comm_r": cr.hex()}
    if sd is None:
        c["challenges"] = ni(rid, cr, nodes, parts, per)
    else:
        c["seed"] = sd.hex()
        c["challenges"] = interactive(rid, sd, nodes, parts, per)
    cases.append(c)

add("2KiB interactive golden (spec §9.1: [48, 12])", 5, 64, 1, 2, rid5, comm_r, seed)
add("2KiB NI, golden inputs with porep id 15", 15, 64, 13, 2, rid15, comm_r)
add("8MiB NI, replica_id Fr(55), comm_r Fr(101)", 16, 1 << 18, 13, 2, fr(55), fr(101))
add("512MiB NI, replica_id Fr(55), comm_r Fr(101)", 17, 1 << 24, 13, 2, fr(55), fr(101))
add("32GiB NI (126 x 18), golden miner, sector and ticket, the 32GiB zero CommD, porep id 18", 18, 1 << 30, 126, 18,
    replica_id(1002, 1, ticket, bytes.fromhex("077e5fde35c50a9303a55009e3498a4ebedff39c42b710b730d8ec7ac7afa63e"), 18), comm_r)
add("64GiB NI (126 x 18), replica_id Fr(55), comm_r Fr(101)", 19, 1 << 31, 126, 18, fr(55), fr(101))
assert cases[0]["challenges"] == [[48, 12]]
json.dump({"source": "proofs/porep/testdata/ni_challenges.py", "replica_id_2k_ni": rid15.hex(), "cases": cases},
          __import__("sys").stdout, separators=(",", ":"))
print()
