//! `/admin/reconciliations` and `/admin/reconciliations/{id}`: the Stripe reconciliation runs,
//! newest first - when each ran and on which node, how many events Stripe listed and how many the
//! endpoint had missed (stored by the run), and why a run stopped - and one run with the events
//! it stored. Read-only.

use billhook_model::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{data::Loaded, table::Table, time::Time},
};

/// One run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLine {
    pub id: i64,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    /// Events created from this moment on were listed.
    pub since: Timestamp,
    pub listed: i64,
    /// Stored by the run: the endpoint had not received them.
    pub filled: i64,
    pub error: Option<String>,
    /// The node whose scheduler ran it, if a scheduler did.
    pub node: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<billhook_core::dashboard::reconciliations::ReconciliationRow> for RunLine {
    fn from(r: billhook_core::dashboard::reconciliations::ReconciliationRow) -> Self {
        Self {
            id: r.id,
            started_at: Timestamp(r.started_at),
            finished_at: Timestamp(r.finished_at),
            since: Timestamp(r.since.saturating_mul(1000)),
            listed: r.listed,
            filled: r.filled,
            error: r.error,
            node: r.node,
        }
    }
}

/// One run and the events it stored: `(id, type)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub run: RunLine,
    pub events: Vec<(String, String)>,
}

/// The newest runs. Operators only.
#[server(endpoint = "admin_reconciliations")]
pub async fn admin_reconciliations() -> Result<Vec<RunLine>, AppError> {
    use billhook_core::dashboard::reconciliations;

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let rows = reconciliations::list(&state()?.db).await?;
        Ok(rows.into_iter().map(RunLine::from).collect())
    }
    .await;
    result.or_else(fail)
}

/// Run `id` (a number; anything else names no run) and the events it stored. Operators only.
#[server(endpoint = "admin_reconciliation")]
pub async fn admin_reconciliation(id: String) -> Result<RunView, AppError> {
    use billhook_core::dashboard::reconciliations;

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        let db = &state()?.db;
        let id: i64 = id.trim().parse().map_err(|_| AppError::NotFound)?;
        let row = reconciliations::get(db, id).await?.ok_or(AppError::NotFound)?;
        let events = reconciliations::filled_events(db, &row).await?;
        Ok(RunView { run: RunLine::from(row), events })
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn ReconciliationsPage() -> impl IntoView {
    let runs = Resource::new(|| (), |_| admin_reconciliations());
    view! {
        <Title text="Reconciliations - Billhook" />
        <h1>"Stripe reconciliations"</h1>
        <p class="hint">"Each run lists Stripe's recent events and stores those the webhook endpoint never received."</p>
        <Loaded resource=runs let:list>
            {if list.is_empty() {
                view! { <p>"No reconciliation has run."</p> }.into_any()
            } else {
                view! {
                    <Table columns=&["Started", "Finished", "Node", "Listed", "Stored", "Error"] testid="reconciliations">
                        {list.into_iter().map(|r| view! {
                            <tr data-testid="reconciliation">
                                <td><a href=format!("/admin/reconciliations/{}", r.id)><Time at=r.started_at /></a></td>
                                <td><Time at=r.finished_at /></td>
                                <td><code>{r.node}</code></td>
                                <td data-testid="reconciliation-listed">{r.listed}</td>
                                <td data-testid="reconciliation-filled">{r.filled}</td>
                                <td class="error" data-testid="reconciliation-error">{r.error}</td>
                            </tr>
                        }).collect_view()}
                    </Table>
                }.into_any()
            }}
        </Loaded>
    }
}

#[component]
pub fn ReconciliationPage() -> impl IntoView {
    let params = use_params_map();
    let run = Resource::new(move || params.with(|p| p.get("id").unwrap_or_default()), admin_reconciliation);
    view! {
        <Title text="Reconciliation - Billhook" />
        <Loaded resource=run let:run>
            <RunDetail run />
        </Loaded>
        <p><a href="/admin/reconciliations">"All reconciliations"</a></p>
    }
}

#[component]
fn RunDetail(run: RunView) -> impl IntoView {
    let r = run.run;
    view! {
        <h1>"Reconciliation "<span data-testid="reconciliation-id">{r.id}</span></h1>
        <section class="card">
            <dl>
                <dt>"Started"</dt><dd><Time at=r.started_at /></dd>
                <dt>"Finished"</dt><dd><Time at=r.finished_at /></dd>
                <dt>"Node"</dt><dd><code>{r.node.unwrap_or_else(|| "not run by a scheduler".to_owned())}</code></dd>
                <dt>"Listed events created since"</dt><dd><Time at=r.since /></dd>
                <dt>"Events listed"</dt><dd data-testid="reconciliation-listed">{r.listed}</dd>
                <dt>"Events stored"</dt><dd data-testid="reconciliation-filled">{r.filled}</dd>
                <dt>"Outcome"</dt><dd data-testid="reconciliation-error">{match r.error {
                    Some(error) => view! { <p class="error">{error}</p> }.into_any(),
                    None => view! { "Every event listed" }.into_any(),
                }}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>"Events it stored"</h2>
            {if run.events.is_empty() {
                view! { <p>"None stored while it ran."</p> }.into_any()
            } else {
                view! {
                    <Table columns=&["Event", "Type"] testid="reconciliation-events">
                        {run.events.into_iter().map(|(id, event_type)| view! {
                            <tr data-testid="reconciliation-event">
                                <td><a href=format!("/admin/webhooks/{id}")><code>{id.clone()}</code></a></td>
                                <td>{event_type}</td>
                            </tr>
                        }).collect_view()}
                    </Table>
                }.into_any()
            }}
        </section>
    }
}
