//! Crash recovery with real processes: `billhook serve --role worker` nodes on one database,
//! one killed with SIGKILL while it holds a job.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use billhook_core::{
    Db,
    db::PoolOptions,
    jobs::canary::{self, Canary},
    on_db,
};

use crate::helpers::{Backend, TestDatabase};

const BILLHOOK: &str = env!("CARGO_BIN_EXE_billhook");
/// Heartbeat 1 s, dead after 3 missed: the orphan threshold of these tests.
const HEARTBEAT_SECONDS: &str = "1";
const MISSED_HEARTBEATS: &str = "3";

/// A worker process, killed when dropped.
struct Node(Child);

impl Node {
    fn start(database_url: &str) -> Self {
        let child = Command::new(BILLHOOK)
            .args(["serve", "--role", "worker"])
            .env("DATABASE_URL", database_url)
            .env("BILLHOOK_WORKER_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)
            .env("BILLHOOK_WORKER_MISSED_HEARTBEATS", MISSED_HEARTBEATS)
            .env("BILLHOOK_WORKER_POLL_INTERVAL_MS", "50")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting billhook");
        Self(child)
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn kill_9(&mut self) {
        self.0.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
        let _ = self.0.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn migrated(database: &TestDatabase) -> Db {
    let status = Command::new(BILLHOOK)
        .arg("migrate")
        .env("DATABASE_URL", &database.url)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    Db::connect(&database.url, &PoolOptions::default()).await.unwrap()
}

async fn wait_for<T, Fut: Future<Output = Option<T>>>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> Fut,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The node (`host-pid-start`) that started canary `id` first.
async fn started_by(db: &Db, id: &str) -> Option<String> {
    on_db!(db, pool => {
        sqlx::query_scalar("SELECT node FROM canary_runs WHERE canary_id = $1 ORDER BY started_at LIMIT 1").bind(id).fetch_optional(pool).await
    })
    .unwrap()
}

async fn runs_of(db: &Db, id: &str) -> Vec<(String, Option<i64>)> {
    on_db!(db, pool => {
        sqlx::query_as("SELECT node, finished_at FROM canary_runs WHERE canary_id = $1 ORDER BY started_at").bind(id).fetch_all(pool).await
    })
    .unwrap()
}

fn pid_of(node: &str) -> u32 {
    node.rsplit('-').nth(1).and_then(|pid| pid.parse().ok()).expect("node names end in -pid-start")
}

/// Sends a 4-second canary, kills (SIGKILL) the node that starts it, restarts nodes with
/// `restart`, and checks another node finished it, with its effect once.
async fn kill_the_node_holding_a_job(db: &Db, nodes: &mut Vec<Node>, restart: impl FnOnce(&mut Vec<Node>)) {
    // A first canary proves the workers are up.
    let warm_up = Canary::new(Duration::ZERO);
    canary::enqueue(db, std::slice::from_ref(&warm_up)).await.unwrap();
    wait_for("a worker to come up", Duration::from_secs(60), || async {
        canary::effect(db, &warm_up.id).await.unwrap()
    })
    .await;

    let held = Canary::new(Duration::from_secs(4));
    canary::enqueue(db, std::slice::from_ref(&held)).await.unwrap();
    let holder = wait_for("a node to start the canary", Duration::from_secs(30), || started_by(db, &held.id)).await;
    let victim = nodes.iter().position(|n| n.pid() == pid_of(&holder)).expect("the holder is one of ours");
    nodes[victim].kill_9();
    let killed_at = Instant::now();
    restart(nodes);

    let (done_by, _, _) = wait_for("another node to finish the canary", Duration::from_secs(60), || async {
        canary::effect(db, &held.id).await.unwrap()
    })
    .await;
    println!("canary re-run and finished {:?} after the kill", killed_at.elapsed());
    assert_ne!(done_by, holder, "finished by another node");
    let runs = runs_of(db, &held.id).await;
    assert_eq!(runs.len(), 2, "started twice: {runs:?}");
    assert_eq!(runs[0], (holder, None), "the killed run never finished");
    assert!(runs[1].1.is_some());
    let effects: i64 = on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM canary_effects WHERE canary_id = $1").bind(&held.id).fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(effects, 1, "its effect happened once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_job_on_a_killed_worker_is_finished_by_one_of_the_others() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let db = migrated(&database).await;
    let mut nodes: Vec<Node> = (0..3).map(|_| Node::start(&database.url)).collect();
    kill_the_node_holding_a_job(&db, &mut nodes, |_| {}).await;
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_job_on_a_killed_single_node_is_finished_after_a_restart() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let db = migrated(&database).await;
    let url = database.url.clone();
    let mut nodes = vec![Node::start(&database.url)];
    kill_the_node_holding_a_job(&db, &mut nodes, move |nodes| nodes.push(Node::start(&url))).await;
    db.close().await;
}
