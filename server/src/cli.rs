//! The `billhook` command line: `serve`, `migrate`, `create-admin`, `add-domain`, `seed-demo`,
//! `seed-load`, `stripe sync-catalog`, `canary`.

use std::{io::IsTerminal, path::PathBuf, time::Duration};

use anyhow::Context;
use billhook_core::{accounts::Role, canary};
use clap::{Parser, Subcommand, ValueEnum};

use crate::{config::Settings, startup, telemetry};

#[derive(Debug, Parser)]
#[command(name = "billhook", version, about = "Subscription billing with Stripe webhooks that are never lost")]
pub struct Cli {
    /// Configuration file (default: billhook.toml in the working directory, if present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Without a command, `serve` in all roles (what `cargo leptos serve` runs).
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations and run Billhook in one or all of its roles.
    Serve {
        /// web: HTTP only; worker: job queues; scheduler: periodic jobs; all: everything.
        #[arg(long, value_enum, default_value_t = ProcessRole::All)]
        role: ProcessRole,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Create an admin account, or make an existing account admin with a new password. The
    /// password is read from standard input (first line) or asked for on a terminal.
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// A read-only operator: sees the dashboard, may not act.
        #[arg(long)]
        viewer: bool,
    },
    /// Add a custom domain to an account and queue its certificate (a worker obtains it over
    /// ACME; the domain's DNS must already point at Billhook's web role, port 80).
    AddDomain {
        /// The owning account's e-mail address.
        #[arg(long)]
        email: String,
        /// The domain, e.g. shop.example.com.
        hostname: String,
    },
    /// Create (or reset) the demo admin and demo customer and print their credentials.
    SeedDemo,
    /// Fill a fresh database with a busy cluster's weeks of jobs and webhook events, to measure
    /// the dashboard at scale (scripts/bench-dashboard). Not for a database in use: it sets the
    /// state of every job in it.
    SeedLoad(LoadSize),
    /// Stripe chores.
    Stripe {
        #[command(subcommand)]
        command: StripeCommand,
    },
    /// Send a canary job through the queues and wait until a worker has run it: an end-to-end
    /// check of the worker role (exit status 1 when none runs it in time).
    Canary {
        /// How long the canary works, in milliseconds.
        #[arg(long, default_value_t = 0)]
        hold_ms: u64,
        /// How long to wait for a worker to finish it.
        #[arg(long, default_value_t = 60)]
        timeout_seconds: u64,
        /// How many canaries to send (in one transaction); with more than one, the figures
        /// printed are the job throughput.
        #[arg(long, default_value_t = 1)]
        count: usize,
        /// Print the canaries' ids and exit without waiting.
        #[arg(long)]
        no_wait: bool,
    },
}

/// What `seed-load` writes.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct LoadSize {
    /// Jobs, in realistic states over the last week.
    #[arg(long, default_value_t = 1_000_000)]
    pub jobs: u64,
    /// Stored webhook events, in every status over the last two weeks.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
}

/// `billhook stripe ...`.
#[derive(Debug, Subcommand)]
pub enum StripeCommand {
    /// Make Stripe's products and prices match the catalogue, by lookup key: creates what is
    /// missing, replaces a price whose amount or interval changed; a second run changes nothing.
    /// Without a Stripe key, it fills the offline sandbox.
    SyncCatalog,
}

/// The roles a `serve` process can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProcessRole {
    Web,
    Worker,
    Scheduler,
    All,
}

impl ProcessRole {
    /// The roles this process plays, as the nodes page names them.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Self::Web => &["web"],
            Self::Worker => &["worker"],
            Self::Scheduler => &["scheduler"],
            Self::All => &["web", "worker", "scheduler"],
        }
    }
}

