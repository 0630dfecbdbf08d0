//! The two migration trees (`migrations/sqlite`, `migrations/postgres`) describe one schema: after
//! `migrate`, both databases hold the same tables with the same columns. A column added to one
//! dialect only fails here, not in production on the other.

use std::collections::{BTreeMap, BTreeSet};

use billhook_core::{
    Db,
    dashboard::jobs::{JobFilter, explain_list},
    db::PoolOptions,
    jobs::{Canary, enqueue},
};

use crate::{
    helpers::{Backend, TestApp, spawn_app},
    on_both_databases,
};

on_both_databases!(
    after_a_restart_on_many_jobs_the_newest_first_list_reads_one_page_down_its_index,
    nodes_starting_together_all_set_up_the_schema,
);

/// table -> columns, lower-cased (SQLite keeps apalis' tables capitalised), Billhook's own only.
type Schema = BTreeMap<String, BTreeSet<String>>;

async fn schema_of(db: &Db) -> Schema {
    let rows: Vec<(String, String)> = match db {
        Db::Sqlite(sqlite) => sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%' \
               AND m.name <> '_apalis_migrations'",
        )
        .fetch_all(sqlite.pool())
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx_%'",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
    };
    let mut schema = Schema::new();
    for (table, column) in rows {
        schema.entry(table.to_lowercase()).or_default().insert(column.to_lowercase());
    }
    schema
}

/// The job queue's tables: apalis keeps them in schema `apalis` on PostgreSQL and beside
/// Billhook's on SQLite, with columns of its own choosing per dialect.
async fn job_queue_tables(pool: &sqlx::PgPool) -> BTreeSet<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'apalis'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|t| t.to_lowercase())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_trees_create_the_same_tables_and_columns() {
    let (sqlite, postgres) = (spawn_app(Backend::Sqlite).await, spawn_app(Backend::Postgres).await);
    let apalis = match &postgres.state.db {
        Db::Postgres(pool) => job_queue_tables(pool).await,
        Db::Sqlite(_) => unreachable!("spawned on PostgreSQL"),
    };
    assert!(apalis.contains("jobs"), "apalis' tables are found: {apalis:?}");
    let mut on_sqlite = schema_of(&sqlite.state.db).await;
    on_sqlite.retain(|table, _| !apalis.contains(table));
    let on_postgres = schema_of(&postgres.state.db).await;
    assert!(on_postgres.contains_key("webhook_events") && on_postgres.len() > 10, "{on_postgres:?}");

    let tables = |s: &Schema| s.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(tables(&on_sqlite), tables(&on_postgres), "the same tables on both databases");
    for (table, columns) in &on_postgres {
        assert_eq!(&on_sqlite[table], columns, "the columns of {table}");
    }
}

/// A cluster's nodes restarted together (a deploy) each apply the migrations and the job queue's
/// set-up at start. They used to race on PostgreSQL's catalogue: two nodes replacing the rescue
/// trigger's function at once stopped one with "tuple concurrently updated" (4 starts of 15 with
/// three nodes), and a cluster came up a node short.
async fn nodes_starting_together_all_set_up_the_schema(app: TestApp) {
    const NODES: usize = 4;
    const ROUNDS: usize = 8;
    let mut nodes = Vec::new();
    for _ in 0..NODES {
        nodes.push(Db::connect(&app.database.url, &PoolOptions::default()).await.unwrap());
    }
    for round in 1..=ROUNDS {
        let started = futures::future::join_all(nodes.iter().map(Db::migrate)).await;
        for (node, result) in started.iter().enumerate() {
            assert!(result.is_ok(), "round {round}: node {node} did not start: {:?}", result.as_ref().unwrap_err());
        }
    }
}

/// Jobs beside the one the test queued: several times what the SQLite statistics assume of a
/// small table (100,000 jobs).
const MANY_JOBS: i64 = 300_000;

/// The dashboard's newest-first job list (the statement `dashboard::jobs::list` runs with no
/// filter) must walk `billhook_jobs_run_at_id` rather than sort every job: on SQLite that rests
/// on the planner statistics written at start-up agreeing with the table's size (a size of
/// 100,000 written over a sampled million made SQLite sort all the rows: 230 ms a page). SQLite
/// gives up the index only when the written size is several times too small, which a test cannot
/// afford to show with a million jobs; so the size written is checked as well as the plan.
async fn after_a_restart_on_many_jobs_the_newest_first_list_reads_one_page_down_its_index(app: TestApp) {
    let db = &app.state.db;
    let mut tx = db.begin().await.unwrap();
    enqueue(&mut tx, &[Canary::new(std::time::Duration::ZERO)]).await.unwrap();
    tx.commit().await.unwrap();
    match db {
        Db::Sqlite(sqlite) => {
            let pool = sqlite.pool();
            sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
                 INSERT INTO Jobs (job, id, job_type, status, run_at) \
                 SELECT j.job, printf('plan%022d', n.i), j.job_type, 'Done', 1764000000 - n.i % 604800 \
                 FROM n, (SELECT job, job_type FROM Jobs LIMIT 1) j",
            )
            .bind(MANY_JOBS)
            .execute(pool)
            .await
            .unwrap();
            billhook_core::jobs::setup(db).await.unwrap(); // as a node starting again
            let written: i64 = sqlx::query_scalar(
                "SELECT CAST(stat AS INTEGER) FROM sqlite_stat1 WHERE tbl = 'Jobs' AND idx = 'sqlite_autoindex_Jobs_1'",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            assert!(written >= MANY_JOBS / 2, "the statistics give the table's size ({written}), not a guess");
        }
        Db::Postgres(pool) => {
            sqlx::query(
                "INSERT INTO apalis.jobs (job, id, job_type, status, run_at) \
                 SELECT j.job, 'plan' || lpad(g::text, 22, '0'), j.job_type, 'Done', \
                        to_timestamp(1764000000 - g % 604800) \
                 FROM generate_series(1, $1) g, (SELECT job, job_type FROM apalis.jobs LIMIT 1) j",
            )
            .bind(MANY_JOBS)
            .execute(pool)
            .await
            .unwrap();
            billhook_core::jobs::setup(db).await.unwrap();
            sqlx::query("ANALYZE apalis.jobs").execute(pool).await.unwrap();
        }
    }
    let plan = explain_list(db, &JobFilter::default(), 50).await.unwrap();
    assert!(plan.contains("billhook_jobs_run_at_id"), "the list walks the index:\n{plan}");
    assert!(!plan.contains("TEMP B-TREE") && !plan.contains("Sort"), "and sorts nothing:\n{plan}");
}

