-- Customers' data exports: built by the export_data job, downloadable by their owner until expiry.
CREATE TABLE data_exports (
    id           TEXT   PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT   NOT NULL CHECK (status IN ('queued', 'building', 'ready', 'failed', 'expired')),
    requested_at BIGINT NOT NULL,
    finished_at  BIGINT,
    expires_at   BIGINT,
    archive      TEXT,
    size_bytes   BIGINT,
    error        TEXT
);
CREATE INDEX data_exports_user ON data_exports (user_id, requested_at);
