-- PostgreSQL only (its webhook payloads are compressed with lz4 from here on); SQLite stores
-- them as they are. Kept so both trees have the same versions.
SELECT 1;
