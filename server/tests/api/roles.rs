use reqwest::{StatusCode, header};

use crate::{
    helpers::{ADMIN, TestApp},
    on_both_databases,
};

on_both_databases!(
    a_visitor_is_sent_to_log_in_for_the_admin_and_account_areas,
    a_customer_gets_403_from_the_admin_area,
    an_admin_sees_the_admin_area,
    admin_server_functions_authorise_themselves,
    an_unknown_page_is_a_404,
);

async fn a_visitor_is_sent_to_log_in_for_the_admin_and_account_areas(app: TestApp) {
    for (path, next) in [("/admin", "/admin"), ("/account", "/account")] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{path}");
        assert_eq!(response.headers()[header::LOCATION], format!("/login?next={next}"));
    }
}

async fn a_customer_gets_403_from_the_admin_area(app: TestApp) {
    app.signed_in_customer("curious@example.com").await;
    let response = app.get("/admin").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let page = response.text().await.unwrap();
    assert!(page.contains("Not allowed"));
    assert!(!page.contains("Newest accounts"));
}

async fn an_admin_sees_the_admin_area(app: TestApp) {
    app.signed_in_customer("someone@example.com").await;
    let admin = app.with_fresh_client();
    assert_eq!(admin.log_in(ADMIN.0, ADMIN.1).await.status(), StatusCode::OK);
    let response = admin.get("/admin").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("Newest accounts"));
    assert!(page.contains("someone@example.com"));
}

async fn admin_server_functions_authorise_themselves(app: TestApp) {
    let anonymous = app.post_form("/api/admin_overview", &[]).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    app.signed_in_customer("sneaky@example.com").await;
    let customer = app.post_form("/api/admin_overview", &[]).await;
    assert_eq!(customer.status(), StatusCode::FORBIDDEN);
    assert!(customer.text().await.unwrap().contains("Forbidden"));

    let admin = app.with_fresh_client();
    admin.log_in(ADMIN.0, ADMIN.1).await;
    let allowed = admin.post_form("/api/admin_overview", &[]).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    let body: serde_json::Value = allowed.json().await.unwrap();
    assert_eq!(body["account_count"], 2);
}

async fn an_unknown_page_is_a_404(app: TestApp) {
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Page not found"));
}