/// The demo accounts `seed-demo` creates (the README and `scripts/run` print them).
pub const DEMO_ADMIN: (&str, &str) = ("admin@example.com", "admin-demo-password");
pub const DEMO_CUSTOMER: (&str, &str) = ("customer@example.com", "customer-demo-password");
pub const DEMO_VIEWER: (&str, &str) = ("viewer@example.com", "viewer-demo-password");

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config)?;
    telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve { role: ProcessRole::All }) {
        Command::Serve { role } => startup::serve(settings, role).await,
        Command::Migrate => {
            let db = startup::open_database(&settings).await?;
            db.migrate().await?;
            println!("migrations applied to {}", settings.database_url_redacted());
            Ok(())
        }
        Command::CreateAdmin { email, viewer } => {
            let password = read_password()?;
            let state = startup::open_state(&settings).await?;
            let role = if viewer { Role::Viewer } else { Role::Admin };
            let user = state.accounts.upsert(&email, password, role).await?;
            println!("{} account {} (id {}) is ready", role.as_str(), user.email, user.id);
            Ok(())
        }
        Command::AddDomain { email, hostname } => {
            let state = startup::open_state(&settings).await?;
            let user = state
                .accounts
                .user_by_email(&email)
                .await?
                .with_context(|| format!("no account has the e-mail {email}"))?;
            let domain = billhook_core::custom_domains::add(&state.db, user.id, &hostname).await?;
            println!("{} added for {} (id {}); its certificate is queued", domain.hostname, user.email, domain.id);
            Ok(())
        }
        Command::SeedDemo => {
            let state = startup::open_state(&settings).await?;
            let demo = [(DEMO_ADMIN, Role::Admin), (DEMO_VIEWER, Role::Viewer), (DEMO_CUSTOMER, Role::Customer)];
            for ((email, password), role) in demo {
                state.accounts.upsert(email, password.to_string(), role).await?;
                println!("demo {:<8}  e-mail: {email:<22} password: {password}", role.as_str());
            }
            Ok(())
        }
        Command::SeedLoad(size) => {
            let db = startup::open_database(&settings).await?;
            db.migrate().await?;
            let started = std::time::Instant::now();
            let seeded = billhook_core::load::seed(&db, size.jobs, size.events, |done| {
                if (done.jobs + done.events) % 100_000 == 0 {
                    eprintln!("seed-load: {} events, {} jobs", done.events, done.jobs);
                }
            })
            .await?;
            println!("seeded {} webhook events and {} jobs in {:.0?}", seeded.events, seeded.jobs, started.elapsed());
            Ok(())
        }
        Command::Stripe { command: StripeCommand::SyncCatalog } => {
            let db = startup::open_database(&settings).await?;
            db.migrate().await?;
            let served = tokio_util::sync::CancellationToken::new();
            let stripe = crate::sandbox::stripe_api_in_process(&settings, &db, served.clone())
                .await?
                .context("no BILLHOOK_STRIPE_SECRET_KEY and BILLHOOK_SANDBOX=off: there is no Stripe to sync with")?;
            let report = billhook_core::billing::sync_catalogue(&stripe, &settings.catalogue).await;
            served.cancel();
            println!("catalogue synced: {}", report?);
            Ok(())
        }
        Command::Canary { hold_ms, timeout_seconds, count, no_wait } => {
            let db = startup::open_database(&settings).await?;
            let canaries: Vec<canary::Canary> =
                (0..count.max(1)).map(|_| canary::Canary::new(Duration::from_millis(hold_ms))).collect();
            for chunk in canaries.chunks(1000) {
                canary::enqueue(&db, chunk).await?;
            }
            if no_wait {
                canaries.iter().for_each(|c| println!("{}", c.id));
                return Ok(());
            }
            let ids: Vec<String> = canaries.iter().map(|c| c.id.clone()).collect();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout_seconds);
            loop {
                let report = canary::report(&db, &ids).await?;
                if report.done == ids.len() {
                    println!("{report}");
                    return Ok(());
                }
                anyhow::ensure!(
                    tokio::time::Instant::now() < deadline,
                    "workers ran {} of {} canaries within {timeout_seconds} s: is a worker role running on this database?",
                    report.done,
                    ids.len()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let again = rpassword::prompt_password("Password again: ").context("reading the password")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        anyhow::ensure!(!password.is_empty(), "no password on standard input");
        Ok(password)
    }
}
