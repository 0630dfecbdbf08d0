-- What the cluster did per minute (jobs finished and failed per queue, webhook events received
-- and repeated), written by each node every few seconds from its counts in memory; the
-- dashboard's charts sum these rows instead of counting a million jobs.
CREATE TABLE activity_counts (
    kind   TEXT    NOT NULL,
    minute BIGINT  NOT NULL,   -- unix ms of the minute's start
    node   TEXT    NOT NULL,
    label  TEXT    NOT NULL,   -- the queue, for jobs
    count  BIGINT  NOT NULL,
    PRIMARY KEY (kind, minute, node, label)
);
