-- The per-minute counts of `activity_counts` summed per hour, written beside them: the day and
-- week charts read 24 or 168 rows per queue here instead of up to 10,080 minutes.
CREATE TABLE activity_hourly (
    kind  TEXT   NOT NULL,
    hour  BIGINT NOT NULL,   -- unix ms of the hour's start
    label TEXT   NOT NULL,
    node  TEXT   NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (kind, hour, label, node)
);
INSERT INTO activity_hourly (kind, hour, label, node, count)
    SELECT kind, minute / 3600000 * 3600000, label, node, SUM(count) FROM activity_counts GROUP BY 1, 2, 3, 4;
