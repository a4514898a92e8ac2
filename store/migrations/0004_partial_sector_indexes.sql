-- 0004_partial_sector_indexes: the sectors' batch and lease indexes hold
-- only the rows they are asked about.
--
-- A sector is in a batch, and holds a lease, for a small part of its
-- life, and the rows of finalized sectors stay for good; yet every sector
-- row had an entry in these three indexes, and every update of a row
-- that cannot be HOT (most of them here) added one to each. Every query
-- that uses them names a batch (batch column = ?, which implies IS NOT
-- NULL) or active sectors (phase = 'active'), so partial indexes answer
-- the same queries, stay the size of the work in flight instead of the
-- history, and cost nothing when a row outside them is updated.
DROP INDEX sectors_pc_batch;
DROP INDEX sectors_prove_batch;
DROP INDEX sectors_lease;
CREATE INDEX sectors_pc_batch ON sectors (precommit_batch, miner_id, number) WHERE precommit_batch IS NOT NULL;
CREATE INDEX sectors_prove_batch ON sectors (provecommit_batch, miner_id, number) WHERE provecommit_batch IS NOT NULL;
CREATE INDEX sectors_lease ON sectors (lease_expires_ms) WHERE phase = 'active';
