-- The offline Stripe sandbox (crate `sandbox`): its key pair, every object it holds (as Stripe's
-- JSON, newest last by `seq`), the answers to idempotent requests, and the delivery of each
-- event to Billhook's own webhook endpoint.
CREATE TABLE sandbox_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sandbox_objects (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    id      TEXT    NOT NULL UNIQUE,
    object  TEXT    NOT NULL,
    created INTEGER NOT NULL,
    body    TEXT    NOT NULL
);
CREATE INDEX sandbox_objects_by_kind ON sandbox_objects (object, seq);

CREATE TABLE sandbox_idempotency (
    key         TEXT    PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One row per event to deliver; a node leases a due row by moving `next_attempt_at` ahead.
CREATE TABLE sandbox_deliveries (
    event_id        TEXT    PRIMARY KEY,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    delivered_at    INTEGER,
    last_status     INTEGER,
    last_error      TEXT
);
CREATE INDEX sandbox_deliveries_due ON sandbox_deliveries (delivered_at, next_attempt_at);
