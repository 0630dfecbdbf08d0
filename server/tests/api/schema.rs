//! The two migration trees (`migrations/sqlite`, `migrations/postgres`) describe one schema: after
//! `migrate`, both databases hold the same tables with the same columns. A column added to one
//! dialect only fails here, not in production on the other.

use std::collections::{BTreeMap, BTreeSet};

use billhook_core::{
    Db,
    dashboard::jobs::{JobFilter, explain_list},
    jobs::{Canary, enqueue},
};

use crate::{
    helpers::{Backend, TestApp, spawn_app},
    on_both_databases,
};

on_both_databases!(after_a_restart_on_many_jobs_the_newest_first_list_reads_one_page_down_its_index);

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
