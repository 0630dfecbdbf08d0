//! Start-up, apart from `main`: open the database, build the state, bind the listener (port 0 in
//! tests), and run the roles until a shutdown signal.

use std::time::Duration;

use anyhow::Context;
use app::{AppState, Billing, Operations, StripeJs, Webhooks};
use billhook_core::{
    Db,
    accounts::Accounts,
    dashboard::schedules::ScheduleSpec,
    jobs::node_name,
    nodes::{NodeInfo, heartbeat_until},
    webhooks::{Backlog, RefusedDeliveries, WebhookInbox, refused},
};
use leptos::config::{LeptosOptions, get_configuration};
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{cli::ProcessRole, config::Settings, http, process_roles};

pub async fn open_database(settings: &Settings) -> anyhow::Result<Db> {
    Db::connect(settings.database_url.expose_secret(), &settings.pool_options())
        .await
        .with_context(|| format!("opening {}", settings.database_url_redacted()))
}

/// The site options from cargo-leptos' `LEPTOS_*` variables, with Billhook's output name when
/// the binary runs outside cargo-leptos.
pub fn leptos_options() -> anyhow::Result<LeptosOptions> {
    let mut options = get_configuration(None).context("reading the LEPTOS_* site options")?.leptos_options;
    if options.output_name.is_empty() {
        options.output_name = "billhook".into();
    }
    Ok(options)
}

/// Opens the database, applies migrations and assembles the state.
pub async fn open_state_with(settings: &Settings, leptos_options: LeptosOptions) -> anyhow::Result<AppState> {
    let db = open_database(settings).await?;
    db.migrate().await?;
    let accounts = Accounts::new(db.clone(), settings.throttle_policy(), settings.password_hashes_at_once());
    let webhooks = Webhooks {
        verifier: settings.webhook_verifier(),
        inbox: WebhookInbox::start(db.clone(), settings.inbox_options(&db)),
        refused: RefusedDeliveries::new(),
        backlog: Backlog::new(settings.webhook_max_backlog),
    };
    let billing = Billing {
        stripe: match &settings.stripe_secret_key {
            Some(_) => crate::sandbox::stripe_api(settings, &db, leptos_options.site_addr).await?,
            None => None,
        },
        catalogue: std::sync::Arc::new(settings.catalogue.clone()),
        stripe_js: settings
            .stripe_publishable_key
            .as_ref()
            .filter(|_| settings.stripe_secret_key.is_some())
            .map(|key| StripeJs { script_url: "https://js.stripe.com/v3/".into(), publishable_key: key.clone() }),
    };
    let workers = settings.worker_options();
    let schedules = billhook_core::jobs::housekeeping::schedules_with(&settings.periodic(None), &settings.schedules)?
        .into_iter()
        .map(|s| ScheduleSpec { name: s.name.to_owned(), cron: s.cron.into_owned() })
        .collect();
    let operations = Operations {
        schedules: std::sync::Arc::new(schedules),
        alive_within: workers.heartbeat * u32::try_from(workers.missed_heartbeats).unwrap_or(u32::MAX),
    };
    // The web role adds the sandbox (and billing's way to it) when it runs (`Application::build`).
    Ok(AppState { leptos_options, db, accounts, webhooks, sandbox: None, billing, operations })
}

pub async fn open_state(settings: &Settings) -> anyhow::Result<AppState> {
    open_state_with(settings, leptos_options()?).await
}

/// The web role: an HTTP server bound and ready to run.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    port: u16,
    /// The offline Stripe sandbox's deliveries to this node's own webhook endpoint, if it runs.
    sandbox: Option<(billhook_sandbox::Sandbox, billhook_sandbox::DeliveryOptions)>,
    /// The refused deliveries this node notes, written for the cluster while it serves.
    refused: (RefusedDeliveries, Db),
    /// What this node's webhook inbox stored, counted for the dashboard's charts.
    tally: billhook_core::activity::Tally,
    /// The processing backlog, counted while this node serves.
    backlog: Backlog,
    limits: http::serve::ConnectionLimits,
}

