-- Allocation sequence numbers per tenant.
--
-- Fair share and the daily quota count a tenant's allocations in a rolling
-- window. Counting usage rows in the window grows with the allocation rate
-- (tens of thousands of rows a day for a large fleet) and ran on every
-- allocation. Instead each 'allocated' usage row carries the tenant's
-- running allocation number (alloc_seq), and allocation_counters holds the
-- latest; the count in (B, now] is total - alloc_seq of the last
-- allocation at or before B: one index lookup per tenant and window.
-- Counters, like usage rows, outlive tenants, so deleting and re-creating
-- a tenant does not reset its quota.
CREATE TABLE allocation_counters (
    tenant_id TEXT PRIMARY KEY,
    total     BIGINT NOT NULL
);

ALTER TABLE usage_events ADD COLUMN alloc_seq BIGINT;

UPDATE usage_events SET alloc_seq = r.seq
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY at_ms, id) AS seq
      FROM usage_events WHERE stage = 'allocated') AS r
WHERE usage_events.id = r.id;

INSERT INTO allocation_counters (tenant_id, total)
SELECT tenant_id, COUNT(*) FROM usage_events WHERE stage = 'allocated' GROUP BY tenant_id;

CREATE INDEX usage_alloc_seq ON usage_events (tenant_id, at_ms, alloc_seq) WHERE stage = 'allocated';

-- Covering indexes for a batch's sector list (polls and the pipeline read
-- it often): the old ones held only the batch id, so every sector cost a
-- lookup in the table.
DROP INDEX sectors_pc_batch;
DROP INDEX sectors_prove_batch;
CREATE INDEX sectors_pc_batch ON sectors (precommit_batch, miner_id, number);
CREATE INDEX sectors_prove_batch ON sectors (provecommit_batch, miner_id, number);
