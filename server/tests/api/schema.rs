//! The two migration trees (`migrations/sqlite`, `migrations/postgres`) describe one schema: after
//! `migrate`, both databases hold the same tables with the same columns. A column added to one
//! dialect only fails here, not in production on the other.

use std::collections::{BTreeMap, BTreeSet};

use billhook_core::Db;

use crate::helpers::{Backend, spawn_app};

/// table -> columns, lower-cased (SQLite keeps apalis' tables capitalised), Billhook's own only.
type Schema = BTreeMap<String, BTreeSet<String>>;

async fn schema_of(db: &Db) -> Schema {
    let rows: Vec<(String, String)> = match db {
        Db::Sqlite(pool) => sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx_%' \
               AND m.name <> '_apalis_migrations'",
        )
        .fetch_all(pool)
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
