//! The operators' pages for what background jobs leave behind - data exports, custom-domain
//! certificates, Stripe reconciliation runs - and one outbox mail as its recipient reads it:
//! listed and read by viewers, refused to customers (403) and visitors (401), 404 for an id that
//! names nothing; never an export's archive nor a certificate's private key.

use std::time::Duration;

use billhook_core::{
    accounts::Role,
    custom_domains,
    email::{Mailer, Template},
    events::reconcile::{ReconcileOptions, reconcile},
    exports,
    jobs::SendEmail,
    on_db,
    stripe_api::StripeApi,
};
use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    billing::{call, ok},
    dashboard::as_operator,
    helpers::{TestApp, client},
    on_both_databases,
};

on_both_databases!(
    operators_list_data_exports_and_read_one_without_its_archive,
    operators_list_certificates_and_read_every_attempt_but_never_the_key,
    operators_list_reconciliation_runs_and_read_one,
    an_outbox_mail_opens_as_its_recipient_reads_it,
);

/// The customer who owns the records.
const CUSTOMER: (&str, &str) = ("owner@example.com", "customer password");

/// Signs the customer up (without signing in); returns their id.
async fn customer(app: &TestApp) -> i64 {
    app.state.accounts.sign_up(CUSTOMER.0, CUSTOMER.1.into(), "127.0.0.1").await.unwrap().id
}

/// `function` refuses a visitor (401) and the customer (403). Leaves the customer signed in.
async fn assert_operators_only(app: &mut TestApp, function: &str, form: &[(&str, &str)]) {
    app.client = client();
    assert_eq!(call(app, function, form).await.0, StatusCode::UNAUTHORIZED, "{function} without a session");
    assert_eq!(app.log_in(CUSTOMER.0, CUSTOMER.1).await.status(), StatusCode::OK);
    assert_eq!(call(app, function, form).await.0, StatusCode::FORBIDDEN, "{function} for a customer");
}

