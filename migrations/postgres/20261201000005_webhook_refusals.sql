-- Refused webhook deliveries, cluster-wide: each web node notes them in memory and every few
-- seconds writes how many per reason and minute, and a bounded sample of the newest - a flood of
-- forged requests costs a few writes per flush, whatever its size.
CREATE TABLE webhook_refusal_counts (
    minute BIGINT  NOT NULL,   -- unix ms of the minute's start
    node   TEXT    NOT NULL,
    reason TEXT    NOT NULL,
    count  BIGINT  NOT NULL,
    PRIMARY KEY (minute, node, reason)
);

CREATE TABLE webhook_refusal_samples (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     BIGINT  NOT NULL,
    node   TEXT    NOT NULL,
    reason TEXT    NOT NULL,
    source TEXT    NOT NULL,
    size   BIGINT  NOT NULL
);
CREATE INDEX webhook_refusal_samples_at ON webhook_refusal_samples (at);
