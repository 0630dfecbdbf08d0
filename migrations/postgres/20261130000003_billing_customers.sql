-- The Stripe customer of each account, stored as soon as billing creates it (before its webhook
-- arrives): an account has one, however often and from however many nodes it subscribes.
CREATE TABLE billing_customers (
    user_id     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    customer_id TEXT   NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
