//! Custom-domain certificates from a real ACME server: Pebble (Let's Encrypt's test CA, Debian
//! package `pebble`) validates HTTP-01 against the app's own `/.well-known/acme-challenge/`,
//! resolving names through `pebble-challtestsrv`'s DNS.

use std::time::Duration;

use billhook_core::{
    custom_domains::{self, CustomDomain, CustomDomainError},
    jobs::WorkerOptions,
    on_db,
};
use billhook_model::CertificateStatus;
use reqwest::StatusCode;

use crate::{
    helpers::{TestApp, wait_or_explain},
    on_both_databases,
    pebble::Pebble,
};

on_both_databases!(
    a_custom_domain_gets_a_certificate_and_it_is_renewed_before_expiry,
    an_unreachable_domain_fails_with_the_cas_reason,
    domain_names_are_checked_and_owned_once,
);

fn app_port(app: &TestApp) -> u16 {
    app.address.rsplit_once(':').unwrap().1.parse().unwrap()
}

/// Starts workers that order certificates from `pebble`, retrying failures after 1 s.
fn start_certificate_workers(app: &TestApp, pebble: &Pebble) {
    let options = WorkerOptions {
        poll_interval: Duration::from_millis(50),
        retry_base: Duration::from_secs(1),
        retry_cap: Duration::from_secs(2),
        ..Default::default()
    };
    app.run_workers(options, app.job_services(None, pebble.settings()));
}

async fn customer_id(app: &TestApp, email: &str) -> i64 {
    app.state.accounts.sign_up(email, "customer password".into(), "127.0.0.1").await.unwrap().id
}

async fn domain_when(app: &TestApp, id: &str, what: &str, done: impl Fn(&CustomDomain) -> bool) -> CustomDomain {
    wait_or_explain(what, Duration::from_secs(60), || async {
        let domain = custom_domains::get(&app.state.db, id).await.unwrap().expect("the domain exists");
        if done(&domain) {
            return Ok(domain);
        }
        let attempts: Vec<(i64, Option<String>)> = on_db!(&app.state.db, pool => {
            sqlx::query_as("SELECT attempt, error FROM job_attempts WHERE queue = 'certificates' ORDER BY finished_at")
                .fetch_all(pool)
                .await
                .unwrap()
        });
        Err(format!("The domain: {domain:?}; failed attempts: {attempts:?}"))
    })
    .await
}

