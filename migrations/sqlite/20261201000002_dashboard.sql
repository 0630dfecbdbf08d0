-- The operators' dashboard: every action in the audit log, and indexes that match the webhook
-- list's filters (newest first, by type; the status and object filters have theirs).
CREATE TABLE admin_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor_id    INTEGER NOT NULL,
    actor_email TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    row_count   INTEGER NOT NULL
);

CREATE INDEX webhook_events_received ON webhook_events (received_at, id);
CREATE INDEX webhook_events_type ON webhook_events (event_type, received_at);
