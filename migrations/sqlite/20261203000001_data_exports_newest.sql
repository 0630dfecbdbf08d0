-- The operators' exports list (newest first, keyset pages) walks this index instead of sorting
-- every export ever requested.
CREATE INDEX data_exports_requested ON data_exports (requested_at, id);
