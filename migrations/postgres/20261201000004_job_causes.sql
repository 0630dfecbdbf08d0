-- What set each job off - a Stripe event (its processing, or a reaction to it) or a schedule -
-- written with the job, so the dashboard follows an event to every job it caused.
CREATE TABLE job_causes (
    task_id    TEXT    PRIMARY KEY,
    cause_kind TEXT    NOT NULL,
    cause_id   TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX job_causes_cause ON job_causes (cause_kind, cause_id);
CREATE INDEX job_causes_created ON job_causes (created_at);
