-- One database for all Sealant managers (run as a PostgreSQL superuser):
--   psql -h db.internal -U postgres -v pw="'change-me'" -f setup.sql
-- The managers create and migrate their tables themselves on start
-- (two managers starting at once is safe: see store.Migrate).
CREATE ROLE sealant LOGIN PASSWORD :pw;
CREATE DATABASE sealant OWNER sealant;
