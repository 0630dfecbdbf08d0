//! The `billhook` command line: `serve`, `migrate`, `create-admin`, `seed-demo`.

use std::{io::IsTerminal, path::PathBuf};

use anyhow::Context;
use billhook_core::accounts::Role;
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
        #[arg(long, value_enum, default_value_t = ServeRole::All)]
        role: ServeRole,
    },
    /// Apply the database migrations and exit.
    Migrate,
    /// Create an admin account, or make an existing account admin with a new password. The
    /// password is read from standard input (first line) or asked for on a terminal.
    CreateAdmin {
        #[arg(long)]
        email: String,
    },
    /// Create (or reset) the demo admin and demo customer and print their credentials.
    SeedDemo,
}

/// The roles a `serve` process can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServeRole {
    Web,
    Worker,
    Scheduler,
    All,
}

/// The demo accounts `seed-demo` creates (the README and `scripts/run` print them).
pub const DEMO_ADMIN: (&str, &str) = ("admin@example.com", "admin-demo-password");
pub const DEMO_CUSTOMER: (&str, &str) = ("customer@example.com", "customer-demo-password");

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config)?;
    telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve { role: ServeRole::All }) {
        Command::Serve { role } => startup::serve(settings, role).await,
        Command::Migrate => {
            let db = startup::open_database(&settings).await?;
            db.migrate().await?;
            println!("migrations applied to {}", settings.database_url_redacted());
            Ok(())
        }
        Command::CreateAdmin { email } => {
            let password = read_password()?;
            let state = startup::open_state(&settings).await?;
            let user = state.accounts.upsert(&email, password, Role::Admin).await?;
            println!("admin account {} (id {}) is ready", user.email, user.id);
            Ok(())
        }
        Command::SeedDemo => {
            let state = startup::open_state(&settings).await?;
            for ((email, password), role) in [(DEMO_ADMIN, Role::Admin), (DEMO_CUSTOMER, Role::Customer)] {
                state.accounts.upsert(email, password.to_string(), role).await?;
                println!("demo {:<8}  e-mail: {email:<22} password: {password}", role.as_str());
            }
            Ok(())
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
