-- What the cluster did per minute (jobs finished and failed per queue, webhook events received
-- and repeated), written by each node every few seconds from its counts in memory; the
-- dashboard's charts sum these rows instead of counting a million jobs.
CREATE TABLE activity_counts (
    kind   TEXT    NOT NULL,
    minute INTEGER NOT NULL,   -- unix ms of the minute's start
    node   TEXT    NOT NULL,
    label  TEXT    NOT NULL,   -- the queue, for jobs
    count  INTEGER NOT NULL,
    PRIMARY KEY (kind, minute, node, label)
);
