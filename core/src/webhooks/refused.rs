//! Refused deliveries: every delivery answered with a 4xx (no or bad signature, stale, too large,
//! unusable). Each web node notes them in memory, and every [`FLUSH_EVERY`] writes what it noted
//! for the whole cluster to see: one count per reason and minute, and a sample of the newest
//! ([`SAMPLE_PER_FLUSH`] at most). A flood of forged requests thus costs a few writes per flush
//! whatever its size - it never becomes a flood of writes. (The signed-but-unusable ones are
//! also *kept* in full, see `webhooks::keep_unusable`.)

use std::{
    collections::{BTreeMap, VecDeque},
    mem,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio_util::sync::CancellationToken;

use crate::{db::Db, on_db};

/// How often a web node writes the refusals it noted.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// The newest refusals a flush keeps in full; the others are only counted.
pub const SAMPLE_PER_FLUSH: usize = 20;
/// Samples kept across the cluster (the newest).
pub const SAMPLES_KEPT: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedDelivery {
    pub at_ms: i64,
    pub reason: &'static str,
    pub source: String,
    pub size: usize,
}

/// What this node refused since its last flush.
#[derive(Debug, Default)]
struct Noted {
    /// By (minute's start in unix ms, reason).
    counts: BTreeMap<(i64, &'static str), i64>,
    /// The newest, oldest first.
    sample: VecDeque<RefusedDelivery>,
}

/// This node's refusals not yet written.
#[derive(Debug, Clone, Default)]
pub struct RefusedDeliveries {
    noted: Arc<Mutex<Noted>>,
}

impl RefusedDeliveries {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&self, refusal: RefusedDelivery) {
        let mut noted = self.noted.lock().unwrap_or_else(PoisonError::into_inner);
        *noted.counts.entry((refusal.at_ms / 60_000 * 60_000, refusal.reason)).or_default() += 1;
        if noted.sample.len() == SAMPLE_PER_FLUSH {
            noted.sample.pop_front();
        }
        noted.sample.push_back(refusal);
    }

    fn take(&self) -> Noted {
        mem::take(&mut *self.noted.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Writes what was noted every `every` until `shutdown`, then once more.
    pub async fn flush_until(self, db: Db, node: String, every: Duration, shutdown: CancellationToken) {
        let (log, db, node) = (&self, &db, node.as_str());
        crate::periodic::every_until(every, shutdown, move |_| async move {
            if let Err(error) = log.flush(db, node).await {
                // Lost: refusals are a report, not data. The counts of the next flush stand.
                tracing::warn!(%error, "could not write the refused webhook deliveries");
            }
        })
        .await;
    }

    /// Writes what was noted since the last flush; returns how many refusals it covered.
    pub async fn flush(&self, db: &Db, node: &str) -> sqlx::Result<i64> {
        let noted = self.take();
        if noted.counts.is_empty() {
            return Ok(0);
        }
        let covered = noted.counts.values().sum();
        on_db!(db, pool => {
            let mut tx = pool.begin().await?;
            for ((minute, reason), count) in &noted.counts {
                sqlx::query(
                    "INSERT INTO webhook_refusal_counts (minute, node, reason, count) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (minute, node, reason) DO UPDATE \
                     SET count = webhook_refusal_counts.count + excluded.count",
                )
                .bind(minute)
                .bind(node)
                .bind(*reason)
                .bind(count)
                .execute(&mut *tx)
                .await?;
            }
            let mut insert = sqlx::QueryBuilder::new("INSERT INTO webhook_refusal_samples (at, node, reason, source, size) ");
            insert.push_values(&noted.sample, |mut row, r| {
                row.push_bind(r.at_ms)
                    .push_bind(node.to_owned())
                    .push_bind(r.reason)
                    .push_bind(r.source.clone())
                    .push_bind(i64::try_from(r.size).unwrap_or(i64::MAX));
            });
            insert.build().execute(&mut *tx).await?;
            tx.commit().await
        })?;
        Ok(covered)
    }
}

/// Drops refusal samples beyond the newest [`SAMPLES_KEPT`], and counts and samples older than
/// `horizon_ms` (the cleanup's).
pub async fn trim(db: &Db, horizon_ms: i64) -> sqlx::Result<()> {
    on_db!(db, pool => {
        sqlx::query("DELETE FROM webhook_refusal_counts WHERE minute < $1").bind(horizon_ms).execute(pool).await?;
        sqlx::query(
            "DELETE FROM webhook_refusal_samples WHERE at < $1 \
             OR id <= (SELECT MAX(id) FROM webhook_refusal_samples) - $2",
        )
        .bind(horizon_ms)
        .bind(SAMPLES_KEPT)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_counted_and_only_the_newest_are_sampled() {
        let log = RefusedDeliveries::new();
        for i in 0..50 {
            let at_ms = 60_000 + i * 1000;
            log.push(RefusedDelivery { at_ms, reason: "signature_mismatch", source: "127.0.0.1".into(), size: 10 });
        }
        log.push(RefusedDelivery { at_ms: 61_000, reason: "stale_timestamp", source: "::1".into(), size: 1 });
        let noted = log.take();
        assert_eq!(noted.counts[&(60_000, "signature_mismatch")], 50, "one minute");
        assert_eq!(noted.counts[&(60_000, "stale_timestamp")], 1);
        assert_eq!(noted.sample.len(), SAMPLE_PER_FLUSH);
        assert_eq!(noted.sample.back().unwrap().reason, "stale_timestamp", "the newest kept");
        assert!(log.take().counts.is_empty(), "taken once");
    }
}
