//! `spawn_app`: the real application on port 0 with a fresh database, and a client that keeps
//! cookies and sends the same-origin headers a browser would.

use std::path::PathBuf;

use app::AppState;
use billhook_core::on_db;
use billhook_server::{config::Settings, startup};
use leptos::config::LeptosOptions;
use reqwest::{StatusCode, header};
use secrecy::SecretString;
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;

/// Declares each named `async fn(TestApp)` as two tests, `<name>::on_sqlite` and `<name>::on_postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await).await
                }
            }
        )+
    };
}

/// [`on_both_databases`] for apps whose settings `adjust` (an `fn(&mut Settings)` beside the tests) changes first.
#[macro_export]
macro_rules! on_both_databases_with {
    ($adjust:ident; $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    let backend = $crate::helpers::Backend::Sqlite;
                    super::$name($crate::helpers::spawn_app_with(backend, super::$adjust).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    let backend = $crate::helpers::Backend::Postgres;
                    super::$name($crate::helpers::spawn_app_with(backend, super::$adjust).await).await
                }
            }
        )+
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The admin server spawn_app seeds, and the throttle limits it configures.
pub const ADMIN: (&str, &str) = ("ops@example.com", "operator password");
pub const MAX_FAILURES_PER_ACCOUNT_AND_IP: u32 = 3;
pub const MAX_FAILURES_PER_IP: u32 = 8;
/// High: every test's client comes from 127.0.0.1 (the sign-up throttle's tests set their own).
pub const MAX_SIGNUPS_PER_IP: u32 = 1000;
/// The webhook endpoint's secrets in the tests: an old one still accepted during rotation, and the current one.
pub const WEBHOOK_SECRETS: [&str; 2] = ["whsec_test_previous", "whsec_test_current"];

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// With `TEST_LOG` set, the app's logs (filtered by `RUST_LOG`, default `info`) are printed,
/// each test's beside its output: how to see what a failing test's app was doing.
fn log_if_asked() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("TEST_LOG").is_some() {
        ONCE.call_once(|| {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        });
    }
}

/// [`spawn_app`] with the test settings changed by `adjust`.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    log_if_asked();
    let database = TestDatabase::create(backend).await;
    let mut settings = Settings {
        database_url: SecretString::from(database.url.clone()),
        database_max_connections: 4,
        login_max_failures_per_account_and_ip: MAX_FAILURES_PER_ACCOUNT_AND_IP,
        login_max_failures_per_ip: MAX_FAILURES_PER_IP,
        signup_max_per_ip: MAX_SIGNUPS_PER_IP,
        stripe_webhook_secrets: SecretString::from(WEBHOOK_SECRETS.join(",")),
        ..Settings::default()
    };
    adjust(&mut settings);
    let options = LeptosOptions::builder()
        .output_name("billhook")
        .site_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .build();
    let state = startup::open_state_with(&settings, options).await.expect("opening the test database");
    state
        .accounts
        .upsert(ADMIN.0, ADMIN.1.into(), billhook_core::accounts::Role::Admin)
        .await
        .expect("seeding the admin");
    let application = startup::Application::build(&settings, state.clone()).await.expect("building the app");
    // The web node opened the sandbox in its own copy of the state; the tests' copy opens it too
    // (the same keys and data: they live in the database).
    let mut state = state;
    state.sandbox = billhook_server::sandbox::open(&settings, &state.db).await.expect("opening the sandbox");
    let address = format!("http://127.0.0.1:{}", application.port());
    let shutdown = CancellationToken::new();
    tokio::spawn(application.run_until_stopped(shutdown.clone()));
    TestApp { client: client(), address, state, database, shutdown }
}

/// Polls `check` until it returns Some, or panics after `within`.
pub async fn wait_for<T, F, Fut>(what: &str, within: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    wait_or_explain(what, within, || {
        let next = check();
        async move { next.await.ok_or_else(String::new) }
    })
    .await
}