impl Application {
    /// Binds `state.leptos_options.site_addr` (port 0 picks a free port).
    /// Opens the offline Stripe sandbox when it is wanted (no Stripe key): it is mounted, its
    /// deliveries are accepted, and this node delivers its events to itself.
    pub async fn build(settings: &Settings, mut state: AppState) -> anyhow::Result<Self> {
        let addr = state.leptos_options.site_addr;
        let listener = TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        let listening = listener.local_addr()?;
        let port = listening.port();
        let mut deliveries = None;
        if let Some(sandbox) = crate::sandbox::open(settings, &state.db).await? {
            tracing::info!(mount = crate::sandbox::MOUNT, publishable_key = %sandbox.keys().publishable, "offline Stripe sandbox active");
            let sandbox = sandbox.with_public_base(format!(
                "{}{}",
                crate::sandbox::site_base(settings, listening),
                crate::sandbox::MOUNT
            ));
            state.webhooks.verifier = state.webhooks.verifier.clone().with_secret(&sandbox.keys().webhook_secret);
            // Billing talks to the sandbox over HTTP, at this node's address, as it would to Stripe.
            state.billing.stripe = crate::sandbox::stripe_api(settings, &state.db, listening).await?;
            state.billing.stripe_js = Some(StripeJs {
                script_url: format!("{}/js/v3", crate::sandbox::MOUNT),
                publishable_key: sandbox.keys().publishable.clone(),
            });
            let options = crate::sandbox::delivery_options(settings, listening);
            deliveries = Some((sandbox.clone(), options));
            state.sandbox = Some(sandbox);
        }
        let refused = (state.webhooks.refused.clone(), state.db.clone());
        let tally = state.webhooks.inbox.tally().clone();
        let backlog = state.webhooks.backlog.clone();
        let router = http::router(settings, state);
        let limits = http::serve::ConnectionLimits {
            header_read_timeout: Duration::from_secs(settings.header_read_timeout_seconds.max(1)),
            max_connections: settings.max_connections.max(1),
        };
        Ok(Self { listener, router, port, sandbox: deliveries, refused, tally, backlog, limits })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` is cancelled, then lets requests in flight finish.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "web role listening");
        if let Some((sandbox, options)) = self.sandbox {
            tokio::spawn(sandbox.deliver_until(options, shutdown.clone()));
        }
        let (refused, db) = self.refused;
        tokio::spawn(self.backlog.watch_until(db.clone(), shutdown.clone()));
        tokio::spawn(refused.flush_until(db.clone(), node_name(), refused::FLUSH_EVERY, shutdown.clone()));
        let every = billhook_core::activity::FLUSH_EVERY;
        tokio::spawn(self.tally.flush_until(db, node_name(), every, shutdown.clone()));
        http::serve::serve(self.listener, self.router, self.limits, shutdown).await;
        Ok(())
    }
}

/// `billhook serve`: runs the chosen roles until SIGTERM/SIGINT, then stops them within the
/// shutdown timeout.
pub async fn serve(settings: Settings, role: ProcessRole) -> anyhow::Result<()> {
    tracing::info!(?role, database = %settings.database_url_redacted(), "starting billhook");
    let state = open_state(&settings).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));

    tokio::spawn(state.db.clone().checkpoint_until(shutdown.clone()));
    let node = NodeInfo::this_process(role.names(), env!("CARGO_PKG_VERSION"));
    let heartbeats =
        tokio::spawn(heartbeat_until(state.db.clone(), node, settings.worker_options().heartbeat, shutdown.clone()));
    let mut tasks = tokio::task::JoinSet::new();
    if matches!(role, ProcessRole::Web | ProcessRole::All) {
        if !state.webhooks.verifier.has_secrets() {
            tracing::warn!("BILLHOOK_STRIPE_WEBHOOK_SECRETS is empty: every Stripe delivery will be refused");
        }
        let app = Application::build(&settings, state.clone()).await?;
        tasks.spawn(app.run_until_stopped(shutdown.clone()));
    }
    // Stripe, or the offline sandbox when no Stripe key is set: the jobs cannot tell them apart.
    let stripe = crate::sandbox::stripe_api(&settings, &state.db, state.leptos_options.site_addr).await?;
    if role == ProcessRole::All {
        // Its own workers' database: queueing in the storing transaction saves one per batch.
        state.webhooks.inbox.queue_in_place();
    }
    if matches!(role, ProcessRole::Worker | ProcessRole::All) {
        let services = settings.job_services(state.leptos_options.site_addr, stripe.clone())?;
        tasks.spawn(process_roles::worker(state.clone(), settings.worker_options(), services, shutdown.clone()));
    }
    if matches!(role, ProcessRole::Scheduler | ProcessRole::All) {
        let periodic = settings.periodic(stripe);
        let schedules = billhook_core::jobs::housekeeping::schedules_with(&periodic, &settings.schedules)?;
        tasks.spawn(process_roles::scheduler(state.clone(), schedules, shutdown.clone()));
    }

    // The first role to end (by error or by shutdown) stops the others.
    let mut outcome = Ok(());
    if let Some(first) = tasks.join_next().await {
        outcome = first.context("a role panicked").and_then(|r| r);
        if let Err(e) = &outcome {
            tracing::error!(error = ?e, "a role stopped with an error; shutting down");
        }
    }
    shutdown.cancel();
    let grace = Duration::from_secs(settings.shutdown_timeout_seconds);
    let rest = async {
        while let Some(result) = tasks.join_next().await {
            if let Err(e) = result.context("a role panicked").and_then(|r| r) {
                tracing::error!(error = ?e, "a role stopped with an error");
            }
        }
    };
    if tokio::time::timeout(grace, rest).await.is_err() {
        tracing::warn!(seconds = grace.as_secs(), "roles did not stop within the shutdown timeout");
    }
    // The node's last beat marks it stopped before the pool closes.
    let _ = tokio::time::timeout(Duration::from_secs(5), heartbeats).await;
    state.db.close().await;
    tracing::info!("billhook stopped");
    outcome
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received; shutting down"),
        () = terminate => tracing::info!("SIGTERM received; shutting down"),
    }
    shutdown.cancel();
}
