use reqwest::{StatusCode, header};

use crate::{
    helpers::{TestApp, client},
    on_both_databases,
};

on_both_databases!(
    a_new_customer_can_sign_up_and_is_signed_in,
    signing_up_twice_with_one_address_is_refused,
    an_implausible_address_or_a_short_password_is_refused,
    a_customer_can_log_in_with_the_right_password,
    a_wrong_password_or_unknown_address_is_refused,
    logging_in_issues_a_new_session_id,
    logging_out_ends_the_session_for_good,
    log_in_works_as_a_plain_form_post_without_javascript,
    the_session_cookie_is_http_only_and_same_site_lax,
    log_in_never_redirects_off_the_site_nor_fails_on_a_crafted_next,
);

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("billhook_session="))
        .map(str::to_owned)
}

async fn a_new_customer_can_sign_up_and_is_signed_in(app: TestApp) {
    let response = app.sign_up("New.Customer@Example.com", "a good password").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::LOCATION], "/account");

    let page = app.get("/account").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("new.customer@example.com"));
}

async fn signing_up_twice_with_one_address_is_refused(app: TestApp) {
    app.signed_in_customer("twice@example.com").await;
    let again = client()
        .post(app.url("/api/sign_up"))
        .header(header::ORIGIN, &app.address)
        .form(&[("email", "TWICE@example.com"), ("password", "another password"), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("EmailTaken"));
    assert_eq!(app.state.accounts.count().await.unwrap(), 2, "the admin and one customer");
}

async fn an_implausible_address_or_a_short_password_is_refused(app: TestApp) {
    let attacks = [
        ("not-an-address", "long enough password"),
        ("short@example.com", "short"),
        // Header specials: in a mail's `To:` they would start another recipient or part.
        ("ada<evil@example.com>@example.com", "long enough password"),
        ("\"ada\"@example.com", "long enough password"),
        ("ada,eve@example.com", "long enough password"),
    ];
    for (email, password) in attacks {
        let response = app.sign_up(email, password).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{email}");
    }
    assert_eq!(app.state.accounts.count().await.unwrap(), 1, "only the seeded admin");
}

async fn a_customer_can_log_in_with_the_right_password(app: TestApp) {
    app.signed_in_customer("returning@example.com").await;
    let visitor = app.with_fresh_client();
    assert_eq!(visitor.get("/account").await.status(), StatusCode::FOUND);

    let response = visitor.log_in("returning@example.com", "customer password").await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = visitor.get("/account").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("returning@example.com"));
}

async fn a_wrong_password_or_unknown_address_is_refused(app: TestApp) {
    app.signed_in_customer("careful@example.com").await;
    let visitor = app.with_fresh_client();
    let wrong = visitor.log_in("careful@example.com", "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.text().await.unwrap().contains("WrongCredentials"));
    let unknown = visitor.log_in("nobody@example.com", "customer password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let account = visitor.get("/account").await;
    assert_eq!(account.status(), StatusCode::FOUND);
    assert_eq!(account.headers()[header::LOCATION], "/login?next=/account");
}

async fn logging_in_issues_a_new_session_id(app: TestApp) {
    let first = app.sign_up("fixation@example.com", "customer password").await;
    let second = app.log_in("fixation@example.com", "customer password").await;
    let (first, second) = (session_cookie(&first).unwrap(), session_cookie(&second).unwrap());
    assert_ne!(first.split(';').next(), second.split(';').next());
}

async fn logging_out_ends_the_session_for_good(app: TestApp) {
    let signed_up = app.sign_up("leaving@example.com", "customer password").await;
    let cookie = session_cookie(&signed_up).unwrap().split(';').next().unwrap().to_owned();
    assert_eq!(app.log_out().await.status(), StatusCode::OK);
    assert_eq!(app.get("/account").await.status(), StatusCode::FOUND);

    // Replaying the old cookie from elsewhere does not bring the session back.
    let replay = client().get(app.url("/account")).header(header::COOKIE, cookie).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::FOUND);
}

async fn log_in_works_as_a_plain_form_post_without_javascript(app: TestApp) {
    app.signed_in_customer("nojs@example.com").await;
    let visitor = app.with_fresh_client();
    let wrong = visitor
        .post_plain_form(
            "/api/log_in",
            &[("email", "nojs@example.com"), ("password", "wrong password"), ("next", "/account")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::SEE_OTHER);
    assert_eq!(wrong.headers()[header::LOCATION], "/login?next=/account&error=wrong_credentials");
    let page = visitor.get("/login?next=/account&error=wrong_credentials").await.text().await.unwrap();
    assert!(page.contains("Wrong e-mail address or password."));

    let right = visitor
        .post_plain_form(
            "/api/log_in",
            &[("email", "nojs@example.com"), ("password", "customer password"), ("next", "/account")],
        )
        .await;
    assert_eq!(right.status(), StatusCode::FOUND);
    assert_eq!(right.headers()[header::LOCATION], "/account");
    assert_eq!(visitor.get("/account").await.status(), StatusCode::OK);
}

async fn the_session_cookie_is_http_only_and_same_site_lax(app: TestApp) {
    let response = app.sign_up("cookie@example.com", "customer password").await;
    let cookie = session_cookie(&response).unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
}

/// `next` as an attacker writes it: each log-in lands on the account page, none fails (a newline
/// in a header used to panic into a 500), with JavaScript and without.
async fn log_in_never_redirects_off_the_site_nor_fails_on_a_crafted_next(app: TestApp) {
    app.signed_in_customer("redirected@example.com").await;
    let attacks = [
        "/\t/evil.example",
        "/\tevil.example",
        "/\n",
        "/\r\nSet-Cookie: x=y",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%2F/evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
    ];
    for next in attacks {
        for plain in [false, true] {
            let form = [("email", "redirected@example.com"), ("password", "customer password"), ("next", next)];
            let response = if plain {
                app.post_plain_form("/api/log_in", &form).await
            } else {
                app.post_form("/api/log_in", &form).await
            };
            assert!(
                response.status().is_success() || response.status().is_redirection(),
                "{next:?}: {}",
                response.status()
            );
            assert_eq!(response.headers()[header::LOCATION], "/account", "{next:?} (plain form: {plain})");
        }
    }
    let form =
        [("email", "redirected@example.com"), ("password", "customer password"), ("next", "/account/billing?tab=1")];
    assert_eq!(app.post_form("/api/log_in", &form).await.headers()[header::LOCATION], "/account/billing?tab=1");
}
