//! The inbox's one statement per batch: a multi-row upsert of the batch's events, returning what
//! each row holds afterwards (a new event, or an earlier one whose delivery count grew).

use std::sync::LazyLock;

use billhook_model::EventStatus;

use super::batch::Group;

/// A stored row as the upsert returns it: id, delivery count, source, status.
pub(super) type Stored = (String, i64, String, EventStatus);

const INSERT: &str = "INSERT INTO webhook_events (id, event_type, api_version, created, livemode, object_id, \
     payload, headers, received_at, last_received_at, delivery_count, status) ";
const UPSERT: &str = " ON CONFLICT (id) DO UPDATE SET \
     delivery_count = webhook_events.delivery_count + excluded.delivery_count, \
     last_received_at = excluded.last_received_at \
     RETURNING id, delivery_count, source, status";

/// The upsert on SQLite: a multi-row `VALUES` list.
pub(super) async fn upsert_sqlite<'c>(
    on: impl sqlx::SqliteExecutor<'c>,
    rows: &[&Group<'_>],
    status: impl Fn(&Group<'_>) -> EventStatus,
) -> sqlx::Result<Vec<Stored>> {
    let mut qb = sqlx::QueryBuilder::new(INSERT);
    qb.push_values(rows.iter(), |mut row, g| {
        let e = &g.first.envelope;
        row.push_bind(e.id.as_str())
            .push_bind(e.event_type.as_str())
            .push_bind(e.api_version.as_deref())
            .push_bind(e.created)
            .push_bind(e.livemode)
            .push_bind(e.object_id.as_deref())
            .push_bind(g.first.payload.as_str())
            .push_bind(g.first.headers.as_str())
            .push_bind(g.first.received_at_ms)
            .push_bind(g.last_received_at_ms)
            .push_bind(g.count)
            .push_bind(status(g).as_str());
    });
    qb.push(UPSERT);
    qb.build_query_as().fetch_all(on).await
}

/// The upsert on PostgreSQL: the columns as arrays - one statement text whatever the batch's
/// size, parsed and planned once per connection (a `VALUES` list of each new length is planned
/// anew).
pub(super) async fn upsert_postgres<'c>(
    on: impl sqlx::PgExecutor<'c>,
    rows: &[&Group<'_>],
    status: impl Fn(&Group<'_>) -> EventStatus,
) -> sqlx::Result<Vec<Stored>> {
    static STATEMENT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{INSERT} SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::bool[], \
             $6::text[], $7::text[], $8::text[], $9::int8[], $10::int8[], $11::int8[], $12::text[]) {UPSERT}"
        )
    });
    macro_rules! column {
        ($g:ident => $value:expr) => {
            rows.iter().map(|$g| $value).collect::<Vec<_>>()
        };
    }
    sqlx::query_as(STATEMENT.as_str())
        .bind(column!(g => g.first.envelope.id.as_str()))
        .bind(column!(g => g.first.envelope.event_type.as_str()))
        .bind(column!(g => g.first.envelope.api_version.as_deref()))
        .bind(column!(g => g.first.envelope.created))
        .bind(column!(g => g.first.envelope.livemode))
        .bind(column!(g => g.first.envelope.object_id.as_deref()))
        .bind(column!(g => g.first.payload.as_str()))
        .bind(column!(g => g.first.headers.as_str()))
        .bind(column!(g => g.first.received_at_ms))
        .bind(column!(g => g.last_received_at_ms))
        .bind(column!(g => g.count))
        .bind(column!(g => status(g).as_str()))
        .fetch_all(on)
        .await
}
