-- Operating the cluster from the dashboard: paused queues (every worker node honours them),
-- the nodes and their heartbeats, each scheduled run's outcome and operators' "run now"
-- requests, and an index for the failure charts.
CREATE TABLE queue_pauses (
    queue     TEXT    PRIMARY KEY,
    paused_at INTEGER NOT NULL,
    paused_by TEXT    NOT NULL
);

CREATE TABLE nodes (
    name         TEXT    PRIMARY KEY,
    roles        TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    host         TEXT    NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    stopped_at   INTEGER
);
CREATE INDEX nodes_heartbeat ON nodes (heartbeat_at);

ALTER TABLE scheduler_ticks ADD COLUMN finished_at INTEGER;
ALTER TABLE scheduler_ticks ADD COLUMN error TEXT;
ALTER TABLE scheduler_ticks ADD COLUMN requested_by TEXT;
CREATE INDEX scheduler_ticks_recent ON scheduler_ticks (schedule, ran_at);

CREATE TABLE schedule_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule     TEXT    NOT NULL,
    requested_at INTEGER NOT NULL,
    requested_by TEXT    NOT NULL,
    claimed_by   TEXT,
    claimed_at   INTEGER
);
CREATE INDEX schedule_requests_open ON schedule_requests (claimed_by, schedule);

CREATE INDEX job_attempts_finished ON job_attempts (finished_at, queue);
