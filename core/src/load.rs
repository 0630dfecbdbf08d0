//! `billhook seed-load`: fills a database with what a busy Billhook holds after weeks, so the
//! dashboard can be measured at scale - jobs of every queue in realistic states (most done,
//! some failed with their attempts recorded, some dead, discarded, waiting or running) spread
//! over the last week, each event job with its cause; and stored webhook events of the usual
//! types in every status spread over two weeks. Jobs go through [`jobs::enqueue`] (apalis'
//! own insert), then take their state in bulk; events are inserted as the inbox writes them.

use billhook_model::EventStatus;
use serde_json::json;

use crate::{
    clock,
    db::{Db, Tx},
    email::Template,
    jobs::{self, Canary, ProcessEvent, SendEmail},
    on_db, on_tx,
};

/// Rows written per transaction.
const BATCH: usize = 2_000;

/// The event types a Billhook account receives most, with their weight out of 100.
const EVENT_TYPES: [(&str, u64); 8] = [
    ("invoice.paid", 20),
    ("invoice.created", 15),
    ("invoice.finalized", 15),
    ("customer.subscription.updated", 15),
    ("payment_intent.succeeded", 15),
    ("customer.updated", 10),
    ("setup_intent.succeeded", 5),
    ("product.updated", 5),
];

/// A cheap, deterministic spread of `n` into `0..modulo` (the same seed gives the same data).
fn spread(n: u64, salt: u64, modulo: u64) -> u64 {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    (x ^ (x >> 29)) % modulo.max(1)
}

fn event_type(n: u64) -> &'static str {
    let mut pick = spread(n, 1, 100);
    for (kind, weight) in EVENT_TYPES {
        if pick < weight {
            return kind;
        }
        pick -= weight;
    }
    EVENT_TYPES[0].0
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub jobs: u64,
    pub events: u64,
}

/// Writes `jobs` jobs and `events` webhook events (ids `evt_load_*`), calling `progress` after
/// each batch with what is written so far.
pub async fn seed(db: &Db, jobs: u64, events: u64, progress: impl Fn(Seeded)) -> anyhow::Result<Seeded> {
    let now_ms = clock::now_ms();
    let mut done = Seeded { jobs: 0, events: 0 };
    while done.events < events {
        let batch = (events - done.events).min(BATCH as u64);
        let mut tx = db.begin().await?;
        insert_events(&mut tx, done.events, batch, now_ms).await?;
        tx.commit().await?;
        done.events += batch;
        progress(done);
    }
    while done.jobs < jobs {
        let batch = (jobs - done.jobs).min(BATCH as u64);
        let mut tx = db.begin().await?;
        enqueue_jobs(&mut tx, done.jobs, batch).await?;
        tx.commit().await?;
        done.jobs += batch;
        progress(done);
    }
    settle_jobs(db, now_ms).await?;
    // Statistics for the planner, and (PostgreSQL) the visibility map that lets a count read
    // only the index: what a database that has lived for weeks has.
    match db {
        Db::Sqlite(sqlite) => {
            let pool = sqlite.pool();
            sqlx::query("ANALYZE").execute(pool).await?;
            // Billhook checkpoints the WAL itself; a gigabyte of it left over would slow every read.
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(pool).await?;
        }
        Db::Postgres(pool) => {
            for table in [
                "apalis.jobs",
                "webhook_events",
                "job_attempts",
                "job_causes",
                "job_arguments",
                "activity_counts",
                "activity_hourly",
            ] {
                sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM ANALYZE {table}"))).execute(pool).await?;
            }
        }
    }
    Ok(done)
}

