-- Every scalar argument of every job, by its path in the job's JSON (`event_id`,
-- `template.path`), written with the job: the dashboard's search inside the arguments walks
-- this index instead of parsing the jobs' JSON. Values over 200 characters and array elements
-- are not indexed. Kept as long as the job causes are (housekeeping).
CREATE TABLE job_arguments (
    path       TEXT   NOT NULL,
    value      TEXT   NOT NULL,
    task_id    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (path, value, task_id)
);
CREATE INDEX job_arguments_created ON job_arguments (created_at);
