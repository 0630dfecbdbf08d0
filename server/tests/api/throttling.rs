use reqwest::StatusCode;

use crate::{
    helpers::{MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_IP, TestApp},
    on_both_databases,
};

on_both_databases!(
    repeated_failures_lock_the_account_even_for_the_right_password,
    a_success_clears_the_accounts_failures,
    many_failures_from_one_address_lock_that_address_for_every_account,
);

async fn repeated_failures_lock_the_account_even_for_the_right_password(app: TestApp) {
    app.signed_in_customer("target@example.com").await;
    let attacker = app.with_fresh_client();
    for _ in 0..MAX_FAILURES_PER_ACCOUNT {
        assert_eq!(attacker.log_in("target@example.com", "guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = attacker.log_in("target@example.com", "customer password").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.text().await.unwrap().contains("Throttled"));
}

async fn a_success_clears_the_accounts_failures(app: TestApp) {
    app.signed_in_customer("forgetful@example.com").await;
    let user = app.with_fresh_client();
    for _ in 0..2 {
        for _ in 1..MAX_FAILURES_PER_ACCOUNT {
            assert_eq!(user.log_in("forgetful@example.com", "typo").await.status(), StatusCode::UNAUTHORIZED);
        }
        assert_eq!(user.log_in("forgetful@example.com", "customer password").await.status(), StatusCode::OK);
    }
}

async fn many_failures_from_one_address_lock_that_address_for_every_account(app: TestApp) {
    app.signed_in_customer("bystander@example.com").await;
    let attacker = app.with_fresh_client();
    for i in 0..MAX_FAILURES_PER_IP {
        let email = format!("victim{i}@example.com");
        assert_eq!(attacker.log_in(&email, "guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    // Same address (all tests come from 127.0.0.1): refused even for a correct log-in.
    let refused = attacker.log_in("bystander@example.com", "customer password").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}
