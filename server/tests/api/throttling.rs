//! Log-in and sign-up throttling, and the bound on password hashing, tried as an attacker would:
//! guesses in series and all at once, from one address and from many, with a spoofed
//! `X-Forwarded-For`, and a flood of sign-ups while Stripe delivers a webhook.

use std::time::{Duration, Instant};

use billhook_server::config::Settings;
use futures::future::join_all;
use reqwest::StatusCode;

use crate::{
    helpers::{MAX_FAILURES_PER_ACCOUNT_AND_IP, MAX_FAILURES_PER_IP, TestApp},
    on_both_databases, on_both_databases_with,
    stripe_events::customer_updated,
    webhooks::deliver_signed,
};

on_both_databases!(
    repeated_failures_from_one_address_refuse_that_address_even_the_right_password,
    a_success_clears_the_accounts_failures_from_that_address,
    many_failures_from_one_address_lock_that_address_for_every_account,
    concurrent_guesses_reach_the_password_check_no_more_often_than_the_limit,
);

on_both_databases_with!(behind_one_proxy;
    the_owner_logs_in_from_elsewhere_while_an_attacker_is_throttled,
    a_spoofed_forwarded_for_entry_does_not_dodge_the_address_limit,
);

on_both_databases_with!(few_signups_per_address;
    a_signup_flood_from_one_address_gets_429s_and_hashes_nothing_beyond_the_limit,
);

on_both_databases_with!(one_hash_at_a_time_behind_one_proxy;
    a_signup_flood_from_many_addresses_queues_its_hashes_while_webhooks_are_acknowledged,
);

const SIGNUPS_PER_ADDRESS: u32 = 4;

/// A sign-up from a browser of its own, seen by the proxy (if any) at `ip`.
async fn sign_up_from(app: &TestApp, ip: Option<&str>, email: &str) -> StatusCode {
    let mut request = reqwest::Client::new()
        .post(app.url("/api/sign_up"))
        .header(reqwest::header::ORIGIN, &app.address)
        .form(&[("email", email), ("password", "flood password"), ("next", "")]);
    if let Some(ip) = ip {
        request = request.header("x-forwarded-for", ip);
    }
    request.send().await.expect("POST /api/sign_up").status()
}

fn behind_one_proxy(settings: &mut Settings) {
    settings.trusted_proxies = 1;
}

fn few_signups_per_address(settings: &mut Settings) {
    settings.signup_max_per_ip = SIGNUPS_PER_ADDRESS;
}

fn one_hash_at_a_time_behind_one_proxy(settings: &mut Settings) {
    settings.trusted_proxies = 1;
    settings.password_hashes_at_once = Some(1);
}

