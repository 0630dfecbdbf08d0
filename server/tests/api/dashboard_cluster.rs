//! The dashboard's view of the cluster through its server functions: the overview (queues by
//! state, the charts' counts, webhooks, nodes alive), pausing and resuming a queue (honoured by
//! the workers), the schedules with "run now" (run once by a scheduler), and the nodes with their
//! heartbeats and running jobs. Viewers look; only admins act; every action is audited.

use std::time::Duration;

use billhook_core::{
    accounts::Role,
    email::Template,
    jobs::{Canary, SendEmail, enqueue, housekeeping::schedules, node_name, scheduler::run_scheduler},
    nodes::{NodeInfo, heartbeat_until},
};
use reqwest::StatusCode;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::{
    billing::{call, ok},
    dashboard::as_operator,
    helpers::{ADMIN, TestApp, client, wait_or_explain},
    on_both_databases,
    stripe_events::{event, sample},
    webhooks::{deliver, deliver_signed},
};

on_both_databases!(
    a_paused_queue_waits_on_every_worker_until_an_admin_resumes_it,
    pausing_workers_mid_fetch_keeps_no_writer_waiting,
    a_schedule_runs_once_when_an_admin_asks_and_the_page_shows_how_it_ended,
    nodes_show_their_heartbeat_state_and_the_jobs_they_run,
    an_event_page_shows_every_job_it_set_off_and_each_job_its_cause,
    refused_deliveries_are_counted_for_the_cluster_in_bounded_writes,
);

async fn as_admin(app: &mut TestApp) {
    app.client = client();
    assert_eq!(app.log_in(ADMIN.0, ADMIN.1).await.status(), StatusCode::OK);
}

fn queue<'a>(overview: &'a Value, name: &str) -> &'a Value {
    overview["queues"].as_array().unwrap().iter().find(|q| q["queue"] == name).expect("the queue is listed")
}

fn total(series: &Value) -> i64 {
    series.as_array().unwrap().iter().map(|n| n.as_i64().unwrap()).sum()
}

/// Waits until the overview says the one worker node has `paused_on` (1 or 0) the email queue.
async fn spread(app: &TestApp, what: &str, paused_on: i64) {
    app.wait_for(what, Duration::from_secs(20), || async {
        let overview = ok(app, "admin_overview", &[]).await;
        (overview["worker_nodes"] == 1 && queue(&overview, "email")["paused_on"] == paused_on).then_some(())
    })
    .await;
}

async fn queue_mail(app: &TestApp, to: &str) {
    let mut tx = app.state.db.begin().await.unwrap();
    enqueue(&mut tx, &[SendEmail::new(to, Template::Welcome)]).await.unwrap();
    tx.commit().await.unwrap();
}

