-- Jobs apalis took back from a worker: from a node whose heartbeat stopped (orphan rescue), or
-- handed back by a node shutting down. Written by a trigger on apalis' table (created with the
-- job queue's schema, core/src/jobs/schema.rs), so apalis' own statements record it.
CREATE TABLE job_rescues (
    id INTEGER PRIMARY KEY,
    task_id TEXT NOT NULL,
    queue TEXT NOT NULL,
    -- The apalis worker that held it (`{queue}@{node}-{restarts}`).
    worker TEXT NOT NULL,
    -- Its state when taken back: Running or Queued (fetched, not started).
    was TEXT NOT NULL,
    -- apalis' note (heartbeat timeout or shutdown).
    reason TEXT,
    rescued_at BIGINT NOT NULL
);
CREATE INDEX job_rescues_rescued_at ON job_rescues (rescued_at);