async fn insert_events(tx: &mut Tx, first: u64, count: u64, now_ms: i64) -> anyhow::Result<()> {
    const TWO_WEEKS_MS: u64 = 14 * 86_400_000;
    let rows: Vec<_> = (first..first + count)
        .map(|n| {
            let kind = event_type(n);
            let received_at = now_ms - i64::try_from(spread(n, 2, TWO_WEEKS_MS)).unwrap_or_default();
            let object = format!("{}_load_{}", if kind.starts_with("invoice") { "in" } else { "cus" }, n % 50_000);
            let status = match (kind, spread(n, 3, 1000)) {
                ("product.updated", _) => EventStatus::Ignored,
                (_, 0..=9) => EventStatus::Failed,
                (_, 10..=14) => EventStatus::Queued,
                _ => EventStatus::Processed,
            };
            let id = format!("evt_load_{n:08}");
            let payload = json!({
                "id": id, "object": "event", "api_version": "2026-09-30.clover", "created": received_at / 1000,
                "livemode": false, "pending_webhooks": 1, "type": kind,
                "data": { "object": { "id": object, "object": kind.split('.').next() } },
            })
            .to_string();
            let deliveries = if spread(n, 4, 50) == 0 { 2 } else { 1 };
            (id, kind, received_at, object, payload, status, deliveries)
        })
        .collect();
    on_tx!(tx, conn => {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO webhook_events (id, event_type, api_version, created, livemode, object_id, payload, \
             headers, received_at, last_received_at, delivery_count, status, status_changed_at, processed_count, error) ",
        );
        insert.push_values(&rows, |mut row, (id, kind, at, object, payload, status, deliveries)| {
            row.push_bind(id.clone())
                .push_bind(*kind)
                .push_bind("2026-09-30.clover")
                .push_bind(at / 1000)
                .push_bind(false)
                .push_bind(object.clone())
                .push_bind(payload.clone())
                .push_bind(r#"{"content-type":"application/json; charset=utf-8","user-agent":"Stripe/1.0 (+https://stripe.com/docs/webhooks)"}"#)
                .push_bind(*at)
                .push_bind(*at)
                .push_bind(*deliveries)
                .push_bind(status.as_str())
                .push_bind(*at + 40)
                .push_bind(i64::from(*status == EventStatus::Processed))
                .push_bind((*status == EventStatus::Failed).then_some("the handler failed: database is locked"));
        });
        insert.build().execute(&mut *conn).await.map(|_| ())
    })?;
    Ok(())
}

async fn enqueue_jobs(tx: &mut Tx, first: u64, count: u64) -> anyhow::Result<()> {
    let mut events = Vec::new();
    let mut mails = Vec::new();
    let mut canaries = Vec::new();
    for n in first..first + count {
        match spread(n, 5, 10) {
            0..=6 => {
                events.push(ProcessEvent { event_id: format!("evt_load_{n:08}"), event_type: event_type(n).into() })
            }
            7 | 8 => mails.push(SendEmail::new(&format!("customer{}@example.com", n % 50_000), Template::Welcome)),
            _ => canaries.push(Canary::new(std::time::Duration::ZERO)),
        }
    }
    // product.* has no handler: its events are ignored, never queued.
    events.retain(|e| !e.event_type.starts_with("product."));
    jobs::enqueue(tx, &events).await?;
    jobs::enqueue(tx, &mails).await?;
    jobs::enqueue(tx, &canaries).await?;
    Ok(())
}

/// apalis' record of a failed attempt, as the seeded failures show it.
const FAILED_RESULT: &str = r#"{"Err":"the SMTP server refused: 451 try again later"}"#;

