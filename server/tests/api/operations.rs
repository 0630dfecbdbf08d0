use reqwest::StatusCode;

use crate::{helpers::TestApp, on_both_databases, on_both_databases_with};

on_both_databases!(
    health_and_readiness_answer_when_the_database_is_there,
    readiness_fails_when_the_database_is_gone,
    metrics_count_requests_by_route_and_status,
    invented_methods_add_no_metric_series,
    an_oversized_request_body_is_refused_with_413,
    a_canary_records_its_run_and_leaves_its_effect_once,
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

on_both_databases_with!(short_header_timeout;
    a_connection_sending_half_a_header_is_closed_after_the_header_timeout,
);

on_both_databases_with!(three_connections_at_once;
    connections_beyond_the_cap_wait_until_one_closes,
);

fn short_header_timeout(settings: &mut billhook_server::config::Settings) {
    settings.header_read_timeout_seconds = 1;
}

fn three_connections_at_once(settings: &mut billhook_server::config::Settings) {
    settings.max_connections = 3;
}

fn address_of(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Slowloris: half a request header, then nothing. The server hangs up after the header timeout
/// (1 s here); waiting 10 s for it leaves a wide margin.
async fn a_connection_sending_half_a_header_is_closed_after_the_header_timeout(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address_of(&app)).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: billhook\r\nX-Slow: ").await.unwrap();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    assert!(closed.is_ok(), "the connection is still open 10 s after half a header");
    // A request that does send its header is served as before.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

/// Three connections are served at once (configured): a fourth client waits for one to close.
async fn connections_beyond_the_cap_wait_until_one_closes(app: TestApp) {
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(tokio::net::TcpStream::connect(address_of(&app)).await.unwrap());
    }
    // Give the server the moment it takes to accept them.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let waiting = tokio::spawn({
        let client = reqwest::Client::new();
        let url = app.url("/healthz");
        async move { client.get(url).send().await.map(|r| r.status()) }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "a fourth connection was served while three were open");
    drop(idle.pop());
    let status = tokio::time::timeout(std::time::Duration::from_secs(10), waiting).await;
    assert_eq!(status.expect("served once a connection closed").unwrap().unwrap(), StatusCode::OK);
}

/// What `billhook canary`, the crash tests and the benchmark rely on: each run of a canary is
/// recorded with its node and its end, and its effect happens once. One that holds is recorded
/// as started before it ends; one that does not is recorded whole when it ends.
async fn a_canary_records_its_run_and_leaves_its_effect_once(app: TestApp) {
    use std::time::Duration;

    use billhook_core::{canary, on_db};

    app.start_workers();
    let db = &app.state.db;
    let (quick, held) = (canary::Canary::new(Duration::ZERO), canary::Canary::new(Duration::from_millis(300)));
    canary::enqueue(db, &[quick.clone(), held.clone()]).await.unwrap();
    for canary in [&quick, &held] {
        let (node, enqueued_at, done_at) = app
            .wait_for("the canary's effect", Duration::from_secs(30), || async {
                canary::effect(db, &canary.id).await.unwrap()
            })
            .await;
        assert_eq!(enqueued_at, canary.enqueued_at_ms);
        let runs: Vec<(String, i64, i64, Option<i64>)> = on_db!(db, pool => {
            sqlx::query_as("SELECT node, attempt, started_at, finished_at FROM canary_runs WHERE canary_id = $1")
                .bind(&canary.id)
                .fetch_all(pool)
                .await
        })
        .unwrap();
        let [(run_node, attempt, started_at, finished_at)] = runs.as_slice() else { panic!("one run: {runs:?}") };
        assert_eq!((run_node, *attempt, *finished_at), (&node, 1, Some(done_at)), "{runs:?}");
        if canary.hold_ms == 0 {
            assert_eq!(*started_at, done_at, "recorded whole when it ended");
        } else {
            assert!(done_at - started_at >= 300, "held between its start and its end: {runs:?}");
        }
    }
}
