//! The scheduler: one run per tick across the cluster; the sweep that queues stranded events.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use billhook_core::{
    clock,
    jobs::{
        housekeeping::{SWEEP_AFTER, dispatch_sweep},
        scheduler::{Schedule, run_scheduler},
    },
    on_db,
};
use tokio_util::sync::CancellationToken;

use crate::{helpers::TestApp, on_both_databases, stripe_events::customer_updated};

on_both_databases!(
    each_tick_runs_once_however_many_schedulers_run,
    the_sweep_queues_events_that_were_stored_but_not_queued
);

async fn each_tick_runs_once_however_many_schedulers_run(app: TestApp) {
    let runs = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let schedulers: Vec<_> = (0..3)
        .map(|node| {
            let runs = runs.clone();
            let schedule = Schedule::new("test_every_second", "* * * * * *", move |_db| {
                let runs = runs.clone();
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            });
            tokio::spawn(run_scheduler(app.state.db.clone(), vec![schedule], format!("node-{node}"), stop.clone()))
        })
        .collect();

    let ticks = || async {
        on_db!(&app.state.db, pool => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM scheduler_ticks WHERE schedule = 'test_every_second'")
                .fetch_one(pool)
                .await
        })
        .unwrap()
    };
    app.wait_for("three ticks", Duration::from_secs(20), || async { (ticks().await >= 3).then_some(()) }).await;
    stop.cancel();
    for scheduler in schedulers {
        scheduler.await.unwrap().unwrap();
    }
    assert_eq!(runs.load(Ordering::SeqCst) as i64, ticks().await, "one run per recorded tick, not one per scheduler");
}

async fn the_sweep_queues_events_that_were_stored_but_not_queued(app: TestApp) {
    // An event written by another path (an import, a reconciliation) and never queued.
    let long_ago = clock::now_ms() - SWEEP_AFTER.as_millis() as i64 - 1000;
    let body = customer_updated("evt_stranded", "cus_stranded", 1_700_000_000);
    on_db!(&app.state.db, pool => {
        sqlx::query(
            "INSERT INTO webhook_events (id, event_type, api_version, created, livemode, object_id, payload, headers, \
             received_at, last_received_at, delivery_count, status) \
             VALUES ('evt_stranded', 'customer.updated', NULL, 1700000000, FALSE, 'cus_stranded', $1, '{}', $2, $2, 1, 'received')",
        )
        .bind(&body)
        .bind(long_ago)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
    .unwrap();

    assert_eq!(dispatch_sweep(&app.state.db).await.unwrap(), 1);
    assert_eq!(dispatch_sweep(&app.state.db).await.unwrap(), 0, "queued once");
    app.start_workers();
    app.wait_for("the stranded event processed", Duration::from_secs(30), || async {
        let status: String = on_db!(&app.state.db, pool => {
            sqlx::query_scalar("SELECT status FROM webhook_events WHERE id = 'evt_stranded'").fetch_one(pool).await
        })
        .unwrap();
        (status == "processed").then_some(())
    })
    .await;
}
