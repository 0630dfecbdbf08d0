-- The offline Stripe sandbox (crate `sandbox`): its key pair, every object it holds (as Stripe's
-- JSON, newest last by `seq`), and the answers to idempotent requests.
CREATE TABLE sandbox_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sandbox_objects (
    seq     BIGSERIAL PRIMARY KEY,
    id      TEXT      NOT NULL UNIQUE,
    object  TEXT      NOT NULL,
    created BIGINT    NOT NULL,
    body    TEXT      NOT NULL
);
CREATE INDEX sandbox_objects_by_kind ON sandbox_objects (object, seq);

CREATE TABLE sandbox_idempotency (
    key         TEXT    PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    status      BIGINT  NOT NULL,
    body        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
