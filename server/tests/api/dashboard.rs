//! The operators' dashboard through its server functions: the webhooks list (filters, keyset
//! pages), one event, "process again" and the audit log - read by admins and viewers, acted on by
//! admins only, refused to customers, visitors and forged cross-site posts.

use billhook_core::{
    accounts::Role,
    jobs::dispatch::{BATCH, queue_received},
};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    billing::{call, ok},
    helpers::{ADMIN, TestApp, client},
    on_both_databases,
    stripe_events::{customer_event, event},
    webhooks::deliver_signed,
};

on_both_databases!(
    operators_list_filter_and_page_the_stored_events_and_read_one,
    process_again_is_an_admins_action_and_lands_in_the_audit_log,
    jobs_are_read_by_operators_and_retried_or_discarded_by_an_admin,
    everything_a_filter_matches_is_acted_on_after_a_dry_run,
    every_matching_event_is_processed_again_after_a_dry_run,
    a_job_that_failed_while_stripe_was_down_is_retried_by_an_admin_and_succeeds,
);

/// Signs `app` in afresh as `email` with `role`.
pub async fn as_operator(app: &mut TestApp, email: &str, role: Role) {
    app.state.accounts.upsert(email, "operator password".into(), role).await.unwrap();
    app.client = client();
    assert_eq!(app.log_in(email, "operator password").await.status(), StatusCode::OK);
}