/// apalis-postgres 1.0.0's acknowledgement of a batch of finished jobs (`queries/task/handle_result.sql`).
const APALIS_ACK: &str = "WITH j AS ( \
     SELECT (value ->> 'task_id')::text AS task_id, (value ->> 'attempt')::integer AS attempt, \
            value -> 'result' AS result, value ->> 'status' AS status \
     FROM jsonb_array_elements($1::jsonb) AS value), \
   locked AS ( \
     SELECT jobs.id FROM apalis.jobs AS jobs INNER JOIN j ON j.task_id = jobs.id \
     WHERE jobs.lock_by = $2 ORDER BY jobs.id FOR UPDATE) \
   UPDATE apalis.jobs AS jobs SET status = j.status, attempts = j.attempt, last_result = j.result, done_at = NOW() \
   FROM j INNER JOIN locked ON locked.id = j.task_id WHERE jobs.id = locked.id";

/// Rows the scans of `apalis.jobs` in an `EXPLAIN (ANALYZE, FORMAT JSON)` plan read, in all.
fn job_rows_read(plan: &serde_json::Value) -> f64 {
    let own = match (plan["Relation Name"].as_str(), plan["Actual Rows"].as_f64(), plan["Actual Loops"].as_f64()) {
        (Some("jobs"), Some(rows), Some(loops)) => rows * loops,
        _ => 0.0,
    };
    own + plan["Plans"].as_array().map_or(0.0, |plans| plans.iter().map(job_rows_read).sum())
}

/// A finished job keeps the name of the worker that ran it, and apalis acknowledges a batch
/// `WHERE lock_by = $2`: with `lock_by` indexed whole (apalis' own indexes), PostgreSQL planned
/// that as a scan of every job the worker had ever run - 10-15 ms an acknowledgement at 20,000,
/// the largest cost of PostgreSQL's job throughput (docs/benchmarks.md, run 11). Billhook indexes
/// `lock_by` only for running jobs, so a batch's jobs are found by their ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_acknowledging_a_batch_reads_its_jobs_not_all_the_workers_finished_ones() {
    const FINISHED: i64 = 20_000;
    let app = spawn_app(Backend::Postgres).await;
    let db = &app.state.db;
    let mut tx = db.begin().await.unwrap();
    enqueue(&mut tx, &[Canary::new(std::time::Duration::ZERO)]).await.unwrap();
    tx.commit().await.unwrap();
    let Db::Postgres(pool) = db else { unreachable!("spawned on PostgreSQL") };
    let worker = "system.canary@test-host-1";
    sqlx::query("INSERT INTO apalis.workers (id, worker_type, storage_name) VALUES ($1, 'system.canary', 'test')")
        .bind(worker)
        .execute(pool)
        .await
        .unwrap();
    // The worker's history, and the batch of ten it is running now.
    sqlx::query(
        "INSERT INTO apalis.jobs (job, id, job_type, status, lock_by, lock_at, done_at) \
         SELECT j.job, 'ack' || lpad(g::text, 22, '0'), j.job_type, \
                CASE WHEN g <= 10 THEN 'Running' ELSE 'Done' END, $2, now(), \
                CASE WHEN g <= 10 THEN NULL ELSE now() END \
         FROM generate_series(1, $1) g, (SELECT job, job_type FROM apalis.jobs LIMIT 1) j",
    )
    .bind(FINISHED + 10)
    .bind(worker)
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE apalis.jobs").execute(pool).await.unwrap();

    let batch: Vec<serde_json::Value> = (1..=10)
        .map(
            |i| serde_json::json!({ "task_id": format!("ack{i:022}"), "attempt": 1, "result": null, "status": "Done" }),
        )
        .collect();
    let mut tx = pool.begin().await.unwrap();
    let plan: serde_json::Value =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN (ANALYZE, FORMAT JSON) {APALIS_ACK}")))
            .bind(serde_json::Value::from(batch))
            .bind(worker)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM apalis.jobs WHERE lock_by = $1 AND status = 'Done'")
        .bind(worker)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(done, FINISHED + 10, "the statement acknowledged the batch");
    let read = job_rows_read(&plan[0]["Plan"]);
    assert!(read <= 100.0, "the acknowledgement read {read} rows of apalis.jobs for a batch of 10:\n{plan:#}");
}
