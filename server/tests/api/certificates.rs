//! Custom-domain certificates from a real ACME server: Pebble (Let's Encrypt's test CA, Debian
//! package `pebble`) validates HTTP-01 against the app's own `/.well-known/acme-challenge/`,
//! resolving names through `pebble-challtestsrv`'s DNS.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use billhook_core::{
    custom_domains::{self, AcmeSettings, CustomDomain, CustomDomainError},
    jobs::WorkerOptions,
    on_db,
};
use billhook_model::CertificateStatus;
use reqwest::StatusCode;

use crate::{
    helpers::{TestApp, wait_for_listener, wait_or_explain},
    on_both_databases,
};

on_both_databases!(
    a_custom_domain_gets_a_certificate_and_it_is_renewed_before_expiry,
    an_unreachable_domain_fails_with_the_cas_reason,
    domain_names_are_checked_and_owned_once,
);

/// Pebble and its DNS server on free ports, with a TLS certificate made for this run; stopped
/// when dropped. `http_port` is where Pebble sends HTTP-01 validation requests.
struct Pebble {
    children: Vec<Child>,
    dir: PathBuf,
    listen_port: u16,
    dns_management_port: u16,
}

/// A port free for TCP and UDP, below Linux's ephemeral range (32768+), so that the many client
/// connections of tests running alongside cannot take it between this check and Pebble's bind.
fn free_port() -> u16 {
    loop {
        let port = rand::Rng::gen_range(&mut rand::thread_rng(), 20_000..32_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
}

fn spawn(command: &mut Command, what: &str) -> Child {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {what}: {e} (scripts/setup installs the Debian package pebble)"))
}

impl Pebble {
    fn start(http_port: u16) -> Self {
        let dir = std::env::temp_dir().join(format!("billhook-pebble-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();

        // Pebble's own HTTPS listener: a throwaway CA and a certificate for 127.0.0.1.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Billhook test root for Pebble");
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &ca)
            .unwrap();
        std::fs::write(dir.join("root.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), leaf.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), leaf_key.serialize_pem()).unwrap();

        let (listen_port, management_port, tls_port) = (free_port(), free_port(), free_port());
        let (dns_port, dns_management_port) = (free_port(), free_port());
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{listen_port}"),
                "managementListenAddress": format!("127.0.0.1:{management_port}"),
                "certificate": dir.join("cert.pem"),
                "privateKey": dir.join("key.pem"),
                "httpPort": http_port,
                "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }
        });
        std::fs::write(dir.join("pebble.json"), config.to_string()).unwrap();

        let dns = spawn(
            Command::new("pebble-challtestsrv").args([
                "-dns01",
                &format!("127.0.0.1:{dns_port}"),
                "-management",
                &format!("127.0.0.1:{dns_management_port}"),
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
            ]),
            "pebble-challtestsrv",
        );
        let pebble = spawn(
            Command::new("pebble")
                .arg("-config")
                .arg(dir.join("pebble.json"))
                .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
                // Validate at once and never reject a nonce: the tests wait for nothing random.
                .env("PEBBLE_VA_NOSLEEP", "1")
                .env("PEBBLE_WFE_NONCEREJECT", "0"),
            "pebble",
        );
        let mut pebble = Self { children: vec![dns, pebble], dir, listen_port, dns_management_port };
        wait_for_listener(&mut pebble.children[0], dns_management_port, "pebble-challtestsrv");
        wait_for_listener(&mut pebble.children[1], listen_port, "pebble");
        pebble
    }

    fn settings(&self) -> AcmeSettings {
        AcmeSettings {
            directory_url: format!("https://127.0.0.1:{}/dir", self.listen_port),
            root_certificate: Some(self.dir.join("root.pem")),
            contact_email: Some("ops@example.com".into()),
            order_timeout: Duration::from_secs(20),
            ..AcmeSettings::default()
        }
    }

    /// Makes `host` resolve to `address` for Pebble.
    async fn resolve(&self, host: &str, address: &str) {
        let response = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/add-a", self.dns_management_port))
            .json(&serde_json::json!({ "host": host, "addresses": [address] }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "pebble-challtestsrv add-a: {}", response.status());
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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
    app.state.accounts.sign_up(email, "customer password".into()).await.unwrap().id
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

    // The owner sees it, and its certificate's state, on the account page.
    assert_eq!(app.log_in("first@example.com", "customer password").await.status(), StatusCode::OK);
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("blog.example.com") && page.contains("Queued"), "{page}");
}
