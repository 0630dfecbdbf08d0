//! One batch's write: the deliveries grouped by event, one upsert, and each delivery's outcome
//! (first of its event, or a repeat with its delivery count) - plus, in a process that runs the
//! workers too, the new events' jobs queued in the same transaction.

use std::collections::BTreeMap;

use billhook_model::EventStatus;

use super::{
    Delivery, Recorded,
    upsert::{upsert_postgres, upsert_sqlite},
};
use crate::{
    db::{Db, Tx},
    events::queue_for,
    jobs::{self, EnqueueError, ProcessEvent},
};

/// Deliveries of one event within a batch: stored once, counted `count` times.
pub(super) struct Group<'a> {
    pub(super) first: &'a Delivery,
    pub(super) last_received_at_ms: i64,
    pub(super) count: i64,
}

/// A batch write's failure (its text is what the refused deliveries are told).
#[derive(Debug, thiserror::Error)]
pub(super) enum WriteError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
}

/// Upserts a batch in one statement; returns each delivery's outcome in order, and whether the
/// batch recorded an event for the dispatchers to queue. A new event with a handler is recorded
/// `received` (its own transaction: the statement) - or, `in_place`, queued in the same
/// transaction (`queued`); one without a handler is stored `ignored`.
pub(super) async fn write_batch(
    db: &Db,
    deliveries: &[Delivery],
    in_place: bool,
) -> Result<(Vec<Recorded>, bool), WriteError> {
    // One row per event id, in id order (a fixed lock order: concurrent batches cannot deadlock).
    let mut groups: BTreeMap<&str, Group<'_>> = BTreeMap::new();
    for d in deliveries {
        groups
            .entry(d.envelope.id.as_str())
            .and_modify(|g| {
                g.count += 1;
                g.last_received_at_ms = g.last_received_at_ms.max(d.received_at_ms);
            })
            .or_insert(Group { first: d, last_received_at_ms: d.received_at_ms, count: 1 });
    }
    let rows: Vec<&Group<'_>> = groups.values().collect();
    // The status a NEW row gets; a duplicate's status is left as it is.
    let handled = if in_place { EventStatus::Queued } else { EventStatus::Received };
    let status = |g: &Group<'_>| match queue_for(&g.first.envelope.event_type) {
        Some(_) => handled,
        None => EventStatus::Ignored,
    };
    let (stored, tx) = if in_place {
        let mut tx = db.begin().await?;
        let stored = match &mut tx {
            Tx::Sqlite(tx) => upsert_sqlite(&mut **tx, &rows, status).await?,
            Tx::Postgres(tx) => upsert_postgres(&mut **tx, &rows, status).await?,
        };
        (stored, Some(tx))
    } else {
        let stored = match db {
            Db::Sqlite(sqlite) => {
                // In turn with Billhook's other writers (`db::write_turns`).
                let _turn = db.write_turn().await?;
                upsert_sqlite(sqlite.pool(), &rows, status).await?
            }
            Db::Postgres(pool) => upsert_postgres(pool, &rows, status).await?,
        };
        (stored, None)
    };
    // id -> (stored delivery count, whether this batch inserted the row). New iff the count is
    // exactly this batch's and the row is a delivery's (reconciliation stores with count 0).
    let mut recorded = false;
    let totals: BTreeMap<String, (i64, bool)> = stored
        .into_iter()
        .map(|(id, count, source, status)| {
            let new = source == "webhook" && groups.get(id.as_str()).is_some_and(|g| g.count == count);
            recorded |= new && status == EventStatus::Received;
            (id, (count, new))
        })
        .collect();
    if let Some(mut tx) = tx {
        let jobs: Vec<ProcessEvent> = groups
            .iter()
            .filter(|(id, _)| totals.get(**id).is_some_and(|(_, new)| *new))
            .filter_map(|(id, g)| ProcessEvent::for_event(id, &g.first.envelope.event_type))
            .collect();
        jobs::enqueue(&mut tx, &jobs).await?;
        tx.commit().await?;
    }
    Ok((outcomes(deliveries, &groups, &totals), recorded))
}

/// Each delivery's outcome, in order, from the stored counts after the upsert.
fn outcomes(
    deliveries: &[Delivery],
    groups: &BTreeMap<&str, Group<'_>>,
    totals: &BTreeMap<String, (i64, bool)>,
) -> Vec<Recorded> {
    let mut seen: BTreeMap<&str, i64> = BTreeMap::new();
    deliveries
        .iter()
        .map(|d| {
            let id = d.envelope.id.as_str();
            let in_batch = groups[id].count;
            let (total, new) = totals.get(id).copied().unwrap_or((in_batch, true));
            let index = seen.entry(id).or_insert(0);
            *index += 1;
            if new && *index == 1 {
                Recorded::First
            } else {
                Recorded::Duplicate { delivery_count: total - in_batch + *index }
            }
        })
        .collect()
}
