-- Customers' data exports: built by the export_data job, downloadable by their owner until expiry.
CREATE TABLE data_exports (
    id           TEXT   PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT   NOT NULL CHECK (status IN ('queued', 'building', 'ready', 'failed', 'expired')),
    requested_at INTEGER NOT NULL,
    finished_at  INTEGER,
    expires_at   INTEGER,
    archive      TEXT,
    size_bytes   INTEGER,
    error        TEXT
);
CREATE INDEX data_exports_user ON data_exports (user_id, requested_at);
