-- Events the reconciliation job found in Stripe's Events API but the endpoint never received
-- (source 'reconciliation', delivery_count 0), and a record of every reconciliation run.
ALTER TABLE webhook_events ADD COLUMN source TEXT NOT NULL DEFAULT 'webhook'
    CHECK (source IN ('webhook', 'reconciliation'));

CREATE TABLE stripe_reconciliations (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT  NOT NULL,
    since       BIGINT  NOT NULL,   -- unix seconds: events created at or after this were listed
    listed      BIGINT  NOT NULL,
    filled      BIGINT  NOT NULL,
    error       TEXT
);
CREATE INDEX stripe_reconciliations_started ON stripe_reconciliations (started_at);

-- The Billhook account a Stripe customer belongs to, from the customer's metadata
-- (billhook_user_id, set by billing when it creates the customer). No foreign key: an event for a
-- customer of another Billhook installation sharing the Stripe account must still be mirrored.
ALTER TABLE stripe_customers ADD COLUMN user_id BIGINT;
CREATE INDEX stripe_customers_user ON stripe_customers (user_id);