/// Pauses (`paused`) or resumes every queue, and waits until the worker node has applied it.
async fn pause_every_queue(app: &TestApp, paused: bool) {
    let queues: Vec<&str> = billhook_core::jobs::queues().into_iter().map(|(queue, _)| queue).collect();
    let mut tx = app.state.db.begin().await.unwrap();
    for queue in &queues {
        billhook_core::jobs::pauses::set(&mut tx, queue, paused.then_some(ADMIN.0)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let what = if paused { "every queue paused on the node" } else { "every queue resumed on the node" };
    app.wait_for(what, Duration::from_secs(20), || async {
        let noted: Option<String> = billhook_core::on_db!(&app.state.db, pool => {
            sqlx::query_scalar("SELECT COALESCE(paused_queues, '') FROM nodes WHERE name = $1")
                .bind(node_name())
                .fetch_optional(pool)
                .await
                .unwrap()
        });
        let noted = noted?;
        let all = queues.iter().all(|queue| noted.split(',').any(|q| q == *queue));
        (if paused { all } else { noted.is_empty() }).then_some(())
    })
    .await;
}

/// A worker paused while its fetch is under way finishes the fetch: its transaction (on SQLite,
/// the database's write lock) is not left open until the queue is resumed, with every other
/// writer waiting on it and giving up after 5 s. The workers fetch every 50 ms on every queue,
/// so pausing them all, again and again, lands some pauses mid-fetch.
async fn pausing_workers_mid_fetch_keeps_no_writer_waiting(app: TestApp) {
    app.start_workers();
    let beating = CancellationToken::new();
    let node = NodeInfo::this_process(&["worker"], "test");
    tokio::spawn(heartbeat_until(app.state.db.clone(), node, Duration::from_millis(500), beating.clone()));
    let _stop_beating = beating.drop_guard();
    for _ in 0..6 {
        pause_every_queue(&app, true).await;
        // Writes while every queue is paused: each takes the write lock.
        for n in 0..3 {
            queue_mail(&app, &format!("paused-{n}@example.com")).await;
        }
        pause_every_queue(&app, false).await;
    }
    app.wait_for("the mails queued while paused are sent", Duration::from_secs(30), || async {
        (app.unfinished_jobs("email").await == 0).then_some(())
    })
    .await;
}

async fn a_paused_queue_waits_on_every_worker_until_an_admin_resumes_it(mut app: TestApp) {
    let pause = [("queue", "email"), ("action", "pause")];
    let resume = [("queue", "email"), ("action", "resume")];
    app.signed_in_customer("nosy@example.com").await;
    assert_eq!(call(&app, "admin_queue_pause", &pause).await.0, StatusCode::FORBIDDEN);
    as_operator(&mut app, "watcher@example.com", Role::Viewer).await;
    assert_eq!(call(&app, "admin_queue_pause", &pause).await.0, StatusCode::FORBIDDEN);
    let overview = ok(&app, "admin_overview", &[]).await;
    assert_eq!(queue(&overview, "email")["paused"], Value::Null);
    assert_eq!(call(&app, "admin_overview", &[("window", "fortnight")]).await.0, StatusCode::BAD_REQUEST);

    as_admin(&mut app).await;
    ok(&app, "admin_queue_pause", &pause).await;
    assert_eq!(call(&app, "admin_queue_pause", &pause).await.0, StatusCode::CONFLICT, "paused already");
    let unknown = [("queue", "no.such.queue"), ("action", "pause")];
    assert_eq!(call(&app, "admin_queue_pause", &unknown).await.0, StatusCode::NOT_FOUND);
    let overview = ok(&app, "admin_overview", &[]).await;
    assert_eq!(queue(&overview, "email")["paused"][0], ADMIN.0);

    // The workers start with the queue paused: mails wait (the customer's welcome and one more),
    // while another queue's job runs.
    app.start_workers();
    // The worker node's row (as `serve` writes it), where it notes the queues it paused.
    let beating = CancellationToken::new();
    let node = NodeInfo::this_process(&["worker"], "test");
    tokio::spawn(heartbeat_until(app.state.db.clone(), node, Duration::from_millis(500), beating.clone()));
    let _stop_beating = beating.drop_guard();
    spread(&app, "the pause reaches the worker node", 1).await;
    queue_mail(&app, "waiting@example.com").await;
    let waiting = app.unfinished_jobs("email").await;
    assert_eq!(waiting, 2);
    let mut tx = app.state.db.begin().await.unwrap();
    enqueue(&mut tx, &[Canary::new(Duration::ZERO)]).await.unwrap();
    tx.commit().await.unwrap();
    app.wait_for("the canary runs", Duration::from_secs(30), || async {
        (app.unfinished_jobs("system.canary").await == 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.unfinished_jobs("email").await, waiting, "the paused queue's jobs wait");
    let overview = ok(&app, "admin_overview", &[]).await;
    assert_eq!(queue(&overview, "email")["by_state"][0], waiting, "pending: {overview}");
    assert!(queue(&overview, "email")["oldest_waiting"].is_string());
    // The chart counts the finished job once the worker node has written its counts.
    app.wait_for("the chart counts the finished canary", Duration::from_secs(20), || async {
        let overview = ok(&app, "admin_overview", &[]).await;
        (total(&queue(&overview, "system.canary")["done"]) == 1).then_some(())
    })
    .await;

    ok(&app, "admin_queue_pause", &resume).await;
    assert_eq!(call(&app, "admin_queue_pause", &resume).await.0, StatusCode::CONFLICT, "running already");
    spread(&app, "the resume reaches the worker node", 0).await;
    app.wait_for("the waiting mail is sent once the queue resumes", Duration::from_secs(30), || async {
        (app.unfinished_jobs("email").await == 0).then_some(())
    })
    .await;
    // Paused again while running: the next mail waits again.
    ok(&app, "admin_queue_pause", &pause).await;
    spread(&app, "the second pause reaches the running worker", 1).await;
    queue_mail(&app, "second@example.com").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app.unfinished_jobs("email").await, 1, "paused on a running worker too");
    ok(&app, "admin_queue_pause", &resume).await;
    wait_or_explain("the second mail is sent", Duration::from_secs(30), || async {
        if app.unfinished_jobs("email").await == 0 { Ok(()) } else { Err(app.jobs_of("email").await) }
    })
    .await;

    let audit = ok(&app, "admin_audit", &[]).await;
    let entries: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        entries,
        [("queue.resume", "email"), ("queue.pause", "email"), ("queue.resume", "email"), ("queue.pause", "email")]
    );
    // The page itself, rendered on the server: the queue table and its charts.
    let html = app.get("/admin").await.text().await.unwrap();
    assert!(html.contains("data-testid=\"queues\"") && html.contains("<svg"), "the charts are drawn on the server");
}

async fn a_schedule_runs_once_when_an_admin_asks_and_the_page_shows_how_it_ended(mut app: TestApp) {
    as_operator(&mut app, "schedule-viewer@example.com", Role::Viewer).await;
    let listed = ok(&app, "admin_schedules", &[]).await;
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["dispatch_sweep", "cleanup", "certificate_renewals", "stripe_reconcile"]);
    assert!(listed[1]["next_at"].is_i64(), "{listed}");
    assert_eq!(call(&app, "admin_schedule_run", &[("name", "cleanup")]).await.0, StatusCode::FORBIDDEN);

    as_admin(&mut app).await;
    ok(&app, "admin_schedule_run", &[("name", "cleanup")]).await;
    let (status, _) = call(&app, "admin_schedule_run", &[("name", "cleanup")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "one request waits already");
    assert_eq!(call(&app, "admin_schedule_run", &[("name", "no_such")]).await.0, StatusCode::NOT_FOUND);
    let cleanup = |list: &Value| list.as_array().unwrap()[1].clone();
    assert!(cleanup(&ok(&app, "admin_schedules", &[]).await)["requested_at"].is_i64());

    // Two schedulers: the request runs once.
    let stop = CancellationToken::new();
    for node in ["scheduler-a", "scheduler-b"] {
        let schedules = schedules(&billhook_core::jobs::housekeeping::Periodic::default());
        tokio::spawn(run_scheduler(app.state.db.clone(), schedules, node.into(), stop.clone()));
    }
    let run = app
        .wait_for("the requested run ends", Duration::from_secs(30), || async {
            let schedule = cleanup(&ok(&app, "admin_schedules", &[]).await);
            let runs = schedule["runs"].as_array().unwrap().clone();
            runs.into_iter().find(|r| r["requested_by"] == ADMIN.0 && r["took"].is_string())
        })
        .await;
    assert_eq!(run["error"], Value::Null, "{run}");
    tokio::time::sleep(billhook_core::jobs::scheduler::REQUEST_POLL * 3).await;
    stop.cancel();
    let schedule = cleanup(&ok(&app, "admin_schedules", &[]).await);
    let requested = schedule["runs"].as_array().unwrap().iter().filter(|r| r["requested_by"] == ADMIN.0).count();
    assert_eq!(requested, 1, "run once across the schedulers: {schedule}");
    assert_eq!(schedule["requested_at"], Value::Null, "the request was taken");
    let audit = ok(&app, "admin_audit", &[]).await;
    assert_eq!(audit["entries"][0]["action"], "schedule.run_now");
    assert_eq!(audit["entries"][0]["target"], "cleanup");
}

async fn nodes_show_their_heartbeat_state_and_the_jobs_they_run(mut app: TestApp) {
    let stop = CancellationToken::new();
    let this = NodeInfo::this_process(&["worker"], "9.9.9");
    let beating =
        tokio::spawn(heartbeat_until(app.state.db.clone(), this.clone(), Duration::from_millis(200), stop.clone()));
    let mut gone = NodeInfo::this_process(&["web"], "9.9.8");
    gone.name = "long-gone-node".into();
    let long_ago =
        tokio::spawn(heartbeat_until(app.state.db.clone(), gone, Duration::from_secs(3600), CancellationToken::new()));
    // The gone node beat once, an hour ago as far as the page can tell.
    app.wait_for("the gone node's one beat", Duration::from_secs(10), || async {
        let nodes = billhook_core::dashboard::nodes::list(&app.state.db).await.unwrap();
        nodes.iter().any(|n| n.info.name == "long-gone-node").then_some(())
    })
    .await;
    long_ago.abort();
    billhook_core::on_db!(&app.state.db, pool => {
        sqlx::query("UPDATE nodes SET heartbeat_at = heartbeat_at - 3600000 WHERE name = 'long-gone-node'")
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();

    app.signed_in_customer("node-curious@example.com").await;
    assert_eq!(call(&app, "admin_nodes", &[]).await.0, StatusCode::FORBIDDEN);
    as_operator(&mut app, "node-viewer@example.com", Role::Viewer).await;

    // A canary holds a worker of this node for a while.
    app.start_workers();
    let mut tx = app.state.db.begin().await.unwrap();
    enqueue(&mut tx, &[Canary::new(Duration::from_secs(4))]).await.unwrap();
    tx.commit().await.unwrap();
    let node = |list: Value, name: String| {
        list["nodes"].as_array().unwrap().iter().find(|n| n["name"] == name.as_str()).cloned()
    };
    let running = app
        .wait_for("this node runs the canary", Duration::from_secs(30), || async {
            node(ok(&app, "admin_nodes", &[]).await, node_name()).filter(|n| n["jobs_in_flight"] == 1)
        })
        .await;
    assert_eq!((running["liveness"].as_str(), running["version"].as_str()), (Some("Alive"), Some("9.9.9")));
    assert_eq!(running["roles"], "worker");
    let dead = node(ok(&app, "admin_nodes", &[]).await, "long-gone-node".into()).unwrap();
    assert_eq!(dead["liveness"], "Dead", "silent past the threshold: {dead}");
    let overview = ok(&app, "admin_overview", &[]).await;
    assert_eq!(overview["nodes_alive"], 1, "{overview}");

    stop.cancel();
    beating.await.unwrap();
    let stopped = node(ok(&app, "admin_nodes", &[]).await, node_name()).unwrap();
    assert_eq!(stopped["liveness"], "Stopped");
    assert_eq!(ok(&app, "admin_overview", &[]).await["nodes_alive"], 0);
}

async fn an_event_page_shows_every_job_it_set_off_and_each_job_its_cause(mut app: TestApp) {
    // A customer of Billhook's, and Stripe's word that their renewal was paid.
    let user =
        app.state.accounts.upsert("chain@example.com", "customer password".into(), Role::Customer).await.unwrap();
    billhook_core::on_db!(&app.state.db, pool => {
        sqlx::query("INSERT INTO billing_customers (user_id, customer_id, created_at) VALUES ($1, 'cus_chain', 0)")
            .bind(user.id)
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    let mut invoice = sample("invoice");
    invoice["id"] = "in_chain".into();
    invoice["customer"] = "cus_chain".into();
    invoice["status"] = "paid".into();
    invoice["amount_paid"] = 500.into();
    invoice["billing_reason"] = "subscription_cycle".into();
    let now = billhook_core::clock::now_ms() / 1000;
    deliver_signed(&app, &event("evt_chain", "invoice.paid", now, invoice)).await;
    app.start_workers();

    as_operator(&mut app, "chain-viewer@example.com", Role::Viewer).await;
    let jobs = app
        .wait_for("the event's jobs ran", Duration::from_secs(30), || async {
            let event = ok(&app, "admin_webhook", &[("id", "evt_chain")]).await;
            let jobs = event["jobs"].as_array().unwrap().clone();
            (jobs.len() == 2 && jobs.iter().all(|j| j["status"] == "Done")).then_some(jobs)
        })
        .await;
    let mut queues: Vec<&str> = jobs.iter().map(|j| j["queue"].as_str().unwrap()).collect();
    queues.sort_unstable();
    assert_eq!(queues, ["email", "stripe.invoices"], "its processing, then the receipt it queued");
    for job in &jobs {
        let detail = ok(&app, "admin_job", &[("id", job["id"].as_str().unwrap())]).await;
        assert_eq!(detail["cause"], serde_json::json!(["event", "evt_chain"]), "{detail}");
    }
    let page = app.get("/admin/webhooks/evt_chain").await.text().await.unwrap();
    assert!(page.contains("Jobs it caused") && page.contains("/admin/jobs/"), "the chain on the page");
}

async fn refused_deliveries_are_counted_for_the_cluster_in_bounded_writes(mut app: TestApp) {
    let now = billhook_core::clock::now_ms() / 1000;
    let body = event("evt_forged", "customer.updated", now, sample("customer"));
    let forged = format!("t={now},v1={}", "ab".repeat(32));
    for _ in 0..45 {
        assert_eq!(deliver(&app, &body, Some(&forged)).await.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(deliver(&app, &body, None).await.status(), StatusCode::BAD_REQUEST);

    app.signed_in_customer("refusal-curious@example.com").await;
    assert_eq!(call(&app, "admin_refused", &[]).await.0, StatusCode::FORBIDDEN);
    as_operator(&mut app, "refusal-viewer@example.com", Role::Viewer).await;
    // The web node writes them within its flush interval.
    let refused = app
        .wait_for("the refusals are written", Duration::from_secs(20), || async {
            let refused = ok(&app, "admin_refused", &[]).await;
            (refused["by_reason"].as_array().unwrap().len() == 2).then_some(refused)
        })
        .await;
    assert_eq!(
        refused["by_reason"],
        serde_json::json!([["signature_mismatch", 45], ["missing_signature", 1]]),
        "{refused}"
    );
    let recent = refused["recent"].as_array().unwrap();
    assert!(!recent.is_empty() && recent.len() <= 2 * billhook_core::webhooks::refused::SAMPLE_PER_FLUSH, "{refused}");
    assert!(recent.iter().all(|r| r["source"] == "127.0.0.1"), "{refused}");
    assert_eq!(ok(&app, "admin_overview", &[]).await["webhook_refusals"], 46);
}
