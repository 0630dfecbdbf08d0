-- Bulk actions on everything a dashboard filter matches: run by a job a chunk at a time (each
-- chunk one transaction, its progress written with it), so a million rows neither hold the
-- database nor are lost with the node that runs them: another node resumes at `cursor`.
CREATE TABLE bulk_operations (
    id TEXT PRIMARY KEY,
    -- As the audit log names it: job.retry, job.discard, webhook.process_again.
    action TEXT NOT NULL,
    -- The filter as the audit log writes it.
    filter TEXT NOT NULL,
    -- The action and its filter as JSON, for the job that runs it.
    spec TEXT NOT NULL,
    actor_id BIGINT NOT NULL,
    actor_email TEXT NOT NULL,
    -- The dry-run count when it was confirmed.
    expected BIGINT NOT NULL,
    -- Rows changed so far.
    done BIGINT NOT NULL DEFAULT 0,
    -- The last id the walk looked at.
    cursor TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX bulk_operations_started ON bulk_operations (started_at);
