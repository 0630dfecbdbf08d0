//! `/admin/bulk`: the bulk operations (an action on everything a filter matched), newest first;
//! `/admin/bulk/{id}`: one of them, with its progress while it runs - rows done of those the
//! dry run counted - refreshed every second (with JavaScript: in place; without: the page
//! reloads itself). The audit log gets its entry when it ends.

use billhook_model::Timestamp;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    components::{
        data::{Loaded, refetch_every},
        table::Table,
        time::Time,
    },
};

/// One bulk operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkLine {
    pub id: String,
    /// As the audit log names it (`job.retry`).
    pub action: String,
    /// `queue=email state=Failed`.
    pub filter: String,
    pub by: String,
    /// The dry-run count that was confirmed.
    pub expected: i64,
    pub done: i64,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

#[cfg(feature = "ssr")]
impl From<billhook_core::dashboard::bulk::BulkOperation> for BulkLine {
    fn from(op: billhook_core::dashboard::bulk::BulkOperation) -> Self {
        Self {
            id: op.id,
            action: op.action,
            filter: op.filter,
            by: op.actor_email,
            expected: op.expected,
            done: op.done,
            started_at: Timestamp(op.started_at),
            finished_at: op.finished_at.map(Timestamp),
        }
    }
}

/// How many the list shows.
#[cfg(feature = "ssr")]
const SHOWN: i64 = 50;

/// Bulk operation `id`. Operators only.
#[server(endpoint = "admin_bulk_operation")]
pub async fn admin_bulk_operation(id: String) -> Result<BulkLine, AppError> {
    use billhook_core::dashboard::bulk;

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        Ok(bulk::get(&state()?.db, &id).await?.ok_or(AppError::NotFound)?.into())
    }
    .await;
    result.or_else(fail)
}

/// The latest bulk operations, newest first. Operators only.
#[server(endpoint = "admin_bulk_operations")]
pub async fn admin_bulk_operations() -> Result<Vec<BulkLine>, AppError> {
    use billhook_core::dashboard::bulk;

    use crate::ssr::{fail, require_operator, state};
    let result: Result<_, AppError> = async {
        require_operator()?;
        Ok(bulk::recent(&state()?.db, SHOWN).await?.into_iter().map(BulkLine::from).collect())
    }
    .await;
    result.or_else(fail)
}

#[component]
pub fn BulkListPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| admin_bulk_operations());
    view! {
        <Title text="Bulk operations - Billhook" />
        <section class="card">
            <h1>"Bulk operations"</h1>
            <p class="hint">"Start one from the jobs or webhooks list: \"Retry all that match\", \"Process all that match again\"."</p>
            <Loaded resource=list let:list>
                {if list.is_empty() {
                    view! { <p>"No bulk operation yet."</p> }.into_any()
                } else {
                    view! {
                        <Table columns=&["Started", "Action", "Filter", "By", "Done", "State"] testid="bulk-operations">
                            {list.into_iter().map(|op| {
                                let href = format!("/admin/bulk/{}", op.id);
                                let state = if op.finished_at.is_some() { "finished" } else { "running" };
                                view! {
                                    <tr>
                                        <td><a href=href><Time at=op.started_at /></a></td>
                                        <td>{op.action}</td>
                                        <td><code>{op.filter}</code></td>
                                        <td>{op.by}</td>
                                        <td>{format!("{} of {}", op.done, op.expected)}</td>
                                        <td>{state}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </Table>
                    }.into_any()
                }}
            </Loaded>
        </section>
    }
}

#[component]
pub fn BulkPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let operation = Resource::new(id, admin_bulk_operation);
    let running = move || operation.get().and_then(Result::ok).is_some_and(|op| op.finished_at.is_none());
    refetch_every(operation, move || u32::from(running()));
    view! {
        <Title text="Bulk operation - Billhook" />
        <section class="card">
            <h1>"Bulk operation"</h1>
            <Loaded resource=operation let:op>
                <BulkProgress op />
            </Loaded>
            <p><a href="/admin/bulk">"All bulk operations"</a>" · "<a href="/admin/audit">"Audit log"</a></p>
        </section>
    }
}

#[component]
fn BulkProgress(op: BulkLine) -> impl IntoView {
    // More rows may match by the time it runs than the dry run counted.
    let max = op.expected.max(op.done).max(1);
    let finished = op.finished_at;
    view! {
        // Without JavaScript the page reloads itself while the operation runs.
        {finished.is_none().then(|| view! { <Meta http_equiv="refresh" content="2" /> })}
        <dl>
            <dt>"Action"</dt><dd><code>{op.action}</code></dd>
            <dt>"Filter"</dt><dd><code>{op.filter}</code></dd>
            <dt>"By"</dt><dd>{op.by}</dd>
            <dt>"Started"</dt><dd><Time at=op.started_at /></dd>
        </dl>
        <p>
            <progress max=max value=op.done data-testid="bulk-progress"></progress>" "
            <span data-testid="bulk-done">{op.done}</span>" of "{op.expected}" rows"
        </p>
        <p data-testid="bulk-state">
            {match finished {
                Some(at) => view! { "Finished " <Time at /> "; recorded in the audit log." }.into_any(),
                None => view! { "Running: each chunk is committed as it goes, and another node resumes it if this one stops." }.into_any(),
            }}
        </p>
    }
}