/// Gives the queued jobs their states and times in bulk: 90 % done, 3 % failed with attempts
/// left, 1 % dead, 1 % discarded, 4 % waiting, 1 % running; run over the last week.
async fn settle_jobs(db: &Db, now_ms: i64) -> anyhow::Result<()> {
    let now = now_ms / 1000;
    let week = 7 * 86_400;
    on_db!(db, pool => {
        let postgres = matches!(db, Db::Postgres(_));
        let table = if postgres { "apalis.jobs" } else { "Jobs" };
        // A stable pseudo-random number per job, from its id (a ULID: the tail is random).
        let pick = if postgres { "abs(hashtext(id)::bigint) % 100" } else { "abs(unicode(substr(id, 26, 1)) * 31 + unicode(substr(id, 25, 1))) % 100" };
        let offset = if postgres { "abs(hashtext(id || 'at')::bigint) % $2" } else { "abs(unicode(substr(id, 24, 1)) * 961 + unicode(substr(id, 23, 1)) * 31 + unicode(substr(id, 22, 1))) * 997 % $2" };
        let time = |seconds: &str| if postgres { format!("to_timestamp({seconds})") } else { seconds.to_owned() };
        let run_at = format!("$1 - {offset}");
        let sql = format!(
            "UPDATE {table} SET \
               run_at = {run}, \
               status = CASE WHEN {pick} < 90 THEN 'Done' WHEN {pick} < 93 THEN 'Failed' WHEN {pick} < 94 THEN 'Killed' \
                             WHEN {pick} < 95 THEN 'Killed' WHEN {pick} < 99 THEN 'Pending' ELSE 'Running' END, \
               attempts = CASE WHEN {pick} < 90 THEN 1 WHEN {pick} < 93 THEN 2 WHEN {pick} < 94 THEN max_attempts ELSE 0 END, \
               done_at = CASE WHEN {pick} < 95 THEN {done} ELSE NULL END, \
               last_result = CASE WHEN {pick} >= 90 AND {pick} < 94 THEN {error} ELSE NULL END",
            run = time(&run_at),
            error = if postgres { format!("'{FAILED_RESULT}'::jsonb") } else { format!("'{FAILED_RESULT}'") },
            done = time(&format!("$1 - {offset} + 2")),
        );
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).bind(week).execute(pool).await?;
        // Every failed attempt recorded, as the runner records it.
        let attempts = format!(
            "INSERT INTO job_attempts (task_id, queue, attempt, worker, started_at, finished_at, error, retry_at) \
             SELECT id, job_type, 1, 'load@seed-0', {at} * 1000, {at} * 1000 + 35, \
                    'the SMTP server refused: 451 try again later', CASE WHEN status = 'Failed' THEN {at} * 1000 + 60000 END \
             FROM {table} WHERE status IN ('Failed', 'Killed') AND attempts > 0",
            at = if postgres { "EXTRACT(EPOCH FROM run_at)::bigint" } else { "run_at" },
        );
        sqlx::query(sqlx::AssertSqlSafe(attempts)).execute(pool).await?;
        // The per-minute counts the nodes would have written for all this (see `activity`).
        let minute_of_done = if postgres { "EXTRACT(EPOCH FROM done_at)::bigint / 60 * 60000" } else { "done_at / 60 * 60000" };
        let counts = [
            format!(
                "INSERT INTO activity_counts (kind, minute, node, label, count) \
                 SELECT 'job_done', {minute_of_done}, 'seed-load', job_type, COUNT(*) FROM {table} \
                 WHERE status = 'Done' GROUP BY 2, 4"
            ),
            "INSERT INTO activity_counts (kind, minute, node, label, count) \
             SELECT 'job_failed', finished_at / 60000 * 60000, 'seed-load', queue, COUNT(*) FROM job_attempts \
             WHERE worker = 'load@seed-0' GROUP BY 2, 4"
                .to_owned(),
            "INSERT INTO activity_counts (kind, minute, node, label, count) \
             SELECT 'webhook_received', received_at / 60000 * 60000, 'seed-load', '', COUNT(*) FROM webhook_events \
             WHERE id LIKE 'evt_load_%' GROUP BY 2"
                .to_owned(),
            "INSERT INTO activity_counts (kind, minute, node, label, count) \
             SELECT 'webhook_repeated', received_at / 60000 * 60000, 'seed-load', '', CAST(SUM(delivery_count - 1) AS BIGINT) \
             FROM webhook_events WHERE id LIKE 'evt_load_%' AND delivery_count > 1 GROUP BY 2"
                .to_owned(),
        ];
        for statement in counts {
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(pool).await?;
        }
        sqlx::query(
            "INSERT INTO activity_hourly (kind, hour, label, node, count) \
             SELECT kind, minute / 3600000 * 3600000, label, node, SUM(count) FROM activity_counts \
             WHERE node = 'seed-load' GROUP BY 1, 2, 3, 4",
        )
        .execute(pool)
        .await?;
        anyhow::Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{EVENT_TYPES, event_type, spread};

    #[test]
    fn the_spread_is_stable_and_covers_its_range() {
        assert_eq!(spread(7, 1, 100), spread(7, 1, 100));
        let picks: std::collections::BTreeSet<u64> = (0..10_000).map(|n| spread(n, 1, 100)).collect();
        assert_eq!(picks.len(), 100);
        assert_eq!(EVENT_TYPES.iter().map(|(_, w)| w).sum::<u64>(), 100);
        let invoices = (0..10_000).filter(|n| event_type(*n) == "invoice.paid").count();
        assert!((1_500..2_500).contains(&invoices), "about 20 %: {invoices}");
    }
}
