//! The operators' dashboard through its server functions: the webhooks list (filters, keyset
//! pages), one event, "process again" and the audit log - read by admins and viewers, acted on by
//! admins only, refused to customers, visitors and forged cross-site posts.

use billhook_core::accounts::Role;
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

async fn everything_a_filter_matches_is_acted_on_after_a_dry_run(mut app: TestApp) {
    use billhook_core::{
        email::Template,
        jobs::{ProcessEvent, SendEmail, enqueue},
    };

    // No workers run: the jobs wait.
    let mut tx = app.state.db.begin().await.unwrap();
    let events: Vec<ProcessEvent> = (0..3)
        .map(|n| ProcessEvent { event_id: format!("evt_bulk_{n}"), event_type: "customer.updated".into() })
        .collect();
    enqueue(&mut tx, &events).await.unwrap();
    enqueue(&mut tx, &[SendEmail::new("bulk@example.com", Template::Welcome)]).await.unwrap();
    tx.commit().await.unwrap();
    let form = |action: &'static str, state: &'static str| {
        [("action", action), ("queue", "stripe.customers"), ("state", state)]
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

    ok(&app, "admin_jobs_bulk", &form("discard", "")).await;
    let states = |list: &Value| -> Vec<String> {
        list["jobs"].as_array().unwrap().iter().map(|j| j["status"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(states(&ok(&app, "admin_jobs", &[("queue", "stripe.customers")]).await), ["Killed"; 3]);
    assert_eq!(states(&ok(&app, "admin_jobs", &[("queue", "email")]).await), ["Pending"], "another queue untouched");

    assert_eq!(ok(&app, "admin_jobs_dry_run", &form("retry", "Killed")).await["count"], 3);
    ok(&app, "admin_jobs_bulk", &form("retry", "Killed")).await;
    assert_eq!(states(&ok(&app, "admin_jobs", &[("queue", "stripe.customers")]).await), ["Pending"; 3]);

    let audit = ok(&app, "admin_audit", &[]).await;
    let entries: Vec<(&str, &str, i64)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap(), e["rows"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        entries,
        [("job.retry", "queue=stripe.customers state=Killed", 3), ("job.discard", "queue=stripe.customers", 3)]
    );
}
