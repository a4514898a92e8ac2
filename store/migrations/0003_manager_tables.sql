-- 0003_manager_tables: the manager's own data joins the store's schema.
--
-- Earlier managers kept a piece queue, per-sector details the store had no
-- column for, the metadata handoff's progress and worker heartbeats in
-- tables they created themselves at start (mgr_*, written through raw SQL
-- beside the store). Those now live here, so one transaction can decide a
-- worker call. The rows of the old tables are carried over by the Go step
-- of this migration (foldLegacy in legacy.go), which also creates the old
-- tables first when a database never had them (so one path upgrades every
-- database) and drops them at the end.

-- The tenants' queue of pieces waiting for a data sector, in arrival order.
CREATE TABLE piece_queue (
    id           {{ID}},
    tenant_id    TEXT NOT NULL,
    piece_cid    TEXT NOT NULL,
    size         BIGINT NOT NULL,
    payload_size BIGINT NOT NULL,
    source_url   TEXT NOT NULL,
    created_ms   BIGINT NOT NULL
);
CREATE INDEX piece_queue_tenant ON piece_queue (tenant_id, id);

-- A piece's unpadded payload size and where the worker fetches it.
ALTER TABLE sector_pieces ADD COLUMN payload_size BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sector_pieces ADD COLUMN source_url TEXT NOT NULL DEFAULT '';

-- What a worker reports beyond the chain's commitments: comm_c and
-- comm_r_last (hex), where the finalized files are (files: a JSON list the
-- manager writes), and the last batch of each kind the sector joined, kept
-- after a failed batch detaches its sectors (so a poll can say why).
ALTER TABLE sectors ADD COLUMN comm_c TEXT NOT NULL DEFAULT '';
ALTER TABLE sectors ADD COLUMN comm_r_last TEXT NOT NULL DEFAULT '';
ALTER TABLE sectors ADD COLUMN location TEXT NOT NULL DEFAULT '';
ALTER TABLE sectors ADD COLUMN files TEXT NOT NULL DEFAULT '';
ALTER TABLE sectors ADD COLUMN last_precommit_batch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sectors ADD COLUMN last_provecommit_batch BIGINT NOT NULL DEFAULT 0;

-- The metadata handoff's progress per sector (Architecture 2): which
-- metadata (hash) was pushed for which delivery attempt, and the back-off
-- of failed pushes. No foreign key: like the old table, a row may outlive
-- its sector.
CREATE TABLE sector_handoffs (
    miner_id   BIGINT NOT NULL,
    number     BIGINT NOT NULL,
    md_hash    TEXT NOT NULL DEFAULT '',
    attempt    BIGINT NOT NULL DEFAULT 0,
    pushed_ms  BIGINT NOT NULL DEFAULT 0,
    failures   BIGINT NOT NULL DEFAULT 0,
    next_ms    BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (miner_id, number)
);

-- Workers' last heartbeat (info: the manager's JSON of it).
CREATE TABLE workers (
    name    TEXT PRIMARY KEY,
    info    TEXT NOT NULL,
    seen_ms BIGINT NOT NULL
);