fn ids(page: &Value) -> Vec<&str> {
    page["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect()
}

async fn operators_list_filter_and_page_the_stored_events_and_read_one(mut app: TestApp) {
    let now = billhook_core::clock::now_ms() / 1000;
    for n in 0..60 {
        deliver_signed(
            &app,
            &customer_event(&format!("evt_list_{n:02}"), &format!("cus_{}", n % 3), now, "a@example.com"),
        )
        .await;
    }
    deliver_signed(&app, &event("evt_list_plan", "plan.created", now, json!({ "id": "plan_1", "object": "plan" })))
        .await;

    // Not for customers nor visitors.
    app.signed_in_customer("curious@example.com").await;
    assert_eq!(call(&app, "admin_webhooks", &[]).await.0, StatusCode::FORBIDDEN);
    app.client = client();
    assert_eq!(call(&app, "admin_webhooks", &[]).await.0, StatusCode::UNAUTHORIZED);

    as_operator(&mut app, "viewer@example.com", Role::Viewer).await;
    let first = ok(&app, "admin_webhooks", &[]).await;
    assert_eq!(ids(&first).len(), 50, "a page");
    let cursor = first["next"].as_str().expect("a next page").to_owned();
    let second = ok(&app, "admin_webhooks", &[("before", &cursor)]).await;
    assert_eq!(ids(&second).len(), 11, "the rest");
    assert_eq!(second["next"], Value::Null);
    let mut all: Vec<&str> = ids(&first).into_iter().chain(ids(&second)).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 61, "every event once across the pages");

    let ignored = ok(&app, "admin_webhooks", &[("status", "ignored")]).await;
    assert_eq!(ids(&ignored), ["evt_list_plan"]);
    let by_type = ok(&app, "admin_webhooks", &[("event_type", "plan.created"), ("status", "")]).await;
    assert_eq!(ids(&by_type), ["evt_list_plan"]);
    let by_object = ok(&app, "admin_webhooks", &[("object_id", "cus_1")]).await;
    assert_eq!(ids(&by_object).len(), 20);
    assert!(by_object["events"].as_array().unwrap().iter().all(|e| e["object_id"] == "cus_1"));
    let by_id = ok(&app, "admin_webhooks", &[("event_id", "evt_list_07")]).await;
    assert_eq!(ids(&by_id), ["evt_list_07"]);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert_eq!(ids(&ok(&app, "admin_webhooks", &[("from", &today), ("to", &today)]).await).len(), 50);
    assert_eq!(ids(&ok(&app, "admin_webhooks", &[("to", "2020-01-01")]).await).len(), 0);
    assert_eq!(call(&app, "admin_webhooks", &[("status", "exploded")]).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(call(&app, "admin_webhooks", &[("before", "not-a-cursor")]).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(call(&app, "admin_webhooks", &[("from", "30/11/2026")]).await.0, StatusCode::BAD_REQUEST);

    let one = ok(&app, "admin_webhook", &[("id", "evt_list_07")]).await;
    assert_eq!(
        (one["event_type"].as_str(), one["queue"].as_str()),
        (Some("customer.updated"), Some("stripe.customers"))
    );
    assert!(one["payload"].as_str().unwrap().contains("\n  \"id\": \"evt_list_07\""), "indented: {one}");
    assert!(one["headers"].as_array().unwrap().iter().any(|h| h[0] == "stripe-signature"), "{one}");
    assert_eq!(call(&app, "admin_webhook", &[("id", "evt_missing")]).await.0, StatusCode::NOT_FOUND);

    // The pages themselves: the list for a viewer, 403 for a customer.
    let page = app.get("/admin/webhooks?status=ignored").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("evt_list_plan") && !html.contains("evt_list_07"), "the filter applies on the server");
}

async fn process_again_is_an_admins_action_and_lands_in_the_audit_log(mut app: TestApp) {
    let now = billhook_core::clock::now_ms() / 1000;
    deliver_signed(&app, &customer_event("evt_again", "cus_again", now, "again@example.com")).await;
    deliver_signed(&app, &event("evt_no_handler", "plan.created", now, json!({ "id": "plan_2", "object": "plan" })))
        .await;
    // As a worker node's dispatcher would (no worker runs here).
    assert_eq!(queue_received(&app.state.db, i64::MAX, BATCH).await.unwrap(), 1, "the event with a handler");

    as_operator(&mut app, "looker@example.com", Role::Viewer).await;
    assert_eq!(call(&app, "admin_process_again", &[("id", "evt_again")]).await.0, StatusCode::FORBIDDEN);
    let page = app.get("/admin/webhooks/evt_again").await.text().await.unwrap();
    assert!(page.contains("evt_again") && !page.contains("Process again"), "no button for a viewer");

    app.client = client();
    assert_eq!(app.log_in(ADMIN.0, ADMIN.1).await.status(), StatusCode::OK);
    let page = app.get("/admin/webhooks/evt_again").await.text().await.unwrap();
    assert!(page.contains("Process again"), "an admin's button");
    let forged = app
        .client
        .post(app.url("/api/admin_process_again"))
        .header(header::ORIGIN, "http://evil.example")
        .form(&[("id", "evt_again")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "a cross-site post is refused");
    assert_eq!(ok(&app, "admin_audit", &[]).await["entries"], json!([]), "nothing was done");

    ok(&app, "admin_process_again", &[("id", "evt_again")]).await;
    assert_eq!(ok(&app, "admin_webhook", &[("id", "evt_again")]).await["status"], "queued");
    assert_eq!(app.unfinished_jobs("stripe.customers").await, 2, "its first job and the new one");
    assert_eq!(call(&app, "admin_process_again", &[("id", "evt_no_handler")]).await.0, StatusCode::CONFLICT);
    assert_eq!(call(&app, "admin_process_again", &[("id", "evt_missing")]).await.0, StatusCode::NOT_FOUND);

    let audit = ok(&app, "admin_audit", &[]).await;
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "only what was done: {audit}");
    assert_eq!(
        (
            entries[0]["actor"].as_str(),
            entries[0]["action"].as_str(),
            entries[0]["target"].as_str(),
            entries[0]["rows"].as_i64()
        ),
        (Some(ADMIN.0), Some("webhook.process_again"), Some("evt_again"), Some(1))
    );

    // The job runs, and the event ends processed once more in effect (the mirror is unchanged).
    app.start_workers();
    app.wait_for("the event processed again", std::time::Duration::from_secs(30), || async {
        (ok(&app, "admin_webhook", &[("id", "evt_again")]).await["status"] == "processed").then_some(())
    })
    .await;
}

async fn jobs_are_read_by_operators_and_retried_or_discarded_by_an_admin(mut app: TestApp) {
    use billhook_core::jobs::{ProcessEvent, enqueue};

    // Two jobs whose event is nowhere: each fails for good when it runs.
    let mut tx = app.state.db.begin().await.unwrap();
    let job = |id: &str| ProcessEvent { event_id: id.into(), event_type: "customer.updated".into() };
    enqueue(&mut tx, &[job("evt_nowhere_a"), job("evt_nowhere_b")]).await.unwrap();
    tx.commit().await.unwrap();

    as_operator(&mut app, "job-viewer@example.com", Role::Viewer).await;
    let list = ok(&app, "admin_jobs", &[("queue", "stripe.customers")]).await;
    let jobs = list["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{list}");
    assert!(list["queues"].as_array().unwrap().iter().any(|q| q == "stripe.invoices"));
    let mut by_event = std::collections::HashMap::new();
    for line in jobs {
        let id = line["id"].as_str().unwrap().to_owned();
        let detail = ok(&app, "admin_job", &[("id", &id)]).await;
        let event = if detail["arguments"].as_str().unwrap().contains("evt_nowhere_a") { "a" } else { "b" };
        by_event.insert(event, id);
    }
    let (a, b) = (by_event["a"].clone(), by_event["b"].clone());
    // Found by an argument inside the job's JSON.
    let found = ok(&app, "admin_jobs", &[("arg", "event_id"), ("value", "evt_nowhere_b")]).await;
    assert_eq!(
        found["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect::<Vec<_>>(),
        [b.as_str()]
    );
    let none = ok(&app, "admin_jobs", &[("arg", "event_type"), ("value", "invoice.paid")]).await;
    assert_eq!(none["jobs"], json!([]));
    // The value's bytes are in the document, but not at that path.
    let elsewhere = ok(&app, "admin_jobs", &[("arg", "event_type"), ("value", "evt_nowhere_b")]).await;
    assert_eq!(elsewhere["jobs"], json!([]));
    let both = ok(&app, "admin_jobs", &[("arg", "event_type"), ("value", "customer.updated")]).await;
    assert_eq!(both["jobs"].as_array().unwrap().len(), 2, "{both}");
    let quoted = ok(&app, "admin_jobs", &[("arg", "event_id"), ("value", "evt_\"b")]).await;
    assert_eq!(quoted["jobs"], json!([]));
    assert_eq!(call(&app, "admin_jobs", &[("arg", "x') OR 1=1 --"), ("value", "y")]).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(call(&app, "admin_job_action", &[("id", &b), ("action", "discard")]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, "admin_jobs", &[("state", "Exploded")]).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(call(&app, "admin_job", &[("id", "no-such-job")]).await.0, StatusCode::NOT_FOUND);

    app.client = client();
    assert_eq!(app.log_in(ADMIN.0, ADMIN.1).await.status(), StatusCode::OK);
    ok(&app, "admin_job_action", &[("id", &b), ("action", "discard")]).await;
    assert_eq!(ok(&app, "admin_job", &[("id", &b)]).await["status"], "Killed");
    let (status, _) = call(&app, "admin_job_action", &[("id", &b), ("action", "discard")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "discarded already");
    assert_eq!(call(&app, "admin_job_action", &[("id", &a), ("action", "explode")]).await.0, StatusCode::BAD_REQUEST);

    app.start_workers();
    let dead = |attempts: usize| {
        let (app, a) = (&app, a.clone());
        async move {
            let job = ok(app, "admin_job", &[("id", &a)]).await;
            (job["dead"] == true && job["history"].as_array().unwrap().len() == attempts).then_some(job)
        }
    };
    let first = app.wait_for("job a fails for good", std::time::Duration::from_secs(30), || dead(1)).await;
    assert!(first["history"][0]["error"].as_str().unwrap().contains("evt_nowhere_a"), "{first}");
    ok(&app, "admin_job_action", &[("id", &a), ("action", "retry")]).await;
    app.wait_for("job a retried, and failed again", std::time::Duration::from_secs(30), || dead(2)).await;
    assert_eq!(ok(&app, "admin_job", &[("id", &b)]).await["history"], json!([]), "a discarded job never runs");

    let audit = ok(&app, "admin_audit", &[]).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["job.retry", "job.discard"], "newest first");
}

/// Starts a bulk operation through `function` and waits for it to end; returns the operation as
/// its progress page reads it.
async fn run_bulk(app: &TestApp, function: &str, form: &[(&str, &str)]) -> Value {
    let started = app.post_form(&format!("/api/{function}"), form).await;
    assert_eq!(started.status(), StatusCode::OK, "{function}: {}", started.text().await.unwrap());
    let progress = started.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let id = progress.strip_prefix("/admin/bulk/").unwrap_or_else(|| panic!("went to {progress}")).to_owned();
    app.wait_for("the bulk operation to finish", std::time::Duration::from_secs(30), || async {
        let operation = ok(app, "admin_bulk_operation", &[("id", &id)]).await;
        (!operation["finished_at"].is_null()).then_some(operation)
    })
    .await
}

async fn everything_a_filter_matches_is_acted_on_after_a_dry_run(mut app: TestApp) {
    use billhook_core::{
        dashboard::{Actor, queues},
        email::Template,
        jobs::{ProcessEvent, SendEmail, enqueue},
    };

    // The queues whose jobs are acted on are paused: their jobs wait while the workers run the
    // bulk operations (queue system.dashboard).
    let ops = Actor { user_id: 1, email: ADMIN.0.into() };
    let known: Vec<&str> = billhook_core::jobs::queues().into_iter().map(|(queue, _)| queue).collect();
    for queue in ["stripe.customers", "email"] {
        queues::set_paused(&app.state.db, &ops, &known, queue, true).await.unwrap();
    }
    app.start_workers();
    let mut tx = app.state.db.begin().await.unwrap();
    let events: Vec<ProcessEvent> = (0..3)
        .map(|n| ProcessEvent { event_id: format!("evt_bulk_{n}"), event_type: "customer.updated".into() })
        .collect();
    enqueue(&mut tx, &events).await.unwrap();
    enqueue(&mut tx, &[SendEmail::new("bulk@example.com", Template::Welcome)]).await.unwrap();
    tx.commit().await.unwrap();
    let form = |action: &'static str, state: &'static str| {
        [("action", action), ("queue", "stripe.customers"), ("state", state), ("expected", "3")]
    };

    as_operator(&mut app, "bulk-viewer@example.com", Role::Viewer).await;
    assert_eq!(call(&app, "admin_jobs_dry_run", &form("discard", "")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, "admin_jobs_bulk", &form("discard", "")).await.0, StatusCode::FORBIDDEN);

    app.client = client();
    assert_eq!(app.log_in(ADMIN.0, ADMIN.1).await.status(), StatusCode::OK);
    let dry = ok(&app, "admin_jobs_dry_run", &form("discard", "")).await;
    assert_eq!((dry["count"].as_i64(), dry["filter"].as_str()), (Some(3), Some("queue=stripe.customers")));
    assert_eq!(ok(&app, "admin_jobs_dry_run", &form("retry", "")).await["count"], 0, "nothing failed yet");
    assert_eq!(call(&app, "admin_jobs_dry_run", &form("explode", "")).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(call(&app, "admin_jobs_bulk", &form("discard", "Sleeping")).await.0, StatusCode::BAD_REQUEST);
    // A forged cross-site post starts nothing.
    let forged = app.client.post(app.url("/api/admin_jobs_bulk")).form(&form("discard", "")).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let discarded = run_bulk(&app, "admin_jobs_bulk", &form("discard", "")).await;
    assert_eq!((discarded["done"].as_i64(), discarded["expected"].as_i64()), (Some(3), Some(3)));
    let states = |list: &Value| -> Vec<String> {
        list["jobs"].as_array().unwrap().iter().map(|j| j["status"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(states(&ok(&app, "admin_jobs", &[("queue", "stripe.customers")]).await), ["Killed"; 3]);
    assert_eq!(states(&ok(&app, "admin_jobs", &[("queue", "email")]).await), ["Pending"], "another queue untouched");

    // A search inside the arguments narrows a bulk action too.
    let one = [("action", "retry"), ("queue", ""), ("state", "Killed"), ("arg", "event_id"), ("value", "evt_bulk_1")];
    assert_eq!(ok(&app, "admin_jobs_dry_run", &one).await["count"], 1);
    let retried_one = run_bulk(&app, "admin_jobs_bulk", &one).await;
    assert_eq!(retried_one["done"], 1);
    let found = ok(&app, "admin_jobs", &[("arg", "event_id"), ("value", "evt_bulk_1")]).await;
    assert_eq!(states(&found), ["Pending"]);

    assert_eq!(ok(&app, "admin_jobs_dry_run", &form("retry", "Killed")).await["count"], 2);
    run_bulk(&app, "admin_jobs_bulk", &form("retry", "Killed")).await;
    assert_eq!(states(&ok(&app, "admin_jobs", &[("queue", "stripe.customers")]).await), ["Pending"; 3]);

    let audit = ok(&app, "admin_audit", &[]).await;
    let entries: Vec<(&str, &str, i64)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] != "queue.pause")
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap(), e["rows"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        entries,
        [
            ("job.retry", "queue=stripe.customers state=Killed", 2),
            ("job.retry", "state=Killed event_id=evt_bulk_1", 1),
            ("job.discard", "queue=stripe.customers", 3)
        ]
    );
    let listed = ok(&app, "admin_bulk_operations", &[]).await;
    assert_eq!(listed.as_array().unwrap().len(), 3);
}

/// "Process again" for every event a filter matches: dry run, refusals, the operation, its
/// audit entry, and each event processed a second time.
async fn every_matching_event_is_processed_again_after_a_dry_run(mut app: TestApp) {
    app.start_workers();
    let now = billhook_core::clock::now_ms() / 1000;
    for n in 0..4 {
        deliver_signed(
            &app,
            &customer_event(&format!("evt_again_{n}"), &format!("cus_again_{n}"), now, "a@example.com"),
        )
        .await;
    }
    deliver_signed(&app, &event("evt_again_plan", "plan.created", now, json!({ "id": "plan_1", "object": "plan" })))
        .await;
    // Processed (again) since `since` (unix ms): each of the four, its status last changed after it.
    let processed_since = |app: &TestApp, since: i64| {
        let db = app.state.db.clone();
        async move {
            let rows: Vec<(String, Option<i64>)> = billhook_core::on_db!(&db, pool => {
                sqlx::query_as("SELECT status, status_changed_at FROM webhook_events WHERE event_type = 'customer.updated'")
                    .fetch_all(pool)
                    .await
            })
            .unwrap();
            let again = |(status, at): &(String, Option<i64>)| status == "processed" && at.unwrap_or(0) >= since;
            (rows.len() == 4 && rows.iter().all(again)).then_some(())
        }
    };
    app.wait_for("the events processed once", std::time::Duration::from_secs(30), || processed_since(&app, 0)).await;
    let before_bulk = billhook_core::clock::now_ms();

    let filter = [("event_type", "customer.updated"), ("expected", "4")];
    as_operator(&mut app, "again-viewer@example.com", Role::Viewer).await;
    assert_eq!(call(&app, "admin_webhooks_dry_run", &filter).await.0, StatusCode::FORBIDDEN);
    assert_eq!(call(&app, "admin_webhooks_bulk", &filter).await.0, StatusCode::FORBIDDEN);
    app.client = client();
    assert_eq!(call(&app, "admin_webhooks_bulk", &filter).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.log_in(ADMIN.0, ADMIN.1).await.status(), StatusCode::OK);
    let forged = app.client.post(app.url("/api/admin_webhooks_bulk")).form(&filter).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(call(&app, "admin_webhooks_dry_run", &[("status", "exploded")]).await.0, StatusCode::BAD_REQUEST);

    let dry = ok(&app, "admin_webhooks_dry_run", &filter).await;
    assert_eq!((dry["count"].as_i64(), dry["filter"].as_str()), (Some(4), Some("type=customer.updated")));
    // Ignored events (no handler) are never queued: everything counts the four only.
    assert_eq!(ok(&app, "admin_webhooks_dry_run", &[]).await["count"], 4);

    let operation = run_bulk(&app, "admin_webhooks_bulk", &filter).await;
    assert_eq!(operation["done"], 4);
    assert_eq!(operation["action"], "webhook.process_again");
    app.wait_for("the events processed again", std::time::Duration::from_secs(30), || {
        processed_since(&app, before_bulk)
    })
    .await;
    let audit = ok(&app, "admin_audit", &[]).await;
    let entry = &audit["entries"][0];
    assert_eq!(
        (entry["action"].as_str(), entry["target"].as_str(), entry["rows"].as_i64()),
        (Some("webhook.process_again"), Some("type=customer.updated"), Some(4))
    );
}

/// The sandbox's simulated outage (admins only, audited): a job that reads from Stripe fails
/// with Stripe's 503 and says so; once the outage ends, an admin's "retry now" runs it to the end.
async fn a_job_that_failed_while_stripe_was_down_is_retried_by_an_admin_and_succeeds(mut app: TestApp) {
    use billhook_core::{
        events::MirroredKind,
        jobs::{Cause, RefreshObject, enqueue_because},
    };

    let stripe = crate::sandbox::Stripe::of(&app).await;
    let customer = crate::sandbox::json(stripe.post("/v1/customers", &[("email", "down@example.com")]).await).await;
    let customer = customer["id"].as_str().unwrap().to_owned();

    as_operator(&mut app, "outage-viewer@example.com", Role::Viewer).await;
    assert_eq!(call(&app, "sandbox_outage", &[("on", "true")]).await.0, StatusCode::FORBIDDEN);
    app.client = client();
    assert_eq!(app.log_in(ADMIN.0, ADMIN.1).await.status(), StatusCode::OK);
    ok(&app, "sandbox_outage", &[("on", "true")]).await;
    assert_eq!(ok(&app, "sandbox_keys", &[]).await["outage"], true);
    let refused = stripe.get(&format!("/v1/customers/{customer}")).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);

    app.start_workers();
    let mut tx = app.state.db.begin().await.unwrap();
    let read = RefreshObject { kind: MirroredKind::Customer, id: customer.clone() };
    enqueue_because(&mut tx, Cause::Event("evt_during_outage"), &[read]).await.unwrap();
    tx.commit().await.unwrap();
    let list = ok(&app, "admin_jobs", &[("queue", "stripe.reads")]).await;
    let job = list["jobs"][0]["id"].as_str().unwrap().to_owned();
    let failed = app
        .wait_for("the read to fail", std::time::Duration::from_secs(30), || async {
            let detail = ok(&app, "admin_job", &[("id", &job)]).await;
            (detail["history"].as_array().unwrap().len() == 1 && detail["status"] == "Failed").then_some(detail)
        })
        .await;
    assert_eq!(failed["status"], "Failed", "{failed}");
    let error = failed["history"][0]["error"].as_str().unwrap();
    assert!(error.contains("Stripe's API is unavailable"), "{error}");

    ok(&app, "sandbox_outage", &[("on", "false")]).await;
    ok(&app, "admin_job_action", &[("id", &job), ("action", "retry")]).await;
    app.wait_for("the retried read to succeed", std::time::Duration::from_secs(30), || async {
        (ok(&app, "admin_job", &[("id", &job)]).await["status"] == "Done").then_some(())
    })
    .await;
    let audit = ok(&app, "admin_audit", &[]).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["job.retry", "sandbox.outage_off", "sandbox.outage_on"], "newest first");
}
