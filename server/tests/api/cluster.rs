//! Crash recovery with real processes: `billhook serve --role worker` nodes on one database,
//! one killed with SIGKILL while it holds a job.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use billhook_core::{
    Db,
    canary::{self, Canary},
    db::PoolOptions,
    on_db,
};

use crate::helpers::{Backend, TestDatabase, wait_for, wait_or_explain};

const BILLHOOK: &str = env!("CARGO_BIN_EXE_billhook");
/// Heartbeat 1 s, dead after 3 missed: the orphan threshold of these tests.
const HEARTBEAT_SECONDS: &str = "1";
const MISSED_HEARTBEATS: &str = "3";

/// A `billhook serve` process, killed when dropped.
pub struct Node(Child);

impl Node {
    fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[])
    }

    fn start_with(database_url: &str, env: &[(&str, &str)]) -> Self {
        Self::start_role(database_url, "worker", env)
    }

    pub fn start_role(database_url: &str, role: &str, env: &[(&str, &str)]) -> Self {
        let child = Command::new(BILLHOOK)
            .args(["serve", "--role", role])
            .env("DATABASE_URL", database_url)
            .env("BILLHOOK_WORKER_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)
            .env("BILLHOOK_WORKER_MISSED_HEARTBEATS", MISSED_HEARTBEATS)
            .env("BILLHOOK_WORKER_POLL_INTERVAL_MS", "50")
            .env("BILLHOOK_WORKER_CONCURRENCY", "1")
            .env("BILLHOOK_SHUTDOWN_TIMEOUT_SECONDS", "20")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
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

/// The apalis row of canary `id`'s job: status, attempts, lock_by (found through the argument index).
async fn job_state(db: &Db, id: &str) -> Option<(String, i64, Option<String>)> {
    let table = if matches!(db, Db::Postgres(_)) { "apalis.jobs" } else { "Jobs" };
    let sql = format!(
        "SELECT status, CAST(attempts AS BIGINT), lock_by FROM {table} \
         WHERE id IN (SELECT task_id FROM job_arguments WHERE path = 'id' AND value = $1)"
    );
    on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await).unwrap()
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
    // apalis marks the job Running beside the handler's start, not before it: kill only once the
    // job row says so, or the rescue below may rightly find it still Queued.
    wait_for("apalis to mark the canary's job running", Duration::from_secs(30), || async {
        job_state(db, &held.id).await.filter(|(status, _, _)| status == "Running")
    })
    .await;
    let victim = nodes.iter().position(|n| n.pid() == pid_of(&holder)).expect("the holder is one of ours");
    nodes[victim].kill_9();
    let killed_at = Instant::now();
    restart(nodes);

    // Generous for a machine running the whole suite beside it; on failure, what state the job was in.
    let (done_by, _, _) = wait_or_explain("another node to finish the canary", Duration::from_secs(120), || async {
        match canary::effect(db, &held.id).await.unwrap() {
            Some(effect) => Ok(effect),
            None => Err(format!("runs: {:?}; job: {:?}", runs_of(db, &held.id).await, job_state(db, &held.id).await)),
        }
    })
    .await;
    println!("canary re-run and finished {:?} after the kill", killed_at.elapsed());
    assert_ne!(done_by, holder, "finished by another node");
    let runs = runs_of(db, &held.id).await;
    assert_eq!(runs.len(), 2, "started twice: {runs:?}");
    assert_eq!(runs[0], (holder.clone(), None), "the killed run never finished");
    assert!(runs[1].1.is_some());
    let effects: i64 = on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM canary_effects WHERE canary_id = $1").bind(&held.id).fetch_one(pool).await
    })
    .unwrap();
    assert_eq!(effects, 1, "its effect happened once");

    // The nodes page lists the rescue: the canary, taken from the killed node while running.
    let rescues = billhook_core::dashboard::nodes::recent_rescues(db).await.unwrap();
    let rescue =
        rescues.iter().find(|r| r.queue == "system.canary").unwrap_or_else(|| panic!("no rescue noted: {rescues:?}"));
    assert_eq!(rescue.node(), Some(holder.as_str()), "{rescue:?}");
    assert_eq!(rescue.was, "Running");
    assert!(!rescue.handed_back(), "{rescue:?}");
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

