-- The queues each worker node has paused its workers of (comma-separated; NULL until the node
-- first writes it), written when that changes: the overview tells a pause every node applied
-- from one still spreading.
ALTER TABLE nodes ADD COLUMN paused_queues TEXT;
