//! The database goes away under a running node and comes back: a PostgreSQL server of the test's
//! own (initdb in a temporary folder, its own port), stopped with `pg_ctl stop -m immediate` - a
//! crash, not a polite shutdown - while `billhook serve` runs against it.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use billhook_core::{Db, clock, db::PoolOptions, on_db, webhooks::sign};
use reqwest::StatusCode;

use crate::{
    cluster::Node,
    helpers::{WEBHOOK_SECRETS, wait_for},
    stripe_events::customer_updated,
};

/// PostgreSQL's programs (Debian keeps them per version under /usr/lib/postgresql).
fn pg_bin(program: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server programs in /usr/lib/postgresql")
        .filter_map(|e| Some(e.ok()?.path().join("bin").join(program)))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions.pop().unwrap_or_else(|| panic!("no {program} under /usr/lib/postgresql/*/bin"))
}

/// A throwaway PostgreSQL server; removed when dropped. PostgreSQL refuses to run as root, so
/// its programs run as the `postgres` user when the tests run as root.
struct PrivatePostgres {
    dir: PathBuf,
    port: u16,
}

fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
}

impl PrivatePostgres {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("billhook-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir), "chown");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        run(
            as_postgres(&pg_bin("initdb"))
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(dir.join("data")),
            "initdb",
        );
        let server = Self { dir, port };
        server.start_server();
        server
    }

    fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            self.port,
            self.dir.display()
        );
        run(
            as_postgres(&pg_bin("pg_ctl"))
                .args(["-w", "-D"])
                .arg(self.dir.join("data"))
                .args(["-l"])
                .arg(self.dir.join("server.log"))
                .args(["-o", &options, "start"]),
            "pg_ctl start",
        );
    }

    /// Stops the server as a crash would (no checkpoint, connections cut).
    fn crash(&self) {
        run(
            as_postgres(&pg_bin("pg_ctl")).args(["-w", "-m", "immediate", "-D"]).arg(self.dir.join("data")).arg("stop"),
            "pg_ctl stop",
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&pg_bin("pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(self.dir.join("data"))
            .arg("stop")
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn deliver(client: &reqwest::Client, base: &str, body: &str) -> Result<StatusCode, reqwest::Error> {
    let signature = sign(WEBHOOK_SECRETS[1], clock::now_ms() / 1000, body.as_bytes());
    let response = client
        .post(format!("{base}/webhooks/stripe"))
        .header("stripe-signature", signature)
        .body(body.to_owned())
        .send()
        .await?;
    Ok(response.status())
}

async fn status_of(db: &Db, id: &str) -> Option<String> {
    on_db!(db, pool => {
        sqlx::query_scalar("SELECT status FROM webhook_events WHERE id = $1").bind(id).fetch_optional(pool).await.ok().flatten()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_down_gives_503s_loses_nothing_and_the_node_recovers() {
    let postgres = PrivatePostgres::start();
    let web_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{web_port}");
    let _node = Node::start_role(
        &postgres.url(),
        "all",
        &[
            ("LEPTOS_SITE_ADDR", &format!("127.0.0.1:{web_port}")),
            ("BILLHOOK_STRIPE_WEBHOOK_SECRETS", &WEBHOOK_SECRETS.join(",")),
        ],
    );
    let client = reqwest::Client::new();
    wait_for("the node to be ready", Duration::from_secs(60), || async {
        let ready = client.get(format!("{base}/readyz")).send().await.ok()?;
        (ready.status() == StatusCode::OK).then_some(())
    })
    .await;
    let db = Db::connect(&postgres.url(), &PoolOptions::default()).await.unwrap();

    let now = clock::now_ms() / 1000;
    let before = customer_updated("evt_outage_before", "cus_outage", now);
    assert_eq!(deliver(&client, &base, &before).await.unwrap(), StatusCode::OK);
    wait_for("the first event processed", Duration::from_secs(30), || async {
        (status_of(&db, "evt_outage_before").await.as_deref() == Some("processed")).then_some(())
    })
    .await;

    postgres.crash();
    // While the database is down every delivery is refused with 503 (Stripe retries them), and
    // readiness says so.
    let during = customer_updated("evt_outage_during", "cus_outage", now + 1);
    for _ in 0..5 {
        let asked = std::time::Instant::now();
        assert_eq!(deliver(&client, &base, &during).await.unwrap(), StatusCode::SERVICE_UNAVAILABLE);
        // Refused without waiting out the pool's 5 s acquire timeout (the inbox gives up sooner).
        assert!(asked.elapsed() < Duration::from_secs(4), "a refusal took {:?}", asked.elapsed());
    }
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    postgres.start_server();
    let recovered_at = std::time::Instant::now();
    // Stripe's retry is taken, and the node's workers - which lost every connection - process it.
    wait_for("a delivery to be accepted again", Duration::from_secs(30), || async {
        (deliver(&client, &base, &during).await.ok()? == StatusCode::OK).then_some(())
    })
    .await;
    let db = Db::connect(&postgres.url(), &PoolOptions::default()).await.unwrap();
    wait_for("the retried event processed", Duration::from_secs(60), || async {
        (status_of(&db, "evt_outage_during").await.as_deref() == Some("processed")).then_some(())
    })
    .await;
    println!("processing resumed {:?} after the database came back", recovered_at.elapsed());
    let (events, mirrored): (i64, Option<String>) = on_db!(&db, pool => {
        let events = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(pool).await.unwrap();
        let mirrored = sqlx::query_scalar("SELECT event_id FROM stripe_customers WHERE id = 'cus_outage'")
            .fetch_optional(pool)
            .await
            .unwrap();
        (events, mirrored)
    });
    assert_eq!(events, 2, "both events stored, once each");
    assert_eq!(mirrored.as_deref(), Some("evt_outage_during"), "the newer event's state");
}