/// The stored leaf certificate and private key of a domain.
async fn stored_certificate(app: &TestApp, id: &str) -> (String, String) {
    on_db!(&app.state.db, pool => {
        sqlx::query_as("SELECT certificate_pem, private_key_pem FROM custom_domains WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

/// The leaf's serial, SAN names and public key, checking the key pair matches.
fn inspect(chain_pem: &str, key_pem: &str) -> (String, Vec<String>) {
    let (_, pem) = x509_parser::pem::parse_x509_pem(chain_pem.as_bytes()).unwrap();
    let cert = pem.parse_x509().unwrap();
    let names = cert
        .subject_alternative_name()
        .unwrap()
        .expect("a SAN extension")
        .value
        .general_names
        .iter()
        .map(ToString::to_string)
        .collect();
    let key = rcgen::KeyPair::from_pem(key_pem).unwrap();
    assert_eq!(
        cert.public_key().raw,
        rcgen::PublicKeyData::subject_public_key_info(&key),
        "the key fits the certificate"
    );
    assert!(chain_pem.matches("BEGIN CERTIFICATE").count() >= 2, "the chain includes the issuer");
    (cert.raw_serial_as_string(), names)
}

async fn a_custom_domain_gets_a_certificate_and_it_is_renewed_before_expiry(app: TestApp) {
    let pebble = Pebble::start(app_port(&app));
    start_certificate_workers(&app, &pebble);
    let owner = customer_id(&app, "shop@example.com").await;

    let domain = custom_domains::add(&app.state.db, owner, "Shop.Example.TEST").await.unwrap();
    assert_eq!((domain.hostname.as_str(), domain.status), ("shop.example.test", CertificateStatus::Pending));
    let issued = domain_when(&app, &domain.id, "the certificate", |d| d.status == CertificateStatus::Active).await;
    let (not_before, not_after) = (issued.not_before.unwrap().as_millis(), issued.not_after.unwrap().as_millis());
    let now = billhook_core::clock::now_ms();
    assert!(not_before <= now && not_after > now + 30 * 24 * 3600 * 1000, "{issued:?}");
    assert_eq!(issued.last_error, None);
    let (chain, key) = stored_certificate(&app, &domain.id).await;
    let (serial, names) = inspect(&chain, &key);
    assert_eq!(names, ["DNSName(shop.example.test)"]);
    let open: i64 = on_db!(&app.state.db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM acme_challenges").fetch_one(pool).await.unwrap()
    });
    assert_eq!(open, 0, "answered challenges are removed");

    // Nothing is due yet; then the certificate is made to near its expiry.
    let renew_before = Duration::from_secs(30 * 24 * 3600);
    assert_eq!(custom_domains::queue_renewals(&app.state.db, renew_before).await.unwrap(), 0);
    on_db!(&app.state.db, pool => {
        sqlx::query("UPDATE custom_domains SET not_after = $2 WHERE id = $1")
            .bind(&domain.id)
            .bind(now + 24 * 3600 * 1000)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .unwrap()
    });
    assert_eq!(custom_domains::queue_renewals(&app.state.db, renew_before).await.unwrap(), 1);
    assert_eq!(custom_domains::queue_renewals(&app.state.db, renew_before).await.unwrap(), 0, "queued once");
    let renewed = domain_when(&app, &domain.id, "the renewal", |d| d.issued_at > issued.issued_at).await;
    assert_eq!(renewed.status, CertificateStatus::Active);
    assert!(renewed.not_after.unwrap().as_millis() > now + 30 * 24 * 3600 * 1000);
    let (chain, key) = stored_certificate(&app, &domain.id).await;
    assert_ne!(inspect(&chain, &key).0, serial, "a new certificate");
    assert_eq!(custom_domains::queue_renewals(&app.state.db, renew_before).await.unwrap(), 0);
}

async fn an_unreachable_domain_fails_with_the_cas_reason(app: TestApp) {
    let pebble = Pebble::start(app_port(&app));
    // Nothing listens on 127.0.0.2: the CA cannot reach Billhook for this name.
    pebble.resolve("elsewhere.example.test", "127.0.0.2").await;
    start_certificate_workers(&app, &pebble);
    let owner = customer_id(&app, "elsewhere@example.com").await;

    let domain = custom_domains::add(&app.state.db, owner, "elsewhere.example.test").await.unwrap();
    let failed = domain_when(&app, &domain.id, "the failure", |d| d.status == CertificateStatus::Failed).await;
    let error = failed.last_error.unwrap();
    assert!(error.contains("elsewhere.example.test") && error.contains("connection"), "{error}");
    assert_eq!(failed.not_after, None);
    // The job retries (attempts are kept with their errors) and the domain is left for the daily sweep.
    let attempts: Vec<String> = app
        .wait_for("a second attempt", Duration::from_secs(30), || async {
            let errors: Vec<String> = on_db!(&app.state.db, pool => {
                sqlx::query_scalar("SELECT error FROM job_attempts WHERE queue = 'certificates' ORDER BY finished_at")
                    .fetch_all(pool)
                    .await
                    .unwrap()
            });
            (errors.len() >= 2).then_some(errors)
        })
        .await;
    assert!(attempts.iter().all(|e| e.contains("connection")), "{attempts:?}");
    assert_eq!(custom_domains::queue_renewals(&app.state.db, Duration::from_secs(30 * 24 * 3600)).await.unwrap(), 0);

    // Unknown and other hosts' challenges are not answered.
    let response = app.get("/.well-known/acme-challenge/no-such-token").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

async fn domain_names_are_checked_and_owned_once(app: TestApp) {
    let first = customer_id(&app, "first@example.com").await;
    let second = customer_id(&app, "second@example.com").await;

    for bad in ["", "*.example.com", "192.0.2.1", "localhost", "bad_label.example.com"] {
        let error = custom_domains::add(&app.state.db, first, bad).await.unwrap_err();
        assert!(matches!(error, CustomDomainError::Invalid(_)), "{bad:?}: {error}");
    }
    custom_domains::add(&app.state.db, first, "blog.example.com").await.unwrap();
    let error = custom_domains::add(&app.state.db, second, "BLOG.example.com.").await.unwrap_err();
    assert!(matches!(error, CustomDomainError::Taken(ref name) if name == "blog.example.com"), "{error}");
    let listed = custom_domains::list(&app.state.db, first).await.unwrap();
    assert_eq!(listed.iter().map(|d| d.hostname.as_str()).collect::<Vec<_>>(), ["blog.example.com"]);
    assert!(custom_domains::list(&app.state.db, second).await.unwrap().is_empty());
    // Adding queued the certificate job with the domain (same transaction).
    let queued: i64 = on_db!(&app.state.db, pool => {
        let sql = match app.state.db.kind() {
            billhook_core::DbKind::Sqlite => "SELECT COUNT(*) FROM Jobs WHERE job_type = 'certificates'",
            billhook_core::DbKind::Postgres => "SELECT COUNT(*) FROM apalis.jobs WHERE job_type = 'certificates'",
        };
        sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
    });
    assert_eq!(queued, 1);

    // The owner sees it, and its certificate's state, on the domains page.
    assert_eq!(app.log_in("first@example.com", "customer password").await.status(), StatusCode::OK);
    let page = app.get("/account/domains").await.text().await.unwrap();
    assert!(page.contains("blog.example.com") && page.contains("Queued"), "{page}");
}