/// SIGTERM: the running job finishes, the process exits cleanly, and jobs it had claimed but not
/// started are handed back at once: the next node (whose orphan threshold is 60 s) runs them
/// within seconds.
async fn sigterm_finishes_the_running_job_and_hands_back_the_rest(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let db = migrated(&database).await;
    let mut first = Node::start(&database.url);
    let warm_up = Canary::new(Duration::ZERO);
    canary::enqueue(&db, std::slice::from_ref(&warm_up)).await.unwrap();
    wait_for("the worker to come up", Duration::from_secs(60), || async {
        canary::effect(&db, &warm_up.id).await.unwrap()
    })
    .await;

    // Four 3-second canaries in one transaction: the worker (concurrency 1) claims all four in
    // one fetch, runs one and holds three it has not started.
    let canaries: Vec<Canary> = (0..4).map(|_| Canary::new(Duration::from_secs(3))).collect();
    canary::enqueue(&db, &canaries).await.unwrap();
    let claimed_sql = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM Jobs WHERE job_type = 'system.canary' AND status IN ('Queued', 'Running')"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) FROM apalis.jobs WHERE job_type = 'system.canary' AND status IN ('Queued', 'Running')"
        }
    };
    wait_for("all four claimed and one started", Duration::from_secs(10), || async {
        let claimed: i64 = on_db!(&db, pool => sqlx::query_scalar(claimed_sql).fetch_one(pool).await).unwrap();
        let mut started = 0;
        for c in &canaries {
            started += usize::from(started_by(&db, &c.id).await.is_some());
        }
        (claimed == 4 && started == 1).then_some(())
    })
    .await;
    let mut running = None;
    for c in &canaries {
        if started_by(&db, &c.id).await.is_some() {
            running = Some(c.clone());
        }
    }
    let running = running.unwrap();
    let waiting: Vec<&Canary> = canaries.iter().filter(|c| c.id != running.id).collect();

    let status = Command::new("kill").args(["-TERM", &first.pid().to_string()]).status().unwrap();
    assert!(status.success());
    let exited = tokio::task::spawn_blocking(move || first.0.wait()).await.unwrap().unwrap();
    assert!(exited.success(), "clean exit on SIGTERM: {exited:?}");
    let runs = runs_of(&db, &running.id).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(runs[0].1.is_some(), "the running job was allowed to finish");

    // The nodes page lists the three handed back, claimed but not started.
    let rescues = billhook_core::dashboard::nodes::recent_rescues(&db).await.unwrap();
    assert_eq!(rescues.len(), 3, "{rescues:?}");
    assert!(rescues.iter().all(|r| r.handed_back() && r.was == "Queued"), "{rescues:?}");

    // A new node runs the others long before the 3 s orphan threshold would free them.
    let handed_back_at = Instant::now();
    let _second = Node::start_with(&database.url, &[("BILLHOOK_WORKER_MISSED_HEARTBEATS", "60")]);
    for canary in &waiting {
        wait_for("a handed-back canary to run", Duration::from_secs(30), || async {
            canary::effect(&db, &canary.id).await.unwrap()
        })
        .await;
        let runs = runs_of(&db, &canary.id).await;
        assert_eq!(runs.len(), 1, "never started on the stopped node: {runs:?}");
    }
    println!("handed-back jobs ran {:?} after the new node started", handed_back_at.elapsed());
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_sigterm_finishes_the_running_job_and_hands_back_the_rest() {
    sigterm_finishes_the_running_job_and_hands_back_the_rest(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_sigterm_finishes_the_running_job_and_hands_back_the_rest() {
    sigterm_finishes_the_running_job_and_hands_back_the_rest(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_three_scheduler_processes_run_each_tick_exactly_once() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let db = migrated(&database).await;
    let every_second = [("BILLHOOK_SCHEDULES__DISPATCH_SWEEP", "* * * * * *")];
    let nodes: Vec<Node> = (0..3).map(|_| Node::start_role(&database.url, "scheduler", &every_second)).collect();
    let ticks = || async {
        on_db!(&db, pool => {
            sqlx::query_as::<_, (i64, String)>("SELECT tick_at, node FROM scheduler_ticks WHERE schedule = 'dispatch_sweep' ORDER BY tick_at")
                .fetch_all(pool)
                .await
        })
        .unwrap()
    };
    wait_for("five ticks", Duration::from_secs(60), || async { (ticks().await.len() >= 5).then_some(()) }).await;
    drop(nodes);
    let ticks = ticks().await;
    let (first, last) = (ticks[0].0, ticks[ticks.len() - 1].0);
    // One row per tick (the key), and no tick between the first and the last missing.
    assert_eq!(ticks.len() as i64, (last - first) / 1000 + 1, "{ticks:?}");
    db.close().await;
}
