-- Stripe webhook deliveries, stored before they are acknowledged. Times are unix milliseconds,
-- except `created` (Stripe's own, unix seconds).
CREATE TABLE webhook_events (
    id               TEXT    PRIMARY KEY,              -- evt_...
    event_type       TEXT    NOT NULL,
    api_version      TEXT,
    created          BIGINT  NOT NULL,
    livemode         BOOLEAN NOT NULL,
    object_id        TEXT,
    payload          TEXT    NOT NULL,                 -- the body byte for byte
    headers          TEXT    NOT NULL,                 -- JSON object
    received_at      BIGINT  NOT NULL,
    last_received_at BIGINT  NOT NULL,
    delivery_count   BIGINT  NOT NULL DEFAULT 1,
    status           TEXT    NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'queued', 'processing', 'processed', 'failed', 'ignored')),
    status_changed_at BIGINT,
    processed_count  BIGINT  NOT NULL DEFAULT 0,       -- times a handler's effect committed (1 at most)
    error            TEXT
);
CREATE INDEX webhook_events_status ON webhook_events (status, received_at);
CREATE INDEX webhook_events_object ON webhook_events (object_id, created);

-- Correctly signed bodies that are not usable events.
CREATE TABLE webhook_rejections (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at BIGINT  NOT NULL,
    reason      TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    size        BIGINT  NOT NULL,
    payload     TEXT    NOT NULL,
    headers     TEXT    NOT NULL
);
