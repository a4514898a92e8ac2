-- 0001_init: the manager's initial schema.
--
-- One file serves both backends. The migration runner substitutes two
-- tokens: {{ID}} (an auto-increment 64-bit primary key) and {{BLOB}} (binary
-- data). Everything else is common SQL: BIGINT everywhere (SQLite stores any
-- integer in 64 bits, PostgreSQL's INTEGER is only 32), TEXT, BOOLEAN, and
-- times as Unix milliseconds in BIGINT columns (*_ms).

-- Tenants: one storage provider (miner actor) each.
CREATE TABLE tenants (
    id                 TEXT PRIMARY KEY,
    miner_id           BIGINT NOT NULL UNIQUE,
    proof_type         BIGINT NOT NULL,
    sector_size        BIGINT NOT NULL,
    senders            TEXT NOT NULL DEFAULT '[]', -- JSON array of addresses
    signing_route      TEXT NOT NULL DEFAULT 'signer'
                       CHECK (signing_route IN ('signer', 'lotus-wallet')),
    pc_batch_size      BIGINT NOT NULL DEFAULT 1,
    pc_max_wait_ms     BIGINT NOT NULL DEFAULT 0,
    prove_mode         TEXT NOT NULL DEFAULT 'per-sector'
                       CHECK (prove_mode IN ('per-sector', 'aggregate')),
    prove_batch_size   BIGINT NOT NULL DEFAULT 1,
    prove_max_wait_ms  BIGINT NOT NULL DEFAULT 0,
    max_precommit_fee  TEXT NOT NULL DEFAULT '',   -- attoFIL, decimal
    max_provecommit_fee TEXT NOT NULL DEFAULT '',  -- attoFIL, decimal
    expiration_days    BIGINT NOT NULL DEFAULT 540,
    quota_per_day      BIGINT NOT NULL DEFAULT 0,  -- 0 = unlimited
    quota_concurrent   BIGINT NOT NULL DEFAULT 0,  -- 0 = unlimited
    weight             BIGINT NOT NULL DEFAULT 1 CHECK (weight > 0),
    paused             BOOLEAN NOT NULL DEFAULT FALSE,
    delivery_target    TEXT NOT NULL DEFAULT '',
    created_ms         BIGINT NOT NULL,
    updated_ms         BIGINT NOT NULL
);

-- Next sector number per miner actor. Keyed by miner, not tenant, and
-- without a foreign key, so deleting and re-creating a tenant (or deleting
-- sectors) can never hand out a number twice.
CREATE TABLE sector_counters (
    miner_id    BIGINT PRIMARY KEY,
    next_number BIGINT NOT NULL
);

-- Auth tokens: ids and hashes only, never the token itself. tenant_id is
-- '' for admin tokens. No foreign key: revocations must outlive tenants.
CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL DEFAULT '',
    role        TEXT NOT NULL,
    secret_hash {{BLOB}} NOT NULL,
    issued_ms   BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL DEFAULT 0,     -- 0 = no expiry
    revoked_ms  BIGINT,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tokens_tenant ON tokens (tenant_id);

-- PreCommit / ProveCommit batches.
CREATE TABLE batches (
    id         {{ID}},
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('precommit', 'provecommit')),
    state      TEXT NOT NULL CHECK (state IN ('open', 'closed', 'sent', 'landed', 'failed')),
    created_ms BIGINT NOT NULL,
    closed_ms  BIGINT,
    done_ms    BIGINT
);
-- At most one open batch per tenant and kind; concurrent AddToBatch calls
-- converge on it through ON CONFLICT.
CREATE UNIQUE INDEX batches_one_open ON batches (tenant_id, kind) WHERE state = 'open';
CREATE INDEX batches_tenant_state ON batches (tenant_id, state);

-- Sectors. (miner_id, number) is the on-chain identity.
CREATE TABLE sectors (
    miner_id          BIGINT NOT NULL,
    number            BIGINT NOT NULL,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    proof_type        BIGINT NOT NULL,
    sector_size       BIGINT NOT NULL,
    state             TEXT NOT NULL DEFAULT '',
    phase             TEXT NOT NULL DEFAULT 'active'
                      CHECK (phase IN ('active', 'finalized', 'aborted')),
    abort_reason      TEXT NOT NULL DEFAULT '',
    worker_id         TEXT NOT NULL,
    lease_expires_ms  BIGINT NOT NULL,
    allocated_ms      BIGINT NOT NULL,
    updated_ms        BIGINT NOT NULL,
    done_ms           BIGINT,
    ticket            {{BLOB}},
    ticket_epoch      BIGINT,
    seed              {{BLOB}},
    seed_epoch        BIGINT,
    comm_r            {{BLOB}},
    comm_d            {{BLOB}},
    proof             {{BLOB}},
    pieces_set        BOOLEAN NOT NULL DEFAULT FALSE, -- SetPieces ran (an empty list = CC)
    precommit_batch   BIGINT REFERENCES batches (id) ON DELETE SET NULL,
    provecommit_batch BIGINT REFERENCES batches (id) ON DELETE SET NULL,
    precommit_msg     TEXT NOT NULL DEFAULT '',
    provecommit_msg   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (miner_id, number)
);
CREATE INDEX sectors_worker ON sectors (worker_id, phase);
CREATE INDEX sectors_phase_tenant ON sectors (phase, tenant_id);
CREATE INDEX sectors_lease ON sectors (phase, lease_expires_ms);
CREATE INDEX sectors_tenant ON sectors (tenant_id, allocated_ms);
CREATE INDEX sectors_pc_batch ON sectors (precommit_batch);
CREATE INDEX sectors_prove_batch ON sectors (provecommit_batch);

