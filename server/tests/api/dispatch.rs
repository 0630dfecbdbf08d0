//! The dispatcher: the web role only records deliveries; worker nodes' dispatchers queue each
//! recorded event exactly once - however many race, and whenever one is cut off. A node that
//! runs its workers too queues in the storing transaction instead.

use std::{collections::BTreeMap, time::Duration};

use billhook_core::{
    jobs::dispatch::{BATCH, queue_received},
    on_db,
};
use futures::future::join_all;
use rand::Rng;

use crate::{helpers::TestApp, on_both_databases, stripe_events::customer_updated, webhooks::deliver_signed};

on_both_databases!(
    the_web_role_records_and_racing_dispatchers_queue_each_event_once,
    a_dispatch_cut_off_at_any_point_leaves_its_events_for_the_next,
    events_recorded_while_no_worker_ran_are_processed_when_one_starts,
    a_node_that_runs_its_workers_queues_each_event_as_it_stores_it,
);

const EVENTS: usize = 40;

/// Delivers `EVENTS` distinct customer events over HTTP, a few at a time; returns their ids.
async fn record_events(app: &TestApp, prefix: &str) -> Vec<String> {
    let ids: Vec<String> = (0..EVENTS).map(|i| format!("evt_{prefix}_{i:03}")).collect();
    for chunk in ids.chunks(8) {
        join_all(chunk.iter().map(|id| {
            let body = customer_updated(id, &format!("cus_{id}"), 1_700_000_000);
            async move { deliver_signed(app, &body).await }
        }))
        .await;
    }
    ids
}

/// Each stored event's status.
async fn statuses(app: &TestApp) -> BTreeMap<String, String> {
    let rows: Vec<(String, String)> = on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT id, status FROM webhook_events").fetch_all(pool).await
    })
    .unwrap();
    rows.into_iter().collect()
}

/// How many `process_event` jobs were queued for each event (an event's processing records it as
/// the cause).
async fn jobs_per_event(app: &TestApp) -> BTreeMap<String, i64> {
    let rows: Vec<(String, i64)> = on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT cause_id, COUNT(*) FROM job_causes WHERE cause_kind = 'event' GROUP BY cause_id")
            .fetch_all(pool)
            .await
    })
    .unwrap();
    rows.into_iter().collect()
}

fn each<T: Clone>(ids: &[String], value: T) -> BTreeMap<String, T> {
    ids.iter().map(|id| (id.clone(), value.clone())).collect()
}

async fn the_web_role_records_and_racing_dispatchers_queue_each_event_once(app: TestApp) {
    let ids = record_events(&app, "race").await;
    assert_eq!(statuses(&app).await, each(&ids, "received".to_owned()), "recorded, not yet queued");
    assert!(jobs_per_event(&app).await.is_empty(), "the web role queues nothing itself");

    // Four dispatchers, each taking 3 events a pass, until none is left.
    let passes = (0..4).map(|_| {
        let db = app.state.db.clone();
        tokio::spawn(async move {
            let mut taken = 0;
            loop {
                match queue_received(&db, i64::MAX, 3).await.unwrap() {
                    0 => return taken,
                    n => taken += n,
                }
            }
        })
    });
    let taken: usize = join_all(passes).await.into_iter().map(Result::unwrap).sum();
    assert_eq!(taken, EVENTS, "every event taken by exactly one pass");
    assert_eq!(statuses(&app).await, each(&ids, "queued".to_owned()));
    assert_eq!(jobs_per_event(&app).await, each(&ids, 1), "one job per event");
    assert_eq!(queue_received(&app.state.db, i64::MAX, BATCH).await.unwrap(), 0);
}

async fn a_dispatch_cut_off_at_any_point_leaves_its_events_for_the_next(app: TestApp) {
    let ids = record_events(&app, "cut").await;
    // Passes given up at random moments: waiting for the transaction, mid-claim, mid-enqueue,
    // during the commit. Whatever each had done either committed whole or vanished.
    for _ in 0..60 {
        let cut_off = Duration::from_micros(rand::thread_rng().gen_range(0..4000));
        let _ = tokio::time::timeout(cut_off, queue_received(&app.state.db, i64::MAX, 2)).await;
    }
    let before = jobs_per_event(&app).await;
    assert!(before.values().all(|&jobs| jobs == 1), "no event queued twice by the cut-off passes: {before:?}");
    let statuses_before = statuses(&app).await;
    for (id, jobs) in &before {
        assert_eq!(statuses_before[id], "queued", "{id} has its job ({jobs}) and says so");
    }
    while queue_received(&app.state.db, i64::MAX, BATCH).await.unwrap() > 0 {}
    assert_eq!(statuses(&app).await, each(&ids, "queued".to_owned()));
    assert_eq!(jobs_per_event(&app).await, each(&ids, 1), "the rest queued by the next pass, once");
}

async fn events_recorded_while_no_worker_ran_are_processed_when_one_starts(app: TestApp) {
    let ids = record_events(&app, "later").await;
    assert_eq!(statuses(&app).await, each(&ids, "received".to_owned()));
    app.start_workers();
    app.wait_for("every recorded event processed", Duration::from_secs(60), || async {
        let statuses = statuses(&app).await;
        statuses.values().all(|s| s == "processed").then_some(())
    })
    .await;
    assert_eq!(jobs_per_event(&app).await, each(&ids, 1));
}

async fn a_node_that_runs_its_workers_queues_each_event_as_it_stores_it(app: TestApp) {
    // What `serve --role all` does.
    app.state.webhooks.inbox.queue_in_place();
    let ids = record_events(&app, "in_place").await;
    assert_eq!(statuses(&app).await, each(&ids, "queued".to_owned()), "queued with the insert");
    assert_eq!(jobs_per_event(&app).await, each(&ids, 1));
    assert_eq!(queue_received(&app.state.db, i64::MAX, BATCH).await.unwrap(), 0, "nothing left to dispatch");
    // Repeats queue nothing more.
    record_events(&app, "in_place").await;
    assert_eq!(jobs_per_event(&app).await, each(&ids, 1));
}
