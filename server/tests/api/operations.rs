use reqwest::StatusCode;

use crate::{helpers::TestApp, on_both_databases};

on_both_databases!(
    health_and_readiness_answer_when_the_database_is_there,
    readiness_fails_when_the_database_is_gone,
    metrics_count_requests_by_route_and_status,
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