-- Every ReportState (and store-side transition), append-only.
CREATE TABLE sector_history (
    id            {{ID}},
    miner_id      BIGINT NOT NULL,
    number        BIGINT NOT NULL,
    at_ms         BIGINT NOT NULL,
    worker_id     TEXT NOT NULL DEFAULT '',
    prev_state    TEXT NOT NULL DEFAULT '',
    next_state    TEXT NOT NULL DEFAULT '',
    event         TEXT NOT NULL DEFAULT '',
    failure_level TEXT NOT NULL DEFAULT '',
    failure_desc  TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (miner_id, number) REFERENCES sectors (miner_id, number) ON DELETE CASCADE
);
CREATE INDEX sector_history_sector ON sector_history (miner_id, number, id);

-- Pieces packed into a sector, in order.
CREATE TABLE sector_pieces (
    miner_id  BIGINT NOT NULL,
    number    BIGINT NOT NULL,
    idx       BIGINT NOT NULL,
    piece_cid TEXT NOT NULL,
    size      BIGINT NOT NULL,
    deal_id   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (miner_id, number, idx),
    FOREIGN KEY (miner_id, number) REFERENCES sectors (miner_id, number) ON DELETE CASCADE
);

-- Next nonce per sender address, shared by all tenants that use it.
CREATE TABLE sender_nonces (
    address    TEXT PRIMARY KEY,
    next_nonce BIGINT NOT NULL
);

-- One chain message per batch. The unsigned CBOR is kept so that a
-- restarted manager re-signs and re-pushes the very same message (same
-- nonce) instead of building a new one.
CREATE TABLE messages (
    id           {{ID}},
    batch_id     BIGINT NOT NULL UNIQUE REFERENCES batches (id) ON DELETE CASCADE,
    tenant_id    TEXT NOT NULL,
    from_addr    TEXT NOT NULL,
    nonce        BIGINT NOT NULL,
    unsigned_msg {{BLOB}},
    cid          TEXT NOT NULL DEFAULT '',
    signed_cid   TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL
                 CHECK (state IN ('pending', 'signed', 'pushed', 'landed', 'failed')),
    exit_code    BIGINT,
    error        TEXT NOT NULL DEFAULT '',
    created_ms   BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL
);
-- A nonce belongs to one live message; an abandoned (failed, never landed)
-- message gives its nonce up.
CREATE UNIQUE INDEX messages_sender_nonce ON messages (from_addr, nonce) WHERE state <> 'failed';
CREATE INDEX messages_state ON messages (state);

-- Delivery of a sealed sector to the tenant.
CREATE TABLE deliveries (
    miner_id   BIGINT NOT NULL,
    number     BIGINT NOT NULL,
    tenant_id  TEXT NOT NULL,
    state      TEXT NOT NULL
               CHECK (state IN ('pending', 'transferring', 'verifying', 'accepted', 'rejected')),
    target     TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    attempts   BIGINT NOT NULL DEFAULT 1,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (miner_id, number),
    FOREIGN KEY (miner_id, number) REFERENCES sectors (miner_id, number) ON DELETE CASCADE
);
CREATE INDEX deliveries_tenant_state ON deliveries (tenant_id, state);

-- Usage metering, append-only and idempotent per (sector, stage, attempt).
-- No foreign keys: bills outlive sectors and tenants. The store itself
-- writes the 'allocated' and 'finalized' rows; workers report stages.
CREATE TABLE usage_events (
    id          {{ID}},
    tenant_id   TEXT NOT NULL,
    miner_id    BIGINT NOT NULL,
    number      BIGINT NOT NULL,
    stage       TEXT NOT NULL,
    attempt     BIGINT NOT NULL DEFAULT 0,
    worker_id   TEXT NOT NULL DEFAULT '',
    cpu_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    bytes       BIGINT NOT NULL DEFAULT 0,
    at_ms       BIGINT NOT NULL,
    UNIQUE (miner_id, number, stage, attempt)
);
CREATE INDEX usage_stage_at ON usage_events (stage, at_ms, tenant_id);
CREATE INDEX usage_at ON usage_events (at_ms);
