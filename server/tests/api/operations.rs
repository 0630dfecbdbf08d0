use reqwest::StatusCode;

use crate::{helpers::TestApp, on_both_databases};

on_both_databases!(
    health_and_readiness_answer_when_the_database_is_there,
    readiness_fails_when_the_database_is_gone,
    metrics_count_requests_by_route_and_status,
    invented_methods_add_no_metric_series,
    an_oversized_request_body_is_refused_with_413,
);

async fn health_and_readiness_answer_when_the_database_is_there(app: TestApp) {
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<serde_json::Value>().await.unwrap()["status"], "ready");
}

async fn readiness_fails_when_the_database_is_gone(app: TestApp) {
    app.state.db.close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = ready.text().await.unwrap();
    assert_eq!(body, r#"{"status":"not ready"}"#, "the reason is logged, not told");
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK, "alive all the same");
}

async fn metrics_count_requests_by_route_and_status(app: TestApp) {
    app.get("/healthz").await;
    let body = app.get("/metrics").await.text().await.unwrap();
    assert!(
        body.lines().any(|l| l.starts_with("http_requests_total")
            && l.contains("route=\"/healthz\"")
            && l.contains("status=\"200\"")),
        "{body}"
    );
    assert!(body.contains("http_request_duration_seconds_bucket"), "a histogram, not a summary");
}

async fn an_oversized_request_body_is_refused_with_413(app: TestApp) {
    let big = "x".repeat(3 * 1024 * 1024);
    let response = app
        .client
        .post(app.url("/api/sign_up"))
        .header(reqwest::header::ORIGIN, &app.address)
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("email=a%40example.com&password={big}&next="))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// A client inventing methods (`curl -X Z1`, `-X Z2`, ...) must not grow `/metrics` a series a
/// request: unknown methods are one label, `other`.
async fn invented_methods_add_no_metric_series(app: TestApp) {
    for n in 0..20 {
        let method = reqwest::Method::from_bytes(format!("ZQX{n}").as_bytes()).unwrap();
        app.client.request(method, app.url("/healthz")).send().await.unwrap();
    }
    let body = app.get("/metrics").await.text().await.unwrap();
    assert!(!body.contains("ZQX"), "an invented method became a label");
    assert!(body.lines().any(|l| l.starts_with("http_requests_total") && l.contains("method=\"other\"")), "{body}");
}
