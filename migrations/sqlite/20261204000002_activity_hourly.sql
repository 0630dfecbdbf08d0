-- The per-minute counts of `activity_counts` summed per hour, written beside them: the day and
-- week charts read 24 or 168 rows per queue here instead of up to 10,080 minutes. The key is
-- the order the charts read in, and the table is clustered on it (no row lookups).
CREATE TABLE activity_hourly (
    kind  TEXT    NOT NULL,
    hour  INTEGER NOT NULL,   -- unix ms of the hour's start
    label TEXT    NOT NULL,
    node  TEXT    NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (kind, hour, label, node)
) WITHOUT ROWID;
INSERT INTO activity_hourly (kind, hour, label, node, count)
    SELECT kind, minute / 3600000 * 3600000, label, node, SUM(count) FROM activity_counts GROUP BY 1, 2, 3, 4;
