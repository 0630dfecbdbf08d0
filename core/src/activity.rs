//! What the cluster did, per minute: jobs finished and attempts failed per queue, webhook events
//! received and deliveries repeated. The node that does the work counts it in memory and writes
//! its counts every [`FLUSH_EVERY`] as one row per (minute, node, kind, label) - no write on the
//! job's or the delivery's own path, and no row that two nodes update. The dashboard's charts
//! sum these rows, so a week of a busy cluster is read from a few thousand rows, not from a
//! million jobs. A node that dies loses at most its last few seconds of counts.

use std::{
    collections::BTreeMap,
    mem,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio_util::sync::CancellationToken;

use crate::{clock, db::Db, on_db, on_tx};

/// How often a node writes its counts.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Activity {
    /// A job that finished (its label: the queue).
    JobDone,
    /// An attempt that failed (its label: the queue).
    JobFailed,
    /// A webhook event stored for the first time.
    WebhookReceived,
    /// A delivery of an event already stored.
    WebhookRepeated,
}

impl Activity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JobDone => "job_done",
            Self::JobFailed => "job_failed",
            Self::WebhookReceived => "webhook_received",
            Self::WebhookRepeated => "webhook_repeated",
        }
    }
}

/// Counts by (minute's start in unix ms, what, label).
type Counts = BTreeMap<(i64, Activity, &'static str), i64>;

/// This node's counts not yet written.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    counts: Arc<Mutex<Counts>>,
}

impl Tally {
    /// Counts `n` of `activity` (labelled, e.g. with a queue) now.
    pub fn add(&self, activity: Activity, label: &'static str, n: i64) {
        if n == 0 {
            return;
        }
        let minute = clock::now_ms() / 60_000 * 60_000;
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner).entry((minute, activity, label)).or_default() += n;
    }

    /// Writes the counts every `every` until `shutdown`, then once more.
    pub async fn flush_until(self, db: Db, node: String, every: Duration, shutdown: CancellationToken) {
        let (tally, db, node) = (&self, &db, node.as_str());
        crate::periodic::every_until(every, shutdown, move |_| async move {
            if let Err(error) = tally.flush(db, node).await {
                tracing::warn!(%error, "could not write this node's activity counts");
            }
        })
        .await;
    }

    /// Writes the counts taken since the last flush (on failure they are put back, to be tried
    /// with the next flush).
    pub async fn flush(&self, db: &Db, node: &str) -> sqlx::Result<()> {
        let counts = mem::take(&mut *self.counts.lock().unwrap_or_else(PoisonError::into_inner));
        if counts.is_empty() {
            return Ok(());
        }
        let written = write(db, node, &counts).await;
        if written.is_err() {
            let mut pending = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
            for (key, n) in counts {
                *pending.entry(key).or_default() += n;
            }
        }
        written
    }
}

/// An hour, in unix ms: the buckets of `activity_hourly`.
const HOUR_MS: i64 = 3_600_000;

/// Adds `counts` to this node's rows per minute and per hour, in one transaction.
async fn write(db: &Db, node: &str, counts: &Counts) -> sqlx::Result<()> {
    let mut hourly = Counts::new();
    for ((minute, activity, label), n) in counts {
        *hourly.entry((minute / HOUR_MS * HOUR_MS, *activity, *label)).or_default() += n;
    }
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => {
        upsert("activity_counts", "minute", node, counts).build().execute(&mut *conn).await?;
        upsert("activity_hourly", "hour", node, &hourly).build().execute(&mut *conn).await?;
        Ok::<_, sqlx::Error>(())
    })?;
    tx.commit().await
}

/// `counts` added to `table`'s rows of `node`, its time column being `at`.
fn upsert<DB: sqlx::Database>(table: &str, at: &str, node: &str, counts: &Counts) -> sqlx::QueryBuilder<DB>
where
    i64: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'static str: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut insert = sqlx::QueryBuilder::new(format!("INSERT INTO {table} ({at}, node, kind, label, count) "));
    insert.push_values(counts, |mut row, ((time, activity, label), n)| {
        row.push_bind(*time).push_bind(node.to_owned()).push_bind(activity.as_str()).push_bind(*label).push_bind(*n);
    });
    insert.push(format!(" ON CONFLICT (kind, {at}, label, node) DO UPDATE SET count = {table}.count + excluded.count"));
    insert
}

/// The counts of `activity` per label and bucket since `since_ms` (`bucket_ms` long), summed
/// over the nodes: `(label, bucket index, count)`. Buckets of whole hours that start on the hour
/// are read from the hourly rows.
pub async fn per_bucket(
    db: &Db,
    activity: Activity,
    since_ms: i64,
    bucket_ms: i64,
) -> sqlx::Result<Vec<(String, i64, i64)>> {
    let hourly = bucket_ms % HOUR_MS == 0 && since_ms % HOUR_MS == 0;
    let sql = if hourly {
        "SELECT label, (hour - $2) / $3, CAST(SUM(count) AS BIGINT) FROM activity_hourly \
         WHERE kind = $1 AND hour >= $2 GROUP BY 1, 2"
    } else {
        "SELECT label, (minute - $2) / $3, CAST(SUM(count) AS BIGINT) FROM activity_counts \
         WHERE kind = $1 AND minute >= $2 GROUP BY 1, 2"
    };
    on_db!(db, pool => {
        sqlx::query_as(sql).bind(activity.as_str()).bind(since_ms).bind(bucket_ms).fetch_all(pool).await
    })
}

/// Deletes the rows per minute older than `minutes_since` (unix ms) and per hour older than
/// `hours_since`.
pub async fn trim(db: &Db, minutes_since: i64, hours_since: i64) -> sqlx::Result<()> {
    on_db!(db, pool => {
        sqlx::query("DELETE FROM activity_counts WHERE minute < $1").bind(minutes_since).execute(pool).await?;
        sqlx::query("DELETE FROM activity_hourly WHERE hour < $1").bind(hours_since).execute(pool).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::{Activity, Tally};

    #[test]
    fn counts_add_up_per_minute_and_label() {
        let tally = Tally::default();
        tally.add(Activity::JobDone, "email", 2);
        tally.add(Activity::JobDone, "email", 3);
        tally.add(Activity::JobFailed, "email", 1);
        tally.add(Activity::JobDone, "exports", 0);
        let counts = tally.counts.lock().unwrap();
        assert_eq!(counts.len(), 2);
        assert_eq!(counts.values().sum::<i64>(), 6);
    }
}
