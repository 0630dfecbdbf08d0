use reqwest::{StatusCode, header};

use crate::{helpers::TestApp, on_both_databases};

on_both_databases!(
    a_post_without_origin_or_referer_is_refused_and_changes_nothing,
    a_post_from_another_origin_is_refused,
    a_post_marked_cross_site_by_the_browser_is_refused,
    a_logged_in_session_cannot_be_logged_out_cross_site,
);

const FORM: [(&str, &str); 3] = [("email", "csrf@example.com"), ("password", "customer password"), ("next", "")];

async fn a_post_without_origin_or_referer_is_refused_and_changes_nothing(app: TestApp) {
    let response = app.client.post(app.url("/api/sign_up")).form(&FORM).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("Cross-site request refused"));
    assert_eq!(app.state.accounts.count().await.unwrap(), 1, "only the seeded admin");
}

async fn a_post_from_another_origin_is_refused(app: TestApp) {
    let response = app
        .client
        .post(app.url("/api/sign_up"))
        .header(header::ORIGIN, "http://evil.example")
        .form(&FORM)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.state.accounts.count().await.unwrap(), 1);
}

async fn a_post_marked_cross_site_by_the_browser_is_refused(app: TestApp) {
    let response = app
        .client
        .post(app.url("/api/sign_up"))
        .header(header::ORIGIN, &app.address)
        .header("sec-fetch-site", "cross-site")
        .form(&FORM)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

async fn a_logged_in_session_cannot_be_logged_out_cross_site(app: TestApp) {
    app.signed_in_customer("victim@example.com").await;
    let forged =
        app.client.post(app.url("/api/log_out")).header(header::ORIGIN, "http://evil.example").send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/account").await.status(), StatusCode::OK, "still signed in");
}