async fn repeated_failures_from_one_address_refuse_that_address_even_the_right_password(app: TestApp) {
    app.signed_in_customer("target@example.com").await;
    let attacker = app.with_fresh_client();
    for _ in 0..MAX_FAILURES_PER_ACCOUNT_AND_IP {
        assert_eq!(attacker.log_in("target@example.com", "guess").await.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = attacker.log_in("target@example.com", "customer password").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.text().await.unwrap().contains("Throttled"));
}

async fn a_success_clears_the_accounts_failures_from_that_address(app: TestApp) {
    app.signed_in_customer("forgetful@example.com").await;
    let user = app.with_fresh_client();
    for _ in 0..2 {
        for _ in 1..MAX_FAILURES_PER_ACCOUNT_AND_IP {
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

/// 60 wrong passwords for one account sent at once: a 401 means the password was checked, a 429
/// that the throttle refused first. Only the limit's worth may be checked.
async fn concurrent_guesses_reach_the_password_check_no_more_often_than_the_limit(app: TestApp) {
    app.signed_in_customer("raced@example.com").await;
    let attacker = app.with_fresh_client();
    let guesses = (0..60).map(|i| {
        let attacker = &attacker;
        async move { attacker.log_in("raced@example.com", &format!("guess {i}")).await.status() }
    });
    let statuses = join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(checked, MAX_FAILURES_PER_ACCOUNT_AND_IP as usize, "{statuses:?}");
    assert_eq!(refused, 60 - checked, "{statuses:?}");
    // And the right password from there is refused too, without a check.
    assert_eq!(attacker.log_in("raced@example.com", "customer password").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// OWASP: throttle per account and source rather than lock the account out.
async fn the_owner_logs_in_from_elsewhere_while_an_attacker_is_throttled(app: TestApp) {
    app.signed_in_customer("owner@example.com").await;
    let attacker = app.with_fresh_client().seen_at("198.51.100.66");
    for _ in 0..MAX_FAILURES_PER_ACCOUNT_AND_IP * 3 {
        attacker.log_in("owner@example.com", "guess").await;
    }
    assert_eq!(attacker.log_in("owner@example.com", "customer password").await.status(), StatusCode::TOO_MANY_REQUESTS);
    let owner = attacker.with_fresh_client().seen_at("203.0.113.10");
    assert_eq!(owner.log_in("owner@example.com", "customer password").await.status(), StatusCode::OK);
    assert_eq!(owner.get("/account").await.status(), StatusCode::OK);
}

/// Behind one proxy, the client writes whatever it likes at the LEFT of `X-Forwarded-For`; the
/// proxy appends the address it saw. Rotating the left entry must not reset the limit.
async fn a_spoofed_forwarded_for_entry_does_not_dodge_the_address_limit(app: TestApp) {
    app.signed_in_customer("bystander@example.com").await;
    let client = app.client.clone();
    for i in 0..MAX_FAILURES_PER_IP {
        let response = client
            .post(app.url("/api/log_in"))
            .header(reqwest::header::ORIGIN, &app.address)
            .header("x-forwarded-for", format!("10.9.{}.{}, 198.51.100.7", i / 250, i % 250))
            .form(&[("email", format!("victim{i}@example.com").as_str()), ("password", "guess"), ("next", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let spoofed = app.with_fresh_client().seen_at("192.0.2.1, 198.51.100.7");
    assert_eq!(
        spoofed.log_in("bystander@example.com", "customer password").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client address (as the proxy saw it) is not affected.
    let other = spoofed.with_fresh_client().seen_at("198.51.100.8");
    assert_eq!(other.log_in("bystander@example.com", "customer password").await.status(), StatusCode::OK);
}

/// 40 sign-ups at once from one address: only the limit's worth are taken (and hashed); taken
/// addresses cannot be probed past it either.
async fn a_signup_flood_from_one_address_gets_429s_and_hashes_nothing_beyond_the_limit(app: TestApp) {
    let flood = (0..40).map(|i| {
        let app = &app;
        async move { sign_up_from(app, None, &format!("flood{i}@example.com")).await }
    });
    let statuses = join_all(flood).await;
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(accepted, SIGNUPS_PER_ADDRESS as usize, "{statuses:?}");
    assert_eq!(throttled, 40 - accepted, "{statuses:?}");
    // One admin seeded, plus the accepted sign-ups.
    assert_eq!(app.state.accounts.count().await.unwrap(), 1 + accepted as i64);
    // Probing whether an address is taken is refused as well.
    let probe = app.sign_up("ops@example.com", "whatever password").await;
    assert_eq!(probe.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(probe.text().await.unwrap().contains("SignUpsThrottled"));
}

/// Sign-ups from 24 addresses at once (no per-address limit helps): the password hashes run one
/// at a time (configured), and a webhook delivered during the flood is acknowledged. The figures
/// printed are for the reader; docs/benchmarks.md holds the measured ones.
async fn a_signup_flood_from_many_addresses_queues_its_hashes_while_webhooks_are_acknowledged(app: TestApp) {
    let flood = (0..24).map(|i| {
        let app = &app;
        async move { sign_up_from(app, Some(&format!("198.51.100.{i}")), &format!("many{i}@example.com")).await }
    });
    let webhooks = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut waits = Vec::new();
        for i in 0..5 {
            let started = Instant::now();
            let body = customer_updated(&format!("evt_flood_{i}"), "cus_flood", 1_700_000_000 + i);
            deliver_signed(&app, &body).await;
            waits.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        waits
    };
    let (statuses, waits) = tokio::join!(join_all(flood), webhooks);
    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    assert_eq!(app.state.accounts.peak_hashes_at_once(), 1);
    eprintln!("webhook acknowledgements during the sign-up flood: {waits:?}");
}