/// Polls `check` until it returns Ok, or panics after `within` with the last Err it returned
/// (the state that was still wrong).
pub async fn wait_or_explain<T, F, Fut>(what: &str, within: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(state) => assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {within:?} waiting for {what}. {state}"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// A port free for TCP and UDP, below Linux's ephemeral range (32768+), so that the many client
/// connections of tests running alongside cannot take it between this check and a server's bind.
pub fn free_port() -> u16 {
    loop {
        let port = rand::Rng::gen_range(&mut rand::thread_rng(), 20_000..32_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
}

/// Waits until `child` (a server the test started) accepts connections on `port`; panics if it
/// exits or does not listen within 10 s.
pub fn wait_for_listener(child: &mut std::process::Child, port: u16, what: &str) {
    for _ in 0..400 {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) instead of listening on port {port}");
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("{what} did not start on port {port}");
}

/// A cookie-keeping client that does not follow redirects (tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Runs the worker role in this process (fast polling) until the app is dropped.
    pub fn start_workers(&self) {
        let options = billhook_core::jobs::WorkerOptions {
            poll_interval: std::time::Duration::from_millis(50),
            heartbeat: std::time::Duration::from_secs(2),
            ..Default::default()
        };
        self.start_workers_with(options, None);
    }

    /// Runs the worker role in this process with `options`, mailing through `smtp_url` if given.
    pub fn start_workers_with(&self, options: billhook_core::jobs::WorkerOptions, smtp_url: Option<&str>) {
        let acme = billhook_core::custom_domains::AcmeSettings::default();
        self.run_workers(options, self.job_services(smtp_url, acme));
    }

    /// The worker role's services as this app would configure them.
    pub fn job_services(
        &self,
        smtp_url: Option<&str>,
        acme: billhook_core::custom_domains::AcmeSettings,
    ) -> billhook_core::jobs::JobServices {
        billhook_core::jobs::JobServices {
            mailer: billhook_core::email::Mailer::new(smtp_url, "Billhook <billing@example.com>", &self.address)
                .unwrap(),
            certificates: billhook_core::custom_domains::CertificateAuthority::new(acme),
            stripe: self.stripe_api(),
            catalogue: self.state.billing.catalogue.clone(),
        }
    }

    /// Billhook's Stripe client for this app: its sandbox.
    pub fn stripe_api(&self) -> Option<billhook_core::stripe_api::StripeApi> {
        let sandbox = self.state.sandbox.as_ref()?;
        let base = format!("{}/sandbox/stripe", self.address);
        Some(
            billhook_core::stripe_api::StripeApi::new(
                &sandbox.keys().secret,
                &base,
                std::time::Duration::from_secs(10),
            )
            .unwrap()
            .with_test_clocks(),
        )
    }

    /// Jobs on `queue` not finished yet: waiting, running, or failed with attempts left.
    pub async fn unfinished_jobs(&self, queue: &str) -> i64 {
        let unfinished = "job_type = $1 AND (status IN ('Pending', 'Queued', 'Running') \
                          OR (status = 'Failed' AND attempts < max_attempts))";
        on_db!(&self.state.db, pool => {
            let table = match self.state.db.kind() {
                billhook_core::DbKind::Sqlite => "Jobs",
                billhook_core::DbKind::Postgres => "apalis.jobs",
            };
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table} WHERE {unfinished}")))
                .bind(queue)
                .fetch_one(pool)
                .await
                .unwrap()
        })
    }

    /// The jobs of `queue` as a line each (id, status, attempts, run_at, lock_by, lock_at,
    /// last_result): what a test that waits on them explains when it gives up.
    pub async fn jobs_of(&self, queue: &str) -> String {
        type Line = (String, String, i64, i64, Option<String>, Option<i64>, Option<String>);
        let rows: Vec<Line> = on_db!(&self.state.db, pool => {
            let sql = match self.state.db.kind() {
                billhook_core::DbKind::Sqlite => {
                    "SELECT id, status, attempts, run_at, lock_by, lock_at, last_result FROM Jobs WHERE job_type = $1"
                }
                billhook_core::DbKind::Postgres => {
                    "SELECT id, status, attempts::int8, extract(epoch FROM run_at)::int8, lock_by, \
                     extract(epoch FROM lock_at)::int8, last_result::text FROM apalis.jobs WHERE job_type = $1"
                }
            };
            sqlx::query_as(sql).bind(queue).fetch_all(pool).await.unwrap()
        });
        let now = billhook_core::clock::now_ms() / 1000;
        let mut lines = format!("now {now}, jobs of {queue}:");
        for row in rows {
            lines.push_str(&format!("\n  {row:?}"));
        }
        lines
    }

    /// Runs the worker role in this process with `options` and `services` until the app is dropped.
    pub fn run_workers(&self, options: billhook_core::jobs::WorkerOptions, services: billhook_core::jobs::JobServices) {
        tokio::spawn(billhook_core::jobs::run_workers(self.state.db.clone(), options, services, self.shutdown.clone()));
    }

    /// Polls `check` until it returns Some, or panics after `within`.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, within: std::time::Duration, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        wait_for(what, within, check).await
    }

    /// The same app seen from a new browser (no cookies) behind a proxy that reports its address
    /// as `ip` in `X-Forwarded-For` (honoured when the app trusts one proxy).
    pub fn seen_at(mut self, ip: &str) -> Self {
        let mut headers = header::HeaderMap::new();
        headers.insert("x-forwarded-for", ip.parse().expect("an address as a header value"));
        self.client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        self
    }

    /// The same app seen from a new browser (no cookies).
    pub fn with_fresh_client(mut self) -> Self {
        self.client = client();
        self
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// A form post as the app's own pages make it with JavaScript on (a fetch from this origin).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.url(path)).header(header::ORIGIN, &self.address).form(form).send().await.expect("POST")
    }

    /// The same form post as a browser with JavaScript off sends it.
    pub async fn post_plain_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header(header::ORIGIN, &self.address)
            .header(header::ACCEPT, "text/html,application/xhtml+xml")
            .header(header::REFERER, self.url("/login"))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    pub async fn sign_up(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form("/api/sign_up", &[("email", email), ("password", password), ("next", "")]).await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form("/api/log_in", &[("email", email), ("password", password), ("next", "")]).await
    }

    pub async fn log_out(&self) -> reqwest::Response {
        self.post_form("/api/log_out", &[]).await
    }

    /// Signs up a new customer on this client and checks it worked.
    pub async fn signed_in_customer(&self, email: &str) {
        let response = self.sign_up(email, "customer password").await;
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    }
}

/// A database of its own for one test, removed afterwards.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

fn postgres_admin_url() -> String {
    std::env::var("BILLHOOK_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("billhook-test-{id}.db"));
                Self { url: format!("sqlite://{}", path.display()), cleanup: Cleanup::File(path) }
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("billhook_test_{id}");
                let mut conn = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL for the tests is not reachable at {admin_url} ({e}); run scripts/setup")
                });
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.expect("CREATE DATABASE");
                let mut url = url::Url::parse(&admin_url).expect("BILLHOOK_TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                let url = url.to_string();
                Self { url, cleanup: Cleanup::Postgres { admin_url, name } }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: use a thread with a runtime of its own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    runtime.block_on(async {
                        if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                            let _ = conn
                                .execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}
