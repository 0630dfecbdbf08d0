-- The body and headers of a delivery (~3 KB) pass PostgreSQL's TOAST threshold, and pglz
-- compressing them took 14 % of the database's CPU under webhook load (perf, docs/benchmarks.md).
-- lz4 compresses several times faster. A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE webhook_events ALTER COLUMN payload SET COMPRESSION lz4;
    ALTER TABLE webhook_events ALTER COLUMN headers SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available; webhook payloads stay compressed with pglz';
END $$;