/// The page at `path`, as the signed-in client gets it: 200, and its HTML.
async fn page(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

async fn operators_list_data_exports_and_read_one_without_its_archive(mut app: TestApp) {
    let owner = customer(&app).await;
    let export = exports::request(&app.state.db, owner).await.unwrap();
    assert_operators_only(&mut app, "admin_exports", &[]).await;
    assert_operators_only(&mut app, "admin_export", &[("id", &export.id)]).await;

    as_operator(&mut app, "viewer@example.com", Role::Viewer).await;
    let list = ok(&app, "admin_exports", &[]).await;
    let lines = list["exports"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{list}");
    assert_eq!(
        (lines[0]["id"].as_str(), lines[0]["email"].as_str(), lines[0]["status"].as_str()),
        (Some(export.id.as_str()), Some(CUSTOMER.0), Some("queued"))
    );
    assert_eq!(list["next"], Value::Null, "one page");
    // The keyset cursor: a page before the far future holds it, a page before 1970 nothing.
    let later = ok(&app, "admin_exports", &[("before", "99999999999999:~")]).await;
    assert_eq!(later["exports"].as_array().unwrap().len(), 1, "{later}");
    let earlier = ok(&app, "admin_exports", &[("before", "1:a")]).await;
    assert_eq!(earlier["exports"], Value::Array(vec![]));
    assert_eq!(call(&app, "admin_exports", &[("before", "not-a-cursor")]).await.0, StatusCode::BAD_REQUEST);

    let one = ok(&app, "admin_export", &[("id", &export.id)]).await;
    assert_eq!((one["user_id"].as_i64(), one["status"].as_str()), (Some(owner), Some("queued")), "{one}");
    assert!(one.get("archive").is_none(), "never the archive: {one}");
    assert_eq!(call(&app, "admin_export", &[("id", "no-such-export")]).await.0, StatusCode::NOT_FOUND);

    assert!(page(&app, "/admin/exports").await.contains(&format!("/admin/exports/{}", export.id)));
    assert!(page(&app, &format!("/admin/exports/{}", export.id)).await.contains(CUSTOMER.0));
}

async fn operators_list_certificates_and_read_every_attempt_but_never_the_key(mut app: TestApp) {
    let owner = customer(&app).await;
    let domain = custom_domains::add(&app.state.db, owner, "shop.example.test").await.unwrap();
    // A failed attempt, as the certificate job records it on the domain and in job_attempts; and
    // a key that must never be shown.
    let now = billhook_core::clock::now_ms();
    on_db!(&app.state.db, pool => {
        sqlx::query(
            "UPDATE custom_domains SET status = 'failed', last_attempt_at = $2, last_error = $3, \
             private_key_pem = '-----BEGIN PRIVATE KEY----- secret' WHERE id = $1",
        )
        .bind(&domain.id)
        .bind(now)
        .bind("the CA could not reach the domain")
        .execute(pool)
        .await
        .unwrap();
    });
    assert_operators_only(&mut app, "admin_certificates", &[]).await;
    assert_operators_only(&mut app, "admin_certificate", &[("id", &domain.id)]).await;

    as_operator(&mut app, "viewer@example.com", Role::Viewer).await;
    let list = ok(&app, "admin_certificates", &[]).await;
    let lines = list.as_array().unwrap();
    assert_eq!(lines.len(), 1, "{list}");
    assert_eq!(
        (lines[0]["hostname"].as_str(), lines[0]["email"].as_str(), lines[0]["status"].as_str()),
        (Some("shop.example.test"), Some(CUSTOMER.0), Some("failed"))
    );
    assert_eq!(lines[0]["last_error"], "the CA could not reach the domain");

    let one = ok(&app, "admin_certificate", &[("id", &domain.id)]).await;
    let jobs = one["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "the job adding the domain queued: {one}");
    let job_id = jobs[0]["id"].as_str().unwrap().to_owned();
    on_db!(&app.state.db, pool => {
        sqlx::query(
            "INSERT INTO job_attempts (task_id, queue, attempt, worker, started_at, finished_at, error, retry_at) \
             VALUES ($1, 'certificates', 1, 'certificates@test-node-1', $2, $2, $3, NULL)",
        )
        .bind(&job_id)
        .bind(now)
        .bind("the CA could not reach the domain")
        .execute(pool)
        .await
        .unwrap();
    });
    let one = ok(&app, "admin_certificate", &[("id", &domain.id)]).await;
    assert_eq!(one["jobs"][0]["history"][0]["error"], "the CA could not reach the domain", "{one}");
    assert_eq!(one["domain"]["user_id"].as_i64(), Some(owner));
    assert!(!one.to_string().contains("PRIVATE KEY"), "never the key: {one}");
    assert_eq!(call(&app, "admin_certificate", &[("id", "no-such-domain")]).await.0, StatusCode::NOT_FOUND);

    let html = page(&app, "/admin/certificates").await;
    assert!(html.contains("shop.example.test") && html.contains("the CA could not reach the domain"));
    let html = page(&app, &format!("/admin/certificates/{}", domain.id)).await;
    assert!(html.contains(&format!("/admin/jobs/{job_id}")) && !html.contains("PRIVATE KEY"));
}

async fn operators_list_reconciliation_runs_and_read_one(mut app: TestApp) {
    customer(&app).await;
    // Two runs through the real code, against the sandbox: one that lists, one whose key it refuses.
    let sandbox = app.stripe_api().expect("the sandbox runs");
    reconcile(&app.state.db, &sandbox, &ReconcileOptions::default()).await.unwrap();
    let revoked = StripeApi::new("sk_test_revoked", &app.url("/sandbox/stripe"), Duration::from_secs(10)).unwrap();
    reconcile(&app.state.db, &revoked, &ReconcileOptions::default()).await.unwrap_err();
    assert_operators_only(&mut app, "admin_reconciliations", &[]).await;
    assert_operators_only(&mut app, "admin_reconciliation", &[("id", "1")]).await;

    as_operator(&mut app, "viewer@example.com", Role::Viewer).await;
    let list = ok(&app, "admin_reconciliations", &[]).await;
    let runs = list.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{list}");
    assert!(runs[0]["error"].as_str().is_some_and(|e| e.contains("401")), "the refused run, newest: {list}");
    assert_eq!(runs[1]["error"], Value::Null, "the run that listed: {list}");
    assert_eq!(runs[1]["node"], Value::Null, "not run by a scheduler");

    let id = runs[0]["id"].as_i64().unwrap().to_string();
    let one = ok(&app, "admin_reconciliation", &[("id", &id)]).await;
    assert_eq!(one["run"], runs[0], "the same columns");
    assert_eq!(one["events"], Value::Array(vec![]), "a refused run stores nothing");
    assert_eq!(call(&app, "admin_reconciliation", &[("id", "999999")]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&app, "admin_reconciliation", &[("id", "latest")]).await.0, StatusCode::NOT_FOUND);

    assert!(page(&app, "/admin/reconciliations").await.contains(&format!("/admin/reconciliations/{id}")));
    assert!(page(&app, &format!("/admin/reconciliations/{id}")).await.contains("401"));
}

async fn an_outbox_mail_opens_as_its_recipient_reads_it(mut app: TestApp) {
    customer(&app).await;
    let mail = SendEmail::new("reader@example.com", Template::Welcome);
    let mailer = Mailer::new(None, "Billhook <billing@example.com>", &app.address).unwrap();
    mailer.deliver(&app.state.db, &mail).await.unwrap();
    assert_operators_only(&mut app, "admin_outbox_mail", &[("id", &mail.id)]).await;

    as_operator(&mut app, "viewer@example.com", Role::Viewer).await;
    let listed = ok(&app, "admin_outbox", &[("to", "reader@example.com")]).await;
    assert_eq!(listed[0]["id"], mail.id.as_str(), "the list names each message: {listed}");
    let one = ok(&app, "admin_outbox_mail", &[("id", &mail.id)]).await;
    assert_eq!(
        (one["to"].as_str(), one["subject"].as_str(), one["sent"].as_bool()),
        (Some("reader@example.com"), Some("Welcome to Billhook"), Some(false))
    );
    assert_eq!(one["body"], listed[0]["body"]);
    assert_eq!(call(&app, "admin_outbox_mail", &[("id", "no-such-mail")]).await.0, StatusCode::NOT_FOUND);

    assert!(
        page(&app, "/admin/outbox").await.contains(&format!("/admin/outbox/{}", mail.id)),
        "each row links its mail"
    );
    let html = page(&app, &format!("/admin/outbox/{}", mail.id)).await;
    assert!(html.contains("Welcome to Billhook") && html.contains("reader@example.com"));
}
