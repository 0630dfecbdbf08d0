-- The rest of the billing mirror, kept from webhook events like customers and subscriptions:
-- invoices, payment methods, payment intents and setup intents. One shape for all four: the
-- columns pages filter on, the object as Stripe sent it, and the stamp that orders versions.
CREATE TABLE stripe_invoices (
    id            TEXT    PRIMARY KEY,
    customer_id   TEXT,
    status        TEXT    NOT NULL,
    object        TEXT    NOT NULL,
    event_created BIGINT  NOT NULL,
    event_rank    BIGINT  NOT NULL,
    event_id      TEXT    NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX stripe_invoices_customer ON stripe_invoices (customer_id, status);

CREATE TABLE stripe_payment_methods (
    id            TEXT    PRIMARY KEY,
    customer_id   TEXT,
    status        TEXT    NOT NULL,
    object        TEXT    NOT NULL,
    event_created BIGINT  NOT NULL,
    event_rank    BIGINT  NOT NULL,
    event_id      TEXT    NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX stripe_payment_methods_customer ON stripe_payment_methods (customer_id, status);

CREATE TABLE stripe_payment_intents (
    id            TEXT    PRIMARY KEY,
    customer_id   TEXT,
    status        TEXT    NOT NULL,
    object        TEXT    NOT NULL,
    event_created BIGINT  NOT NULL,
    event_rank    BIGINT  NOT NULL,
    event_id      TEXT    NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX stripe_payment_intents_customer ON stripe_payment_intents (customer_id, status);

CREATE TABLE stripe_setup_intents (
    id            TEXT    PRIMARY KEY,
    customer_id   TEXT,
    status        TEXT    NOT NULL,
    object        TEXT    NOT NULL,
    event_created BIGINT  NOT NULL,
    event_rank    BIGINT  NOT NULL,
    event_id      TEXT    NOT NULL,
    updated_at    BIGINT  NOT NULL
);
CREATE INDEX stripe_setup_intents_customer ON stripe_setup_intents (customer_id, status);
