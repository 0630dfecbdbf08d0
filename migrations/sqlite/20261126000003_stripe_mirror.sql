-- Billhook's mirror of Stripe objects, kept from webhook events. Each row remembers the event it
-- came from (created, rank, id) so that an older event never overwrites newer state.
CREATE TABLE stripe_customers (
    id            TEXT    PRIMARY KEY,          -- cus_...
    email         TEXT,
    name          TEXT,
    deleted       INTEGER NOT NULL DEFAULT 0,
    event_created INTEGER NOT NULL,
    event_rank    INTEGER NOT NULL,
    event_id      TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE stripe_subscriptions (
    id                   TEXT    PRIMARY KEY,   -- sub_...
    customer_id          TEXT,
    status               TEXT    NOT NULL,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    current_period_end   INTEGER,
    price_ids            TEXT    NOT NULL DEFAULT '[]',
    event_created        INTEGER NOT NULL,
    event_rank           INTEGER NOT NULL,
    event_id             TEXT    NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX stripe_subscriptions_customer ON stripe_subscriptions (customer_id);

-- Every attempt of every background job, with its error (apalis keeps only the last result).
CREATE TABLE job_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     TEXT    NOT NULL,
    queue       TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    worker      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    error       TEXT,
    retry_at    INTEGER
);
CREATE INDEX job_attempts_task ON job_attempts (task_id, attempt);

-- One row per scheduled tick that ran: the primary key makes each tick run once per cluster.
CREATE TABLE scheduler_ticks (
    schedule TEXT    NOT NULL,
    tick_at  INTEGER NOT NULL,
    node     TEXT    NOT NULL,
    ran_at   INTEGER NOT NULL,
    PRIMARY KEY (schedule, tick_at)
);

-- Canary jobs (`billhook canary`): an end-to-end check of the queues, used by operators, the
-- crash-recovery tests and the job benchmark. Every run is recorded; the effect once.
CREATE TABLE canary_runs (
    canary_id   TEXT    NOT NULL,
    node        TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX canary_runs_id ON canary_runs (canary_id);
CREATE TABLE canary_effects (
    canary_id   TEXT    PRIMARY KEY,
    node        TEXT    NOT NULL,
    enqueued_at INTEGER NOT NULL,
    done_at     INTEGER NOT NULL
);

-- Every message Billhook sends (status 'sent'), or keeps when no SMTP server is configured ('outbox').
CREATE TABLE email_outbox (
    id         TEXT   PRIMARY KEY,
    recipient  TEXT   NOT NULL,
    subject    TEXT   NOT NULL,
    body       TEXT   NOT NULL,
    template   TEXT   NOT NULL,
    status     TEXT   NOT NULL CHECK (status IN ('sent', 'outbox')),
    created_at BIGINT NOT NULL
);
CREATE INDEX email_outbox_created ON email_outbox (created_at);
